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
 * `map` may return the events themselves (everything was at hand) or a promise (it waits for lookups); with nothing
 * in flight, a transaction mapped at once is yielded at once, with no promise between reading and yielding it. An
 * oversized transaction (rows read again by `readRows`, all of them held while it is mapped) is mapped alone: nothing
 * behind it is read until it is mapped, so that memory holds one such transaction at a time. A failed mapping is
 * thrown at its place in the order.
 */
export async function* mapAhead(
  source: AsyncIterable<Transaction>,
  map: (tx: Transaction) => TransactionEvents | Promise<TransactionEvents>,
  depth: number,
): AsyncGenerator<MappedTransaction> {
  const it = source[Symbol.asyncIterator]();
  const queue: Entry[] = [];
  /** The one read in progress while the head waits (at most one: a source is read in order). */
  let read: Promise<IteratorResult<Transaction>> | null = null;
  let readResult: ReadResult | null = null;
  let readDone = false;
  let readError: { error: unknown } | null = null;
  // The generator waits for whichever comes first, the head's mapping or the read; both wake it by a plain callback
  // (no Promise.race: it attached a reaction per call to the pending read, and the retained chains were promoted to
  // the old generation under load).
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  /** Starts mapping a transaction just read: yielded at once when mapped at once and nothing is ahead of it. */
  const start = (tx: Transaction): Entry => {
    const entry: Entry = { tx, events: null, error: null, pending: null };
    try {
      const out = map(tx);
      if (out instanceof Promise) {
        entry.pending = out;
        out.then(
          (events) => {
            entry.events = events;
            entry.pending = null;
            if (entry === queue[0] || entry === queue[queue.length - 1]) notify();
          },
          (error: unknown) => {
            entry.error = { error };
            entry.pending = null;
            if (entry === queue[0] || entry === queue[queue.length - 1]) notify();
          },
        );
      } else entry.events = out;
    } catch (error) {
      entry.error = { error };
    }
    return entry;
  };
  /**
   * Whether to read the next transaction now: while the oldest one waits (for a lookup), up to `depth`, and not while
   * an oversized transaction is being mapped. Once the oldest is mapped it goes out first: reading further ahead then
   * would only keep transactions alive longer (they were promoted to the old generation and collected there, several
   * times the GC work, in a catch-up where everything was ready at once).
   */
  const room = () => {
    const tail = queue[queue.length - 1];
    return queue.length < depth && (tail.tx.rows !== null || tail.pending === null);
  };

  try {
    for (;;) {
      const head = queue[0];
      if (head !== undefined && head.pending === null) {
        queue.shift();
        if (head.error !== null) throw head.error.error;
        yield { tx: head.tx, events: head.events! };
        continue;
      }
      // Set by the read's callback, which the compiler cannot see from here.
      const r = readResult as ReadResult | null;
      if (r !== null) {
        readResult = null;
        // A failed read is thrown after the transactions read before it.
        if ('error' in r) readError = r;
        if ('error' in r || r.value.done) readDone = true;
        else queue.push(start(r.value.value));
        continue;
      }
      if (head === undefined) {
        // Nothing in flight: read and map in line, the path of every transaction whose references are at hand.
        if (readDone) {
          if (readError !== null) throw readError.error;
          return;
        }
        const next = read !== null ? await read : await it.next();
        read = null;
        readResult = null;
        if (next.done) return;
        const entry = start(next.value);
        if (entry.pending !== null) queue.push(entry);
        else if (entry.error !== null) throw entry.error.error;
        else yield { tx: entry.tx, events: entry.events! };
        continue;
      }
      // The head waits: read ahead meanwhile, if there is room.
      if (read === null && !readDone && room()) {
        const pendingRead = (read = it.next());
        pendingRead.then(
          (value) => {
            if (read !== pendingRead) return;
            read = null;
            readResult = { value };
            notify();
          },
          (error: unknown) => {
            if (read !== pendingRead) return;
            read = null;
            readResult = { error };
            notify();
          },
        );
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // Mappings still in flight end on their own. The source is told to finish; with a read still pending (a live
    // reader waiting for the next commit), not waited for: whoever stops the reader ends that read.
    for (const entry of queue) entry.pending?.catch(() => undefined);
    if (read === null) await it.return?.();
    else void it.return?.().catch(() => undefined);
  }
}

type ReadResult = { value: IteratorResult<Transaction> } | { error: unknown };

interface Entry {
  tx: Transaction;
  /** The events, once mapped. */
  events: TransactionEvents | null;
  error: { error: unknown } | null;
  /** The mapping still in progress (waiting for lookups), or null once it is done. */
  pending: Promise<TransactionEvents> | null;
}
