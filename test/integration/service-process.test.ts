/**
 * The `openmrs-event-bridge` process: configuration errors exit 2 naming the variable; `/healthz`, `/readyz`,
 * `/metrics` with the contract's metric names and bearer-token auth; SIGTERM finishes in-flight publishes and saves
 * the checkpoint; `reset-positions` replaces stored positions (and refuses while a bridge runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAmqp, type AmqpCollector } from '../support/amqp-collector.js';
import { runCli, spawnBridge, type BridgeProcess } from '../support/bridge-process.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { RABBITMQ_URL, uniqueName } from '../support/rabbitmq.js';

const ADMIN = 'admin-token-0123456789';
const SUBSCRIBER = 'subscriber-token-1';

describe('configuration errors', { timeout: 120_000 }, () => {
  it.each([
    ['BRIDGE_HTTP_PORT', 'eighty', 'must be an integer in 0..65535'],
    ['BRIDGE_START', 'yesterday', 'is not a start position'],
    ['BRIDGE_COMMIT_HOLD', 'always', 'must be off or semi-sync'],
  ])('exits 2 naming %s', async (variable, value, message) => {
    const { code, stderr } = await runCli({ BRIDGE_SOURCE_URL: 'mysql://u:p@127.0.0.1:1/openmrs', [variable]: value });
    expect(code).toBe(2);
    expect(stderr).toContain(variable);
    expect(stderr).toContain(message);
  });

  it('exits 2 when BRIDGE_SOURCE_URL is missing, and on an unknown command', async () => {
    const missing = await runCli({});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('BRIDGE_SOURCE_URL: is required');
    const unknown = await runCli({}, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command frobnicate');
  });
});

describe('the bridge process', { timeout: 180_000 }, () => {
  let db: MariaDbServer;
  let collector: AmqpCollector;
  let bridge: BridgeProcess | null = null;
  const exchange = uniqueName('bridge-proc');
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await startMariaDb();
    await db.query('CREATE DATABASE openmrs; CREATE TABLE openmrs.proc_row (id INT PRIMARY KEY AUTO_INCREMENT, v INT)');
    collector = await collectAmqp(exchange, uniqueName('bridge-proc-q'));
    env = {
      BRIDGE_SOURCE_URL: db.url('openmrs'),
      BRIDGE_SITE: 'proc-test',
      BRIDGE_AMQP_URL: RABBITMQ_URL,
      BRIDGE_AMQP_EXCHANGE: exchange,
      BRIDGE_ADMIN_TOKEN: ADMIN,
      BRIDGE_SUBSCRIBE_TOKENS: SUBSCRIBER,
    };
  });

  afterAll(async () => {
    if (bridge) await bridge.stop('SIGKILL');
    await collector?.close();
    await db?.stop();
  });

  it('serves health, readiness and metrics, with bearer-token auth', async () => {
    bridge = await spawnBridge(env);
    await bridge.ready();
    await db.query('INSERT INTO openmrs.proc_row (v) VALUES (1), (2); INSERT INTO openmrs.proc_row (v) VALUES (3)');
    await collector.waitFor((m) => m.length >= 3, 30_000);

    expect(await (await fetch(`${bridge.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${bridge.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as any;
    expect(body.status).toBe('ready');
    expect(body.checks.map((c: any) => c.name)).toEqual(expect.arrayContaining(['source', 'state', 'channel:amqp']));

    expect((await fetch(`${bridge.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${bridge.url}/metrics`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(
      401,
    );
    const metrics = await fetch(`${bridge.url}/metrics`, { headers: { authorization: `Bearer ${SUBSCRIBER}` } });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    // Let the lag poll see the end of the binlog.
    for (const name of [
      'openmrs_bridge_transactions_total 2',
      'openmrs_bridge_rows_total{table="proc_row",op="insert"} 3',
      'openmrs_bridge_events_total{type="RowChanged"} 3',
      'openmrs_bridge_channel_published_total{channel="amqp"} 3',
      'openmrs_bridge_channel_failed_total{channel="amqp"} 0',
      'openmrs_bridge_channel_inflight{channel="amqp"} 0',
      'openmrs_bridge_capture_lag_seconds',
      'openmrs_bridge_capture_lag_bytes',
      'openmrs_bridge_mapping_errors_total',
      'openmrs_bridge_checkpoint_lag_bytes{consumer="amqp"}',
    ]) {
      expect(text).toContain(name);
    }
    // Admin routes need the admin token; a subscribe token is 403 there (the console page is public).
    expect(
      (await fetch(`${bridge.url}/v1/no-such-route`, { headers: { authorization: `Bearer ${SUBSCRIBER}` } })).status,
    ).toBe(403);
    expect((await fetch(`${bridge.url}/`)).status).toBe(200);
  });

  it('saves the checkpoint on SIGTERM after the last confirmed transaction', async () => {
    // A burst, then SIGTERM at once: in-flight publishes finish and the position is the last transaction.
    const conn = await db.connect('openmrs');
    for (let i = 0; i < 200; i++) await conn.query('INSERT INTO proc_row (v) VALUES (?)', [i]);
    const [[last]] = (await conn.query('SELECT @@gtid_binlog_pos AS gtid')) as any;
    await conn.end();
    await collector.waitFor((m) => m.some((x) => x.event.txid === last.gtid), 30_000);
    expect(await bridge!.stop('SIGTERM')).toBe(0);
    bridge = null;
    const [position] = await db.query("SELECT * FROM openmrs_event_bridge.consumer_position WHERE consumer = 'amqp'");
    expect(position.txid).toBe(last.gtid);

    const shown = await runCli(env, ['positions']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^amqp\\tmysql-bin\\.\\d+:${position.binlog_pos}\\t${last.gtid}`, 'm'));
  });

  it('replaces positions with reset-positions, and the restarted bridge resends from there with the same ids', async () => {
    const before = collector.messages.length;
    const firstIds = collector.messages.map((m) => m.event.id);
    const reset = await runCli(env, ['reset-positions', '--start', 'earliest']);
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/^amqp: mysql-bin\.\d+:\d+ -> mysql-bin\.000001:4/m);

    bridge = await spawnBridge(env);
    await bridge.ready();
    // Everything again from the start of the binlog: the same events, the same ids, in the same order.
    await collector.waitFor((m) => m.length >= before * 2, 30_000);
    expect(collector.messages.slice(before, before * 2).map((m) => m.event.id)).toEqual(firstIds);

    // Not while a bridge runs: it would overwrite the positions.
    const refused = await runCli(env, ['reset-positions', '--start', 'latest']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('a bridge is running');
    const bad = await runCli(env, ['reset-positions', '--start', 'tomorrow']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--start');
    expect(await bridge.stop('SIGTERM')).toBe(0);
    bridge = null;
  });
});
