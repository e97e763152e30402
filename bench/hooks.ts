/**
 * `npm run bench:hooks`: webhook delivery and the commit hold, in one run.
 *
 * 1. Transactional: BENCH_HOOK_TXS transactions (7 events of ~1 KB each, a registration with obs) delivered to one
 *    transactional hook on loopback (node:http answering 200 at once): transactions/s. Delivery layer only: the
 *    transactions come from an in-process feed, so capture and mapping (bench:domain, bench:e2e) are not in it; the
 *    state writes are (a throwaway MariaDB holds the delivery log and the hook's position).
 * 2. Post-commit: BENCH_HOOK_EVENTS events fanned out to 10 post-commit hooks (one POST per event each): events/s
 *    delivered in total.
 * 3. Commit hold: a throwaway MariaDB with semi-sync on, the bridge process with BRIDGE_COMMIT_HOLD=semi-sync and one
 *    transactional hook that answers at once; BENCH_HOLD_COMMITS single-row transactions that match the hook, timed
 *    at COMMIT, then the same with the bridge stopped and semi-sync off: p50/p99 of each and the difference.
 */
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { Registry } from 'prom-client';
import { startMariaDb } from '../test/support/mariadb.js';
import { MemoryFeed } from '../test/support/memory-feed.js';
import { startReceiver, type Receiver } from '../test/support/receiver.js';
import { spawnBridge } from '../test/support/bridge-process.js';
import { openState } from '../src/state/index.js';
import { parseDatabaseUrl } from '../src/config/index.js';
import { WebhookStore } from '../src/state/webhooks.js';
import { WebhookManager } from '../src/delivery/webhook-manager.js';
import { webhookMetrics } from '../src/delivery/webhook-metrics.js';

const TXS = Number(process.env.BENCH_HOOK_TXS ?? 5000);
const EVENTS = Number(process.env.BENCH_HOOK_EVENTS ?? 5000);
const HOOKS = 10;
const COMMITS = Number(process.env.BENCH_HOLD_COMMITS ?? 500);
const quiet = { info() {}, warn() {}, error() {} };
const PAD = 'x'.repeat(900);

/**
 * The ceiling on this machine right now: a bare undici client POSTing `bodies` to `receivers`, one request in flight
 * per receiver (what an ordered hook allows), all receivers in parallel. Requests per second in total.
 */
