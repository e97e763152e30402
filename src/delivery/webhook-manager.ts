/**
 * Owns the webhook runners: starts one per enabled hook, and carries out what the admin API asks (register, change,
 * delete, rotate, retry, skip). The API talks to this class only.
 */
import type { ResumePosition } from '../capture/types.js';
import { WebhookSender } from '../channels/webhook/sender.js';
import { generateSecret } from '../channels/webhook/signing.js';
import type { Delivery, DeliveryStatus, NewWebhook, Webhook, WebhookPatch, WebhookStore } from '../state/webhooks.js';
import type { CommitHold, HeldHook } from './commit-hold.js';
import type { HookFeed } from './webhook-feed.js';
import { eventMatcher } from './webhook-filter.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import { HookRunner, type RunnerLogger } from './webhook-runner.js';
import { checkWebhookUrl } from './webhook-url.js';
import type { RetryPolicy } from './retry-schedule.js';

/** Configuration and collaborators of the manager. */
export interface WebhookManagerOptions {
  store: WebhookStore;
  feed: HookFeed;
  policy: RetryPolicy;
  /** BRIDGE_WEBHOOK_TIMEOUT, ms. */
  timeoutMs: number;
  /** Refuse URLs that resolve to loopback or private addresses. */
  refuseInternalUrls: boolean;
  metrics: WebhookMetrics;
  log: RunnerLogger;
  hold?: CommitHold;
  now?: () => number;
  random?: () => number;
  /** Host name resolution for URL checks (tests). */
  resolve?: (host: string) => Promise<string[]>;
}

/** Outcome of an admin action on a delivery. */
export type DeliveryActionResult =
  { kind: 'not-found' } | { kind: 'conflict'; message: string } | { kind: 'done'; delivery: Delivery };

/** Starts, stops and administers every webhook of the bridge. */
export class WebhookManager {
  readonly #o: WebhookManagerOptions;
  readonly #sender: WebhookSender;
  readonly #runners = new Map<string, HookRunner>();
  #stopped = false;

  constructor(options: WebhookManagerOptions) {
    this.#o = options;
    this.#sender = new WebhookSender({ timeoutMs: options.timeoutMs, now: options.now });
  }

