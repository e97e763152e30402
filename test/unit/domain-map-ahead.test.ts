import { describe, expect, it } from 'vitest';
import type { Transaction } from '../../src/capture/types.js';
import { mapAhead, type TransactionEvents } from '../../src/domain/index.js';

/** Transactions 1..n (only what mapAhead looks at: `rows`), recording how far the source has been read. */
function source(n: number, oversized: number[] = [], fail?: number) {
  const state = { read: 0, closed: false };
  async function* gen(): AsyncGenerator<Transaction> {
    try {
      for (let i = 1; i <= n; i++) {
        await new Promise((r) => setImmediate(r));
        if (i === fail) throw new Error(`read ${i} failed`);
        state.read = i;
        yield { gtid: `0-1-${i}`, rows: oversized.includes(i) ? null : [] } as unknown as Transaction;
      }
    } finally {
      state.closed = true;
    }
  }
  return { txs: gen(), state };
}

const seq = (tx: Transaction) => Number(tx.gtid!.split('-')[2]);
const result = (tx: Transaction) => ({ txid: tx.gtid! }) as TransactionEvents;

describe('mapAhead', () => {
  it('maps ahead while the head waits, and yields in commit order', async () => {
    const { txs, state } = source(20);
    const started: number[] = [];
    const release: Array<() => void> = [];
    const map = (tx: Transaction) => {
      const i = seq(tx);
      started.push(i);
      // Every 5th transaction waits (a lookup) until the one after it has been mapped: without read-ahead, a deadlock.
      if (i % 5 === 1) return new Promise<TransactionEvents>((r) => release.push(() => r(result(tx))));
      if (release.length) release.shift()!();
      return Promise.resolve(result(tx));
    };
    const out: string[] = [];
    for await (const { tx, events } of mapAhead(txs, map, 4)) {
      expect(events.txid).toBe(tx.gtid);
      out.push(tx.gtid!);
    }
    expect(out).toEqual(Array.from({ length: 20 }, (_, k) => `0-1-${k + 1}`));
    expect(started).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(state.closed).toBe(true);
  });

  it('keeps at most `depth` transactions in flight', async () => {
    const { txs, state } = source(30);
    let inflight = 0;
    let most = 0;
    const map = async (tx: Transaction) => {
      inflight++;
      most = Math.max(most, inflight);
      await new Promise((r) => setTimeout(r, 2));
      inflight--;
      return result(tx);
    };
    let n = 0;
    for await (const _ of mapAhead(txs, map, 3)) n++;
    expect(n).toBe(30);
    expect(most).toBe(3);
    expect(state.read).toBe(30);
  });

  it('reads nothing behind an oversized transaction until it is mapped', async () => {
    const { txs, state } = source(6, [3]);
    const readDuring: number[] = [];
    const map = async (tx: Transaction) => {
      if (seq(tx) === 3) {
        await new Promise((r) => setTimeout(r, 20));
        readDuring.push(state.read);
      }
      return result(tx);
    };
    const out: number[] = [];
    for await (const { tx } of mapAhead(txs, map, 8)) out.push(seq(tx));
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    // While transaction 3 streamed its rows, the source stayed at 3.
    expect(readDuring).toEqual([3]);
  });

  it('throws a failed mapping at its place, after the transactions before it', async () => {
    const { txs, state } = source(10);
    const map = async (tx: Transaction) => {
      if (seq(tx) === 4) throw new Error('mapping 4 failed');
      return result(tx);
    };
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const { tx } of mapAhead(txs, map, 8)) out.push(seq(tx));
      })(),
    ).rejects.toThrow('mapping 4 failed');
    expect(out).toEqual([1, 2, 3]);
    await new Promise((r) => setTimeout(r, 20));
    expect(state.closed).toBe(true);
  });

  it('passes a source error on, and closes the source when the consumer stops early', async () => {
    const failing = source(10, [], 5);
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const { tx } of mapAhead(failing.txs, async (t) => result(t), 2)) out.push(seq(tx));
      })(),
    ).rejects.toThrow('read 5 failed');
    expect(out.length).toBeLessThanOrEqual(4);

    const early = source(100);
    for await (const { tx } of mapAhead(early.txs, async (t) => result(t), 8)) if (seq(tx) === 10) break;
    await new Promise((r) => setTimeout(r, 20));
    expect(early.state.closed).toBe(true);
    expect(early.state.read).toBeLessThan(100);
  });

  it('takes events mapped at once (no promise) and promises alike, in order; a mapping that throws at its place', async () => {
    const { txs } = source(40);
    const release: Array<() => void> = [];
    const map = (tx: Transaction): TransactionEvents | Promise<TransactionEvents> => {
      const i = seq(tx);
      if (i === 33) throw new Error('mapping 33 failed');
      // Every 7th waits until two more have been mapped; the others are mapped at once, returned without a promise.
      if (i % 7 === 0) return new Promise((r) => release.push(() => r(result(tx))));
      if (i % 7 === 2 && release.length) release.shift()!();
      return result(tx);
    };
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const { tx, events } of mapAhead(txs, map, 4)) {
          expect(events.txid).toBe(tx.gtid);
          out.push(seq(tx));
        }
      })(),
    ).rejects.toThrow('mapping 33 failed');
    expect(out).toEqual(Array.from({ length: 32 }, (_, k) => k + 1));
  });

  it('loses nothing read ahead when the queue empties while a read is done but not taken yet', async () => {
    // The head waits until the source is asked for the next transaction, which completes that read at once: the head
    // goes out first, and the read's result waits, with nothing in flight, for the next call.
    const waiting = new Map<number, () => void>();
    async function* txs(): AsyncGenerator<Transaction> {
      for (let i = 1; i <= 12; i++) {
        waiting.get(i - 1)?.();
        yield { gtid: `0-1-${i}`, rows: [] } as unknown as Transaction;
      }
    }
    const map = (tx: Transaction): TransactionEvents | Promise<TransactionEvents> =>
      seq(tx) % 3 === 1 ? new Promise((r) => waiting.set(seq(tx), () => r(result(tx)))) : result(tx);
    const out: number[] = [];
    for await (const { tx } of mapAhead(txs(), map, 4)) out.push(seq(tx));
    expect(out).toEqual(Array.from({ length: 12 }, (_, k) => k + 1));
  });
});
