/**
 * A window of messages in flight to a broker that confirms each one (AMQP publisher confirms, MQTT PUBACK).
 *
 * `publish()` calls queue their messages in order; the window sends as many as the limit allows without waiting for a
 * round trip per message, refills as confirms arrive (so the window stays full: a window refilled in bursts collapses
 * throughput, see BASELINES), pauses while the transport asks for 'drain', and settles each call once every message
 * of it was confirmed, or rejects it at its first failure.
 */
import type { ChannelMetrics } from '../delivery/types.js';

/** Called by the transport once the broker confirmed (no error) or refused/lost (error) one message. */
export type Confirm = (err?: Error | null) => void;

/**
 * Sends one message. Returns false when the transport buffered it but wants the sender to wait for its 'drain'
 * (the message still counts as sent and will be confirmed).
 */
export type Send<T> = (message: T, confirm: Confirm) => boolean;

interface Batch {
  remaining: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Item<T> {
  /** Dropped once sent: the transport has it encoded, and a failure is re-sent by `delivery` from the binlog. */
  message: T | undefined;
  batch: Batch;
  /** Set once confirmed or failed, so a late confirm of a message failed by `detach` is ignored. */
  done?: boolean;
}

/** Error of a publish whose messages were not all confirmed; `delivery` re-sends from its position. */
export class PublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

export class ConfirmWindow<T> {
  private queue: Array<Item<T> | undefined> = [];
  private head = 0;
  private open = false;
  private waitingDrain = false;
  private pumping = false;
  private idleWaiters: Array<() => void> = [];
  private send: Send<T> | null = null;
  /** Sent and unconfirmed, so that a lost connection can fail them at once. */
  private sent = new Set<Item<T>>();
  /** Metric changes not yet reported: added up per burst and reported once, not per message. */
  private sentSinceReport = 0;
  private settledSinceReport = 0;
  private confirmedSinceReport = 0;
  private reportQueued = false;

  /**
   * @param channel the metrics label (`amqp`, `mqtt`)
   * @param metrics channel counters; optional
   */
  constructor(
    private readonly channel: string,
    private limit: number,
    private readonly metrics?: ChannelMetrics,
  ) {}

  /** Messages sent and not yet confirmed. */
  get inflight(): number {
    return this.sent.size;
  }

  /** Messages accepted and not yet sent. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Starts sending with `send` (a new connection), at most `limit` unconfirmed at a time. */
  attach(send: Send<T>, limit = this.limit): void {
    this.send = send;
    this.limit = Math.max(1, limit);
    this.open = true;
    this.waitingDrain = false;
    this.pump();
  }

  /**
   * Stops sending (connection lost). With `failSent`, every message sent and not yet confirmed counts as failed now
   * (AMQP: confirms of a lost connection never come); without, they stay in flight (MQTT: the client's session
   * re-sends them after reconnecting). Queued messages stay queued unless `failQueued` is called.
   */
  detach(failSent?: Error): void {
    this.open = false;
    this.send = null;
    if (failSent) {
      const lost = [...this.sent];
      for (const item of lost) this.settle(item, failSent);
    }
  }

  /** The transport drained its buffer: send on. */
  drained(): void {
    this.waitingDrain = false;
    this.pump();
  }

  /** Queues messages; resolves once all are confirmed, rejects at the first one that is not. */
  submit(messages: readonly T[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const batch: Batch = { remaining: messages.length, settled: false, resolve, reject };
      for (const message of messages) this.queue.push({ message, batch });
      this.pump();
    });
  }

  /** Rejects every call with messages still queued (not sent), and drops those messages. */
  failQueued(err: Error): void {
    let dropped = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      if (!item.batch.settled) {
        dropped++;
        this.fail(item.batch, err);
      }
    }
    this.queue = [];
    this.head = 0;
    if (dropped) this.metrics?.failed(this.channel, dropped);
    this.checkIdle();
  }

  /** Resolves when nothing is queued or in flight, or after `timeoutMs` at the latest. */
  idle(timeoutMs: number): Promise<void> {
    if (this.queued === 0 && this.sent.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.open && !this.waitingDrain && this.sent.size < this.limit && this.head < this.queue.length) {
        const item = this.queue[this.head]!;
        this.queue[this.head++] = undefined;
        if (item.batch.settled) continue; // its call already failed; delivery re-sends it
        this.sent.add(item);
        this.sentSinceReport++;
        let ok = true;
        const message = item.message!;
        // Not kept while waiting for the confirm: a window of 1,000 events held for the round trip outlived young
        // collections and was copied and promoted, most of the GC work of the AMQP and MQTT phases.
        item.message = undefined;
        try {
          ok = this.send!(message, (err) => this.settle(item, err ?? null));
        } catch (err) {
          this.settle(item, err instanceof Error ? err : new Error(String(err)));
        }
        if (!ok) this.waitingDrain = true;
      }
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    } finally {
      this.pumping = false;
      this.queueReport();
    }
  }

  private queueReport(): void {
    if (this.reportQueued || !this.metrics) return;
    if (this.sentSinceReport === 0 && this.settledSinceReport === 0) return;
    this.reportQueued = true;
    queueMicrotask(this.report);
  }

  private readonly report = (): void => {
    this.reportQueued = false;
    const delta = this.sentSinceReport - this.settledSinceReport;
    if (delta !== 0) this.metrics?.inflight(this.channel, delta);
    if (this.confirmedSinceReport) this.metrics?.published(this.channel, this.confirmedSinceReport);
    this.sentSinceReport = this.settledSinceReport = this.confirmedSinceReport = 0;
  };

  private settle(item: Item<T>, err: Error | null): void {
    if (item.done) return;
    item.done = true;
    this.sent.delete(item);
    this.settledSinceReport++;
    if (err) {
      this.metrics?.failed(this.channel, 1);
      this.fail(item.batch, err);
    } else {
      this.confirmedSinceReport++;
      if (!item.batch.settled && --item.batch.remaining === 0) {
        item.batch.settled = true;
        item.batch.resolve();
      }
    }
    this.pump();
    this.checkIdle();
  }

  private fail(batch: Batch, err: Error): void {
    if (batch.settled) return;
    batch.settled = true;
    batch.reject(err instanceof PublishError ? err : new PublishError(err.message, { cause: err }));
  }

  private checkIdle(): void {
    if (this.queued !== 0 || this.sent.size !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
