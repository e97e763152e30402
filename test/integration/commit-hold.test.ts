/**
 * The commit hold (BRIDGE_COMMIT_HOLD=semi-sync) against a real semi-sync source (1 s server timeout) and the bridge
 * process: a transactional hook holds the writer's COMMIT; a transaction no hook wants does not wait; with the bridge
 * gone the server's timeout releases the COMMIT, and the restarted bridge catches up. A source without semi-sync is
 * refused at start with the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { startOpenmrs, type OpenmrsDb } from '../support/openmrs.js';
import { spawnBridge, type BridgeProcess } from '../support/bridge-process.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { OpenmrsActions } from '../../demo/openmrs/actions.js';
import type { BridgeEvent } from '../../src/domain/types.js';
import { until } from '../support/wait.js';

const TOKEN = 'hold-admin-token-0123456789';
const HOOK_DELAY_MS = 300;
const SERVER_TIMEOUT_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('commit hold', () => {
  let db: OpenmrsDb;
  let bridge: BridgeProcess | null = null;
  let hook: Receiver;
  let env: Record<string, string>;
  /** The library's statements inside a transaction the test commits itself (to time COMMIT alone). */
  let om: OpenmrsActions;
  /** A patient to start visits for (VisitStarted matches no hook here). */
  let patientId = 0;

  const status = async (name: string): Promise<string> => {
    const [row] = await db.server.query<Array<{ Value: string }>>(`SHOW GLOBAL STATUS LIKE '${name}'`);
    return row?.Value ?? '';
  };
  /** Runs `fn` in a transaction and returns how long COMMIT took, and when it returned (performance.now()). */
  const timedCommit = async (fn: () => Promise<unknown>): Promise<{ commitMs: number; returnedAt: number }> => {
    await db.conn.beginTransaction();
    await fn();
    const t0 = performance.now();
    await db.conn.commit();
    const returnedAt = performance.now();
    return { commitMs: returnedAt - t0, returnedAt };
  };

  beforeAll(async () => {
    db = await startOpenmrs({ mariadb: { semiSyncTimeoutMs: SERVER_TIMEOUT_MS } });
    const inner = Object.create(db.conn, {
      beginTransaction: { value: async () => undefined },
      commit: { value: async () => undefined },
    }) as Connection;
    om = new OpenmrsActions(inner, db.meta);
    hook = await startReceiver(async (_req, res) => {
      await sleep(HOOK_DELAY_MS);
      res.writeHead(200).end();
    });
    env = {
      BRIDGE_SOURCE_URL: db.server.url('openmrs'),
      BRIDGE_SITE: 'hold',
      BRIDGE_ADMIN_TOKEN: TOKEN,
      BRIDGE_COMMIT_HOLD: 'semi-sync',
      BRIDGE_LOG_LEVEL: 'warn',
    };
    bridge = await spawnBridge(env);
    await bridge.ready(60_000);
    const res = await fetch(`${bridge.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook.url, guarantee: 'transactional', types: ['PatientCreated'] }),
    });
    expect(res.status).toBe(201);
    // The source is back in semi-sync mode once our replica is connected and caught up.
    await until(async () => (await status('Rpl_semi_sync_master_clients')) === '1', 30_000, 'semi-sync client');
    await timedCommit(async () => (patientId = (await om.registerPatient()).patientId)); // semi-sync back on after it
    await until(async () => (await status('Rpl_semi_sync_master_status')) === 'ON', 30_000, 'semi-sync status ON');
  });
  afterAll(async () => {
    if (bridge) await bridge.stop('SIGKILL');
    await hook?.close();
    await db?.stop();
  });

  it('holds the COMMIT of a matching transaction until the hook answered', async () => {
    for (let i = 0; i < 3; i++) {
      const yes = Number(await status('Rpl_semi_sync_master_yes_tx'));
      const before = hook.requests.length;
      let patientUuid = '';
      const { commitMs, returnedAt } = await timedCommit(async () => {
        patientUuid = (await om.registerPatient()).patientUuid;
      });
      expect(commitMs).toBeGreaterThanOrEqual(HOOK_DELAY_MS);
      expect(commitMs).toBeLessThan(SERVER_TIMEOUT_MS); // released by our ACK, not by the server's timeout
      expect(hook.requests.length).toBe(before + 1);
      const req = hook.requests[before];
      expect(req.at).toBeLessThan(returnedAt);
      expect((JSON.parse(req.body) as BridgeEvent[])[0]).toMatchObject({
        type: 'PatientCreated',
        subject: patientUuid,
      });
      expect(Number(await status('Rpl_semi_sync_master_yes_tx'))).toBe(yes + 1);
    }
  });

  it('does not hold a transaction that no hook wants', async () => {
    const yes = Number(await status('Rpl_semi_sync_master_yes_tx'));
    const times: number[] = [];
    for (let i = 0; i < 9; i++) times.push((await timedCommit(() => om.startVisit(patientId))).commitMs);
    times.sort((a, b) => a - b);
    // The median: on a machine shared by many test runs a single COMMIT can lose a few hundred ms to scheduling.
    expect(times[4]).toBeLessThan(50);
    expect(times[8]).toBeLessThan(SERVER_TIMEOUT_MS);
    // Each was acknowledged by the bridge at once, none released by the server's timeout.
    expect(Number(await status('Rpl_semi_sync_master_yes_tx'))).toBe(yes + 9);
  });

  it('with the bridge stopped, COMMIT returns after the server timeout; the restarted bridge catches up', async () => {
    await bridge!.stop('SIGKILL');
    bridge = null;
    const before = hook.requests.length;
    let patientUuid = '';
    const { commitMs } = await timedCommit(async () => {
      patientUuid = (await om.registerPatient()).patientUuid;
    });
    expect(commitMs).toBeGreaterThanOrEqual(SERVER_TIMEOUT_MS - 50);
    expect(commitMs).toBeLessThan(SERVER_TIMEOUT_MS + 2000);
    bridge = await spawnBridge(env);
    await bridge.ready(60_000);
    // At least once: the last transaction acknowledged before the kill may come again (same webhook-id) first.
    const subjects = () => hook.requests.slice(before).map((q) => (JSON.parse(q.body) as BridgeEvent[])[0].subject);
    await until(() => subjects().includes(patientUuid), 30_000, 'the transaction committed while the bridge was down');
  });

  it('refuses to start when the source has semi-sync off, naming the fix', async () => {
    await bridge!.stop('SIGTERM');
    bridge = null;
    await db.server.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
    try {
      const refused = await spawnBridge(env);
      expect(await refused.exited).toBe(2);
      expect(refused.output()).toMatch(/BRIDGE_COMMIT_HOLD/);
      expect(refused.output()).toMatch(/SET GLOBAL rpl_semi_sync_master_enabled = ON/);
    } finally {
      await db.server.query('SET GLOBAL rpl_semi_sync_master_enabled = ON');
    }
  });

  it('refuses to start when the state is on the source and the user may not write it without binary logging', async () => {
    await db.server.query(
      `CREATE USER 'nolog'@'%' IDENTIFIED BY 'nolog-pass';
       GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO 'nolog'@'%';
       GRANT SELECT ON openmrs.* TO 'nolog'@'%';
       GRANT ALL PRIVILEGES ON openmrs_event_bridge.* TO 'nolog'@'%'`,
    );
    const refused = await spawnBridge({
      ...env,
      BRIDGE_SOURCE_URL: `mysql://nolog:nolog-pass@127.0.0.1:${db.server.port}/openmrs`,
    });
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toMatch(/sql_log_bin|binary logging/);
    expect(refused.output()).toMatch(/GRANT BINLOG ADMIN ON \*\.\* TO 'nolog'@'%'/);
  });
});
