/**
 * The live feed: the main reader's transactions, handed to every follower without ever waiting for one. Each follower
 * gets a bounded buffer; one that overflows is cut off (and reads the binlog instead), so a slow consumer never holds
 * the capture, the other consumers, or memory.
 */
import type { BinlogPosition } from '../capture/types.js';
import type { TransactionEvents } from '../domain/types.js';

/** Returned by `LiveSubscription.next` when the buffer overflowed and the subscription was cut off. */
export const OVERFLOW = Symbol('overflow');

/** One follower's view of the live feed. */
export class LiveSubscription {
  private queue: TransactionEvents[] = [];
  private head = 0;
  private bufferedEvents = 0;
  private overflowed = false;
  private wake: (() => void) | null = null;

  /** Every live transaction that ends after this position arrives in this subscription, in order. */
  readonly frontier: BinlogPosition;

  constructor(
    private readonly hub: LiveHub,
    frontier: BinlogPosition,
    private readonly maxBufferedEvents: number,
  ) {
    this.frontier = frontier;
  }

  /** Called by the hub; never blocks. */
  push(tx: TransactionEvents): void {
    if (this.overflowed) return;
    // A transaction counts at least 1 so that runs of empty transactions are bounded too.
    const weight = Math.max(1, tx.events.length);
    if (this.bufferedEvents + weight > this.maxBufferedEvents && this.queue.length > this.head) {
      this.overflowed = true;
      this.queue = [];
      this.head = 0;
      this.bufferedEvents = 0;
      this.hub.unsubscribe(this);
    } else {
      this.queue.push(tx);
      this.bufferedEvents += weight;
    }
    this.wake?.();
  }

  /** The next live transaction; `OVERFLOW` once cut off; `null` when `signal` aborts. */
  async next(signal: AbortSignal): Promise<TransactionEvents | typeof OVERFLOW | null> {
    while (true) {
      if (signal.aborted) return null;
      if (this.head < this.queue.length) {
        const tx = this.queue[this.head++];
        this.bufferedEvents -= Math.max(1, tx.events.length);
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        return tx;
      }
      if (this.overflowed) return OVERFLOW;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.wake = null;
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Transactions waiting in the buffer. */
  get size(): number {
    return this.queue.length - this.head;
  }

  close(): void {
    this.hub.unsubscribe(this);
    this.queue = [];
    this.head = 0;
    this.wake?.();
  }
}

/** Fans the main reader's transactions out to the followers. */
export class LiveHub {
  private readonly subscribers = new Set<LiveSubscription>();
  private position: BinlogPosition | null = null;
  private waiting: Array<() => void> = [];

  /** Sets where the main reader starts (before its first transaction). */
  start(position: BinlogPosition): void {
    this.position = position;
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** Hands one transaction to every subscriber. */
  dispatch(tx: TransactionEvents): void {
    this.position = tx.end.binlog;
    for (const subscriber of this.subscribers) subscriber.push(tx);
  }

  /** The end of the last transaction dispatched (or the main reader's start); null before the reader started. */
  get frontier(): BinlogPosition | null {
    return this.position;
  }

  /** Resolves once the main reader has a position. */
  async ready(): Promise<void> {
    if (this.position) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** A new subscription that receives every transaction dispatched after this call. Call after `ready()`. */
  subscribe(maxBufferedEvents: number): LiveSubscription {
    if (!this.position) throw new Error('the live reader has not started');
    const subscription = new LiveSubscription(this, this.position, maxBufferedEvents);
    this.subscribers.add(subscription);
    return subscription;
  }

  unsubscribe(subscription: LiveSubscription): void {
    this.subscribers.delete(subscription);
  }

  /** Number of followers currently attached to the live feed. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
