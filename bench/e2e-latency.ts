/**
 * `npm run bench:e2e`, part (b): commit-to-consumer latency on AMQP, MQTT and WebSocket together, at a steady
 * BENCH_E2E_RATE transactions per second (default 500) for BENCH_E2E_SECONDS (default 20).
 *
 * A throwaway MariaDB with the binlog on, the machine's RabbitMQ, a Mosquitto started here, and the bridge as a child
 * process exactly as operators run it. One writer commits transactions of 3 rows on a fixed schedule (open loop: a
 * late commit does not push the next ones back); three subscribers in this process (an amqplib consumer of a queue
 * bound to `#`, an mqtt.js QoS 1 subscriber on `openmrs/#`, a WebSocket client on `/v1/stream`) note when they hold a
 * transaction's last event. Latency = that moment minus the moment the writer's COMMIT returned, same clock. The first
 * 2 s are warm-up and not counted.
 *
 * Then, for scale, the bridge's own share of that path: the service in this process (no channels), a follower on its
 * live feed, the same writer schedule; latency = when the follower got the transaction minus when COMMIT returned
 * (0 when it got it before the writer saw its COMMIT return).
 */
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';
import pino from 'pino';
import { loadConfig } from '../src/config/index.js';
import { BridgeService } from '../src/service/service.js';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { spawnBridge } from '../test/support/bridge-process.js';
import { startMariaDb } from '../test/support/mariadb.js';
import { startMosquitto } from '../test/support/mosquitto.js';
import { RABBITMQ_URL, uniqueName } from '../test/support/rabbitmq.js';

const RATE = Number(process.env.BENCH_E2E_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_E2E_SECONDS ?? 20);
const WARMUP_MS = 2000;
const ROWS = 3;
const SITE = 'bench';

type Channel = 'amqp' | 'mqtt' | 'websocket';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const db = await startMariaDb();
  const broker = await startMosquitto();
  const exchange = uniqueName('bench-e2e');
  const queue = uniqueName('bench-e2e-q');
  let bridge: Awaited<ReturnType<typeof spawnBridge>> | null = null;
  try {
    await db.query(
      'CREATE DATABASE openmrs; CREATE TABLE openmrs.bench_row (id INT PRIMARY KEY AUTO_INCREMENT, tx INT NOT NULL, k INT NOT NULL, value_text VARCHAR(255))',
    );
    // When each transaction's COMMIT returned, and when each channel held all of its events.
    const committedAt = new Map<number, number>();
    const received: Record<Channel, Map<number, number>> = { amqp: new Map(), mqtt: new Map(), websocket: new Map() };
    const counts: Record<Channel, Map<number, number>> = { amqp: new Map(), mqtt: new Map(), websocket: new Map() };
    const note = (channel: Channel, body: string) => {
      const now = performance.now();
      const event = JSON.parse(body);
      const tx = Number(event.data.after.tx);
      const n = (counts[channel].get(tx) ?? 0) + 1;
      counts[channel].set(tx, n);
      if (n === event.txsize) received[channel].set(tx, now);
    };

    const amqpConn = await amqp.connect(RABBITMQ_URL);
    const amqpChannel = await amqpConn.createChannel();
    await amqpChannel.assertExchange(exchange, 'topic', { durable: true });
    await amqpChannel.assertQueue(queue, { autoDelete: true });
    await amqpChannel.bindQueue(queue, exchange, '#');
    await amqpChannel.prefetch(1000);
    await amqpChannel.consume(queue, (msg) => {
      if (!msg) return;
      note('amqp', msg.content.toString('utf8'));
      amqpChannel.ack(msg);
    });

    const subscriber = await mqtt.connectAsync(broker.url, { clientId: uniqueName('bench-sub'), protocolVersion: 5 });
    subscriber.on('message', (_topic, payload) => note('mqtt', payload.toString('utf8')));
    await subscriber.subscribeAsync('openmrs/#', { qos: 1 });

    bridge = await spawnBridge({
      BRIDGE_SOURCE_URL: db.url('openmrs'),
      BRIDGE_SITE: SITE,
      BRIDGE_AMQP_URL: RABBITMQ_URL,
      BRIDGE_AMQP_EXCHANGE: exchange,
      BRIDGE_MQTT_URL: broker.url,
      BRIDGE_LOG_LEVEL: 'info',
      // e.g. BENCH_BRIDGE_NODE_OPTIONS='--import ./bench/cpu-profile.mjs' to profile the bridge (see that file).
      ...(process.env.BENCH_BRIDGE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_BRIDGE_NODE_OPTIONS } : {}),
    });
    await bridge.ready(60_000);
    const ws = new WebSocket(`${bridge.url.replace('http', 'ws')}/v1/stream?types=RowChanged`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data) => note('websocket', data.toString()));

    // The writer: transaction i commits at start + i / RATE seconds (or at once when late).
    const conn = await db.connect('openmrs');
    const total = RATE * SECONDS;
    const start = performance.now() + 200;
    let late = 0;
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -5) late++;
      const values = Array.from({ length: ROWS }, (_, k) => `(${i},${k},'value ${i}.${k}')`).join(',');
      await conn.query(`INSERT INTO bench_row (tx, k, value_text) VALUES ${values}`);
      committedAt.set(i, performance.now());
    }
    const elapsed = (performance.now() - start) / 1000;
    await conn.end();

    // Let the last transactions arrive.
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      if ((['amqp', 'mqtt', 'websocket'] as Channel[]).every((c) => received[c].size >= total)) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const first = Math.ceil((WARMUP_MS / 1000) * RATE);
    const lines: string[] = [];
    lines.push(
      `commit-to-consumer latency, ${total} transactions of ${ROWS} events at ${RATE} tx/s (achieved ${(total / elapsed).toFixed(0)} tx/s, ${late} commits late by > 5 ms), first ${first} not counted:`,
    );
    lines.push('| channel | received | p50 ms | p99 ms | max ms |');
    lines.push('|---|---|---|---|---|');
    for (const channel of ['amqp', 'mqtt', 'websocket'] as Channel[]) {
      const latencies: number[] = [];
      for (let i = first; i < total; i++) {
        const at = received[channel].get(i);
        if (at !== undefined) latencies.push(at - committedAt.get(i)!);
      }
      latencies.sort((a, b) => a - b);
      lines.push(
        `| ${channel} | ${received[channel].size}/${total} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} | ${latencies[latencies.length - 1]?.toFixed(1)} |`,
      );
    }
    const switches = bridge
      .output()
      .split('\n')
      .filter((l) => l.includes('catching up from the binlog')).length;
    lines.push(`(the durable consumers fell back to a catch-up reader ${switches} times)`);
    console.log(lines.join('\n'));

    ws.close();
    await subscriber.endAsync(true);
    await amqpChannel.deleteExchange(exchange).catch(() => undefined);
    await amqpConn.close();
    await bridge.stop('SIGTERM');
    bridge = null;
    console.log(await pipelineOnly(db.url('openmrs')));
  } finally {
    if (bridge) await bridge.stop('SIGTERM');
    await broker.stop();
    await db.stop();
  }
}

