/**
 * Part (a) of `npm run bench:e2e` (alone: `BENCH_E2E_PART=a npm run bench:e2e`): throughput of each channel alone, the bridge
 * process catching up on a binlog written beforehand, next to the ceiling of a bare client on the same broker with
 * the same message size, measured in the same run.
 *
 * Workload: BENCH_E2E_EVENTS row inserts (default 200,000) into a table of the source schema, 10 rows per transaction,
 * written before the bridge starts; each row is one RowChanged event of about 1.1 KB. Every phase runs the real
 * `openmrs-event-bridge` process (capture, domain mapping, delivery, the channel) with only that channel on:
 *
 * - AMQP: BRIDGE_START at the workload's start, a consumer bound to `#`; ceiling: a bare amqplib publisher on a
 *   confirm channel, persistent messages, 1,000 in flight, the same body and properties, to an exchange with the same
 *   kind of consumer queue.
 * - MQTT: same with a Mosquitto started here (lossless config) and a QoS 1 subscriber on `openmrs/#`; ceiling: a bare
 *   mqtt.js QoS 1 publisher keeping 1,000 in flight, same payload (a string, as the bridge sends it) and properties,
 *   same subscriber.
 * - WebSocket: one client opens `/v1/stream?types=RowChanged&after=<cursor before the workload>`, so the bridge
 *   replays the binlog to it; ceiling: a plain `ws` server sending the same message to one client.
 *
 * Rate = (events - 1) / (time of the last - time of the first event at the consumer): start-up is not in it. Bridge
 * and bare client alternate BENCH_E2E_ROUNDS times (default 3) per channel; the table has the medians.
 * BENCH_E2E_CHANNELS (e.g. `ws` or `amqp,mqtt`) runs only those channels.
 */
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import WebSocket, { WebSocketServer } from 'ws';
import { startMariaDb, type MariaDbServer } from '../test/support/mariadb.js';
import { startMosquitto } from '../test/support/mosquitto.js';
import { spawnBridge } from '../test/support/bridge-process.js';
import { RABBITMQ_URL, uniqueName } from '../test/support/rabbitmq.js';
import { makeTransactions } from '../test/support/events.js';
import { drive } from '../test/support/drive.js';
import { MemoryBinlog } from '../test/support/memory-binlog.js';
import { AmqpPublisher } from '../src/channels/amqp/publisher.js';
import { MqttPublisher } from '../src/channels/mqtt/publisher.js';
import { streamPlugin } from '../src/channels/websocket/stream-plugin.js';
import type { ChannelPublisher } from '../src/delivery/types.js';
import type { TransactionEvents } from '../src/domain/types.js';
import Fastify from 'fastify';

// 200,000: each phase starts a new bridge process, and its first second is the JIT warming up (the bridge at 90-135% CPU
// while RabbitMQ idles). Over 20,000 events that second was most of the WebSocket phase (41,000-48,000 events/s, against
// 65,000 over 60,000); over 60,000 it still took AMQP from 95% of the bare ceiling to 70-85%. No real catch-up is that short.
const EVENTS = Number(process.env.BENCH_E2E_EVENTS ?? 200_000);
const ROWS_PER_TX = 10;
const PAYLOAD = 'x'.repeat(700);
const WINDOW = 1000;
const ROUNDS = Number(process.env.BENCH_E2E_ROUNDS ?? 3);
type Channel = 'amqp' | 'mqtt' | 'ws';
const ALL_CHANNELS: readonly Channel[] = ['amqp', 'mqtt', 'ws'];
/** BENCH_E2E_CHANNELS: a comma-separated subset of amqp, mqtt, ws (default all), measured in that order. */
const CHANNELS: Channel[] = (process.env.BENCH_E2E_CHANNELS ?? ALL_CHANNELS.join(','))
  .split(',')
  .map((c) => c.trim())
  .filter((c): c is Channel => {
    if ((ALL_CHANNELS as readonly string[]).includes(c)) return true;
    throw new Error(`BENCH_E2E_CHANNELS: unknown channel "${c}" (use amqp, mqtt, ws)`);
  });

/** Arrival times of messages at a consumer. */
class Meter {
  count = 0;
  first = 0;
  last = 0;
  private waiters: Array<() => void> = [];
  constructor(private readonly target: number) {}
  hit(): void {
    const now = performance.now();
    if (this.count++ === 0) this.first = now;
    this.last = now;
    if (this.count >= this.target) for (const w of this.waiters.splice(0)) w();
  }
  /** Resolves when the target is reached; rejects when nothing arrives for `idleMs`. */
  async done(idleMs = 60_000): Promise<number> {
    const start = performance.now();
    while (this.count < this.target) {
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), new Promise((r) => setTimeout(r, 1000))]);
      const lastSign = this.count ? this.last : start;
      if (performance.now() - lastSign > idleMs) throw new Error(`stalled at ${this.count}/${this.target}`);
    }
    return this.rate();
  }
  rate(): number {
    return this.count > 1 ? ((this.count - 1) * 1000) / (this.last - this.first) : 0;
  }
}

