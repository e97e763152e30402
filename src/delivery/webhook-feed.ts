/**
 * What a webhook runner reads: committed transactions, already mapped to events, from its own position onwards.
 */
import type { ResumePosition } from '../capture/types.js';
import type { TransactionEvents } from '../domain/types.js';

/**
 * Transactions after a position, in commit order, replayed from the binlog then live, with no gap or duplicate at the
 * seam, until `signal` aborts. Pull-based: a runner that does not pull (it is retrying) holds nothing in memory for
 * anyone else. The service adapts its `EventStreamSource`/`TransactionSource` to this.
 */
export interface HookFeed {
  read(after: ResumePosition, signal: AbortSignal): AsyncIterable<TransactionEvents>;
  /** The server's binlog end now: where a hook registered now starts. */
  end(): Promise<ResumePosition>;
}

/** Total order of binlog positions (file names of one server sort by their numeric suffix). */
export function comparePositions(a: ResumePosition, b: ResumePosition): number {
  if (a.binlog.file !== b.binlog.file) return a.binlog.file < b.binlog.file ? -1 : 1;
  return a.binlog.pos - b.binlog.pos;
}
