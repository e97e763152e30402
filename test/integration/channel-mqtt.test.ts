/**
 * The MQTT channel against a Mosquitto started by the test (persistence on, lossless queueing): topics and QoS per
 * contract, MQTT 5 content type, every message a valid CloudEvent, and the broker stopped (SIGTERM) and started again
 * in the middle of a run with a persistent-session subscriber: nothing lost. With a TCP proxy in front of the broker:
 * messages in flight when the connection drops are re-sent first after reconnecting, in order, with their packet ids
 * and DUP, within the broker's (new, smaller) Receive Maximum, and their publish resolves on that PUBACK; messages not
 * yet sent fail at once. The same publishing also through mqtt.js's own publish (the fallback path).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient, type IPublishPacket } from 'mqtt';
import { MqttPublisher } from '../../src/channels/mqtt/publisher.js';
import { publishWriter } from '../../src/channels/mqtt/publish-writer.js';
import { EXPECTED_ROUTE, transactionSequence } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { asJson, parseCloudEvent } from '../support/cloudevent.js';
import { drive } from '../support/drive.js';
import { startMosquitto, type MosquittoServer } from '../support/mosquitto.js';
import { uniqueName } from '../support/rabbitmq.js';
import { freePort } from '../support/mariadb.js';
import { startTcpProxy, type ProxiedConnection } from '../support/tcp-proxy.js';

// mqtt-packet as mqtt.js loads it, to read what crossed the proxy.
const require = createRequire(import.meta.url);
const mqttPacket = require(require.resolve('mqtt-packet', { paths: [dirname(require.resolve('mqtt'))] })) as {
  parser(opts: { protocolVersion: number }): {
    on(event: 'packet', cb: (p: Record<string, any>) => void): void;
    on(event: 'error', cb: (e: Error) => void): void;
    parse(buf: Buffer): number;
  };
};

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

  it('publishes the same through mqtt.js when told not to encode packets itself (the fallback path)', async () => {
    received = [];
    const publisher = new MqttPublisher({
      url: broker.url,
      prefix: 'openmrs',
      site,
      clientId: uniqueName('bridge'),
      ownEncoder: false,
    });
    await publisher.start();
    const txs = Array.from({ length: 50 }, (_, i) => tx(i));
    await Promise.all(txs.map((t) => publisher.publish(t.events)));
    await publisher.close();
    const events = txs.flatMap((t) => t.events);
    await waitFor(() => received.length >= events.length);
    expect(received.map((p) => [p.topic, p.qos, p.properties?.contentType])).toEqual(
      events.map((e) => [
        `openmrs/${site}/${EXPECTED_ROUTE[e.type === 'RowChanged' ? `RowChanged:${String(e.data.op)}` : e.type]!.replace('.', '/')}`,
        1,
        'application/cloudevents+json',
      ]),
    );
    expect(received.map((p) => parseCloudEvent(p.payload as Buffer))).toEqual(asJson(events));
  });

  it("takes PUBACKs from mqtt.js's 'packetreceive' on a connection it does not filter (made before the writer)", async () => {
    received = [];
    const client = await mqtt.connectAsync(broker.url, { clientId: uniqueName('bridge'), protocolVersion: 5 });
    try {
      const writer = publishWriter(client, 5);
      expect(writer).not.toBeNull();
      writer!.resume(1000);
      const events = tx(0).events;
      const topic = `openmrs/${site}/row/inserted`;
      await Promise.all(
        events.map(
          (e) =>
            new Promise<void>((resolve, reject) =>
              writer!.publish(topic, JSON.stringify(e), (err) => (err ? reject(err) : resolve())),
            ),
        ),
      );
      expect(writer!.inflight).toBe(0);
      writer!.dispose();
      await waitFor(() => received.length >= events.length);
      expect(received.map((p) => parseCloudEvent(p.payload as Buffer))).toEqual(asJson(events));
      expect(received.every((p) => p.topic === topic && p.qos === 1)).toBe(true);
    } finally {
      await client.endAsync(true);
    }
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

/** What the client sent and the broker acknowledged on one proxied connection. */
interface Flow {
  publishes: Array<{ id: number; dup: boolean; payload: string }>;
  acks: number;
  /** The most PUBLISH packets seen unacknowledged at once. */
  maxUnacked: number;
}

