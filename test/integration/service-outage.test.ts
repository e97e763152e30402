/**
 * One channel down, the other live (CONTRACT section 1): during a steady workload, Mosquitto is stopped (SIGTERM, with
 * persistence) and started again, then RabbitMQ closes the bridge's connection. While MQTT is down, AMQP keeps
 * delivering live and the bridge's heap stays flat (the live pipeline keeps nothing for a consumer that is down); in
 * the end both subscribers have every event of every transaction.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAmqp, type AmqpCollector } from '../support/amqp-collector.js';
import { spawnBridge, type BridgeProcess } from '../support/bridge-process.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { startMosquitto, type MosquittoServer } from '../support/mosquitto.js';
import { closeConnectionsNamed, RABBITMQ_URL, uniqueName } from '../support/rabbitmq.js';

const SITE = 'outage-test';
const ROWS_PER_TX = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Transactions seen complete (every txseq) by one subscriber, keyed by the workload's tx number. */
class Completeness {
  private readonly seqs = new Map<string, Set<number>>();
  readonly complete = new Set<number>();
  add(event: any): void {
    let seqs = this.seqs.get(event.txid);
    if (!seqs) this.seqs.set(event.txid, (seqs = new Set()));
    seqs.add(event.txseq);
    if (seqs.size === event.txsize) this.complete.add(Number(event.data.after.tx));
  }
}

async function heapUsed(bridge: BridgeProcess): Promise<number> {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)![1]);
}

