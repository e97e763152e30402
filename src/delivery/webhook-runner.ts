/**
 * One webhook's delivery loop: reads transactions from the hook's own position, sends what matches, and advances the
 * position only past what the receiver acknowledged (or an admin skipped). One request in flight per hook, so order
 * holds; a hook that fails waits on itself and never on, or for, anything else.
 */
import type { ResumePosition } from '../capture/types.js';
import type { BridgeEvent, TransactionEvents } from '../domain/types.js';
import type { AttemptOutcome, WebhookRequest, WebhookSender } from '../channels/webhook/sender.js';
import type { AttemptRecord, FirstTimeDelivery, TxPosition, Webhook, WebhookStore } from '../state/webhooks.js';
import type { HookFeed } from './webhook-feed.js';
import { eventMatcher } from './webhook-filter.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import { nextAttemptAt, retryDelay, type RetryPolicy } from './retry-schedule.js';

/** Largest CloudEvents batch in one transactional request (CONTRACT.md section 1). */
export const MAX_BATCH_EVENTS = 1000;
/**
 * Acknowledged deliveries and the position are written behind, at most this long after the acknowledgement, in one
 * multi-row statement: a healthy hook then costs the state database a few writes per second, not two per request. A
 * crash re-delivers at most this much (same webhook-ids: at least once); a failing hook flushes before it waits, so
 * its stored position is exact while it retries.
 */
const FLUSH_MS = 100;
/** ... or as soon as this many deliveries are waiting to be logged. */
const FLUSH_ROWS = 500;
/** Prune the delivery log every this many deliveries. */
const PRUNE_EVERY = 500;

/** The commit hold's view of a runner: told when a transaction is done for this hook. */
export interface HoldParticipant {
  /** The hook is done with everything up to and including the transaction ending at `position`. */
  acknowledged(hookId: string, position: ResumePosition): void;
}

/** Minimal logger (pino-compatible). */
export interface RunnerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What a runner needs. */
export interface RunnerDeps {
  store: WebhookStore;
  sender: WebhookSender;
  feed: HookFeed;
  policy: RetryPolicy;
  metrics: WebhookMetrics;
  log: RunnerLogger;
  hold?: HoldParticipant;
  /** Called after the runner disabled its hook (410). */
  onDisabled?: (hookId: string, reason: string) => void;
  now?: () => number;
  random?: () => number;
}

type DeliverResult = 'ok' | 'skipped' | 'dead' | 'gone' | 'stopped';

/** A delivery resumed after a restart: its log entry and how long it has been failing. */
interface OpenDelivery {
  id: string;
  attempts: number;
  firstAttemptAt: number;
}

/** Runs one hook. `start()` once; `stop()` before dropping it. */
export class HookRunner {
  readonly hook: Webhook;
  readonly #d: RunnerDeps;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  readonly #matches: (e: BridgeEvent) => boolean;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  /** A wake-up (manual retry, skip) that came while no sleep was in progress: the next sleep is skipped. */
  #woken = false;
  #secrets: { list: string[]; validUntil: number } | null = null;
  /** Written behind (see FLUSH_MS): acknowledged deliveries and the position after them. */
  #okLog: FirstTimeDelivery[] = [];
  #unsaved: TxPosition | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #flushTimer: NodeJS.Timeout | null = null;
  #sinceprune = 0;
  /** Pending deliveries found in the log at start, by message id (a restart resumes them, attempts and all). */
  #resumable = new Map<string, OpenDelivery>();
  /** The delivery this runner is retrying now, if any. */
  #current: { id: string | null; skip: string | null; failing: boolean } | null = null;
  #position: ResumePosition;

  constructor(hook: Webhook, deps: RunnerDeps) {
    this.hook = hook;
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#matches = eventMatcher(hook);
    this.#position = hook.position;
  }

  /** The last position this runner moved to (saved or about to be). */
  get position(): ResumePosition {
    return this.#position;
  }

  /** The id of the delivery being retried, when the hook is failing. */
  get blockedOn(): string | null {
    return this.#current?.id ?? null;
  }

  /** True from the first failed attempt of a delivery until it is finished. */
  get failing(): boolean {
    return this.#current?.failing ?? false;
  }

  /** Starts the loop in the background. */
  start(): void {
    if (this.#loop) return;
    this.#loop = (async () => {
      // A failing feed (source down, a catch-up reader's error) must not silence the hook: start again from where it
      // stands, with a growing pause.
      let delay = 1000;
      while (!this.#abort.signal.aborted) {
        try {
          if (await this.#run()) return;
          this.#d.log.warn({ hook: this.hook.id, retryInMs: delay }, 'webhook feed ended; reading again');
        } catch (err) {
          if (this.#abort.signal.aborted) return;
          this.#d.log.error({ err, hook: this.hook.id, retryInMs: delay }, 'webhook runner failed; reading again');
        }
        await new Promise<void>((resolve) => {
          const signal = this.#abort.signal;
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, delay);
          signal.addEventListener('abort', done, { once: true });
        });
        delay = Math.min(30_000, delay * 2);
      }
    })();
  }

