/**
 * A RabbitMQ consumer for tests: declares the bridge's exchange (durable topic, as the bridge does) and a queue bound
 * to it before the bridge publishes, and collects every message it gets.
 */
import amqp, { type ChannelModel } from 'amqplib';
import { RABBITMQ_URL } from './rabbitmq.js';

export interface CollectedMessage {
  routingKey: string;
  messageId: string | undefined;
  contentType: string | undefined;
  persistent: boolean;
  body: string;
  event: any;
}

export interface AmqpCollector {
  readonly messages: CollectedMessage[];
  /** Resolves once `predicate` holds (checked on every message), or rejects after `timeoutMs`. */
  waitFor(predicate: (messages: CollectedMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function collectAmqp(exchange: string, queue: string, binding = '#'): Promise<AmqpCollector> {
  const connection: ChannelModel = await amqp.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: false, autoDelete: false });
  await channel.bindQueue(queue, exchange, binding);
  await channel.prefetch(2000);
  const messages: CollectedMessage[] = [];
  let check: (() => void) | null = null;
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    const body = msg.content.toString('utf8');
    messages.push({
      routingKey: msg.fields.routingKey,
      messageId: msg.properties.messageId,
      contentType: msg.properties.contentType,
      persistent: msg.properties.deliveryMode === 2,
      body,
      event: JSON.parse(body),
    });
    channel.ack(msg);
    check?.();
  });
  return {
    messages,
    async waitFor(predicate, timeoutMs = 60_000) {
      if (predicate(messages)) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          check = null;
          reject(new Error(`timed out after ${timeoutMs} ms with ${messages.length} messages`));
        }, timeoutMs);
        check = () => {
          if (!predicate(messages)) return;
          clearTimeout(timer);
          check = null;
          resolve();
        };
      });
    },
    async close() {
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}
