/**
 * An in-process HookFeed for tests of webhook delivery without the binlog: transactions pushed by the test, read from
 * any position, then followed live (the same contract as the service's feed).
 */
import type { ResumePosition } from '../../src/capture/types.js';
import type { BridgeEvent, TransactionEvents } from '../../src/domain/types.js';
import { comparePositions, type HookFeed } from '../../src/delivery/webhook-feed.js';

const FILE = 'mysql-bin.000001';

export class MemoryFeed implements HookFeed {
  readonly txs: TransactionEvents[] = [];
  #waiters: Array<() => void> = [];
  #seq = 0;

  constructor(readonly site = 'test-site') {}

  /** Appends a transaction with events of the given types (and optional patient); returns it. */
  push(types: string[], patient?: string): TransactionEvents {
    const n = ++this.#seq;
    const txid = `0-1-${n}`;
    const end: ResumePosition = { binlog: { file: FILE, pos: 1000 + n * 100 }, gtidState: txid };
    const events: BridgeEvent[] = types.map((type, i) => ({
      specversion: '1.0',
      id: `${this.site}:${txid}:${i + 1}`,
      source: `openmrs://${this.site}`,
      type,
      subject: `subject-${n}-${i + 1}`,
      time: new Date(1_800_000_000_000 + n * 1000).toISOString(),
      datacontenttype: 'application/json',
      openmrsclass: 'org.openmrs.Obs',
      openmrsaction: 'CREATED',
      ...(patient ? { patientuuid: patient } : {}),
      txid,
      txseq: i + 1,
      txsize: types.length,
      cursor: `c-${n}-${i + 1}`,
      data: { n, i },
    }));
    const tx: TransactionEvents = { txid, commitTime: 1_800_000_000 + n, end, events };
    this.txs.push(tx);
    for (const w of this.#waiters.splice(0)) w();
    return tx;
  }

  async end(): Promise<ResumePosition> {
    return this.txs.length ? this.txs[this.txs.length - 1].end : { binlog: { file: FILE, pos: 4 } };
  }

  async *read(after: ResumePosition, signal: AbortSignal): AsyncIterable<TransactionEvents> {
    let i = this.txs.findIndex((t) => after.binlog.file === '' || comparePositions(t.end, after) > 0);
    if (i < 0) i = this.txs.length;
    while (!signal.aborted) {
      if (i < this.txs.length) {
        yield this.txs[i++];
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