/**
 * Writes the workload: a marker transaction, then EVENTS / ROWS_PER_TX transactions. A bridge with a live WebSocket
 * client sees the marker and the first transaction: the marker's cursor lets the WebSocket phase replay exactly the
 * workload, and the first event's JSON is the message the bare clients send (so any channel can run alone).
 */
async function writeWorkload(db: MariaDbServer): Promise<{ marker: string; body: Buffer }> {
  const conn = await db.connect('openmrs');
  const rows = Array.from({ length: ROWS_PER_TX }, () => '(?)').join(',');
  const params = Array.from({ length: ROWS_PER_TX }, () => PAYLOAD);
  const insert = () => conn.query(`INSERT INTO bench_row (payload) VALUES ${rows}`, params);
  const bridge = await spawnBridge(bridgeEnv(db, 'latest', 'marker', {}));
  let seen: { marker: string; body: Buffer };
  try {
    await bridge.ready(60_000);
    const client = new WebSocket(`ws://127.0.0.1:${bridge.port}/v1/stream?types=RowChanged`);
    await once(client, 'open');
    const texts: string[] = [];
    const arrived = new Promise<void>((resolve) =>
      client.on('message', (data) => texts.push(data.toString()) === 1 + ROWS_PER_TX && resolve()),
    );
    await conn.query('INSERT INTO bench_row (payload) VALUES (?)', ['marker']);
    await insert();
    await arrived;
    client.close();
    seen = { marker: (JSON.parse(texts[0]!) as { cursor: string }).cursor, body: Buffer.from(texts[1]!) };
  } finally {
    await bridge.stop('SIGTERM');
  }
  for (let i = 1; i < EVENTS / ROWS_PER_TX; i++) await insert();
  await conn.end();
  return seen;
}

function bridgeEnv(db: MariaDbServer, start: string, phase: string, extra: Record<string, string>) {
  return {
    BRIDGE_SOURCE_URL: db.url('openmrs'),
    BRIDGE_STATE_URL: db.url(`bridge_state_${phase}`),
    BRIDGE_SITE: 'bench',
    BRIDGE_SOURCE_TIMEZONE: 'UTC',
    BRIDGE_START: start,
    BRIDGE_LOG_LEVEL: 'warn',
    // e.g. BENCH_BRIDGE_NODE_OPTIONS='--import ./bench/cpu-profile.mjs' to profile the bridge (see that file).
    ...(process.env.BENCH_BRIDGE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_BRIDGE_NODE_OPTIONS } : {}),
    ...extra,
  };
}

// ------------------------------------------------------------------------------------------------------------ AMQP

async function amqpConsumer(exchange: string, meter: Meter, onBody?: (body: Buffer) => void) {
  const connection = await amqp.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue(uniqueName('bench-q'), { exclusive: true });
  await channel.bindQueue(queue, exchange, '#');
  await channel.prefetch(2000);
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    onBody?.(msg.content);
    channel.ack(msg);
    meter.hit();
  });
  return async () => {
    await channel.deleteExchange(exchange).catch(() => undefined);
    await connection.close();
  };
}

