/**
 * The runner of one durable pub/sub consumer (the AMQP channel, the MQTT channel): follows the stream from the
 * consumer's own position, keeps many publishes in flight, and advances the position past a transaction only once the
 * channel confirmed all of its events and those of every earlier transaction. A failed publish (broker down, nack,
 * connection lost) stops the follower, lets the in-flight publishes settle, waits for the channel, and follows again
 * from the confirmed position: at least once, never a gap.
 */
import type { ResumePosition } from '../capture/types.js';
import type { TransactionEvents } from '../domain/types.js';
import type { ChannelPublisher } from './types.js';

/** The confirmed position of a consumer, as the checkpointer persists it. */
export interface ConfirmedPosition {
  position: ResumePosition;
  txid: string | null;
  commitTime: number | null;
}

/** Where the runner reads its transactions from (a `Followers`). */
export interface PositionFeed {
  read(after: ResumePosition, signal: AbortSignal): AsyncIterable<TransactionEvents>;
}

/** The subset of pino's logger the runner uses. */
export interface RunnerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConsumerRunnerOptions {
  /** Consumer name: the position's key in the state database (`amqp`, `mqtt`). */
  name: string;
  publisher: ChannelPublisher;
  feed: PositionFeed;
  /** The stored position, or the resolved `BRIDGE_START` for a consumer without one. */
  start: ConfirmedPosition;
  /** Events sent and not yet confirmed before the runner stops pulling. Default 2,000 (the publishers keep 1,000 on the wire). */
  maxInflightEvents?: number;
  /** Delay before following again after a failure: from `minMs`, doubling, up to `maxMs`. */
  retry?: { minMs?: number; maxMs?: number };
  logger?: RunnerLogger;
  /** Errors that retrying cannot fix (a purged binlog position): the runner stops and reports them here. */
  isFatal?: (err: Error) => boolean;
  onFatal?: (err: Error) => void;
}

/** A transaction sent and not yet confirmed: what moving the position needs, not its events (see `send`). */
interface Pending {
  end: TransactionEvents['end'];
  txid: string;
  commitTime: number;
  events: number;
  state: 'sent' | 'done' | 'failed';
}

const noopLogger: RunnerLogger = { info() {}, warn() {}, error() {} };

/** Runs one durable consumer until `stop()`. */
export class ConsumerRunner {
  private confirmedPosition: ConfirmedPosition;
  /** Set when a transaction with events was confirmed since the last checkpoint. */
  private dirty = false;
  private readonly pending: Pending[] = [];
  private inflightEvents = 0;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private mode: 'starting' | 'following' | 'retrying' | 'stopped' = 'starting';
  private lastError: string | null = null;
  private attempt: AbortController | null = null;
  /** Whether `publisher.start()` succeeded once; after that the publisher reconnects by itself. */
  private started = false;

  constructor(private readonly options: ConsumerRunnerOptions) {
    this.confirmedPosition = options.start;
  }

  get name(): string {
    return this.options.name;
  }

  /** The last confirmed position (in memory; the checkpointer persists it). */
  get confirmed(): ConfirmedPosition {
    return this.confirmedPosition;
  }

  /** Status for `/readyz` and the console. */
  get status(): { name: string; mode: string; ready: boolean; inflightEvents: number; lastError: string | null } {
    return {
      name: this.options.name,
      mode: this.mode,
      ready: this.options.publisher.ready,
      inflightEvents: this.inflightEvents,
      lastError: this.lastError,
    };
  }

  /**
   * Returns the confirmed position when it moved past a transaction with events since the last call, else null.
   * Transactions without events (noise tables, the bridge's own state writes) move the position in memory but never
   * cause a write by themselves, so the bridge's checkpoint writes cannot feed back into a write loop.
   */
  takeCheckpoint(): ConfirmedPosition | null {
    if (!this.dirty) return null;
    this.dirty = false;
    return this.confirmedPosition;
  }

  /** Marks the position dirty again after a failed checkpoint write. */
  restoreCheckpoint(_position: ConfirmedPosition): void {
    this.dirty = true;
  }