describe.each([5, 4] as const)('MQTT %i channel, connection lost with messages in flight', (version) => {
  it('re-sends them first after reconnecting (same ids, DUP, in order, within Receive Maximum), resolves them on that PUBACK, fails unsent ones at once', async () => {
    // MQTT 5: Receive Maximum 20 at first, 5 after the restart: more in flight than the broker now allows. MQTT 3.1.1
    // has no Receive Maximum: the publisher's window of 20 is the limit throughout.
    const after = version === 5 ? 5 : 20;
    const limited = await startMosquitto({ extraConfig: ['max_inflight_messages 20'] });
    const proxy = await startTcpProxy(limited.port);
    const flows = new Map<ProxiedConnection, Flow>();
    const parsers = new Map<
      ProxiedConnection,
      [ReturnType<typeof mqttPacket.parser>, ReturnType<typeof mqttPacket.parser>]
    >();
    const parsersOf = (conn: ProxiedConnection) => {
      let p = parsers.get(conn);
      if (!p) {
        const flow: Flow = { publishes: [], acks: 0, maxUnacked: 0 };
        flows.set(conn, flow);
        const up = mqttPacket.parser({ protocolVersion: version });
        const down = mqttPacket.parser({ protocolVersion: version });
        up.on('packet', (packet) => {
          if (packet.cmd !== 'publish') return;
          flow.publishes.push({ id: packet.messageId, dup: packet.dup, payload: String(packet.payload) });
          flow.maxUnacked = Math.max(flow.maxUnacked, flow.publishes.length - flow.acks);
        });
        down.on('packet', (packet) => {
          if (packet.cmd === 'puback') flow.acks++;
        });
        p = [up, down];
        parsers.set(conn, p);
      }
      return p;
    };
    proxy.onClientData = (conn, chunk) => void parsersOf(conn)[0].parse(chunk);
    proxy.onServerData = (conn, chunk) => void parsersOf(conn)[1].parse(chunk);
    const flowOf = (i: number) => flows.get(proxy.connections[i]!)!;

    const publisher = new MqttPublisher({
      url: `mqtt://127.0.0.1:${proxy.port}`,
      prefix: 'openmrs',
      site,
      clientId: uniqueName('bridge'),
      reconnectMs: 100,
      protocolVersion: version,
      window: version === 5 ? 1000 : 20,
    });
    try {
      await publisher.start();
      const events = Array.from({ length: 40 }, (_, i) => tx(i).events)
        .flat()
        .slice(0, 50);
      expect(events.length).toBe(50);

      // The broker's PUBACKs are held back: 20 messages go out (its Receive Maximum, or the window) and stay in flight.
      proxy.holdServer = true;
      const outcomes: Array<'ok' | Error | undefined> = events.map(() => undefined);
      const calls = events.map((e, i) =>
        publisher.publish([e]).then(
          () => void (outcomes[i] = 'ok'),
          (err: Error) => void (outcomes[i] = err),
        ),
      );
      await waitFor(() => flowOf(0)?.publishes.length === 20);
      await new Promise((r) => setTimeout(r, 200));
      expect(flowOf(0).publishes.length).toBe(20);
      expect(publisher.inflight).toBe(20);

      // The broker goes down (its held PUBACKs with the connection) and comes back allowing 5 in flight.
      await limited.kill('SIGTERM');
      await waitFor(() => !publisher.ready, 10_000);
      // Not sent: failed at once, before any reconnect.
      const failed = outcomes.filter((o) => o instanceof Error);
      expect(failed.length).toBe(30);
      expect(outcomes.slice(20).every((o) => o instanceof Error && /connection lost/.test(o.message))).toBe(true);
      expect(outcomes.slice(0, 20).every((o) => o === undefined)).toBe(true);
      const config = join(limited.dir, 'mosquitto.conf');
      await writeFile(
        config,
        (await readFile(config, 'utf8')).replace('max_inflight_messages 20', 'max_inflight_messages 5'),
      );
      proxy.holdServer = false;
      await limited.restart();
      await waitFor(() => publisher.ready, 10_000);

      // Sent ones: re-sent on the new connection, first, same ids and bytes, DUP, and resolved by its PUBACKs.
      await Promise.all(calls);
      expect(outcomes.slice(0, 20)).toEqual(Array(20).fill('ok'));
      const again = flowOf(proxy.connections.length - 1);
      const first = flowOf(0).publishes;
      expect(again.publishes.slice(0, 20)).toEqual(first.map((p) => ({ ...p, dup: true })));
      expect(first.every((p) => !p.dup)).toBe(true);
      expect(new Set(first.map((p) => p.id)).size).toBe(20);

      // The failed ones again, as delivery would send them: new packets, never more than 5 unacknowledged.
      await Promise.all(events.slice(20).map((e) => publisher.publish([e])));
      expect(again.publishes.length).toBe(50);
      expect(again.publishes.slice(20).every((p) => !p.dup)).toBe(true);
      expect(again.publishes.slice(20).map((p) => JSON.parse(p.payload).id)).toEqual(events.slice(20).map((e) => e.id));
      expect(again.maxUnacked).toBeLessThanOrEqual(after);
      expect(flowOf(0).maxUnacked).toBeLessThanOrEqual(20);
      expect(publisher.inflight).toBe(0);
    } finally {
      await publisher.close();
      await proxy.close();
      await limited.stop();
    }
  }, 60_000);
});
