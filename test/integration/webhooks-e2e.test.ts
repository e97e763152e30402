/**
 * Transactional webhooks through the whole bridge process (binlog -> events -> hooks), against a real OpenMRS schema,
 * real receivers (node:http) and RabbitMQ: order, signatures, a failing hook that blocks only itself, and kill -9.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { startOpenmrs, type OpenmrsDb } from '../support/openmrs.js';
import { spawnBridge, type BridgeProcess } from '../support/bridge-process.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { collectAmqp, type AmqpCollector } from '../support/amqp-collector.js';
import { RABBITMQ_URL, uniqueName } from '../support/rabbitmq.js';
import { registerWithObs } from '../support/registration.js';
import type { BridgeEvent } from '../../src/domain/types.js';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { until } from '../support/wait.js';

const TOKEN = 'e2e-admin-token-0123456789';
const SITE = 'hooks-e2e';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('transactional webhooks end to end', () => {
  let db: OpenmrsDb;
  let bridge: BridgeProcess | null = null;
  let amqp: AmqpCollector;
  const receivers: Receiver[] = [];
  const exchange = uniqueName('hooks-e2e');
  let env: Record<string, string>;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${bridge!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (res.status === 204 ? null : await res.json()) as any };
  };

  beforeAll(async () => {
    db = await startOpenmrs();
    amqp = await collectAmqp(exchange, uniqueName('hooks-e2e-q'));
    env = {
      BRIDGE_SOURCE_URL: db.server.url('openmrs'),
      BRIDGE_SITE: SITE,
      BRIDGE_ADMIN_TOKEN: TOKEN,
      BRIDGE_AMQP_URL: RABBITMQ_URL,
      BRIDGE_AMQP_EXCHANGE: exchange,
      BRIDGE_WEBHOOK_RETRY_SCHEDULE: '100ms,200ms',
      BRIDGE_WEBHOOK_TIMEOUT: '5s',
      BRIDGE_LOG_LEVEL: 'warn',
    };
    bridge = await spawnBridge(env);
    await bridge.ready(60_000);
  });
  afterAll(async () => {
    if (bridge) await bridge.stop('SIGKILL');
    for (const r of receivers) await r.close();
    await amqp?.close();
    await db?.stop();
  });

  it('the running bridge serves the OpenAPI document of openapi/openapi.yaml', async () => {
    const served = await (await fetch(`${bridge!.url}/openapi.json`)).json();
    const file = parse(await readFile(new URL('../../openapi/openapi.yaml', import.meta.url), 'utf8'));
    expect(served).toEqual(file);
  });

  it('200 registrations with obs reach the hook one signed request per transaction, in commit order', async () => {
    const r = await startReceiver();
    receivers.push(r);
    const created = await api('POST', '/v1/webhooks', { url: r.url, guarantee: 'transactional' });
    expect(created.status).toBe(201);
    const verifier = new StandardWebhook(created.body.secret);
    const patients: string[] = [];
    for (let i = 0; i < 200; i++) patients.push((await registerWithObs(db.conn, db.meta)).patientUuid);
    await r.waitFor(200, 60_000);
    await sleep(300);
    expect(r.requests).toHaveLength(200);
    r.requests.forEach((req, i) => {
      expect(req.headers['content-type']).toBe('application/cloudevents-batch+json');
      const batch = verifier.verify(req.body, req.headers as Record<string, string>) as BridgeEvent[];
      const txid = batch[0].txid;
      expect(req.headers['webhook-id']).toBe(`${SITE}:${txid}`);
      expect(batch.every((e) => e.txid === txid)).toBe(true);
      expect(batch.map((e) => e.txseq)).toEqual(batch.map((_, j) => j + 1));
      expect(batch[0]).toMatchObject({ type: 'PatientCreated', subject: patients[i] });
      expect(batch[1]).toMatchObject({ type: 'EncounterCreated', patientuuid: patients[i] });
      expect(batch.filter((e) => e.type === 'ObsCreated')).toHaveLength(5);
      expect(batch.every((e) => e.patientuuid === patients[i])).toBe(true);
    });
    await api('DELETE', `/v1/webhooks/${created.body.id}`);
  });

  it('a failing hook retries the same webhook-id and holds its position while AMQP and another hook keep up; after kill -9 it resumes at the failing transaction', async () => {
    let failing = true;
    const failingIds = new Set<string>();
    const bad = await startReceiver((req, res) => {
      if (failing && failingIds.size === 0) failingIds.add(String(req.headers['webhook-id']));
      res.writeHead(failing && failingIds.has(String(req.headers['webhook-id'])) ? 500 : 200).end();
    });
    const good = await startReceiver();
    receivers.push(bad, good);
    const b = (
      await api('POST', '/v1/webhooks', { url: bad.url, guarantee: 'transactional', types: ['PatientCreated'] })
    ).body;
    await api('POST', '/v1/webhooks', { url: good.url, guarantee: 'transactional', types: ['PatientCreated'] });
    const before = (await api('GET', `/v1/webhooks/${b.id}`)).body.position;
    const patients: string[] = [];
    for (let i = 0; i < 20; i++) patients.push((await registerWithObs(db.conn, db.meta)).patientUuid);
    await good.waitFor(20, 30_000);
    await amqp.waitFor(
      (m) => patients.every((p) => m.some((x) => x.event.type === 'PatientCreated' && x.event.subject === p)),
      30_000,
    );
    await until(() => bad.requests.length >= 5, 30_000, 'five attempts');
    const [failingId] = [...failingIds];
    expect(bad.requests.every((q) => q.headers['webhook-id'] === failingId)).toBe(true);
    const stuck = (await api('GET', `/v1/webhooks/${b.id}`)).body;
    expect(stuck.status).toBe('failing');
    expect(stuck.position).toEqual(before);
    const pending = (await api('GET', `/v1/webhooks/${b.id}/deliveries?status=pending`)).body.deliveries;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ webhookId: failingId, lastStatusCode: 500 });

    // kill -9 while it fails; the restarted bridge starts with the same transaction, same webhook-id.
    await bridge!.stop('SIGKILL');
    const attemptsBeforeKill = bad.requests.length;
    bridge = await spawnBridge(env);
    await bridge.ready(60_000);
    await until(() => bad.requests.length > attemptsBeforeKill, 30_000, 'a retry after the restart');
    expect(bad.requests[attemptsBeforeKill].headers['webhook-id']).toBe(failingId);
    expect((await api('GET', `/v1/webhooks/${b.id}`)).body.position).toEqual(before);

    failing = false;
    await until(() => new Set(bad.requests.map((q) => q.headers['webhook-id'])).size === 20, 30_000, 'recovery');
    const seen = bad.requests.map((q) => q.headers['webhook-id']).filter((id, i, a) => a.indexOf(id) === i);
    const subjects = bad.requests
      .filter((q, i, a) => a.findIndex((x) => x.headers['webhook-id'] === q.headers['webhook-id']) === i)
      .map((q) => (JSON.parse(q.body) as BridgeEvent[])[0].subject);
    expect(seen[0]).toBe(failingId);
    expect(subjects).toEqual(patients);
    await until(async () => (await api('GET', `/v1/webhooks/${b.id}`)).body.status === 'active', 10_000, 'active');
  });

  it('post-commit: a hook that times out delays neither a healthy hook nor AMQP; its exhausted deliveries are dead letters that the retry endpoint delivers', async () => {
    // This bridge instance: 300 ms timeout, retry window 1.5 s (restart with other settings; positions are kept).
    await bridge!.stop('SIGTERM');
    env = { ...env, BRIDGE_WEBHOOK_TIMEOUT: '300ms', BRIDGE_WEBHOOK_RETRY_WINDOW: '1500ms' };
    bridge = await spawnBridge(env);
    await bridge.ready(60_000);
    let slowMode = true;
    const slow = await startReceiver(async (_req, res) => {
      if (slowMode) await sleep(2000);
      if (!res.destroyed) res.writeHead(200).end();
    });
    const healthy = await startReceiver();
    receivers.push(slow, healthy);
    const s = (
      await api('POST', '/v1/webhooks', { url: slow.url, guarantee: 'post-commit', types: ['PatientCreated'] })
    ).body;
    await api('POST', '/v1/webhooks', { url: healthy.url, guarantee: 'post-commit', types: ['PatientCreated'] });
    const patients: string[] = [];
    for (let i = 0; i < 3; i++) patients.push((await registerWithObs(db.conn, db.meta)).patientUuid);
    await healthy.waitFor(3, 10_000);
    await amqp.waitFor((m) => patients.every((p) => m.some((x) => x.event.subject === p)), 10_000);
    // The slow hook is still on its first event (each takes 1.5 s to exhaust): the others did not wait for it.
    expect(new Set(slow.requests.map((q) => q.headers['webhook-id'])).size).toBeLessThanOrEqual(1);
    expect(healthy.requests.map((q) => JSON.parse(q.body).subject)).toEqual(patients);
    expect(healthy.requests[0].headers['content-type']).toBe('application/cloudevents+json');
    await until(
      async () => (await api('GET', `/v1/webhooks/${s.id}/deliveries?status=dead`)).body.deliveries.length === 3,
      30_000,
      'three dead letters',
    );
    const dead = (await api('GET', `/v1/webhooks/${s.id}/deliveries?status=dead`)).body.deliveries;
    expect(dead[0].lastError).toMatch(/timeout/);
    slowMode = false;
    const before = slow.requests.length;
    const retried = await api('POST', `/v1/webhooks/${s.id}/deliveries/${dead[0].id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
    expect(slow.requests.length).toBe(before + 1);
    expect(slow.requests[before].headers['webhook-id']).toBe(dead[0].webhookId);
    const metrics = await (
      await fetch(`${bridge!.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(metrics).toMatch(
      new RegExp(`openmrs_bridge_webhook_attempts_total\\{hook="${s.id}",outcome="dead"\\} [1-9]`),
    );
  });
});
