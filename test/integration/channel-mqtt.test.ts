/**
 * The MQTT channel against a Mosquitto started by the test (persistence on, lossless queueing): topics and QoS per
 * contract, MQTT 5 content type, every message a valid CloudEvent, and the broker stopped (SIGTERM) and started again
 * in the middle of a run with a persistent-session subscriber: nothing lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient, type IPublishPacket } from 'mqtt';
import { MqttPublisher } from '../../src/channels/mqtt/publisher.js';
import { EXPECTED_ROUTE, transactionSequence } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { asJson, parseCloudEvent } from '../support/cloudevent.js';
import { drive } from '../support/drive.js';
import { startMosquitto, type MosquittoServer } from '../support/mosquitto.js';
import { uniqueName } from '../support/rabbitmq.js';
import { freePort } from '../support/mariadb.js';

const site = uniqueName('clinic');
const patients = ['a1b2c3d4-0000-4000-8000-000000000001', 'a1b2c3d4-0000-4000-8000-000000000002'];

let broker: MosquittoServer;
let subscriber: MqttClient;
let received: IPublishPacket[] = [];

const tx = transactionSequence({ site, patients });

beforeAll(async () => {
  broker = await startMosquitto();
  // A durable subscriber: stable client id, persistent session, QoS 1, as a dashboard backend would run.
  subscriber = await mqtt.connectAsync(broker.url, {
    clientId: uniqueName('subscriber'),
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 200,
  });
  subscriber.on('message', (_topic, _payload, packet) => received.push(packet));
  await subscriber.subscribeAsync('openmrs/#', { qos: 1 });
});

afterAll(async () => {
  await subscriber?.endAsync(true).catch(() => undefined);
  await broker?.stop();
});

describe('MQTT channel', () => {
  it('publishes every event, in order, at QoS 1 to <prefix>/<site>/<aggregate>/<action>, MQTT 5 content type', async () => {
    received = [];
    const publisher = new MqttPublisher({ url: broker.url, prefix: 'openmrs', site });
    await publisher.start();
    expect(publisher.ready).toBe(true);
    expect(publisher.protocolVersion).toBe(5);
    const txs = Array.from({ length: 300 }, (_, i) => tx(i));
    await Promise.all(txs.map((t) => publisher.publish(t.events)));
    expect(publisher.inflight).toBe(0);
    await publisher.close();

    const events = txs.flatMap((t) => t.events);
    await waitFor(() => received.length >= events.length);
    expect(received.length).toBe(events.length);
    received.forEach((packet, i) => {
      const event = events[i]!;
      const route = EXPECTED_ROUTE[event.type === 'RowChanged' ? `RowChanged:${String(event.data.op)}` : event.type]!;
      expect(packet.topic).toBe(`openmrs/${site}/${route.replace('.', '/')}`);
      expect(packet.qos).toBe(1);
      expect(packet.properties?.contentType).toBe('application/cloudevents+json');
      expect(parseCloudEvent(packet.payload as Buffer)).toEqual(asJson(event));
    });
  });

  it('speaks MQTT 3.1.1 when told to, same topics and payloads', async () => {
    received = [];
    const publisher = new MqttPublisher({
      url: broker.url,
      prefix: 'openmrs',
      site,
      clientId: uniqueName('bridge'),
      protocolVersion: 4,
    });
    await publisher.start();
    expect(publisher.protocolVersion).toBe(4);
    await publisher.publish(tx(0).events);
    await publisher.close();
    await waitFor(() => received.length >= tx(0).events.length);
    expect(received.map((p) => parseCloudEvent(p.payload as Buffer))).toEqual(asJson(tx(0).events));
  });

  it('loses nothing when the broker is stopped and started again in the middle of a run', async () => {
    received = [];
    const publisher = new MqttPublisher({ url: broker.url, prefix: 'openmrs', site, reconnectMs: 200 });
    await publisher.start();
    let restarted = false;
    let sawDown = false;
    const restart = (async () => {
      await waitFor(() => received.length > 2000);
      await broker.kill('SIGTERM');
      await waitFor(() => !publisher.ready, 10_000);
      sawDown = true;
      await new Promise((r) => setTimeout(r, 300));
      await broker.restart();
      await waitFor(() => publisher.ready);
      restarted = true;
    })();
    let restartFailed = false;
    restart.catch(() => (restartFailed = true));
    let afterRestart = 0;
    const result = await drive(publisher, tx, {
      callsInFlight: 100,
      until: () => restartFailed || (restarted && ++afterRestart > 300),
    });
    await restart;
    await publisher.close();
    expect(sawDown).toBe(true);

    const expectedIds = new Set<string>();
    for (let i = 0; i < result.confirmed; i++) for (const e of tx(i).events) expectedIds.add(e.id);
    const got = new Set<string>();
    let seen = 0;
    await waitFor(() => {
      for (; seen < received.length; seen++) got.add(JSON.parse(received[seen]!.payload.toString()).id as string);
      return got.size >= expectedIds.size;
    }).catch(() => undefined);
    const missing = [...expectedIds].filter((id) => !got.has(id));
    expect(missing).toEqual([]);
    // A repeated message is the same event.
    const bodies = new Map<string, string>();
    for (const p of received) {
      const body = p.payload.toString();
      const id = parseCloudEvent(body).id as string;
      if (bodies.has(id)) expect(body).toBe(bodies.get(id));
      bodies.set(id, body);
    }
  }, 120_000);

  it('start() rejects with the broker URL when the broker cannot be reached', async () => {
    const port = await freePort();
    const publisher = new MqttPublisher({ url: `mqtt://127.0.0.1:${port}`, prefix: 'openmrs', site });
    await expect(publisher.start()).rejects.toThrow(new RegExp(`MQTT: cannot connect to mqtt://127.0.0.1:${port}`));
    await expect(publisher.publish(tx(0).events)).rejects.toThrow(/not connected/);
  });
});
