/**
 * Followers: one consumer's ordered view of the stream from its own position. A follower reads the binlog again with
 * a catch-up reader of its own (own server id) until it reaches the live feed, then takes the live feed; if it falls
 * too far behind the live feed (its bounded buffer overflows), it drops it and catches up again. The seam is exact:
 * transactions are ordered by their end position, and every live transaction that ends after the frontier recorded
 * at subscription arrives in the buffer, so nothing is skipped and nothing is yielded twice.
 */
import type { ResumePosition } from '../capture/types.js';
import type { TransactionEvents } from '../domain/types.js';
import { OVERFLOW, type LiveHub } from './live-hub.js';
import { compareBinlog } from './position.js';
import type { ServerIdPool } from './server-ids.js';
import type { EventStreamSource, TransactionSource } from './types.js';

/** Where a cursor points: the transaction's start (as a resume position) and the event's place in it. */
export interface CursorTarget {
  /** Resume here to read the cursor's transaction again. */
  from: ResumePosition;
  /** Events up to and including this txseq were seen. */
  txseq: number;
}

/** Thrown when a cursor cannot be decoded. */
export class InvalidCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

export interface FollowerOptions {
  hub: LiveHub;
  source: TransactionSource;
  serverIds: ServerIdPool;
  /** Decodes `BridgeEvent.cursor`; throws on a bad one. */
  decodeCursor: (cursor: string) => CursorTarget;
  /** Live transactions (counted by events, at least 1 each) a follower may have waiting before it is cut off. */
  maxBufferedEvents?: number;
  /** Called when a follower switches between catch-up and live (for logs and metrics). */
  onMode?: (mode: 'catch-up' | 'live', from: ResumePosition) => void;
}

/** Opens followers. Implements the `EventStreamSource` the WebSocket plugin uses, and the webhook feed. */
export class Followers implements EventStreamSource {
  constructor(private readonly options: FollowerOptions) {}

  /** Transactions after `after` (the end of a transaction the caller has), replayed then live, until `signal` aborts. */
  read(after: ResumePosition, signal: AbortSignal): AsyncIterable<TransactionEvents> {
    return this.run(after, signal, null);
  }

  follow(options: { after?: string | null; signal: AbortSignal }): AsyncIterable<TransactionEvents> {
    const { after, signal } = options;
    if (!after) return this.live(signal);
    const decode = this.options.decodeCursor;
    const run = this.run.bind(this);
    return {
      [Symbol.asyncIterator]() {
        let target: CursorTarget;
        try {
          target = decode(after);
        } catch (err) {
          const error = err instanceof InvalidCursorError ? err : new InvalidCursorError((err as Error).message);
          return { next: () => Promise.reject(error) };
        }
        return run(target.from, signal, target.txseq)[Symbol.asyncIterator]();
      },
    };
  }

  /** From the next live transaction on (catching up only if the caller falls behind). */
  private async *live(signal: AbortSignal): AsyncGenerator<TransactionEvents> {
    await this.options.hub.ready();
    yield* this.run({ binlog: this.options.hub.frontier! }, signal, null);
  }

  private async *run(
    from: ResumePosition,
    signal: AbortSignal,
    trimTxseq: number | null,
  ): AsyncGenerator<TransactionEvents> {
    const { hub, source, serverIds, onMode } = this.options;
    const maxBuffered = this.options.maxBufferedEvents ?? 5000;
    await hub.ready();
    let position = from;
    // A cursor points into a transaction: read it again (it ends after `from`) and keep only the later events.
    let trim = trimTxseq;
    const emit = (tx: TransactionEvents): TransactionEvents => {
      if (trim === null) return tx;
      const kept = tx.events.filter((e) => e.txseq > trim!);
      trim = null;
      return kept.length === tx.events.length ? tx : { ...tx, events: kept };
    };

    while (!signal.aborted) {
      const subscription = hub.subscribe(maxBuffered);
      try {
        const frontier = subscription.frontier;
        if (compareBinlog(position.binlog, frontier) < 0) {
          onMode?.('catch-up', position);
          const reader = new AbortController();
          const stop = () => reader.abort();
          signal.addEventListener('abort', stop, { once: true });
          const serverId = serverIds.acquire();
          try {
            for await (const tx of source.open(position, { serverId, signal: reader.signal })) {
              // The live feed holds every transaction ending after the frontier: hand over there.
              if (compareBinlog(tx.end.binlog, frontier) > 0) break;
              yield emit(tx);
              position = tx.end;
              if (compareBinlog(position.binlog, frontier) >= 0) break;
            }
          } finally {
            reader.abort();
            signal.removeEventListener('abort', stop);
            serverIds.release(serverId);
          }
          if (signal.aborted) return;
        }
        onMode?.('live', position);
        while (true) {
          const tx = await subscription.next(signal);
          if (tx === null) return;
          if (tx === OVERFLOW) break;
          // Already yielded by the catch-up reader (or before the requested position).
          if (compareBinlog(tx.end.binlog, position.binlog) <= 0) continue;
          yield emit(tx);
          position = tx.end;
        }
      } finally {
        subscription.close();
      }
    }
  }
}