/** The bridge's own share: capture, mapping and the live hub, in this process, to a follower. */
async function pipelineOnly(sourceUrl: string): Promise<string> {
  const config = loadConfig({ env: { BRIDGE_SOURCE_URL: sourceUrl, BRIDGE_SITE: SITE, BRIDGE_HTTP_PORT: '0' } });
  const service = new BridgeService({ config, logger: pino({ level: 'warn' }), http: false });
  await service.start();
  const arrived = new Map<number, number>();
  const committedAt = new Map<number, number>();
  const stop = new AbortController();
  const following = (async () => {
    for await (const tx of service.eventStream.follow({ signal: stop.signal })) {
      const last = tx.events[tx.events.length - 1];
      if (last) arrived.set(Number((last.data as any).after.tx), performance.now());
    }
  })();
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection(sourceUrl);
  const total = RATE * SECONDS;
  const offset = 1_000_000;
  const start = performance.now() + 200;
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / RATE - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const values = Array.from({ length: ROWS }, (_, k) => `(${offset + i},${k},'value ${i}.${k}')`).join(',');
    await conn.query(`INSERT INTO bench_row (tx, k, value_text) VALUES ${values}`);
    committedAt.set(offset + i, performance.now());
  }
  await conn.end();
  const deadline = performance.now() + 30_000;
  while (arrived.size < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  stop.abort();
  await following.catch(() => undefined);
  await service.stop();
  const first = Math.ceil((WARMUP_MS / 1000) * RATE);
  const latencies: number[] = [];
  for (let i = first; i < total; i++) {
    const at = arrived.get(offset + i);
    if (at !== undefined) latencies.push(Math.max(0, at - committedAt.get(offset + i)!));
  }
  latencies.sort((a, b) => a - b);
  return (
    `pipeline only (capture + mapping + live hub, in this process, no channels): ${arrived.size}/${total} transactions, ` +
    `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms after COMMIT returned`
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