  /** Starts a runner for every enabled hook in the store. */
  async start(): Promise<void> {
    for (const hook of await this.#o.store.list()) if (hook.enabled) this.#startRunner(hook);
  }

  /** Stops every runner (each saves its position) and closes connections. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#runners.values()].map((r) => r.stop()));
    this.#runners.clear();
    await this.#sender.close();
  }

  /** The enabled transactional hooks, for the commit hold. */
  *heldHooks(): Iterable<HeldHook> {
    for (const r of this.#runners.values())
      if (r.hook.guarantee === 'transactional') yield { id: r.hook.id, matches: eventMatcher(r.hook) };
  }

  /** Where a hook's runner stands now (its saved position may lag by up to a second on quiet hooks). */
  runnerPosition(id: string): ResumePosition | null {
    return this.#runners.get(id)?.position ?? null;
  }

  /** True while a hook's runner is retrying a delivery (a transactional hook is then blocked on it). */
  failing(id: string): boolean {
    return this.#runners.get(id)?.failing ?? false;
  }

  /** Throws `WebhookUrlError` when the URL is not acceptable. */
  async checkUrl(url: string): Promise<void> {
    await checkWebhookUrl(url, { refuseInternal: this.#o.refuseInternalUrls, resolve: this.#o.resolve });
  }

  /**
   * Registers a hook that starts at the server's binlog end now, so it receives every matching transaction committed
   * after this returns. Returns the hook and its secret (shown once).
   */
  async create(input: NewWebhook): Promise<{ hook: Webhook; secret: string }> {
    await this.checkUrl(input.url);
    const position = await this.#o.feed.end();
    const secret = generateSecret();
    const hook = await this.#o.store.create(input, secret, position);
    this.#startRunner(hook);
    return { hook, secret };
  }

  list(): Promise<Webhook[]> {
    return this.#o.store.list();
  }

  get(id: string): Promise<Webhook | null> {
    return this.#o.store.get(id);
  }

  /** Changes a hook; its runner restarts from its position with the new settings. */
  async update(id: string, patch: WebhookPatch): Promise<Webhook | null> {
    if (patch.url !== undefined) await this.checkUrl(patch.url);
    await this.#stopRunner(id);
    const hook = await this.#o.store.update(id, patch);
    if (!hook) return null;
    if (hook.enabled) this.#startRunner(hook);
    else this.#o.hold?.forget(id);
    return hook;
  }

  /** Deletes a hook and its log. */
  async delete(id: string): Promise<boolean> {
    await this.#stopRunner(id);
    this.#o.hold?.forget(id);
    return this.#o.store.delete(id);
  }

  /** New secret; the old one keeps signing for 24 h. */
  async rotateSecret(id: string): Promise<{ secret: string; previousSecretUntil: number } | null> {
    const result = await this.#o.store.rotateSecret(id, generateSecret());
    this.#runners.get(id)?.refreshSecrets();
    return result;
  }

  /** A hook's delivery log, newest first; null for an unknown hook. */
  async deliveries(
    id: string,
    query: { status?: DeliveryStatus; limit?: number; before?: string },
  ): Promise<Delivery[] | null> {
    if (!(await this.#o.store.get(id))) return null;
    return this.#o.store.listDeliveries(id, query);
  }

  /**
   * Manual retry. A pending delivery (the hook is retrying it) is attempted now; a dead letter is sent again at once,
   * out of the hook's order (it was already passed), and goes back to the dead-letter list if that attempt fails.
   */
  async retry(id: string, deliveryId: string): Promise<DeliveryActionResult> {
    const { store } = this.#o;
    const hook = await store.get(id);
    const d = hook && (await store.getDelivery(id, deliveryId));
    if (!hook || !d) return { kind: 'not-found' };
    if (d.status === 'pending') {
      const runner = this.#runners.get(id);
      if (!runner || runner.blockedOn !== deliveryId)
        return { kind: 'conflict', message: 'the delivery is pending but its hook is not running (enable it first)' };
      runner.wake();
      return { kind: 'done', delivery: d };
    }
    if (d.status !== 'dead' || d.body === null)
      return { kind: 'conflict', message: `only pending or dead deliveries can be retried; this one is ${d.status}` };
    await store.reopenDead(id, deliveryId, 'retried by an admin');
    const secrets = await store.secrets(id);
    const outcome = await this.#sender.send({
      url: hook.url,
      webhookId: d.messageId,
      secrets,
      contentType: d.contentType as 'application/cloudevents+json',
      body: d.body,
    });
    const now = (this.#o.now ?? Date.now)();
    await store.recordAttempt(
      deliveryId,
      {
        at: now,
        status: outcome.status,
        latencyMs: Math.round(outcome.latencyMs * 100) / 100,
        ...(outcome.kind === 'retry' ? { error: outcome.error } : {}),
      },
      null,
    );
    this.#o.metrics.attempt(id, outcome.kind === 'ok' ? 'ok' : outcome.kind === 'gone' ? 'failed' : 'dead');
    if (outcome.kind === 'ok') this.#o.metrics.published(d.eventIds.length);
    await store.finishDelivery(id, deliveryId, outcome.kind === 'ok' ? 'delivered' : 'dead', {
      note: 'retried by an admin',
    });
    if (outcome.kind === 'gone') {
      await store.disable(id, 'the receiver answered 410 Gone to a manual retry');
      await this.#stopRunner(id);
      this.#o.hold?.forget(id);
    }
    return { kind: 'done', delivery: (await store.getDelivery(id, deliveryId))! };
  }

  /**
   * Skips a pending delivery: the hook's position moves past its transaction and delivery continues with the next.
   * Logged with `note`.
   */
  async skip(id: string, deliveryId: string, note: string): Promise<DeliveryActionResult> {
    const { store } = this.#o;
    const d = (await store.get(id)) && (await store.getDelivery(id, deliveryId));
    if (!d) return { kind: 'not-found' };
    if (d.status !== 'pending')
      return { kind: 'conflict', message: `only a pending delivery can be skipped; this one is ${d.status}` };
    const runner = this.#runners.get(id);
    if (runner && runner.skip(deliveryId, note)) {
      // The runner finishes the skip between attempts; wait for it so the answer shows the final state.
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const now = await store.getDelivery(id, deliveryId);
        if (now && now.status !== 'pending') return { kind: 'done', delivery: now };
        await new Promise((r) => setTimeout(r, 20));
      }
    } else {
      // Not being retried (the hook is disabled, or the entry is left over): close it; the runner will not resend it
      // unless it reaches its transaction again.
      await store.finishDelivery(id, deliveryId, 'skipped', { note });
    }
    return { kind: 'done', delivery: (await store.getDelivery(id, deliveryId))! };
  }

  #startRunner(hook: Webhook): void {
    if (this.#stopped) return;
    const runner = new HookRunner(hook, {
      store: this.#o.store,
      sender: this.#sender,
      feed: this.#o.feed,
      policy: this.#o.policy,
      metrics: this.#o.metrics,
      log: this.#o.log,
      hold: this.#o.hold,
      now: this.#o.now,
      random: this.#o.random,
      onDisabled: (hookId) => {
        this.#runners.delete(hookId);
        this.#o.hold?.forget(hookId);
      },
    });
    this.#runners.set(hook.id, runner);
    runner.start();
  }

  async #stopRunner(id: string): Promise<void> {
    const r = this.#runners.get(id);
    if (!r) return;
    this.#runners.delete(id);
    await r.stop();
  }
}
