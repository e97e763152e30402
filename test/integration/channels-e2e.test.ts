/**
 * End to end through the bridge process: a clinical workload (patients, visits, encounters with obs, obs edits,
 * orders) written to the OpenMRS 2.6.4 schema in a throwaway MariaDB reaches an AMQP consumer bound to `#`, an MQTT
 * subscriber on `openmrs/#` and a WebSocket client, each with every event exactly as the domain layer produced it
 * (mapped here, independently, from the same binlog), in the same order, with the contract's routing keys and topics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { CountingMetrics, EventMapper, MysqlReferenceLookup, type BridgeEvent } from '../../src/domain/index.js';
import { EVENT_TYPE_NAMES } from '../../src/domain/catalog/index.js';
import { routeOf } from '../../src/domain/routing.js';
import { BinlogTap, startOpenmrs, type OpenmrsDb } from '../support/openmrs.js';
import { collectAmqp, type AmqpCollector } from '../support/amqp-collector.js';
import { spawnBridge, type BridgeProcess } from '../support/bridge-process.js';
import { startMosquitto, type MosquittoServer } from '../support/mosquitto.js';
import { RABBITMQ_URL, uniqueName } from '../support/rabbitmq.js';
import { waitFor } from '../support/wait.js';
import { asJson, parseCloudEvent } from '../support/cloudevent.js';

const SUBSCRIBER = 'e2e-subscriber-token';
const site = uniqueName('e2e');
const exchange = uniqueName('bridge-e2e');

let db: OpenmrsDb;
let broker: MosquittoServer;
let amqpIn: AmqpCollector;
let mqttIn: MqttClient;
let bridge: BridgeProcess;
let ws: WebSocket;
const mqttEvents: Array<{ topic: string; event: Record<string, unknown>; contentType?: string }> = [];
const wsEvents: Record<string, unknown>[] = [];

beforeAll(async () => {
  [db, broker, amqpIn] = await Promise.all([
    startOpenmrs({ actions: { orderNumberSeed: 'same' } }),
    startMosquitto(),
    collectAmqp(exchange, uniqueName('bridge-e2e-q')),
  ]);
  mqttIn = await mqtt.connectAsync(broker.url, { clientId: uniqueName('e2e-sub'), clean: false, protocolVersion: 5 });
  mqttIn.on('message', (topic, payload, packet) =>
    mqttEvents.push({ topic, event: parseCloudEvent(payload), contentType: packet.properties?.contentType }),
  );
  await mqttIn.subscribeAsync('openmrs/#', { qos: 1 });
  bridge = await spawnBridge({
    BRIDGE_SOURCE_URL: db.server.url(db.schema),
    BRIDGE_SITE: site,
    BRIDGE_SOURCE_TIMEZONE: 'UTC',
    BRIDGE_AMQP_URL: RABBITMQ_URL,
    BRIDGE_AMQP_EXCHANGE: exchange,
    BRIDGE_MQTT_URL: broker.url,
    BRIDGE_SUBSCRIBE_TOKENS: SUBSCRIBER,
  });
  await bridge.ready(60_000);
  // Every type, RowChanged included, so the stream carries exactly what AMQP and MQTT carry.
  ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/v1/stream?types=${EVENT_TYPE_NAMES.join(',')}`, {
    headers: { authorization: `Bearer ${SUBSCRIBER}` },
  });
  ws.on('message', (data) => wsEvents.push(parseCloudEvent(data as Buffer)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
}, 180_000);

afterAll(async () => {
  ws?.terminate();
  await bridge?.stop('SIGTERM');
  await mqttIn?.endAsync(true).catch(() => undefined);
  await amqpIn?.close();
  await broker?.stop();
  await db?.stop();
});

describe('clinical workload through the bridge', () => {
  it('reaches AMQP, MQTT and WebSocket as the domain layer produced it, in the same order', async () => {
    // Give the stream's follower a moment to attach to the live feed before the first commit.
    await new Promise((r) => setTimeout(r, 300));
    const tap = await BinlogTap.open(db.server, { schemas: [db.schema] });
    const mapper = new EventMapper({
      site,
      schema: db.schema,
      timeZone: 'UTC',
      lookup: new MysqlReferenceLookup(db.pool, db.schema),
      metrics: new CountingMetrics(),
    });
    const { om } = db;
    const { txs } = await tap.capture(async () => {
      for (let i = 0; i < 4; i++) {
        const p = await om.registerPatient();
        const visit = await om.startVisit(p.patientId);
        const enc = await om.createEncounter(p.patientId, visit.visitId, { weight: 60 + i, note: `visit ${i}` });
        await om.editObs(enc.obs.weight.obsId, { valueNumeric: 61 + i });
        await om.placeDrugOrder(p.patientId, enc.encounterId);
        if (i % 2) await om.voidObs(enc.obs.note.obsId);
        await om.endVisit(visit.visitId);
      }
    });
    tap.close();
    const expected: BridgeEvent[] = [];
    for (const tx of txs) expected.push(...(await mapper.map(tx)).events);
    const want = asJson(expected);
    const types = new Set(want.map((e) => e.type));
    for (const t of ['PatientCreated', 'VisitStarted', 'EncounterCreated', 'ObsAmended', 'OrderPlaced', 'VisitEnded']) {
      expect(types, t).toContain(t);
    }

    await waitFor(
      () => amqpIn.messages.length >= want.length && mqttEvents.length >= want.length && wsEvents.length >= want.length,
      60_000,
    ).catch((err: Error) => {
      // Say which channel fell short (it has timed out only on a heavily loaded machine so far).
      const got = `AMQP ${amqpIn.messages.length}, MQTT ${mqttEvents.length}, WebSocket ${wsEvents.length}`;
      throw new Error(`${err.message} for ${want.length} events on every channel; got ${got}`);
    });
    await new Promise((r) => setTimeout(r, 300)); // nothing more may come
    expect(amqpIn.messages.map((m) => parseCloudEvent(m.body))).toEqual(want);
    expect(mqttEvents.map((m) => m.event)).toEqual(want);
    expect(wsEvents).toEqual(want);

    for (const [i, m] of amqpIn.messages.entries()) {
      const { aggregate, action } = routeOf(expected[i]!);
      expect(m.routingKey).toBe(`${site}.${aggregate}.${action}`);
      expect(m.messageId).toBe(expected[i]!.id);
      expect(m.persistent).toBe(true);
      expect(m.contentType).toBe('application/cloudevents+json');
    }
    for (const [i, m] of mqttEvents.entries()) {
      const { aggregate, action } = routeOf(expected[i]!);
      expect(m.topic).toBe(`openmrs/${site}/${aggregate}/${action}`);
      expect(m.contentType).toBe('application/cloudevents+json');
    }
    // Spot-check the routing words against the contract's own spelling.
    expect(new Set(amqpIn.messages.map((m) => m.routingKey.slice(site.length + 1)))).toEqual(
      new Set([
        'patient.created',
        'visit.started',
        'encounter.created',
        'obs.created',
        'obs.amended',
        'order.placed',
        'obs.voided',
        'visit.ended',
      ]),
    );
  }, 120_000);
});
