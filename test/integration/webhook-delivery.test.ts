/**
 * Webhook delivery against a real state database (throwaway MariaDB) and real HTTP receivers (node:http), fed by
 * in-process transactions. The full binlog pipeline is exercised in webhooks-e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Registry } from 'prom-client';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { MemoryFeed } from '../support/memory-feed.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { openState, type StateDb } from '../../src/state/index.js';
import { parseDatabaseUrl } from '../../src/config/index.js';
import { WebhookStore } from '../../src/state/webhooks.js';
import { WebhookManager } from '../../src/delivery/webhook-manager.js';
import { webhookMetrics } from '../../src/delivery/webhook-metrics.js';
import type { BridgeEvent, TransactionEvents } from '../../src/domain/types.js';

const quiet = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('webhook delivery', () => {
  let db: MariaDbServer;
  let state: StateDb;
  let store: WebhookStore;
  const receivers: Receiver[] = [];
  const managers: WebhookManager[] = [];

  beforeAll(async () => {
    db = await startMariaDb();
    state = await openState(parseDatabaseUrl(db.url('bridge_state')));
    store = new WebhookStore(state.pool, state.positions);
  });
  afterAll(async () => {
    for (const m of managers) await m.stop();
    for (const r of receivers) await r.close();
    await state?.close();
    await db?.stop();
  });

  function manager(feed: MemoryFeed, opts: { timeoutMs?: number; windowMs?: number; registry?: Registry } = {}) {
    const m = new WebhookManager({
      store,
      feed,
      policy: { delaysMs: [50, 100, 200], windowMs: opts.windowMs ?? 60_000, jitter: 0.1 },
      timeoutMs: opts.timeoutMs ?? 2000,
      refuseInternalUrls: false,
      metrics: webhookMetrics(opts.registry ?? new Registry()),
      log: quiet,
    });
    managers.push(m);
    return m;
  }
  async function receiver(...args: Parameters<typeof startReceiver>) {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  }

  it('transactional: one signed request per transaction, in commit order, with exactly its matching events', async () => {
    const feed = new MemoryFeed('clinic-a');
    const m = manager(feed);
    const r = await receiver();
    feed.push(['PatientCreated']); // before registration: never delivered
    const { hook, secret } = await m.create({ url: r.url, guarantee: 'transactional' });
    expect(secret).toMatch(/^whsec_/);
    const txs: TransactionEvents[] = [];
    for (let i = 0; i < 200; i++) txs.push(feed.push(['PatientCreated', 'ObsCreated', 'RowChanged', 'ObsCreated']));
    await r.waitFor(200);
    await sleep(100);
    expect(r.requests).toHaveLength(200);
    const verifier = new StandardWebhook(secret);
    r.requests.forEach((req, i) => {
      expect(req.headers['content-type']).toBe('application/cloudevents-batch+json');
      expect(req.headers['webhook-id']).toBe(`clinic-a:${txs[i].txid}`);
      const batch = verifier.verify(req.body, req.headers as Record<string, string>) as BridgeEvent[];
      expect(batch.map((e) => e.id)).toEqual(txs[i].events.filter((e) => e.type !== 'RowChanged').map((e) => e.id));
    });
    await until(async () => (await store.get(hook.id))!.position.binlog.pos === txs[199].end.binlog.pos);
    // Acknowledgements are logged behind (within 100 ms).
    await until(async () => (await m.deliveries(hook.id, { limit: 1 }))![0]?.txid === txs[199].txid);
    const log = await m.deliveries(hook.id, { limit: 5 });
    expect(log![0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatus: 200, txid: txs[199].txid });
  });

  it('transactional: a failing hook retries the same webhook-id, holds its position, and blocks only itself', async () => {
    const feed = new MemoryFeed('clinic-b');
    const registry = new Registry();
    const m = manager(feed, { registry });
    let failing = true;
    const bad = await receiver((req, res) => {
      const batch = JSON.parse(req.body) as BridgeEvent[];
      res.writeHead(failing && batch[0].txid === '0-1-3' ? 500 : 200).end();
    });
    const good = await receiver();
    const { hook: badHook } = await m.create({ url: bad.url, guarantee: 'transactional' });
    const { hook: goodHook } = await m.create({ url: good.url, guarantee: 'transactional' });
    const txs = Array.from({ length: 10 }, () => feed.push(['EncounterCreated', 'ObsCreated']));
    await good.waitFor(10);
    await bad.waitFor(7); // tx 1, tx 2, then tx 3 at least 5 times
    expect((await store.get(badHook.id))!.position).toEqual(txs[1].end);
    expect(bad.requests.slice(2).every((q) => q.headers['webhook-id'] === 'clinic-b:0-1-3')).toBe(true);
    // The log row is written right after each answer: wait for the fifth attempt to be in it.
    let pending = (await m.deliveries(badHook.id, { status: 'pending' }))!;
    await until(async () => {
      pending = (await m.deliveries(badHook.id, { status: 'pending' }))!;
      return pending.length === 1 && pending[0].attempts >= 5;
    });
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ messageId: 'clinic-b:0-1-3', lastStatus: 500 });
    expect(pending[0].lastError).toMatch(/HTTP 500/);
    await until(async () => (await store.get(goodHook.id))!.position.binlog.pos === txs[9].end.binlog.pos);
    failing = false;
    await until(() => bad.requests.filter((q) => q.headers['webhook-id'] !== 'clinic-b:0-1-3').length === 9);
    const order = bad.requests.map((q) => q.headers['webhook-id']).filter((id, i, a) => a.indexOf(id) === i);
    expect(order).toEqual(txs.map((t) => `clinic-b:${t.txid}`));
    await until(async () => (await store.get(badHook.id))!.position.binlog.pos === txs[9].end.binlog.pos);
    const metrics = await registry.getSingleMetricAsString('openmrs_bridge_webhook_attempts_total');
    expect(metrics).toMatch(
      new RegExp(`hook="${badHook.id}",outcome="retry"} [5-9]|hook="${badHook.id}",outcome="retry"} \\d\\d`),
    );
  });

  it('transactional: more than 1,000 matching events go as ordered batches of at most 1,000', async () => {
    const feed = new MemoryFeed('clinic-c');
    const m = manager(feed);
    const r = await receiver();
    await m.create({ url: r.url, guarantee: 'transactional' });
    const big = feed.push(Array.from({ length: 2500 }, () => 'ObsVoided'));
    await r.waitFor(3);
    const sizes = r.requests.map((q) => (JSON.parse(q.body) as unknown[]).length);
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(r.requests.map((q) => q.headers['webhook-id'])).toEqual(
      [1, 2, 3].map((i) => `clinic-c:${big.txid}:part-${i}-of-3`),
    );
    const ids = r.requests.flatMap((q) => (JSON.parse(q.body) as BridgeEvent[]).map((e) => e.txseq));
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it('transactional: an admin skip moves past the blocked transaction and is logged', async () => {
    const feed = new MemoryFeed('clinic-d');
    const m = manager(feed);
    const r = await receiver((req, res) =>
      res.writeHead(req.headers['webhook-id'] === 'clinic-d:0-1-2' ? 503 : 200).end(),
    );
    const { hook } = await m.create({ url: r.url, guarantee: 'transactional' });
    const txs = Array.from({ length: 3 }, () => feed.push(['VisitStarted']));
    await r.waitFor(3);
    await until(async () => (await m.deliveries(hook.id, { status: 'pending' }))!.length === 1);
    const [pending] = (await m.deliveries(hook.id, { status: 'pending' }))!;
    expect(pending.messageId).toBe('clinic-d:0-1-2');
    const result = await m.skip(hook.id, pending.id, 'receiver cannot take this one');
    expect(result).toMatchObject({
      kind: 'done',
      delivery: { status: 'skipped', note: 'receiver cannot take this one' },
    });
    await until(() => r.requests.some((q) => q.headers['webhook-id'] === 'clinic-d:0-1-3'));
    await until(async () => (await store.get(hook.id))!.position.binlog.pos === txs[2].end.binlog.pos);
    expect(await m.skip(hook.id, pending.id, 'again')).toMatchObject({ kind: 'conflict' });
    expect(await m.skip(hook.id, '999999', 'x')).toEqual({ kind: 'not-found' });
  });

  it('post-commit: a hook that times out delays no healthy hook; exhausted events are dead letters; retry delivers', async () => {
    const feed = new MemoryFeed('clinic-e');
    const m = manager(feed, { timeoutMs: 300, windowMs: 1200 });
    let slowMode = true;
    const slow = await receiver(async (_req, res) => {
      if (slowMode) await sleep(1000);
      if (!res.destroyed) res.writeHead(200).end();
    });
    const healthy = await receiver();
    const { hook: slowHook } = await m.create({ url: slow.url, guarantee: 'post-commit' });
    await m.create({ url: healthy.url, guarantee: 'post-commit' });
    const txs = [feed.push(['ObsCreated', 'ObsCreated']), feed.push(['ObsVoided'])];
    await healthy.waitFor(3);
    // The slow hook is still on its first event (it takes 1.2 s to exhaust one): the healthy one did not wait for it.
    expect(new Set(slow.requests.map((q) => q.headers['webhook-id'])).size).toBeLessThanOrEqual(1);
    expect(healthy.requests.map((q) => q.headers['content-type'])).toEqual(
      Array(3).fill('application/cloudevents+json'),
    );
    expect(healthy.requests.map((q) => q.headers['webhook-id'])).toEqual(txs.flatMap((t) => t.events.map((e) => e.id)));
    // Each event is tried until the 1.2 s window ends, then dead-lettered, and the hook moves on in order.
    await until(
      async () => (await m.deliveries(slowHook.id, { status: 'dead' }))!.length === 3,
      20_000,
      'dead letters',
    );
    const dead = (await m.deliveries(slowHook.id, { status: 'dead' }))!;
    expect(dead.map((d) => d.messageId).reverse()).toEqual(txs.flatMap((t) => t.events.map((e) => e.id)));
    expect(dead[0].lastError).toMatch(/timeout/);
    expect(dead[0].attempts).toBeGreaterThanOrEqual(3);
    slowMode = false;
    const before = slow.requests.length;
    const retried = await m.retry(slowHook.id, dead[2].id);
    expect(retried).toMatchObject({ kind: 'done', delivery: { status: 'delivered', lastStatus: 200 } });
    expect(slow.requests.length).toBe(before + 1);
    expect(slow.requests.at(-1)!.headers['webhook-id']).toBe(dead[2].messageId);
    expect(await m.retry(slowHook.id, dead[2].id)).toMatchObject({ kind: 'conflict' });
  });

  it('410 disables the hook; Retry-After on 429 is honoured', async () => {
    const feed = new MemoryFeed('clinic-f');
    const m = manager(feed);
    const gone = await receiver((_q, res) => res.writeHead(410).end());
    let first = true;
    const limited = await receiver((_q, res) => {
      if (first) {
        first = false;
        res.writeHead(429, { 'retry-after': '1' }).end();
      } else res.writeHead(200).end();
    });
    const { hook: goneHook } = await m.create({ url: gone.url, guarantee: 'post-commit' });
    await m.create({ url: limited.url, guarantee: 'transactional' });
    feed.push(['ObsCreated']);
    feed.push(['ObsCreated']);
    await limited.waitFor(2);
    const gap = limited.requests[1].at - limited.requests[0].at;
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(limited.requests[1].headers['webhook-id']).toBe(limited.requests[0].headers['webhook-id']);
    await until(async () => (await store.get(goneHook.id))!.enabled === false);
    await sleep(200);
    expect(gone.requests).toHaveLength(1);
    expect((await store.get(goneHook.id))!.disabledReason).toMatch(/410/);
    expect((await m.deliveries(goneHook.id, {}))![0]).toMatchObject({ status: 'gone', lastStatus: 410 });
  });

  it('rotate-secret: deliveries carry both signatures, each verifying', async () => {
    const feed = new MemoryFeed('clinic-g');
    const m = manager(feed);
    const r = await receiver();
    const { hook, secret: oldSecret } = await m.create({ url: r.url, guarantee: 'post-commit' });
    const rotated = (await m.rotateSecret(hook.id))!;
    expect(rotated.secret).not.toBe(oldSecret);
    feed.push(['ObsCreated']);
    await r.waitFor(1);
    const req = r.requests[0];
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const s of [oldSecret, rotated.secret])
      new StandardWebhook(s).verify(req.body, req.headers as Record<string, string>);
  });

  it('a feed that fails does not silence the hook: it reads again from its position', async () => {
    const feed = new MemoryFeed('clinic-h');
    let failures = 1;
    const flaky = {
      end: () => feed.end(),
      read(after: Parameters<MemoryFeed['read']>[0], signal: AbortSignal): AsyncIterable<TransactionEvents> {
        if (failures-- > 0) {
          return {
            [Symbol.asyncIterator]: () => ({
              next: () => Promise.reject(new Error('catch-up reader: connection lost')),
            }),
          };
        }
        return feed.read(after, signal);
      },
    };
    const m = new WebhookManager({
      store,
      feed: flaky as unknown as MemoryFeed,
      policy: { delaysMs: [50], windowMs: 60_000, jitter: 0 },
      timeoutMs: 2000,
      refuseInternalUrls: false,
      metrics: webhookMetrics(new Registry()),
      log: quiet,
    });
    managers.push(m);
    const r = await receiver();
    await m.create({ url: r.url, guarantee: 'transactional' });
    const tx = feed.push(['ObsCreated']);
    await r.waitFor(1, 10_000);
    expect(r.requests[0].headers['webhook-id']).toBe(`clinic-h:${tx.txid}`);
  });
});
