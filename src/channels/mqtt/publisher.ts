/**
 * The MQTT channel (CONTRACT.md section 6): every event at QoS 1 to `<prefix>/<site>/<aggregate>/<action>`, payload
 * the event JSON, confirmed by PUBACK. MQTT 5 where the broker speaks it (with `content-type:
 * application/cloudevents+json` and a UTF-8 payload indicator), else MQTT 3.1.1.
 *
 * The client keeps its session across reconnects (a stable client id, clean session off): a message sent before the
 * connection dropped is re-sent by the client after it reconnects and its publish resolves on that PUBACK. Messages
 * not yet sent when the connection drops are failed at once, so `delivery` can fall behind and catch up from the
 * binlog instead of piling them up in memory. The in-flight window is refilled on every PUBACK (never in bursts) and
 * the socket has no-delay set: a window refilled in bursts against delayed ACKs collapses to a few hundred
 * messages/s (BASELINES.md).
 *
 * mqtt.js keeps the connection and session; the PUBLISH packets and their PUBACKs are the bridge's own
 * (`publish-writer.ts`, `packets.ts`): encoded into one buffer per burst, re-sent with DUP after a reconnect. mqtt.js's
 * own `publish` (an object, a deep copy for its store and about ten socket writes per message) was a third of the
 * bridge's CPU time in a catch-up; it is still used when its internals are not what the writer expects.
 */
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Socket } from 'node:net';
import type { BridgeEvent } from '../../domain/types.js';
import { mqttTopic, routeNames } from '../../domain/routing.js';
import type { ChannelMetrics, ChannelPublisher } from '../../delivery/types.js';
import { ConfirmWindow, PublishError } from '../confirm-window.js';
import { type ChannelLogger, silentLogger } from '../logger.js';
import { redact } from '../../config/redact.js';
import { burstCork } from '../burst-cork.js';
import { CONTENT_TYPE } from './packets.js';
import { publishWriter, type PublishWriter } from './publish-writer.js';

export interface MqttPublisherOptions {
  /** `mqtt://host:port` (BRIDGE_MQTT_URL); `mqtts://` and `ws(s)://` work too. */
  url: string;
  /** BRIDGE_MQTT_TOPIC_PREFIX, default `openmrs`. */
  prefix: string;
  site: string;
  /** Stable client id of the bridge's session. Default `openmrs-event-bridge-<site>`. */
  clientId?: string;
  /** Messages in flight before waiting for PUBACKs (capped by the broker's Receive Maximum). Default 1,000. */
  window?: number;
  /** Delay between reconnect attempts. Default 1 s. */
  reconnectMs?: number;
  /** How long `close()` waits for outstanding PUBACKs. Default 10 s. */
  closeTimeoutMs?: number;
  /** Force a protocol (5 or 4 = 3.1.1); default: 5, falling back to 4 when the broker refuses 5. */
  protocolVersion?: 4 | 5;
  /**
   * false: publish through mqtt.js's `client.publish` instead of the bridge's own PUBLISH encoder (the fallback when
   * mqtt.js's internals differ; tests use it to cover that path). Default true.
   */
  ownEncoder?: boolean;
  metrics?: ChannelMetrics;
  logger?: ChannelLogger;
}

/** The same for every message (mqtt.js copies them into each packet and does not change them). */
const PUBLISH_OPTIONS_V5: IClientPublishOptions = Object.freeze({
  qos: 1,
  properties: Object.freeze({ contentType: CONTENT_TYPE, payloadFormatIndicator: true }),
});
const PUBLISH_OPTIONS_V4: IClientPublishOptions = Object.freeze({ qos: 1 });
const noLog = () => {};
/** CONNACK codes of a broker that does not speak the protocol version we asked for (MQTT 5, MQTT 3.1.1). */
const UNSUPPORTED_PROTOCOL = new Set([132, 1]);
/** MQTT packet ids are 16 bits: never more in flight. */
const MAX_INFLIGHT = 65_535;

/** Publishes events to an MQTT broker; see the module comment. */
export class MqttPublisher implements ChannelPublisher {
  readonly name = 'mqtt';
  private readonly window: ConfirmWindow<BridgeEvent>;
  private readonly log: ChannelLogger;
  private client: MqttClient | null = null;
  private connected = false;
  private closing = false;
  private version: 4 | 5;
  private writer: PublishWriter | null = null;
  /** The topic of an event: `<prefix>/<site>/<aggregate>/<action>`. */
  private readonly topicOf: (event: BridgeEvent) => string;

  constructor(private readonly options: MqttPublisherOptions) {
    this.window = new ConfirmWindow<BridgeEvent>('mqtt', options.window ?? 1000, options.metrics);
    this.log = options.logger ?? silentLogger;
    this.version = options.protocolVersion ?? 5;
    this.topicOf = routeNames((event) => mqttTopic(options.prefix, options.site, event));
  }

  get ready(): boolean {
    return this.connected && !this.closing;
  }

  /** The MQTT protocol level in use: 5, or 4 (3.1.1). */
  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  /** Messages sent and not yet acknowledged. */
  get inflight(): number {
    return this.window.inflight;
  }

