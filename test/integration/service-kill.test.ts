/**
 * Crash safety of the whole process (CONTRACT section 7): 20,000 transactions written while the bridge is killed with
 * SIGKILL 10 times at random points and restarted each time. The AMQP consumer must end up with every event at least
 * once, every transaction complete (txseq 1..txsize), and every repeated event identical to its first copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAmqp, type AmqpCollector } from '../support/amqp-collector.js';
import { spawnBridge, type BridgeProcess } from '../support/bridge-process.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { RABBITMQ_URL, uniqueName } from '../support/rabbitmq.js';

const TRANSACTIONS = 20_000;
const KILLS = 10;
const SITE = 'kill-test';

describe('bridge killed with SIGKILL during a workload', () => {
  let db: MariaDbServer;
  let collector: AmqpCollector;
  let bridge: BridgeProcess | null = null;
  const exchange = uniqueName('bridge-kill');

  beforeAll(async () => {
    db = await startMariaDb();
    await db.query(
      'CREATE DATABASE openmrs; CREATE TABLE openmrs.kill_row (id INT PRIMARY KEY AUTO_INCREMENT, tx INT NOT NULL, k INT NOT NULL)',
    );
    collector = await collectAmqp(exchange, uniqueName('bridge-kill-q'));
  });

  afterAll(async () => {
    if (bridge) await bridge.stop('SIGKILL');
    await collector?.close();
    await db?.stop();
  });

  it('delivers every event at least once, every transaction whole, duplicates with their original ids', async () => {
    const env = {
      BRIDGE_SOURCE_URL: db.url('openmrs'),
      BRIDGE_SITE: SITE,
      BRIDGE_AMQP_URL: RABBITMQ_URL,
      BRIDGE_AMQP_EXCHANGE: exchange,
      BRIDGE_LOG_LEVEL: 'warn',
    };
    bridge = await spawnBridge(env);
    await bridge.ready();

    // Kill points: random places in the workload. The writer kills the bridge when it reaches one (after the previous
    // bridge became ready) and goes on writing while the new one starts, so every kill hits a bridge that is busy
    // delivering live transactions and its restart has to catch up.
    const killPoints = new Set<number>();
    while (killPoints.size < KILLS) killPoints.add(500 + Math.floor(Math.random() * (TRANSACTIONS - 1000)));
    const killedAt: number[] = [];
    let ready: Promise<void> = Promise.resolve();
    let rows = 0;
    const conn = await db.connect('openmrs');
    try {
      for (let tx = 0; tx < TRANSACTIONS; tx++) {
        if (killPoints.has(tx)) {
          await ready;
          bridge.child.kill('SIGKILL');
          expect(await bridge.exited).toBe('SIGKILL');
          killedAt.push(tx);
          bridge = await spawnBridge(env);
          ready = bridge.ready(120_000);
        }
        // Transactions of 1 to 3 rows: one RowChanged event per row, so txsize varies.
        const k = 1 + (tx % 3);
        const values = Array.from({ length: k }, (_, i) => `(${tx},${i})`).join(',');
        await conn.query(`INSERT INTO kill_row (tx, k) VALUES ${values}`);
        rows += k;
      }
    } finally {
      await conn.end();
    }
    await ready;

    // Track transactions as messages arrive: complete when every txseq 1..txsize was seen.
    const seen = new Map<string, { size: number; seqs: Set<number> }>();
    let complete = 0;
    let scanned = 0;
    const scan = () => {
      const { messages } = collector;
      for (; scanned < messages.length; scanned++) {
        const e = messages[scanned].event;
        let tx = seen.get(e.txid);
        if (!tx) seen.set(e.txid, (tx = { size: e.txsize, seqs: new Set() }));
        const before = tx.seqs.size;
        tx.seqs.add(e.txseq);
        if (tx.seqs.size === tx.size && before < tx.size) complete++;
      }
      return complete >= TRANSACTIONS;
    };
    await collector.waitFor(scan, 180_000);
    expect(await bridge.stop('SIGTERM')).toBe(0);
    bridge = null;

    const { messages } = collector;
    expect(seen.size).toBe(TRANSACTIONS);
    // No gap: every transaction has exactly the events 1..txsize, and txsize is its row count.
    const firstCopy = new Map<string, string>();
    let duplicates = 0;
    const rowIds = new Set<number>();
    for (const m of messages) {
      const e = m.event;
      expect(e.id).toBe(`${SITE}:${e.txid}:${e.txseq}`);
      expect(m.messageId).toBe(e.id);
      expect(m.routingKey).toBe(`${SITE}.row.inserted`);
      const original = firstCopy.get(e.id);
      if (original === undefined) firstCopy.set(e.id, m.body);
      else {
        duplicates++;
        // A repeated event is the same event: same id, same content.
        expect(m.body).toBe(original);
      }
      rowIds.add(Number(e.data.after.id));
    }
    for (const [, tx] of seen) {
      expect([...tx.seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: tx.size }, (_, i) => i + 1));
    }
    expect(firstCopy.size).toBe(rows);
    expect(rowIds.size).toBe(rows);
    // Every row of the workload arrived; the kills make some repeats (at least once, not exactly once).
    console.log(
      `kill test: ${TRANSACTIONS} transactions, ${rows} events, ${messages.length} messages, ${duplicates} duplicates; killed after ${killedAt.join(', ')} transactions written`,
    );
  }, 400_000);
});
