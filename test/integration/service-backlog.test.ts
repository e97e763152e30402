/**
 * A consumer far behind at start (a backlog of more than 4 MiB of binlog): the live reader starts at the end of the
 * binlog instead of at the backlog (so the backlog is mapped once, not twice), the consumer reads it with its own
 * catch-up reader, then takes the live feed: every event exactly once, in order, across the seam.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAmqp, type AmqpCollector } from '../support/amqp-collector.js';
import { spawnBridge, type BridgeProcess } from '../support/bridge-process.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { RABBITMQ_URL, uniqueName } from '../support/rabbitmq.js';

const ROWS_PER_TX = 10;
const BACKLOG_TXS = 600; // 6,000 rows of about 1 KB: about 6.5 MB of binlog

describe('a consumer far behind at start', { timeout: 180_000 }, () => {
  let db: MariaDbServer;
  let collector: AmqpCollector;
  let bridge: BridgeProcess | null = null;
  const exchange = uniqueName('bridge-backlog');

  beforeAll(async () => {
    db = await startMariaDb();
    await db.query(
      'CREATE DATABASE openmrs; CREATE TABLE openmrs.backlog_row (id INT PRIMARY KEY AUTO_INCREMENT, payload VARCHAR(1000))',
    );
    collector = await collectAmqp(exchange, uniqueName('bridge-backlog-q'));
  });

  afterAll(async () => {
    if (bridge) await bridge.stop('SIGKILL');
    await collector?.close();
    await db?.stop();
  });

  it('reads the backlog once on its own reader, then live: every event once, in order', async () => {
    const [status] = await db.query('SHOW MASTER STATUS');
    const conn = await db.connect('openmrs');
    const rows = Array.from({ length: ROWS_PER_TX }, () => '(?)').join(',');
    const params = Array.from({ length: ROWS_PER_TX }, () => 'p'.repeat(1000));
    for (let i = 0; i < BACKLOG_TXS; i++) await conn.query(`INSERT INTO backlog_row (payload) VALUES ${rows}`, params);

    bridge = await spawnBridge({
      BRIDGE_SOURCE_URL: db.url('openmrs'),
      BRIDGE_SITE: 'backlog-test',
      BRIDGE_AMQP_URL: RABBITMQ_URL,
      BRIDGE_AMQP_EXCHANGE: exchange,
      BRIDGE_START: `binlog:${status.File}:${status.Position}`,
    });
    await bridge.ready();
    const backlog = BACKLOG_TXS * ROWS_PER_TX;
    await collector.waitFor((m) => m.length >= backlog, 60_000);
    // One live transaction after the backlog.
    await conn.query(`INSERT INTO backlog_row (payload) VALUES ${rows}`, params);
    await conn.end();
    await collector.waitFor((m) => m.length >= backlog + ROWS_PER_TX, 30_000);
    await new Promise((r) => setTimeout(r, 500));

    const ids = collector.messages.map((m) => Number(m.event.data.after.id));
    expect(ids).toEqual(Array.from({ length: backlog + ROWS_PER_TX }, (_, i) => i + 1));
    expect(new Set(collector.messages.map((m) => m.event.id)).size).toBe(ids.length);

    const out = bridge.output();
    expect(out).toContain('consumers are far behind');
    expect(out).toContain('catching up from the binlog');
    // The live reader started at the end: it read the live transaction, not the backlog.
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/^openmrs_bridge_transactions_total 1$/m);
    expect(metrics).toMatch(/^openmrs_bridge_channel_published_total\{channel="amqp"\} 6010$/m);
    expect(await bridge.stop('SIGTERM')).toBe(0);
    bridge = null;
  });
});