  async start(): Promise<void> {
    let error: unknown;
    try {
      return await this.connect();
    } catch (err) {
      error = err;
    }
    const code = (error as { code?: number }).code;
    if (this.options.protocolVersion === undefined && UNSUPPORTED_PROTOCOL.has(code ?? -1)) {
      this.log.info({ channel: 'mqtt' }, 'MQTT broker refuses MQTT 5; using MQTT 3.1.1');
      this.version = 4;
      try {
        return await this.connect();
      } catch (err) {
        error = err;
      }
    }
    throw new Error(`MQTT: cannot connect to ${redact(this.options.url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  publish(events: readonly BridgeEvent[]): Promise<void> {
    if (this.closing) return Promise.reject(new PublishError('MQTT publisher is closed'));
    if (!this.connected) return Promise.reject(new PublishError('MQTT is not connected'));
    return this.window.submit(events);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const client = this.client;
    if (this.connected) await this.window.idle(this.options.closeTimeoutMs ?? 10_000);
    const err = new PublishError('MQTT publisher closed before the broker acknowledged');
    this.window.detach(err);
    this.window.failQueued(err);
    this.writer?.dispose();
    this.writer = null;
    this.connected = false;
    this.client = null;
    // force: in-flight messages were failed above; the session keeps nothing we would wait for.
    await client?.endAsync(true).catch(() => undefined);
  }

  /** Connects once; resolves on the first CONNACK, rejects on the first error (the client is ended then). */
  private connect(): Promise<void> {
    const { site } = this.options;
    const options: IClientOptions = {
      clientId: this.options.clientId ?? `openmrs-event-bridge-${site}`,
      clean: false,
      protocolVersion: this.version,
      reconnectPeriod: this.options.reconnectMs ?? 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: false,
      queueQoSZero: false,
      // A PUBACK proves the connection alive: no keepalive timer reset per acknowledged message (pings go out every
      // keepalive period instead).
      reschedulePings: false,
      // mqtt.js traces every packet through `debug` (about ten calls per message); keep that only when asked for.
      log: process.env.DEBUG?.includes('mqttjs') ? undefined : noLog,
      // MQTT 5 ends a session at disconnect unless told otherwise; keep it for a day.
      properties: this.version === 5 ? { sessionExpiryInterval: 86_400 } : undefined,
    };
    // manualConnect: the writer wraps the client's stream builder before the first connection (publish-writer.ts).
    const client = mqtt.connect(this.options.url, { ...options, manualConnect: true });
    const writer = this.options.ownEncoder === false ? null : publishWriter(client, this.version);
    if (!writer && this.options.ownEncoder !== false) {
      this.log.warn({ channel: 'mqtt' }, 'MQTT: mqtt.js internals not as expected; publishing through mqtt.js');
    }
    // Unless mqtt.js connected on its own after all (then the writer takes PUBACKs from 'packetreceive').
    if (!client.stream) client.connect();
    return new Promise<void>((resolve, reject) => {
      let first = true;
      client.on('connect', (connack) => {
        (client.stream as Partial<Socket>).setNoDelay?.(true);
        const receiveMaximum = connack.properties?.receiveMaximum;
        const limit = Math.min(this.options.window ?? 1000, receiveMaximum ?? Infinity, MAX_INFLIGHT);
        this.connected = true;
        if (writer) {
          const w = writer;
          // Messages in flight when the connection dropped go out again first, in order, with DUP.
          w.resume(limit);
          this.window.attach((event, confirm) => {
            w.publish(this.topicOf(event), JSON.stringify(event), confirm);
            // Memory is bounded by the window; the writer hands a burst to the socket as one chunk.
            return true;
          }, limit);
        } else {
          const cork = burstCork(client.stream as Partial<Socket>);
          this.window.attach((event, confirm) => {
            cork();
            return this.send(client, event, confirm);
          }, limit);
        }
        this.log.info(
          { channel: 'mqtt', protocolVersion: this.version, sessionPresent: connack.sessionPresent },
          'MQTT connected',
        );
        if (first) {
          first = false;
          this.client = client;
          this.writer = writer;
          resolve();
        }
      });
      client.on('close', () => {
        if (first) {
          first = false;
          writer?.dispose();
          client.end(true);
          reject(new Error('connection closed before CONNACK'));
          return;
        }
        writer?.disconnected();
        if (!this.connected) return;
        this.connected = false;
        // Sent messages stay in the session (the writer's or mqtt.js's) and are re-sent on reconnect; unsent ones go
        // back to delivery.
        this.window.detach();
        this.window.failQueued(new PublishError('MQTT connection lost'));
        if (!this.closing) this.log.warn({ channel: 'mqtt' }, 'MQTT connection lost; reconnecting');
      });
      client.on('error', (err) => {
        if (first) {
          first = false;
          writer?.dispose();
          client.end(true);
          reject(err);
          return;
        }
        this.log.warn({ err, channel: 'mqtt' }, 'MQTT error');
      });
    });
  }

  /** The fallback: mqtt.js's own publish. */
  private send(client: MqttClient, event: BridgeEvent, confirm: (err?: Error | null) => void): boolean {
    client.publish(
      this.topicOf(event),
      JSON.stringify(event),
      this.version === 5 ? PUBLISH_OPTIONS_V5 : PUBLISH_OPTIONS_V4,
      (err) => confirm(err ?? null),
    );
    return true;
  }
}