describe('a channel down while the other delivers', () => {
  let db: MariaDbServer;
  let broker: MosquittoServer;
  let amqpCollector: AmqpCollector;
  let subscriber: MqttClient;
  let bridge: BridgeProcess | null = null;
  const amqpSeen = new Completeness();
  const mqttSeen = new Completeness();
  let amqpScanned = 0;
  const exchange = uniqueName('bridge-outage');

  beforeAll(async () => {
    db = await startMariaDb();
    await db.query(
      'CREATE DATABASE openmrs; CREATE TABLE openmrs.outage_row (id INT PRIMARY KEY AUTO_INCREMENT, tx INT NOT NULL, k INT NOT NULL, note VARCHAR(200))',
    );
    broker = await startMosquitto();
    amqpCollector = await collectAmqp(exchange, uniqueName('bridge-outage-q'));
    subscriber = await mqtt.connectAsync(broker.url, {
      clientId: uniqueName('outage-sub'),
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 200,
    });
    subscriber.on('message', (_topic, payload) => mqttSeen.add(JSON.parse(payload.toString('utf8'))));
    await subscriber.subscribeAsync('openmrs/#', { qos: 1 });
  });

  afterAll(async () => {
    if (bridge) await bridge.stop('SIGKILL');
    await subscriber?.endAsync(true).catch(() => undefined);
    await amqpCollector?.close();
    await broker?.stop();
    await db?.stop();
  });

  const scanAmqp = () => {
    for (; amqpScanned < amqpCollector.messages.length; amqpScanned++)
      amqpSeen.add(amqpCollector.messages[amqpScanned].event);
  };

  it('keeps AMQP live and memory flat while MQTT is down, and loses nothing on either', async () => {
    bridge = await spawnBridge({
      BRIDGE_SOURCE_URL: db.url('openmrs'),
      BRIDGE_SITE: SITE,
      BRIDGE_AMQP_URL: RABBITMQ_URL,
      BRIDGE_AMQP_EXCHANGE: exchange,
      BRIDGE_MQTT_URL: broker.url,
      BRIDGE_LOG_LEVEL: 'warn',
      // A small heap: GC runs often, so the samples show what is live; a bridge that kept the events of the consumer
      // that is down fails the flatness check below. 64 MB was too tight for what the bridge legitimately holds
      // under this load (heap used 43-58 MB, mqtt-packet's 6 MB number cache, a follower's live buffer of up to 5,000
      // events): 1 run in 3 or 4 died of "ineffective mark-compacts near heap limit" with nothing leaking.
      NODE_OPTIONS: '--max-old-space-size=128',
    });
    await bridge.ready();

    // A steady workload: a transaction of 10 rows (10 events) every ~4 ms, until told to stop.
    let written = 0;
    let stop = false;
    const note = 'x'.repeat(150);
    const writer = (async () => {
      const conn = await db.connect('openmrs');
      try {
        while (!stop) {
          const tx = written;
          const values = Array.from({ length: ROWS_PER_TX }, (_, i) => `(${tx},${i},'${note}')`).join(',');
          await conn.query(`INSERT INTO outage_row (tx, k, note) VALUES ${values}`);
          written++;
          await sleep(4);
        }
      } finally {
        await conn.end();
      }
    })();

    const baseline: number[] = [];
    const during: number[] = [];
    let outageStart = 0;
    let outageEnd: number;
    try {
      // Phase 1, both up: the heap under this load, sampled.
      for (let i = 0; i < 16; i++) {
        await sleep(250);
        baseline.push(await heapUsed(bridge));
      }

      // Phase 2, MQTT down for 8 s: AMQP keeps delivering live, the heap stays flat.
      await broker.kill('SIGTERM');
      outageStart = written;
      const amqpLive: boolean[] = [];
      for (let i = 0; i < 16; i++) {
        await sleep(500);
        during.push(await heapUsed(bridge));
        // Live: AMQP has every transaction written up to a second ago.
        const target = written - 250;
        scanAmqp();
        amqpLive.push(
          [...Array(Math.max(0, target - outageStart)).keys()].every((k) => amqpSeen.complete.has(outageStart + k)),
        );
      }
      outageEnd = written;
      expect(outageEnd - outageStart).toBeGreaterThan(300);
      expect(amqpLive.filter(Boolean).length).toBeGreaterThanOrEqual(12);

      // Phase 3: Mosquitto back (with its persisted sessions); then RabbitMQ drops the bridge's connection.
      await broker.restart();
      await sleep(2000);
      expect(await closeConnectionsNamed(`openmrs-event-bridge ${SITE}`)).toBeGreaterThan(0);
      const mqttBefore = mqttSeen.complete.size;
      await sleep(3000);
      // MQTT kept delivering while AMQP reconnected.
      expect(mqttSeen.complete.size).toBeGreaterThan(mqttBefore);
    } finally {
      stop = true;
      await writer;
    }
    const total = written;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      scanAmqp();
      if (amqpSeen.complete.size >= total && mqttSeen.complete.size >= total) break;
      await sleep(250);
    }
    for (let tx = 0; tx < total; tx++) {
      if (!amqpSeen.complete.has(tx)) throw new Error(`AMQP is missing transaction ${tx} of ${total}`);
      if (!mqttSeen.complete.has(tx)) throw new Error(`MQTT is missing transaction ${tx} of ${total}`);
    }
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(
      Number(/openmrs_bridge_channel_failed_total\{channel="mqtt"\} (\d+)/.exec(metrics)?.[1] ?? 0),
    ).toBeGreaterThanOrEqual(0);
    expect(await bridge.stop('SIGTERM')).toBe(0);
    bridge = null;

    // Flat: an outage of 8 s at ~2,000 events/s would hold ~16,000 events (tens of MB) if the pipeline kept them.
    const base = Math.max(...baseline);
    const peak = Math.max(...during);
    console.log(
      `outage test: ${total} transactions; MQTT down for ${outageEnd - outageStart} transactions; heap max ${(base / 1e6).toFixed(1)} MB before, ${(peak / 1e6).toFixed(1)} MB during; samples before ${baseline.map((b) => (b / 1e6).toFixed(0)).join(' ')}, during ${during.map((b) => (b / 1e6).toFixed(0)).join(' ')}`,
    );
    expect(peak).toBeLessThan(base + 20e6);
  }, 300_000);
});