async function bareCeiling(receivers: Receiver[], body: string, perReceiver: number): Promise<number> {
  const agent = new Agent({ connections: 16 });
  const t0 = performance.now();
  await Promise.all(
    receivers.map(async (r) => {
      for (let i = 0; i < perReceiver; i++) {
        const res = await request(r.url, {
          method: 'POST',
          body,
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
        });
        await res.body.dump();
      }
    }),
  );
  const rate = (perReceiver * receivers.length) / ((performance.now() - t0) / 1000);
  await agent.close();
  for (const r of receivers) r.requests.length = 0;
  return rate;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function deliveryBenches(): Promise<void> {
  const db = await startMariaDb();
  const state = await openState(parseDatabaseUrl(db.url('bridge_state')));
  const store = new WebhookStore(state.pool, state.positions);
  const receivers: Receiver[] = [];
  try {
    const make = (feed: MemoryFeed) =>
      new WebhookManager({
        store,
        feed,
        policy: { delaysMs: [1000], windowMs: 60_000, jitter: 0.1 },
        timeoutMs: 15_000,
        refuseInternalUrls: false,
        metrics: webhookMetrics(new Registry()),
        log: quiet,
      });

    // 1. One transactional hook.
    {
      const feed = new MemoryFeed('bench');
      const manager = make(feed);
      const r = await startReceiver();
      receivers.push(r);
      const ceiling = await bareCeiling([r], 'x'.repeat(8700), Math.min(TXS, 2000));
      await manager.create({ url: r.url, guarantee: 'transactional' });
      const types = [
        'PatientCreated',
        'EncounterCreated',
        'ObsCreated',
        'ObsCreated',
        'ObsCreated',
        'ObsCreated',
        'ObsCreated',
      ];
      const t0 = performance.now();
      for (let i = 0; i < TXS; i++) for (const e of feed.push(types).events) e.data.pad = PAD;
      await r.waitFor(TXS, 600_000);
      const s = (performance.now() - t0) / 1000;
      const bytes = r.requests.reduce((a, q) => a + q.body.length, 0);
      console.log(
        `transactional, 1 hook:   ${TXS} transactions (7 events, ${Math.round(bytes / TXS)} B each) in ${s.toFixed(2)} s = ${Math.round(TXS / s)} tx/s (${Math.round((TXS * 7) / s)} events/s); bare undici ceiling now ${Math.round(ceiling)} req/s: ${Math.round((100 * TXS) / s / ceiling)}%`,
      );
      await manager.stop();
    }

    // 2. Ten post-commit hooks.
    {
      const feed = new MemoryFeed('bench-pc');
      const manager = make(feed);
      const hooks: Receiver[] = [];
      for (let i = 0; i < HOOKS; i++) {
        const r = await startReceiver();
        hooks.push(r);
        receivers.push(r);
        await manager.create({ url: r.url, guarantee: 'post-commit' });
      }
      const ceiling = await bareCeiling(hooks, 'x'.repeat(1250), Math.min(EVENTS, 500));
      const t0 = performance.now();
      for (let i = 0; i < EVENTS / 5; i++)
        for (const e of feed.push(['ObsCreated', 'ObsCreated', 'ObsCreated', 'ObsCreated', 'ObsCreated']).events)
          e.data.pad = PAD;
      await Promise.all(hooks.map((h) => h.waitFor(EVENTS, 600_000)));
      const s = (performance.now() - t0) / 1000;
      console.log(
        `post-commit, ${HOOKS} hooks:   ${EVENTS} events x ${HOOKS} hooks in ${s.toFixed(2)} s = ${Math.round((EVENTS * HOOKS) / s)} deliveries/s (${Math.round(EVENTS / s)} events/s to every hook); bare undici ceiling now ${Math.round(ceiling)} req/s: ${Math.round((100 * EVENTS * HOOKS) / s / ceiling)}%`,
      );
      await manager.stop();
    }
  } finally {
    for (const r of receivers) await r.close();
    await state.close();
    await db.stop();
  }
}

async function holdBench(): Promise<void> {
  const db = await startMariaDb({ semiSyncTimeoutMs: 10_000 });
  const hook = await startReceiver();
  const TOKEN = 'bench-admin-token-0123456789';
  let bridge = null as Awaited<ReturnType<typeof spawnBridge>> | null;
  try {
    await db.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
    await db.query(
      'CREATE DATABASE openmrs; CREATE TABLE openmrs.bench_row (id INT PRIMARY KEY AUTO_INCREMENT, v INT)',
    );
    await db.query('SET GLOBAL rpl_semi_sync_master_enabled = ON');
    bridge = await spawnBridge({
      BRIDGE_SOURCE_URL: db.url('openmrs'),
      BRIDGE_SITE: 'bench-hold',
      BRIDGE_ADMIN_TOKEN: TOKEN,
      BRIDGE_COMMIT_HOLD: 'semi-sync',
      BRIDGE_LOG_LEVEL: 'warn',
    });
    await bridge.ready(60_000);
    const res = await fetch(`${bridge.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook.url, guarantee: 'transactional', types: ['RowChanged'] }),
    });
    if (res.status !== 201) throw new Error(`registering the hook: ${res.status} ${await res.text()}`);
    const conn = await db.connect('openmrs');
    const time = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < COMMITS; i++) {
        await conn.beginTransaction();
        await conn.query('INSERT INTO bench_row (v) VALUES (?)', [i]);
        const t0 = performance.now();
        await conn.commit();
        out.push(performance.now() - t0);
      }
      return out.sort((a, b) => a - b);
    };
    // Warm up until the source waits for our ACKs (it enables semi-sync once the replica is caught up).
    for (let i = 0; i < 50; i++) await conn.query('INSERT INTO bench_row (v) VALUES (0)');
    const [st] = await db.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'");
    if (st.Value !== 'ON') throw new Error('semi-sync is not active on the source');
    const [yes0] = await db.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_yes_tx'");
    const held = await time();
    const [yes1] = await db.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_yes_tx'");
    const acked = Number(yes1.Value) - Number(yes0.Value);
    await bridge.stop('SIGTERM');
    bridge = null;
    await db.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
    const plain = await time();
    await conn.end();
    const row = (name: string, s: number[]) =>
      `${name}: p50 ${pct(s, 50).toFixed(2)} ms, p99 ${pct(s, 99).toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms`;
    console.log(
      `commit hold, ${COMMITS} matching single-row transactions (${acked} acknowledged by the bridge's ACK):`,
    );
    console.log(`  ${row('with the hold', held)}`);
    console.log(`  ${row('without     ', plain)}`);
    console.log(
      `  added by the hold: p50 ${(pct(held, 50) - pct(plain, 50)).toFixed(2)} ms, p99 ${(pct(held, 99) - pct(plain, 99)).toFixed(2)} ms`,
    );
  } finally {
    if (bridge) await bridge.stop('SIGKILL');
    await hook.close();
    await db.stop();
  }
}

// BENCH_HOOKS_ONLY=delivery or =hold runs one part.
if (process.env.BENCH_HOOKS_ONLY !== 'hold') await deliveryBenches();
if (process.env.BENCH_HOOKS_ONLY !== 'delivery') await holdBench();
