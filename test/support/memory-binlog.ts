/**
 * The service's event stream wired on an in-memory binlog, for channel tests and benchmarks that run before (or
 * beside) the full MariaDB pipeline: the real LiveHub and Followers (catch-up reader, seam, overflow) over an
 * append-only list of transactions made by `test/support/events.ts`. `commit(tx)` appends to the "binlog" and hands
 * the transaction to the live hub, as the capture's main reader does.
 */
import type { ResumePosition } from '../../src/capture/types.js';
import type { TransactionEvents } from '../../src/domain/types.js';
import { Followers, InvalidCursorError } from '../../src/delivery/follower.js';
import { LiveHub } from '../../src/delivery/live-hub.js';
import { compareBinlog } from '../../src/delivery/position.js';
import { ServerIdPool } from '../../src/delivery/server-ids.js';
import type { TransactionSource } from '../../src/delivery/types.js';

const FILE = 'mariadb-bin.000001';

export class MemoryBinlog implements TransactionSource {
  readonly txs: TransactionEvents[] = [];
  readonly hub = new LiveHub();
  readonly followers: Followers;
  private waiters: Array<() => void> = [];

  constructor(options: { maxBufferedEvents?: number } = {}) {
    this.hub.start({ file: FILE, pos: 4 });
    this.followers = new Followers({
      hub: this.hub,
      source: this,
      serverIds: new ServerIdPool(1000),
      maxBufferedEvents: options.maxBufferedEvents,
      // Fixture cursors are `fx:<seq>:<txseq>`; transaction <seq> starts where <seq - 1> ended (4 + (seq - 1) * 1000).
      decodeCursor: (cursor) => {
        const m = /^fx:(\d+):(\d+)$/.exec(cursor);
        if (!m) throw new InvalidCursorError(`not a cursor: ${cursor}`);
        return { from: { binlog: { file: FILE, pos: 4 + (Number(m[1]) - 1) * 1000 } }, txseq: Number(m[2]) };
      },
    });
  }

  /** Appends committed transactions and hands them to the live feed. */
  commit(...txs: TransactionEvents[]): void {
    for (const tx of txs) {
      this.txs.push(tx);
      this.hub.dispatch(tx);
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  open(from: ResumePosition, options: { serverId: number; signal: AbortSignal }): AsyncIterable<TransactionEvents> {
    const txs = this.txs;
    const waiters = this.waiters;
    return {
      async *[Symbol.asyncIterator]() {
        let index = txs.findIndex((tx) => compareBinlog(tx.end.binlog, from.binlog) > 0);
        if (index < 0) index = txs.length;
        while (!options.signal.aborted) {
          if (index < txs.length) {
            yield txs[index++]!;
            continue;
          }
          await new Promise<void>((resolve) => {
            waiters.push(resolve);
            options.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
      },
    };
  }
}
