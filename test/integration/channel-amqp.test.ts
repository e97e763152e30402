/**
 * The AMQP channel against the machine's RabbitMQ: routing keys and message properties per contract, every message a
 * valid CloudEvent, pipelined confirms, and a connection closed from the broker side in the middle of a run loses
 * nothing (publish rejects what was not confirmed, the publisher reconnects, the driver re-sends from its position).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { AmqpPublisher } from '../../src/channels/amqp/publisher.js';
import { EXPECTED_ROUTE, transactionSequence } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { asJson, parseCloudEvent } from '../support/cloudevent.js';
import { drive } from '../support/drive.js';
import { RABBITMQ_URL, closeConnectionsNamed, uniqueName } from '../support/rabbitmq.js';
import { freePort } from '../support/mariadb.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const site = uniqueName('clinic');
const exchange = uniqueName('bridge-test');
const patients = ['a1b2c3d4-0000-4000-8000-000000000001', 'a1b2c3d4-0000-4000-8000-000000000002'];

let consumerConnection: ChannelModel;
let consumerChannel: Channel;
let received: ConsumeMessage[] = [];

const tx = transactionSequence({ site, patients });

function routeWords(event: { type: string; data: Record<string, unknown> }): string {
  return EXPECTED_ROUTE[event.type === 'RowChanged' ? `RowChanged:${String(event.data.op)}` : event.type]!;
}

beforeAll(async () => {
  consumerConnection = await amqp.connect(RABBITMQ_URL);
  consumerChannel = await consumerConnection.createChannel();
  // The publisher declares the exchange; the consumer declares it too (same arguments) so it can bind first.
  await consumerChannel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await consumerChannel.assertQueue(uniqueName('bridge-test-q'), {
    exclusive: true,
    autoDelete: true,
  });
  await consumerChannel.bindQueue(queue, exchange, '#');
  await consumerChannel.consume(queue, (msg) => msg && received.push(msg), { noAck: true });
});

afterAll(async () => {
  await consumerChannel?.deleteExchange(exchange).catch(() => undefined);
  await consumerConnection?.close().catch(() => undefined);
});

describe('AMQP channel', () => {
  it('publishes every event, in order, with the contract routing key and properties, each a valid CloudEvent', async () => {
    received = [];
    const publisher = new AmqpPublisher({ url: RABBITMQ_URL, exchange, site });
    await publisher.start();
    expect(publisher.ready).toBe(true);
    const txs = Array.from({ length: 300 }, (_, i) => tx(i));
    // Many calls in flight at once, as delivery does; each resolves only once all its messages are confirmed.
    await Promise.all(txs.map((t) => publisher.publish(t.events)));
    expect(publisher.inflight).toBe(0);
    await publisher.close();
    expect(publisher.ready).toBe(false);

    const events = txs.flatMap((t) => t.events);
    await waitFor(() => received.length >= events.length);
    expect(received.length).toBe(events.length);
    received.forEach((msg, i) => {
      const event = events[i]!;
      expect(msg.fields.exchange).toBe(exchange);
      expect(msg.fields.routingKey).toBe(`${site}.${routeWords(event)}`);
      expect(msg.properties.deliveryMode).toBe(2);
      expect(msg.properties.contentType).toBe('application/cloudevents+json');
      expect(msg.properties.messageId).toBe(event.id);
      expect(msg.properties.type).toBe(event.type);
      expect(msg.properties.appId).toBe('openmrs-event-bridge');
      expect(msg.properties.timestamp).toBe(Math.floor(Date.parse(event.time) / 1000));
      expect(msg.properties.headers).toEqual({});
      expect(parseCloudEvent(msg.content, msg.properties.contentType)).toEqual(asJson(event));
    });
    // Every route of the catalog sample went through, RowChanged by its operation.
    expect(new Set(received.map((m) => m.fields.routingKey.slice(site.length + 1)))).toEqual(
      new Set(Object.values(EXPECTED_ROUTE)),
    );
  });

  it('sends an event larger than the broker frame size whole, between its neighbours', async () => {
    received = [];
    const publisher = new AmqpPublisher({ url: RABBITMQ_URL, exchange, site });
    await publisher.start();
    const [before, big, after] = Array.from({ length: 20 }, (_, i) => tx(400 + i)).find(
      (t) => t.events.length >= 3,
    )!.events;
    // RabbitMQ's frame_max is 128 KiB: this body spans several frames (and has multi-byte characters).
    const large = { ...big!, data: { ...big!.data, note: 'é'.repeat(150_000) + 'z'.repeat(100_000) } };
    await publisher.publish([before!, large, after!]);
    await publisher.close();
    await waitFor(() => received.length >= 3);
    expect(received.map((m) => m.properties.messageId)).toEqual([before!.id, large.id, after!.id]);
    expect(received[1]!.content.length).toBeGreaterThan(400_000);
    expect(parseCloudEvent(received[1]!.content, received[1]!.properties.contentType)).toEqual(asJson(large));
    expect(parseCloudEvent(received[2]!.content, received[2]!.properties.contentType)).toEqual(asJson(after!));
  });

  it('declares a durable topic exchange when it is missing', async () => {
    const own = uniqueName('bridge-test-x');
    const publisher = new AmqpPublisher({ url: RABBITMQ_URL, exchange: own, site });
    await publisher.start();
    await publisher.close();
    // A non-durable redeclaration is refused by the broker only if the exchange exists and is durable.
    const ch = await consumerConnection.createChannel();
    const closed = new Promise((resolve) => ch.once('error', resolve));
    await expect(ch.assertExchange(own, 'topic', { durable: false })).rejects.toThrow(/PRECONDITION_FAILED/);
    await closed;
    const ch2 = await consumerConnection.createChannel();
    await ch2.assertExchange(own, 'topic', { durable: true });
    await ch2.deleteExchange(own);
    await ch2.close();
  });

  it('loses nothing when the broker closes its connection in the middle of a run', async () => {
    received = [];
    const connectionName = uniqueName('bridge-test-conn');
    let lost = 0;
    const logger = {
      info() {},
      error() {},
      warn: (_o: object, msg?: string) => void (/AMQP (connection lost|channel closed)/.test(msg ?? '') && lost++),
    };
    // Through a proxy that can hold back what the publisher sends: when the broker closes the connection, some
    // messages are then certainly in flight (never received by the broker). Without it, on a loaded machine the
    // broker could confirm everything before closing, and the close would test no loss at all.
    const broker = new URL(RABBITMQ_URL);
    const proxy = await startTcpProxy(Number(broker.port || 5672), broker.hostname);
    broker.port = String(proxy.port);
    const publisher = new AmqpPublisher({
      url: broker.toString(),
      exchange,
      site,
      connectionName,
      logger,
      backoff: { minMs: 50, maxMs: 500 },
    });
    await publisher.start();
    let closedAt = -1;
    let confirmedAtClose = 0;
    let reconnectedSeen = false;
    let heldChunks = 0;
    proxy.onClientData = () => void (proxy.holdClient && heldChunks++);
    const closing = (async () => {
      await waitFor(() => received.length > 2000);
      proxy.holdClient = true;
      await waitFor(() => heldChunks > 0);
      confirmedAtClose = received.length;
      expect(await closeConnectionsNamed(connectionName)).toBe(1);
      await waitFor(() => lost > 0, 20_000);
      proxy.holdClient = false;
      closedAt = received.length;
      await waitFor(() => publisher.ready);
      reconnectedSeen = true;
    })();
    let closingFailed = false;
    closing.catch(() => (closingFailed = true));
    let afterReconnect = 0;
    const result = await drive(publisher, tx, {
      callsInFlight: 100,
      until: () => closingFailed || (reconnectedSeen && ++afterReconnect > 300),
    });
    await closing;
    await publisher.close();
    await proxy.close();

    expect(closedAt).toBeGreaterThan(0);
    expect(result.rewinds).toBeGreaterThanOrEqual(1);
    const expectedIds = new Set<string>();
    for (let i = 0; i < result.confirmed; i++) for (const e of tx(i).events) expectedIds.add(e.id);
    await waitFor(() => new Set(received.map((m) => m.properties.messageId)).size >= expectedIds.size);
    const receivedIds = new Map<string, string>();
    for (const msg of received) {
      const event = parseCloudEvent(msg.content);
      // A repeated message is the same event: same id, same body.
      const prior = receivedIds.get(event.id as string);
      if (prior) expect(msg.content.toString()).toBe(prior);
      receivedIds.set(event.id as string, msg.content.toString());
    }
    const missing = [...expectedIds].filter((id) => !receivedIds.has(id));
    expect(missing).toEqual([]);
    expect(confirmedAtClose).toBeGreaterThan(0);
  }, 120_000);

  it('start() rejects with the broker URL (password hidden) when the broker cannot be reached', async () => {
    const port = await freePort();
    const publisher = new AmqpPublisher({ url: `amqp://guest:secret@127.0.0.1:${port}`, exchange, site });
    await expect(publisher.start()).rejects.toThrow(
      new RegExp(`AMQP: cannot connect to amqp://guest:\\*\\*\\*@127.0.0.1:${port}`),
    );
    await expect(publisher.publish(tx(0).events)).rejects.toThrow(/not connected/);
  });
});
