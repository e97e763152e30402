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
 * An oversized transaction (rows read again by `readRows`, all of them held while it is mapped) is mapped alone:
 * nothing behind it is read until it is mapped, so that memory holds one such transaction at a time. A failed
 * mapping is thrown at its place in the order.
 */
export async function* mapAhead(
  source: AsyncIterable<Transaction>,
  map: (tx: Transaction) => Promise<TransactionEvents>,
  depth: number,
): AsyncGenerator<MappedTransaction> {
  const it = source[Symbol.asyncIterator]();
  const queue: Entry[] = [];
  let readDone = false;
  let readError: { error: unknown } | null = null;
  let stopped = false;
  // One waiter at a time on each side, woken by plain callbacks (no Promise.race: it attached a reaction per call to
  // the pending read, and the retained chains were promoted to the old generation under load).
  let wakeConsumer: (() => void) | null = null;
  let wakeReader: (() => void) | null = null;
  const notifyConsumer = () => {
    const wake = wakeConsumer;
    wakeConsumer = null;
    wake?.();
  };
  const notifyReader = () => {
    const wake = wakeReader;
    wakeReader = null;
    wake?.();
  };
  /**
   * Whether to read the next transaction now: when nothing is queued, or while the oldest one waits (for a lookup),
   * up to `depth`, and not while an oversized transaction is being mapped. Once the oldest is mapped it goes out
   * first: reading further ahead then would only keep transactions alive longer (they were promoted to the old
   * generation and collected there, several times the GC work, in a catch-up where everything was ready at once).
   */
  const room = () => {
    const head = queue[0];
    if (head === undefined) return true;
    const tail = queue[queue.length - 1];
    return !head.settled && queue.length < depth && (tail.tx.rows !== null || tail.settled);
  };

  // The reading side runs on its own; it ends when the source does or when the consumer stops (`stopped`).
  void (async () => {
    try {
      while (!stopped) {
        if (!room()) {
          await new Promise<void>((resolve) => (wakeReader = resolve));
          continue;
        }
        const r = await it.next();
        if (r.done || stopped) break;
        const entry: Entry = { tx: r.value, events: map(r.value), settled: false };
        const settle = () => {
          entry.settled = true;
          if (entry === queue[0]) notifyConsumer();
          // An oversized transaction at the tail held the reading back.
          else if (entry === queue[queue.length - 1]) notifyReader();
        };
        entry.events.then(settle, settle);
        queue.push(entry);
      }
    } catch (error) {
      readError = { error };
    } finally {
      readDone = true;
      notifyConsumer();
    }
  })();

  try {
    for (;;) {
      const head = queue[0];
      if (head !== undefined && head.settled) {
        queue.shift();
        notifyReader();
        yield { tx: head.tx, events: await head.events };
        continue;
      }
      if (head === undefined && readDone) {
        if (readError) throw (readError as { error: unknown }).error;
        return;
      }
      await new Promise<void>((resolve) => (wakeConsumer = resolve));
    }
  } finally {
    stopped = true;
    notifyReader();
    // Mappings still in flight end on their own. The source is told to finish; with a read still pending (a live
    // reader waiting for the next commit), not waited for: whoever stops the reader ends that read.
    for (const entry of queue) entry.events.catch(() => undefined);
    if (readDone) await it.return?.();
    else void it.return?.().catch(() => undefined);
  }
}

interface Entry {
  tx: Transaction;
  events: Promise<TransactionEvents>;
  settled: boolean;
}