  /** Starts following in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops pulling, waits up to `timeoutMs` for the in-flight publishes to settle, and returns. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop ?? Promise.resolve(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.mode = 'stopped';
  }

  private async run(): Promise<void> {
    const { feed, logger = noopLogger } = this.options;
    const minDelay = this.options.retry?.minMs ?? 200;
    const maxDelay = this.options.retry?.maxMs ?? 10_000;
    let delay = minDelay;
    while (!this.stopping.signal.aborted) {
      const attempt = new AbortController();
      this.attempt = attempt;
      const abortAttempt = () => attempt.abort();
      this.stopping.signal.addEventListener('abort', abortAttempt, { once: true });
      this.failure = null;
      try {
        await this.waitReady();
        if (this.stopping.signal.aborted) break;
        this.mode = 'following';
        for await (const tx of feed.read(this.confirmedPosition.position, attempt.signal)) {
          // Nothing is sent after a failure is known, so a re-send never overtakes what failed.
          if (this.failure) break;
          this.send(tx);
          if (!(await this.waitWindow())) break;
          if (this.lastError === null) delay = minDelay;
        }
      } catch (err) {
        this.failure ??= err as Error;
      } finally {
        attempt.abort();
        this.stopping.signal.removeEventListener('abort', abortAttempt);
      }
      // Let every publish settle, so the confirmed position is final before following again.
      await this.drain();
      if (this.stopping.signal.aborted) break;
      if (this.failure && this.options.isFatal?.(this.failure)) {
        this.lastError = this.failure.message;
        logger.error({ channel: this.options.name, err: this.failure }, 'consumer stopped');
        this.options.onFatal?.(this.failure);
        break;
      }
      if (this.failure) {
        this.mode = 'retrying';
        this.lastError = this.failure.message;
        logger.warn(
          {
            channel: this.options.name,
            err: this.failure,
            resumeAt: this.confirmedPosition.position,
            retryInMs: delay,
          },
          'publish failed; resending from the confirmed position',
        );
        await sleep(delay, this.stopping.signal);
        delay = Math.min(maxDelay, delay * 2);
      }
    }
    this.mode = 'stopped';
  }

  /** Sends one transaction without waiting for its confirms. */
  private send(tx: TransactionEvents): void {
    // The events are not kept until the confirms: the channel encodes them as it sends, and a failure re-sends from
    // the binlog. Held for the broker's round trip, they outlived young collections (copied, then promoted).
    const count = tx.events.length;
    const entry: Pending = { end: tx.end, txid: tx.txid, commitTime: tx.commitTime, events: count, state: 'sent' };
    this.pending.push(entry);
    if (count === 0) {
      entry.state = 'done';
      this.advance();
      return;
    }
    this.inflightEvents += count;
    this.options.publisher.publish(tx.events).then(
      () => {
        entry.state = 'done';
        this.inflightEvents -= count;
        this.lastError = null;
        this.advance();
      },
      (err: Error) => {
        entry.state = 'failed';
        this.inflightEvents -= count;
        this.failure ??= err;
        // Stop following at once, even while the follower waits for the next transaction.
        this.attempt?.abort();
        this.advance();
      },
    );
  }

  /** Moves the confirmed position over the leading run of confirmed transactions. */
  private advance(): void {
    while (this.pending.length > 0 && this.pending[0].state === 'done') {
      const done = this.pending.shift()!;
      this.confirmedPosition = { position: done.end, txid: done.txid, commitTime: done.commitTime };
      if (done.events > 0) this.dirty = true;
    }
    this.wake?.();
  }

  /** Waits while the window is full; false when the runner must stop following (failure or stop). */
  private async waitWindow(): Promise<boolean> {
    const max = this.options.maxInflightEvents ?? 2000;
    while (true) {
      if (this.failure || this.stopping.signal.aborted) return false;
      if (this.inflightEvents < max) return true;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  /** Waits until no publish is in flight, then forgets the unconfirmed tail (it is read again from the position). */
  private async drain(): Promise<void> {
    while (this.pending.some((p) => p.state === 'sent')) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    this.pending.length = 0;
  }

  private async waitReady(): Promise<void> {
    const { publisher, logger = noopLogger } = this.options;
    let delay = 200;
    while (!this.started && !this.stopping.signal.aborted) {
      try {
        await publisher.start();
        this.started = true;
        this.lastError = null;
      } catch (err) {
        this.lastError = (err as Error).message;
        logger.warn({ channel: this.options.name, err, retryInMs: delay }, 'channel cannot start; retrying');
        await sleep(delay, this.stopping.signal);
        delay = Math.min(10_000, delay * 2);
      }
    }
    while (!publisher.ready && !this.stopping.signal.aborted) {
      await sleep(100, this.stopping.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