  /** Stops after the attempt in flight (if any) and saves the position. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    await this.#flush();
  }

  /** Attempts the failing delivery now instead of at its scheduled time (manual retry). */
  wake(): void {
    if (this.#wake) this.#wake();
    else this.#woken = true;
  }

  /** Re-reads the signing secrets before the next attempt (after a rotation). */
  refreshSecrets(): void {
    this.#secrets = null;
  }

  /**
   * Skips the delivery the hook is blocked on when it is `deliveryId` (transactional hooks). Returns false when the
   * runner is not blocked on that delivery.
   */
  skip(deliveryId: string, note: string): boolean {
    if (!this.#current || this.#current.id !== deliveryId) return false;
    this.#current.skip = note;
    this.wake();
    return true;
  }

  /** Reads and delivers until stopped (true) or the hook is disabled (true); false if the feed ended by itself. */
  async #run(): Promise<boolean> {
    for (const p of await this.#d.store.pendingDeliveries(this.hook.id)) {
      this.#resumable.set(p.messageId, {
        id: p.id,
        attempts: p.attempts,
        firstAttemptAt: p.firstAttemptAt ?? this.#now(),
      });
    }
    const signal = this.#abort.signal;
    for await (const tx of this.#d.feed.read(this.#position, signal)) {
      if (signal.aborted) return true;
      const events = tx.events.filter(this.#matches);
      if (events.length === 0) {
        this.#advance(tx);
        continue;
      }
      const done =
        this.hook.guarantee === 'transactional'
          ? await this.#transaction(tx, events)
          : await this.#perEvent(tx, events);
      if (!done) return true;
      this.#position = tx.end;
      this.#d.hold?.acknowledged(this.hook.id, tx.end);
    }
    return signal.aborted;
  }

  /** A non-matching transaction: nothing to send, move on (saved behind). */
  #advance(tx: TransactionEvents): void {
    this.#position = tx.end;
    this.#unsaved = txPosition(tx);
    this.#d.hold?.acknowledged(this.hook.id, tx.end);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#okLog.length >= FLUSH_ROWS) void this.#flush();
    else if (!this.#flushTimer) this.#flushTimer = setTimeout(() => void this.#flush(), FLUSH_MS);
  }

