/**
 * The webhook admin API on the service's app factory, against a real state database, plus the OpenAPI document:
 * served, valid, current in openapi/openapi.yaml, and matching the routes.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { parse } from 'yaml';
import { Registry } from 'prom-client';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { MemoryFeed } from '../support/memory-feed.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { openState, type StateDb } from '../../src/state/index.js';
import { parseDatabaseUrl } from '../../src/config/index.js';
import { WebhookStore } from '../../src/state/webhooks.js';
import { WebhookManager } from '../../src/delivery/webhook-manager.js';
import { webhookMetrics } from '../../src/delivery/webhook-metrics.js';
import { buildApp } from '../../src/api/app.js';
import { webhookApi } from '../../src/api/webhooks/index.js';
import { checkOpenApiDocument } from '../../src/api/openapi-check.js';
import { render } from '../../scripts/generate-openapi.js';

/** Every (method, path) the app serves, from fastify's route tree (HEAD left out). */
function servedRoutes(app: FastifyInstance): Array<{ method: string; url: string }> {
  const out: Array<{ method: string; url: string }> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[└├]── (\S+) \(([^)]*)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    for (const method of m[3].split(', ')) if (method !== 'HEAD') out.push({ method, url: stack.join('') });
  }
  return out;
}

const ADMIN = 'admin-token-0123456789';
const SUB = 'subscriber-token-1';
const admin = { authorization: `Bearer ${ADMIN}` };

