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
export function mapAhead(
  source: AsyncIterable<Transaction>,
  map: (tx: Transaction) => TransactionEvents | Promise<TransactionEvents>,
  depth: number,
): AsyncIterableIterator<MappedTransaction> {
  return new MapAhead(source[Symbol.asyncIterator](), map, depth);
}

/**
 * The iterator behind `mapAhead`. A hand-written iterator rather than an async generator: on the common path (nothing
 * in flight, the transaction mapped at once) `next()` is the source's `next()` and one `then`, where a generator
 * added its own awaits and queue per transaction (about 2% of a catch-up's time in `npm run bench:domain`).
 */
class MapAhead implements AsyncIterableIterator<MappedTransaction> {
  private readonly queue: Entry[] = [];
  /** The one read in progress while the head waits (at most one: a source is read in order). */
  private read: Promise<IteratorResult<Transaction>> | null = null;
  private readResult: ReadResult | null = null;
  private readDone = false;
  private readError: { error: unknown } | null = null;
  private finished = false;
  // The slow path waits for whichever comes first, the head's mapping or the read; both wake it by a plain callback
  // (no Promise.race: it attached a reaction per call to the pending read, and the retained chains were promoted to
  // the old generation under load).
  private wake: (() => void) | null = null;

  constructor(
    private readonly it: AsyncIterator<Transaction>,
    private readonly map: (tx: Transaction) => TransactionEvents | Promise<TransactionEvents>,
    private readonly depth: number,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<MappedTransaction>> {
    if (this.finished) return Promise.resolve(DONE);
    // Nothing in flight: read and map in line, the path of every transaction whose references are at hand.
    if (this.queue.length === 0 && this.read === null && this.readResult === null && !this.readDone)
      return this.it.next().then(this.inline, this.failed);
    return this.slow();
  }

  /** Ends the iteration early (a `break`): mappings in flight end on their own; the source is told to finish. */
  async return(): Promise<IteratorResult<MappedTransaction>> {
    await this.finish();
    return DONE;
  }

  private readonly inline = (
    next: IteratorResult<Transaction>,
  ): Promise<IteratorResult<MappedTransaction>> | IteratorResult<MappedTransaction> => {
    if (next.done) return this.finish().then(() => DONE);
    const entry = this.start(next.value);
    if (entry.pending !== null) {
      this.queue.push(entry);
      return this.slow();
    }
    if (entry.error !== null) return this.fail(entry.error.error);
    return { value: { tx: entry.tx, events: entry.events! }, done: false };
  };

  private readonly failed = (error: unknown): Promise<never> => this.fail(error);

  /** Starts mapping a transaction just read. */
  private start(tx: Transaction): Entry {
    const entry: Entry = { tx, events: null, error: null, pending: null };
    try {
      const out = this.map(tx);
      if (out instanceof Promise) {
        entry.pending = out;
        out.then(
          (events) => {
            entry.events = events;
            entry.pending = null;
            this.settled(entry);
          },
          (error: unknown) => {
            entry.error = { error };
            entry.pending = null;
            this.settled(entry);
          },
        );
      } else entry.events = out;
    } catch (error) {
      entry.error = { error };
    }
    return entry;
  }

  /** Wakes the slow path when the head (or the newest, which decides whether to read further) is mapped. */
  private settled(entry: Entry): void {
    const queue = this.queue;
    if (entry === queue[0] || entry === queue[queue.length - 1]) this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * Whether to read the next transaction now: while the oldest one waits (for a lookup), up to `depth`, and not while
   * an oversized transaction is being mapped. Once the oldest is mapped it goes out first: reading further ahead then
   * would only keep transactions alive longer (they were promoted to the old generation and collected there, several
   * times the GC work, in a catch-up where everything was ready at once).
   */
  private room(): boolean {
    const tail = this.queue[this.queue.length - 1];
    return this.queue.length < this.depth && (tail.tx.rows !== null || tail.pending === null);
  }

  /** The next result once something is in flight (or a read ahead is pending). */
  private async slow(): Promise<IteratorResult<MappedTransaction>> {
    const queue = this.queue;
    for (;;) {
      const head = queue[0];
      if (head !== undefined && head.pending === null) {
        queue.shift();
        if (head.error !== null) return this.fail(head.error.error);
        return { value: { tx: head.tx, events: head.events! }, done: false };
      }
      const r = this.readResult;
      if (r !== null) {
        this.readResult = null;
        // A failed read is thrown after the transactions read before it.
        if ('error' in r) this.readError = r;
        if ('error' in r || r.value.done) this.readDone = true;
        else queue.push(this.start(r.value.value));
        continue;
      }
      if (head === undefined) {
        if (this.readDone) {
          if (this.readError !== null) return this.fail(this.readError.error);
          await this.finish();
          return DONE;
        }
        let next: IteratorResult<Transaction>;
        try {
          next = this.read !== null ? await this.read : await this.it.next();
        } catch (error) {
          this.read = null;
          return this.fail(error);
        }
        this.read = null;
        this.readResult = null;
        if (next.done) {
          await this.finish();
          return DONE;
        }
        const entry = this.start(next.value);
        if (entry.pending !== null) queue.push(entry);
        else if (entry.error !== null) return this.fail(entry.error.error);
        else return { value: { tx: entry.tx, events: entry.events! }, done: false };
        continue;
      }
      // The head waits: read ahead meanwhile, if there is room.
      if (this.read === null && !this.readDone && this.room()) {
        const pendingRead = (this.read = this.it.next());
        pendingRead.then(
          (value) => {
            if (this.read !== pendingRead) return;
            this.read = null;
            this.readResult = { value };
            this.notify();
          },
          (error: unknown) => {
            if (this.read !== pendingRead) return;
            this.read = null;
            this.readResult = { error };
            this.notify();
          },
        );
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Ends the iteration with `error`, after telling the source to finish. */
  private async fail(error: unknown): Promise<never> {
    await this.finish();
    throw error;
  }

  /**
   * Ends the iteration once: mappings still in flight end on their own. The source is told to finish; with a read
   * still pending (a live reader waiting for the next commit), not waited for: whoever stops the reader ends that read.
   */
  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    for (const entry of this.queue) entry.pending?.catch(() => undefined);
    this.queue.length = 0;
    if (this.read === null) await this.it.return?.();
    else void this.it.return?.().catch(() => undefined);
  }
}

const DONE: IteratorResult<MappedTransaction> = { value: undefined, done: true };

type ReadResult = { value: IteratorResult<Transaction> } | { error: unknown };

interface Entry {
  tx: Transaction;
  /** The events, once mapped. */
  events: TransactionEvents | null;
  error: { error: unknown } | null;
  /** The mapping still in progress (waiting for lookups), or null once it is done. */
  pending: Promise<TransactionEvents> | null;
}