  /** Writes what is waiting (in order: flushes never overlap). */
  #flush(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#flushing = this.#flushing.then(async () => {
      const log = this.#okLog;
      const pos = this.#unsaved;
      if (!log.length && !pos) return;
      this.#okLog = [];
      this.#unsaved = null;
      try {
        await this.#d.store.recordFirstTimeDeliveries(this.hook.id, log, pos);
      } catch (err) {
        this.#d.log.warn({ err, hook: this.hook.id }, 'could not save webhook deliveries and position');
      }
      this.#sinceprune += log.length;
      if (this.#sinceprune >= PRUNE_EVERY) {
        this.#sinceprune = 0;
        await this.#d.store.prune(this.hook.id).catch(() => undefined);
      }
    });
    return this.#flushing;
  }

  /** Transactional: the transaction's matching events in batches of at most 1,000, each acknowledged before the next. */
  async #transaction(tx: TransactionEvents, events: BridgeEvent[]): Promise<boolean> {
    const key = txKey(events[0]);
    const parts = Math.ceil(events.length / MAX_BATCH_EVENTS);
    for (let i = 0; i < parts; i++) {
      const batch = events.slice(i * MAX_BATCH_EVENTS, (i + 1) * MAX_BATCH_EVENTS);
      const last = i === parts - 1;
      const result = await this.#deliver(
        {
          url: this.hook.url,
          webhookId: parts === 1 ? key : `${key}:part-${i + 1}-of-${parts}`,
          secrets: [],
          contentType: 'application/cloudevents-batch+json',
          body: JSON.stringify(batch),
        },
        tx.txid,
        batch,
        last ? txPosition(tx) : null,
      );
      if (result === 'skipped') {
        // A skip covers the rest of the transaction: the receiver's order contract is per transaction.
        if (!last) await this.#d.store.setPosition(this.hook.id, tx.end, tx.txid, tx.commitTime);
        return true;
      }
      if (result !== 'ok') return false;
    }
    return true;
  }

  /** Post-commit: one request per event, in order; an exhausted event goes to the dead-letter list and the hook moves on. */
  async #perEvent(tx: TransactionEvents, events: BridgeEvent[]): Promise<boolean> {
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const result = await this.#deliver(
        {
          url: this.hook.url,
          webhookId: e.id,
          secrets: [],
          contentType: 'application/cloudevents+json',
          body: JSON.stringify(e),
        },
        tx.txid,
        [e],
        i === events.length - 1 ? txPosition(tx) : null,
      );
      if (result === 'gone' || result === 'stopped') return false;
    }
    return true;
  }

  async #signingSecrets(): Promise<string[]> {
    const now = this.#now();
    if (!this.#secrets || now >= this.#secrets.validUntil) {
      const list = await this.#d.store.secrets(this.hook.id);
      const current = await this.#d.store.get(this.hook.id);
      const until =
        current?.previousSecretUntil && current.previousSecretUntil > now ? current.previousSecretUntil : Infinity;
      this.#secrets = { list, validUntil: until };
    }
    return this.#secrets.list;
  }

  /**
   * Sends one request until it is acknowledged, skipped, exhausted (post-commit), or the hook is gone or stopped.
   * `position` is saved with the acknowledgement when this request finishes its transaction.
   */
  async #deliver(
    req: WebhookRequest,
    txid: string,
    events: BridgeEvent[],
    position: TxPosition | null,
  ): Promise<DeliverResult> {
    const { store, sender, metrics, policy, log } = this.#d;
    const hookId = this.hook.id;
    const eventIds = events.map((e) => e.id);
    const resumed = this.#resumable.get(req.webhookId);
    if (resumed) this.#resumable.delete(req.webhookId);
    let deliveryId: string | null = resumed?.id ?? null;
    let failures = resumed?.attempts ?? 0;
    let firstAt = resumed?.firstAttemptAt ?? null;
    this.#current = { id: deliveryId, skip: null, failing: deliveryId !== null };
    this.#woken = false;
    try {
      while (true) {
        if (this.#abort.signal.aborted) return 'stopped';
        if (this.#current.skip !== null && deliveryId) {
          await store.finishDelivery(hookId, deliveryId, 'skipped', { note: this.#current.skip, position });
          log.warn(
            { hook: hookId, delivery: deliveryId, txid, note: this.#current.skip },
            'webhook delivery skipped by an admin',
          );
          return 'skipped';
        }
        const secrets = await this.#signingSecrets();
        const outcome: AttemptOutcome = await sender.send({ ...req, secrets });
        const now = this.#now();
        firstAt ??= now;
        const attempt: AttemptRecord = {
          at: now,
          status: outcome.status,
          latencyMs: Math.round(outcome.latencyMs * 100) / 100,
          ...(outcome.kind === 'retry' ? { error: outcome.error } : {}),
        };
        if (outcome.kind === 'ok') {
          metrics.attempt(hookId, 'ok');
          metrics.published(events.length);
          if (deliveryId === null) {
            this.#okLog.push({ messageId: req.webhookId, txid, eventIds, contentType: req.contentType, attempt });
            if (position) this.#unsaved = position;
            this.#scheduleFlush();
          } else {
            await store.recordAttempt(deliveryId, attempt, null);
            await store.finishDelivery(hookId, deliveryId, 'delivered', { position });
          }
          return 'ok';
        }
        metrics.failed(events.length);
        this.#current.failing = true;
        // Earlier acknowledgements first, so that positions are written in order and the stored one is exact now.
        if (deliveryId === null) await this.#flush();
        failures++;
        const logAttempt = async (next: number | null): Promise<string> => {
          if (deliveryId === null) {
            const d = { messageId: req.webhookId, txid, eventIds, contentType: req.contentType, body: req.body };
            deliveryId = await store.openDelivery(hookId, d, attempt, next);
            this.#current!.id = deliveryId;
          } else await store.recordAttempt(deliveryId, attempt, next);
          return deliveryId;
        };
        if (outcome.kind === 'gone') {
          metrics.attempt(hookId, 'failed');
          const reason = `the receiver answered 410 Gone at ${new Date(now).toISOString()}`;
          const id = await logAttempt(null);
          await store.finishDelivery(hookId, id, 'gone', { note: reason });
          await store.disable(hookId, reason);
          log.warn({ hook: hookId, delivery: id }, 'webhook disabled: 410 Gone');
          this.#d.onDisabled?.(hookId, reason);
          return 'gone';
        }
        let next = nextAttemptAt(policy, firstAt, failures, now, outcome.retryAfterMs, this.#d.random);
        if (next === null) {
          if (this.hook.guarantee === 'post-commit') {
            metrics.attempt(hookId, 'dead');
            const id = await logAttempt(null);
            await store.finishDelivery(hookId, id, 'dead', { position });
            log.warn({ hook: hookId, delivery: id, txid }, 'webhook delivery exhausted: dead letter');
            return 'dead';
          }
          // Transactional: order is the hook's contract, so it keeps trying at the last delay until someone acts.
          next = now + (outcome.retryAfterMs ?? retryDelay(policy, policy.delaysMs.length, this.#d.random));
        }
        metrics.attempt(hookId, 'retry');
        await logAttempt(next);
        await this.#sleepUntil(next);
      }
    } finally {
      this.#current = null;
    }
  }

  #sleepUntil(at: number): Promise<void> {
    if (this.#woken || this.#abort.signal.aborted) {
      this.#woken = false;
      return Promise.resolve();
    }
    const ms = Math.max(0, at - this.#now());
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

/** `<site>:<txid>` from an event id `<site>:<txid>:<txseq>`: the webhook-id of a transaction's request. */
export function txKey(e: BridgeEvent): string {
  return e.id.slice(0, e.id.lastIndexOf(':'));
}

function txPosition(tx: TransactionEvents): TxPosition {
  return { end: tx.end, txid: tx.txid, commitTime: tx.commitTime };
}