describe('webhook admin API', () => {
  let db: MariaDbServer;
  let state: StateDb;
  let manager: WebhookManager;
  let app: FastifyInstance;
  let receiver: Receiver;
  const feed = new MemoryFeed('api-site');
  let routes: Array<{ method: string; url: string }> = [];

  beforeAll(async () => {
    db = await startMariaDb();
    state = await openState(parseDatabaseUrl(db.url('bridge_state')));
    receiver = await startReceiver((_q, res) => void res.writeHead(500).end());
    manager = new WebhookManager({
      store: new WebhookStore(state.pool, state.positions),
      feed,
      policy: { delaysMs: [60_000], windowMs: 3_600_000, jitter: 0 },
      timeoutMs: 1000,
      refuseInternalUrls: false,
      metrics: webhookMetrics(new Registry()),
      log: { info() {}, warn() {}, error() {} },
    });
    app = await buildApp({
      logger: pino({ level: 'silent' }),
      auth: { adminToken: ADMIN, subscribeTokens: [SUB] },
      operations: { readiness: () => [], metrics: async () => ({ contentType: 'text/plain', body: '' }) },
      plugins: [{ name: 'webhooks', plugin: webhookApi, options: { manager } }],
    });
    await app.ready();
    routes = servedRoutes(app);
  });
  afterAll(async () => {
    await app?.close();
    await manager?.stop();
    await receiver?.close();
    await state?.close();
    await db?.stop();
  });

  const create = (body: unknown) =>
    app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: body as object });

  it('registers, lists, gets, patches and deletes a hook; the secret is shown once', async () => {
    const res = await create({
      url: receiver.url,
      guarantee: 'transactional',
      types: ['ObsCreated'],
      description: 'lab',
    });
    expect(res.statusCode).toBe(201);
    const hook = res.json();
    expect(hook).toMatchObject({
      url: receiver.url,
      guarantee: 'transactional',
      types: ['ObsCreated'],
      enabled: true,
      status: 'active',
    });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(hook.position).toEqual({ file: 'mysql-bin.000001', pos: 4 });
    const list = await app.inject({ url: '/v1/webhooks', headers: admin });
    expect(list.json().webhooks.map((h: { id: string }) => h.id)).toContain(hook.id);
    const got = await app.inject({ url: `/v1/webhooks/${hook.id}`, headers: admin });
    expect(got.statusCode).toBe(200);
    expect(got.json().secret).toBeUndefined();
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/webhooks/${hook.id}`,
      headers: admin,
      payload: { types: null, enabled: false },
    });
    expect(patched.json()).toMatchObject({
      types: null,
      enabled: false,
      status: 'disabled',
      disabledReason: 'disabled by an admin',
    });
    const rotated = await app.inject({ method: 'POST', url: `/v1/webhooks/${hook.id}/rotate-secret`, headers: admin });
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(hook.secret);
    expect(
      (await app.inject({ url: `/v1/webhooks/${hook.id}`, headers: admin })).json().previousSecretValidUntil,
    ).toBeTruthy();
    const del = await app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: admin });
    expect(del.statusCode).toBe(204);
    expect((await app.inject({ url: `/v1/webhooks/${hook.id}`, headers: admin })).statusCode).toBe(404);
  });

  it('shows the delivery log, and retry/skip act on deliveries', async () => {
    const { id } = (await create({ url: receiver.url, guarantee: 'transactional' })).json();
    feed.push(['ObsCreated']);
    await receiver.waitFor(1);
    let log: any;
    for (let i = 0; i < 100; i++) {
      log = (await app.inject({ url: `/v1/webhooks/${id}/deliveries?status=pending`, headers: admin })).json();
      if (log.deliveries.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [d] = log.deliveries;
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, webhookId: 'api-site:0-1-1' });
    expect(d.history[0]).toMatchObject({ statusCode: 500 });
    expect((await app.inject({ url: `/v1/webhooks/${id}`, headers: admin })).json().status).toBe('failing');
    const retry = await app.inject({
      method: 'POST',
      url: `/v1/webhooks/${id}/deliveries/${d.id}/retry`,
      headers: admin,
    });
    expect(retry.statusCode).toBe(200);
    await receiver.waitFor(2);
    const skip = await app.inject({
      method: 'POST',
      url: `/v1/webhooks/${id}/deliveries/${d.id}/skip`,
      headers: admin,
      payload: { reason: 'poison transaction' },
    });
    expect(skip.statusCode).toBe(200);
    expect(skip.json()).toMatchObject({ status: 'skipped', note: 'poison transaction' });
    const again = await app.inject({
      method: 'POST',
      url: `/v1/webhooks/${id}/deliveries/${d.id}/skip`,
      headers: admin,
    });
    expect(again.statusCode).toBe(409);
    const unknown = await app.inject({
      method: 'POST',
      url: `/v1/webhooks/${id}/deliveries/123456/retry`,
      headers: admin,
    });
    expect(unknown.statusCode).toBe(404);
    await app.inject({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: admin });
  });

  it('answers 400 naming each bad field, on every route that takes input', async () => {
    const bad = async (method: 'POST' | 'PATCH' | 'GET', url: string, payload: unknown, paths: string[]) => {
      const headers = typeof payload === 'string' ? { ...admin, 'content-type': 'application/json' } : admin;
      const res = await app.inject({
        method,
        url,
        headers,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)}`).toBe(400);
      const body = res.json();
      expect(typeof body.error).toBe('string');
      expect(body.details.map((d: { path: string }) => d.path).sort(), JSON.stringify(body)).toEqual([...paths].sort());
      for (const d of body.details) expect(d.message.length).toBeGreaterThan(0);
    };
    await bad('POST', '/v1/webhooks', {}, ['url', 'guarantee']);
    await bad('POST', '/v1/webhooks', { url: receiver.url, guarantee: 'sometimes' }, ['guarantee']);
    await bad('POST', '/v1/webhooks', { url: 'ftp://x.example/', guarantee: 'post-commit' }, ['url']);
    await bad('POST', '/v1/webhooks', { url: 'not a url', guarantee: 'post-commit' }, ['url']);
    await bad('POST', '/v1/webhooks', { url: receiver.url, guarantee: 'post-commit', types: ['ObsCreated', 'Nope'] }, [
      'types.1',
    ]);
    await bad('POST', '/v1/webhooks', { url: receiver.url, guarantee: 'post-commit', types: [] }, ['types']);
    await bad('POST', '/v1/webhooks', { url: receiver.url, guarantee: 'post-commit', patient: 'x', colour: 1 }, [
      'patient',
      'colour',
    ]);
    await bad('POST', '/v1/webhooks', '{"url":', ['body']);
    const { id } = (await create({ url: receiver.url, guarantee: 'post-commit' })).json();
    await bad('PATCH', `/v1/webhooks/${id}`, {}, ['body']);
    await bad('PATCH', `/v1/webhooks/${id}`, { enabled: 'yes', description: 5 }, ['enabled', 'description']);
    await bad('PATCH', `/v1/webhooks/${id}`, { url: 'gopher://x/' }, ['url']);
    await bad('GET', `/v1/webhooks/${id}/deliveries?limit=0&status=bogus`, undefined, ['limit', 'status']);
    await bad('GET', `/v1/webhooks/${id}/deliveries?before=abc&extra=1`, undefined, ['before', 'extra']);
    await bad('POST', `/v1/webhooks/${id}/deliveries/1/skip`, { reason: 5 }, ['reason']);
    for (const [method, url] of [
      ['GET', '/v1/webhooks/wh_nope'],
      ['PATCH', '/v1/webhooks/wh_nope'],
      ['DELETE', '/v1/webhooks/wh_nope'],
      ['POST', '/v1/webhooks/wh_nope/rotate-secret'],
      ['GET', '/v1/webhooks/wh_nope/deliveries'],
      ['POST', '/v1/webhooks/wh_nope/deliveries/1/retry'],
      ['POST', '/v1/webhooks/wh_nope/deliveries/1/skip'],
    ] as const) {
      const res = await app.inject({
        method,
        url,
        headers: admin,
        ...(method === 'PATCH' ? { payload: { description: 'x' } } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
  });

  it('needs the admin token: none or a wrong one is 401, a subscribe token is 403', async () => {
    const webhookRoutes = routes.filter((r) => r.url.startsWith('/v1/webhooks'));
    expect(webhookRoutes.length).toBe(9);
    for (const r of webhookRoutes) {
      const url = r.url.replace(':id', 'wh_x').replace(':deliveryId', '1');
      const method = r.method as 'GET';
      expect((await app.inject({ method, url })).statusCode, `${r.method} ${url}`).toBe(401);
      expect((await app.inject({ method, url, headers: { authorization: 'Bearer wrong-token-123' } })).statusCode).toBe(
        401,
      );
      expect((await app.inject({ method, url, headers: { authorization: `Bearer ${SUB}` } })).statusCode).toBe(403);
    }
  });

  it('serves an OpenAPI 3.1 document that validates, matches the routes, and equals openapi/openapi.yaml', async () => {
    const res = await app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(checkOpenApiDocument(doc)).toEqual([]);
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const served = routes
      .filter((r) => r.url !== '/openapi.json')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(documented.sort()).toEqual([...new Set(served)].sort());
    const file = await readFile(new URL('../../openapi/openapi.yaml', import.meta.url), 'utf8');
    expect(parse(file)).toEqual(doc);
    expect(file).toBe(render(doc));
    // The checker is not a rubber stamp.
    const broken = structuredClone(doc);
    delete broken.paths['/v1/webhooks/{id}'].get.parameters;
    broken.paths['/v1/webhooks'].post.responses['201'].content['application/json'].schema.$ref =
      '#/components/schemas/Nope';
    const problems = checkOpenApiDocument(broken).join('\n');
    expect(problems).toMatch(/GET \/v1\/webhooks\/\{id\}: \{id\} has no path parameter/);
    expect(problems).toMatch(/\$ref #\/components\/schemas\/Nope does not resolve/);
  });
});
