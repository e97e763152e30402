/**
 * Read-ahead mapping: while one transaction waits for its reference lookups (a cold cache after a restart, a catch-up
 * over patients not seen for a while), the transactions behind it are read and mapped too, so that their lookups join
 * the same queries (ReferenceResolver.fetch) instead of each costing a round trip in turn. Results come out strictly
 * in commit order; a transaction that needs nothing from the source is yielded as soon as it is mapped.
 */
import type { Transaction } from '../capture/types.js';
import type { TransactionEvents } from './types.js';

/** A transaction with its mapped events. */
export interface MappedTransaction {
  tx: Transaction;
  events: TransactionEvents;
}

/**
 * Maps the transactions of `source` with `map`, keeping up to `depth` of them in flight, and yields them in order.
 * An oversized transaction (rows streamed by `readRows`) is mapped alone: its rows come from the same stream, so
 * nothing behind it is read until it is mapped. A failed mapping is thrown at its place in the order.
 */
export async function* mapAhead(
  source: AsyncIterable<Transaction>,
  map: (tx: Transaction) => Promise<TransactionEvents>,
  depth: number,
): AsyncGenerator<MappedTransaction> {
  const it = source[Symbol.asyncIterator]();
  const queue: Array<{ tx: Transaction; events: Promise<TransactionEvents>; settled: boolean }> = [];
  let next: Promise<IteratorResult<Transaction>> | null = null;
  let done = false;
  try {
    for (;;) {
      const tail = queue[queue.length - 1];
      // Read on while there is room and the stream is not in the middle of an oversized transaction's rows.
      if (!done && next === null && queue.length < depth && (tail === undefined || tail.tx.rows !== null || tail.settled))
        next = it.next();
      if (queue.length === 0) {
        if (next === null) return;
        const r = await next;
        next = null;
        if (r.done) {
          done = true;
          return;
        }
        push(queue, r.value, map);
        continue;
      }
      const head = queue[0];
      if (!head.settled && next !== null) {
        // Whichever comes first: the head's events, or the next transaction to start mapping.
        const winner = await Promise.race([head.events.then(HEAD, HEAD), next]);
        if (winner !== HEAD_DONE) {
          next = null;
          if (winner.done) done = true;
          else push(queue, winner.value, map);
          continue;
        }
      }
      queue.shift();
      yield { tx: head.tx, events: await head.events };
    }
  } finally {
    // Mappings still in flight end on their own. The source is told to finish; with a read still pending (a live
    // reader waiting for the next commit), not waited for: whoever stops the reader ends that read.
    for (const entry of queue) entry.events.catch(() => undefined);
    if (next === null) await it.return?.();
    else {
      next.catch(() => undefined);
      void it.return?.().catch(() => undefined);
    }
  }
}

const HEAD_DONE = Symbol('head settled');
const HEAD = (): typeof HEAD_DONE => HEAD_DONE;

function push(
  queue: Array<{ tx: Transaction; events: Promise<TransactionEvents>; settled: boolean }>,
  tx: Transaction,
  map: (tx: Transaction) => Promise<TransactionEvents>,
): void {
  const entry = { tx, events: map(tx), settled: false };
  const settle = () => {
    entry.settled = true;
  };
  entry.events.then(settle, settle);
  queue.push(entry);
}