async function bareAmqp(body: Buffer, count: number): Promise<number> {
  const exchange = uniqueName('bench-bare');
  const meter = new Meter(count);
  const stop = await amqpConsumer(exchange, meter);
  const connection = await amqp.connect(RABBITMQ_URL, { noDelay: true });
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  let sent = 0;
  let confirmed = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent < count && sent - confirmed < WINDOW) {
        sent++;
        // The bridge's message properties (message id, type, app id, timestamp): the same message, not a lighter one.
        const options = {
          persistent: true,
          contentType: 'application/cloudevents+json',
          messageId: `bench:0-1-${sent}:1`,
          type: 'RowChanged',
          appId: 'openmrs-event-bridge',
          timestamp: Math.floor(Date.now() / 1000),
        };
        channel.publish(exchange, 'bench.row.inserted', body, options, (err) => {
          if (err) return reject(err);
          if (++confirmed === count) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await meter.done();
  await connection.close();
  await stop();
  return meter.rate();
}

async function bridgeAmqp(db: MariaDbServer, start: string, round: number): Promise<number> {
  const exchange = uniqueName('bench-bridge');
  const meter = new Meter(EVENTS + 1);
  const stop = await amqpConsumer(exchange, meter);
  // A state database per round: each round's bridge starts from BRIDGE_START, not from the last round's position.
  const bridge = await spawnBridge(bridgeEnv(db, start, `amqp${round}`, { BRIDGE_AMQP_URL: RABBITMQ_URL, BRIDGE_AMQP_EXCHANGE: exchange }));
  try {
    await meter.done();
  } finally {
    await bridge.stop('SIGTERM');
    await stop();
  }
  return meter.rate();
}

// ------------------------------------------------------------------------------------------------------------ MQTT

async function mqttSubscriber(url: string, meter: Meter) {
  const client = await mqtt.connectAsync(url, { clientId: uniqueName('bench-sub'), clean: true, protocolVersion: 5 });
  client.on('message', () => meter.hit());
  await client.subscribeAsync('openmrs/#', { qos: 1 });
  return () => client.endAsync();
}

async function bareMqtt(url: string, payload: string, count: number): Promise<number> {
  const meter = new Meter(count);
  const stop = await mqttSubscriber(url, meter);
  const client = await mqtt.connectAsync(url, { clientId: uniqueName('bench-pub'), protocolVersion: 5 });
  (client.stream as unknown as { setNoDelay?(v: boolean): void }).setNoDelay?.(true);
  let sent = 0;
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent < count && sent - acked < WINDOW) {
        sent++;
        // The bridge's payload (the event JSON as a string) and properties.
        const options = { qos: 1 as const, properties: { contentType: 'application/cloudevents+json', payloadFormatIndicator: true } };
        client.publish('openmrs/bench/row/inserted', payload, options, (err) => {
          if (err) return reject(err);
          if (++acked === count) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await meter.done();
  await client.endAsync();
  await stop();
  return meter.rate();
}

async function bridgeMqtt(db: MariaDbServer, start: string, url: string, round: number): Promise<number> {
  const meter = new Meter(EVENTS + 1);
  const stop = await mqttSubscriber(url, meter);
  const bridge = await spawnBridge(bridgeEnv(db, start, `mqtt${round}`, { BRIDGE_MQTT_URL: url }));
  try {
    await meter.done();
  } finally {
    await bridge.stop('SIGTERM');
    await stop();
  }
  return meter.rate();
}

// ------------------------------------------------------------------------------------------------------- WebSocket

async function bareWebSocket(message: string, count: number): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.on('connection', async (socket) => {
    for (let i = 0; i < count; i++) {
      // The same backpressure the bridge applies: wait while more than 4 MiB is queued.
      while (socket.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
      socket.send(message);
    }
  });
  const meter = new Meter(count);
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  client.on('message', () => meter.hit());
  const rate = await meter.done();
  client.close();
  server.close();
  return rate;
}

async function bridgeWebSocket(db: MariaDbServer, marker: string): Promise<number> {
  const bridge = await spawnBridge(bridgeEnv(db, 'latest', 'ws', {}));
  try {
    await bridge.ready(60_000);
    const meter = new Meter(EVENTS);
    const client = new WebSocket(`ws://127.0.0.1:${bridge.port}/v1/stream?types=RowChanged&after=${encodeURIComponent(marker)}`);
    client.on('message', () => meter.hit());
    await meter.done();
    client.close();
    return meter.rate();
  } finally {
    await bridge.stop('SIGTERM');
  }
}

// ------------------------------------------------------------------------------------- channel layer alone (no capture)

/** Pre-built OpenMRS-shaped transactions (about 1 KB per event), as delivery hands them to a publisher. */
function prebuilt(events: number): { txs: TransactionEvents[]; count: number } {
  const txs: TransactionEvents[] = [];
  let count = 0;
  for (let seq = 1; count < events; seq++) {
    const [tx] = makeTransactions(1, { site: 'bench', firstSeq: seq });
    txs.push(tx!);
    count += tx!.events.length;
  }
  return { txs, count };
}

/** A publisher fed by the delivery driver (positions, many calls in flight), measured at the consumer. */
async function publisherAlone(publisher: ChannelPublisher, meter: Meter, txs: TransactionEvents[]): Promise<number> {
  await publisher.start();
  await drive(publisher, (i) => txs[i]!, { count: txs.length, callsInFlight: 200 });
  await meter.done();
  await publisher.close();
  return meter.rate();
}

async function amqpAlone(): Promise<number> {
  const { txs, count } = prebuilt(EVENTS);
  const exchange = uniqueName('bench-pub');
  const meter = new Meter(count);
  const stop = await amqpConsumer(exchange, meter);
  try {
    return await publisherAlone(new AmqpPublisher({ url: RABBITMQ_URL, exchange, site: 'bench' }), meter, txs);
  } finally {
    await stop();
  }
}

async function mqttAlone(url: string): Promise<number> {
  const { txs, count } = prebuilt(EVENTS);
  const meter = new Meter(count);
  const stop = await mqttSubscriber(url, meter);
  try {
    return await publisherAlone(new MqttPublisher({ url, prefix: 'openmrs', site: 'bench', clientId: uniqueName('bench-bridge') }), meter, txs);
  } finally {
    await stop();
  }
}

/** The stream plugin replaying pre-built transactions from the in-memory binlog to one client. */
async function websocketAlone(): Promise<number> {
  const { txs } = prebuilt(EVENTS);
  const binlog = new MemoryBinlog();
  binlog.commit(...txs);
  const app = Fastify();
  await app.register(streamPlugin, { source: binlog.followers, metrics: { published() {}, failed() {}, inflight() {} } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const all = txs.flatMap((t) => t.events).filter((e) => e.type !== 'RowChanged');
  const meter = new Meter(all.length);
  // after = a cursor before the first transaction (fixture cursors: fx:<seq>:<txseq>).
  const client = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?after=fx:1:0`);
  client.on('message', () => meter.hit());
  try {
    return await meter.done();
  } finally {
    client.terminate();
    await app.close();
  }
}

// ------------------------------------------------------------------------------------------------------------ main

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const list = (xs: number[]) => xs.map(fmt).join(' / ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const db = await startMariaDb();
  const broker = await startMosquitto();
  try {
    await db.query('CREATE DATABASE openmrs; CREATE TABLE openmrs.bench_row (id INT PRIMARY KEY AUTO_INCREMENT, payload VARCHAR(1000))');
    const [status] = await db.query<Array<{ File: string; Position: number }>>('SHOW MASTER STATUS');
    const start = `binlog:${status.File}:${status.Position}`;
    const t = performance.now();
    const { marker, body } = await writeWorkload(db);
    console.log(`workload: ${EVENTS} events (+1 marker) in ${EVENTS / ROWS_PER_TX} transactions, written in ${fmt(performance.now() - t)} ms`);

    // Bridge and bare client alternate, ROUNDS times each; the table has the medians (one run of a second or two on
    // this shared 2-core machine varies by 20-30%).
    const runs: Record<Channel, { bridge: number[]; bare: number[] }> = {
      amqp: { bridge: [], bare: [] },
      mqtt: { bridge: [], bare: [] },
      ws: { bridge: [], bare: [] },
    };
    const phases: Record<Channel, { label: string; bridge(round: number): Promise<number>; bare(): Promise<number> }> = {
      amqp: { label: 'AMQP', bridge: (round) => bridgeAmqp(db, start, round), bare: () => bareAmqp(body, EVENTS) },
      mqtt: {
        label: 'MQTT',
        bridge: (round) => bridgeMqtt(db, start, broker.url, round),
        bare: () => bareMqtt(broker.url, body.toString(), EVENTS),
      },
      ws: { label: 'WS', bridge: () => bridgeWebSocket(db, marker), bare: () => bareWebSocket(body.toString(), EVENTS) },
    };
    for (const channel of CHANNELS) {
      for (let round = 0; round < ROUNDS; round++) {
        runs[channel].bridge.push(await phases[channel].bridge(round));
        runs[channel].bare.push(await phases[channel].bare());
      }
      console.log(`${phases[channel].label.padEnd(6)} bridge ${list(runs[channel].bridge)}/s, bare ${list(runs[channel].bare)}/s`);
    }
    const alone: Record<Channel, () => Promise<number>> = {
      amqp: amqpAlone,
      mqtt: () => mqttAlone(broker.url),
      ws: websocketAlone,
    };
    const layer: Partial<Record<Channel, number>> = {};
    for (const channel of CHANNELS) layer[channel] = await alone[channel]();
    console.log(`channel layer alone (pre-built events): ${CHANNELS.map((c) => `${phases[c].label} ${fmt(layer[c]!)}/s`).join(', ')}`);

    const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
    const rowOf: Record<Channel, [string, string]> = {
      amqp: ['AMQP', '>= 80%'],
      mqtt: ['MQTT', '>= 80%'],
      ws: ['WebSocket (1 client)', '>= 50,000/s'],
    };
    console.log('');
    console.log(`(bridge and bare: medians of ${ROUNDS} alternating rounds)`);
    console.log(`| channel | bridge process, catch-up (events/s) | channel layer alone, pre-built events (events/s) | bare client (messages/s) | bridge / bare | layer / bare | target |`);
    console.log(`|---|---|---|---|---|---|---|`);
    for (const channel of CHANNELS) {
      const [bridge, bare, pub] = [median(runs[channel].bridge), median(runs[channel].bare), layer[channel]!];
      const [name, target] = rowOf[channel];
      console.log(`| ${name} | ${fmt(bridge)} | ${fmt(pub)} | ${fmt(bare)} | ${pct(bridge, bare)} | ${pct(pub, bare)} | ${target} |`);
    }
    console.log(`(${EVENTS} events of ${body.length} bytes; load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  } finally {
    await broker.stop();
    await db.stop();
  }
}

await main();
