/**
 * The AMQP channel (CONTRACT.md section 6): every event to a durable topic exchange, routing key
 * `<site>.<aggregate>.<action>`, persistent, `content_type: application/cloudevents+json`, `message_id` the event id,
 * with publisher confirms on a pipelined window (many messages in flight, never a round trip per message).
 *
 * A lost connection fails every unconfirmed publish at once (so `delivery` re-sends from its confirmed position: a
 * message is never counted as confirmed and then lost) and reconnects in the background with exponential backoff.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { BridgeEvent } from '../../domain/types.js';
import { routeNames, routingKey } from '../../domain/routing.js';
import type { ChannelMetrics, ChannelPublisher } from '../../delivery/types.js';
import { ConfirmWindow, PublishError } from '../confirm-window.js';
import { Backoff } from '../backoff.js';
import { redact } from '../../config/redact.js';
import { burstCork, type Corkable } from '../burst-cork.js';
import { frameWriter } from './frame-writer.js';
import { type ChannelLogger, silentLogger } from '../logger.js';

export interface AmqpPublisherOptions {
  /** `amqp://user:pass@host:port/vhost` (BRIDGE_AMQP_URL). */
  url: string;
  /** Topic exchange (BRIDGE_AMQP_EXCHANGE), declared durable if missing. */
  exchange: string;
  /** Site id, the first word of every routing key. */
  site: string;
  /** The connection's name in the broker's management tools. Default `openmrs-event-bridge <site>`. */
  connectionName?: string;
  /** Messages in flight before waiting for confirms. Default 1,000. */
  window?: number;
  metrics?: ChannelMetrics;
  logger?: ChannelLogger;
  /** Reconnect delays: from `minMs`, doubling, up to `maxMs` (with 20% jitter). Default 200 ms to 30 s. */
  backoff?: { minMs?: number; maxMs?: number };
  /** How long `close()` waits for outstanding confirms. Default 10 s. */
  closeTimeoutMs?: number;
}

const CONTENT_TYPE = 'application/cloudevents+json';
const APP_ID = 'openmrs-event-bridge';
const SOCKET_BUFFER = 2 * 1024 * 1024;

/** Event time (ISO) to unix seconds, remembering the last one: the events of a transaction share their time. */
function unixSeconds(): (time: string) => number | undefined {
  let lastTime = '';
  let last: number | undefined;
  return (time) => {
    if (time !== lastTime) {
      lastTime = time;
      last = Math.floor(Date.parse(time) / 1000) || undefined;
    }
    return last;
  };
}

/** Publishes events to RabbitMQ; see the module comment. */
export class AmqpPublisher implements ChannelPublisher {
  readonly name = 'amqp';
  private readonly window: ConfirmWindow<BridgeEvent>;
  private readonly log: ChannelLogger;
  private readonly backoff: Backoff;
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: AmqpPublisherOptions) {
    this.window = new ConfirmWindow<BridgeEvent>('amqp', options.window ?? 1000, options.metrics);
    this.log = options.logger ?? silentLogger;
    this.backoff = new Backoff(options.backoff?.minMs ?? 200, options.backoff?.maxMs ?? 30_000);
  }

  get ready(): boolean {
    return this.channel !== null && !this.closing;
  }

  /** Messages sent and not yet confirmed. */
  get inflight(): number {
    return this.window.inflight;
  }

  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      throw new Error(`AMQP: cannot connect to ${redact(this.options.url)}: ${(err as Error).message}`, { cause: err });
    }
  }

  publish(events: readonly BridgeEvent[]): Promise<void> {
    if (this.closing) return Promise.reject(new PublishError('AMQP publisher is closed'));
    if (!this.channel) return Promise.reject(new PublishError('AMQP is not connected'));
    return this.window.submit(events);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.channel) await this.window.idle(this.options.closeTimeoutMs ?? 10_000);
    const connection = this.connection;
    this.dropConnection(new PublishError('AMQP publisher closed before the broker confirmed'));
    await connection?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const socketOptions = {
      noDelay: true,
      // Passed on to net.connect: room for a window of messages in the socket's buffer, so a burst is written in one
      // go (burst-cork.ts) instead of stopping for 'drain' every 16 KiB.
      writableHighWaterMark: SOCKET_BUFFER,
      clientProperties: { connection_name: this.options.connectionName ?? `openmrs-event-bridge ${this.options.site}` },
    };
    const connection = await amqp.connect(this.options.url, socketOptions);
    let channel: ConfirmChannel;
    try {
      channel = await connection.createConfirmChannel();
      await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
    if (this.closing) {
      await connection.close().catch(() => undefined);
      return;
    }
    const lost = (why: string) => (err?: Error) => {
      if (this.connection !== connection) return;
      this.log.warn({ err, channel: 'amqp' }, `AMQP ${why}; reconnecting`);
      this.dropConnection(new PublishError(`AMQP ${why} before the broker confirmed`, { cause: err }));
      connection.close().catch(() => undefined);
      this.scheduleReconnect();
    };
    // 'error' always comes with (or before) 'close'; handle loss once, on close, and keep the error for the log.
    let lastError: Error | undefined;
    connection.on('error', (err: Error) => (lastError = err));
    channel.on('error', (err: Error) => (lastError = err));
    connection.on('close', () => lost('connection lost')(lastError));
    channel.on('close', () => lost('channel closed')(lastError));
    connection.on('blocked', (reason: string) => this.log.warn({ reason, channel: 'amqp' }, 'AMQP broker blocked us'));
    connection.on('unblocked', () => this.log.info({ channel: 'amqp' }, 'AMQP broker unblocked us'));
    channel.on('drain', () => this.window.drained());

    this.connection = connection;
    this.channel = channel;
    this.backoff.reset();
    const { exchange, site } = this.options;
    const timestamp = unixSeconds();
    const routingKeyOf = routeNames((event) => routingKey(site, event));
    const writer = frameWriter(channel, () => this.channel === channel);
    if (writer) {
      this.window.attach((event, confirm) => {
        writer.publish(
          {
            exchange,
            routingKey: routingKeyOf(event),
            contentType: CONTENT_TYPE,
            messageId: event.id,
            type: event.type,
            appId: APP_ID,
            timestamp: timestamp(event.time),
            body: JSON.stringify(event),
          },
          confirm,
        );
        // Memory is bounded by the window; the writer hands a burst to amqplib as one chunk.
        return true;
      });
    } else {
      // amqplib keeps its socket at `connection.stream` (not typed).
      const cork = burstCork(
        (connection as unknown as { connection?: { stream?: Partial<Corkable> } }).connection?.stream,
      );
      this.window.attach((event, confirm) => {
        const body = Buffer.from(JSON.stringify(event));
        cork();
        return channel.publish(
          exchange,
          routingKeyOf(event),
          body,
          {
            persistent: true,
            contentType: CONTENT_TYPE,
            messageId: event.id,
            type: event.type,
            appId: APP_ID,
            timestamp: timestamp(event.time),
          },
          (err: unknown) => confirm(err ? (err instanceof Error ? err : new Error(String(err))) : null),
        );
      });
    }
    this.log.info({ channel: 'amqp', exchange }, 'AMQP connected');
  }

  /** Forgets the connection and fails everything not confirmed on it. */
  private dropConnection(err: PublishError): void {
    this.connection = null;
    this.channel = null;
    this.window.detach(err);
    this.window.failQueued(err);
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch((err: Error) => {
        this.log.warn({ err, channel: 'amqp', retryInMs: this.backoff.peek() }, 'AMQP reconnect failed');
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref?.();
  }
}
