/**
 * QoS 1 publishing on an mqtt.js client without mqtt.js's per-message work. mqtt.js keeps the connection: CONNECT and
 * the session (clean off, stable client id), keepalive, reconnects. This writer does the PUBLISH/PUBACK flow of the
 * bridge's messages itself:
 *
 * - packets are encoded by `packets.ts` into one buffer per burst and written to the client's stream as one chunk
 *   (mqtt.js deep-copies every packet into its outgoing store and writes it in about ten small chunks);
 * - packet ids are the writer's own, unique among the messages in flight (the bridge never publishes or subscribes
 *   through mqtt.js on this client, so mqtt.js allocates none; an id mqtt.js has pending is skipped all the same);
 * - PUBACKs of its messages are taken out of the bytes from the broker before mqtt.js parses them (`puback-filter.ts`,
 *   a Transform put between each new connection's stream and mqtt.js's parser by wrapping `client.streamBuilder` and
 *   the stream's `pipe`): no packet object, event and nextTick per PUBACK. Should mqtt.js not pipe the stream as
 *   expected, they are taken from its 'packetreceive' event instead (emitted for every packet before mqtt.js handles
 *   it; mqtt.js then finds no pending message of its own under that id and ignores the PUBACK);
 * - the bytes of every message stay until its PUBACK: after a reconnect (`resume`) they are re-sent first, in their
 *   original order, with the same packet ids and the DUP flag, at most `limit` (the broker's Receive Maximum) at a time.
 *   mqtt.js would re-send them one round trip at a time and without DUP.
 *
 * Uses mqtt.js internals (the version is pinned in package.json): `client.outgoing` (its pending messages by id),
 * `client.streamBuilder`, `client.stream`, `client.connected`. `publishWriter()` returns null when they are not as
 * expected (or mqtt.js is not major version 5), and the publisher then publishes through `client.publish`. Create the
 * writer before the client's first connection (mqtt.js's `manualConnect`), so that every connection is filtered.
 */
import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import type { MqttClient, Packet } from 'mqtt';
import { EncodeSlab } from '../encode-slab.js';
import { DUP_FLAG, encodePublish, maxPublishBytes } from './packets.js';
import { PubackFilter } from './puback-filter.js';

/** Called once with null (PUBACK) or an error (PUBACK with a failure reason code). */
export type PublishConfirm = (err: Error | null) => void;

export interface PublishWriter {
  /** Encodes the message now (throws `PacketError` on a topic or packet MQTT cannot carry) and sends it this turn. */
  publish(topic: string, payload: string, confirm: PublishConfirm): void;
  /** The connection dropped: nothing is written until `resume`; messages in flight are kept for it. */
  disconnected(): void;
  /** Connected again (CONNACK): re-sends the messages in flight with DUP, at most `limit` unacknowledged at a time. */
  resume(limit: number): void;
  /** Forgets every message in flight (the publisher closed and failed them) and stops listening to the client. */
  dispose(): void;
  /** Messages sent (or to be re-sent) and not yet acknowledged. */
  readonly inflight: number;
}

interface ClientInternals {
  outgoing: Record<number, unknown>;
  stream: { write(chunk: Buffer): boolean } | null;
  connected: boolean;
  /** Called by mqtt.js for every connection attempt; returns the new stream, which mqtt.js then pipes to its parser. */
  streamBuilder: (client: MqttClient) => PipeableStream;
}

interface PipeableStream {
  pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T;
}

const MAX_ID = 65_535;
/** Encode buffers are this big (see `EncodeSlab`; a full one may still hold messages in flight). */
const SLAB_BYTES = 1024 * 1024;

/** PUBACK reason codes (MQTT 5): 0x80 and above are failures. */
const REASONS: Record<number, string> = {
  0x80: 'Unspecified error',
  0x83: 'Implementation specific error',
  0x87: 'Not authorized',
  0x90: 'Topic Name invalid',
  0x91: 'Packet identifier in use',
  0x97: 'Quota exceeded',
  0x99: 'Payload format invalid',
};

/** The error of a PUBACK that refuses the message. */
export class PubackError extends Error {
  constructor(readonly code: number) {
    super(`Publish error: ${REASONS[code] ?? `reason code ${code}`}`);
    this.name = 'PubackError';
  }
}

function mqttMajorVersion(): number {
  try {
    const pkg = createRequire(import.meta.url)('mqtt/package.json') as { version?: string };
    return Number(pkg.version?.split('.')[0]);
  } catch {
    return NaN;
  }
}

const MQTT_MAJOR = mqttMajorVersion();

/** A writer for `client` speaking `version`, or null when mqtt.js's internals are not as expected. */
export function publishWriter(client: MqttClient, version: 4 | 5): PublishWriter | null {
  const inner = client as unknown as Partial<ClientInternals>;
  if (
    MQTT_MAJOR !== 5 ||
    typeof inner.outgoing !== 'object' ||
    inner.outgoing === null ||
    typeof inner.connected !== 'boolean' ||
    typeof inner.streamBuilder !== 'function'
  ) {
    return null;
  }
  return new Writer(client, inner as ClientInternals, version);
}

class Writer implements PublishWriter {
  // Messages in flight by packet id: confirm callback, where their bytes are, the order they were first sent in.
  // Parallel arrays rather than an object per message: nothing to allocate or collect per message.
  private readonly confirms: Array<PublishConfirm | undefined> = new Array<PublishConfirm | undefined>(MAX_ID + 1).fill(
    undefined,
  );
  private readonly bufs: Array<Buffer | undefined> = new Array<Buffer | undefined>(MAX_ID + 1).fill(undefined);
  private readonly starts = new Uint32Array(MAX_ID + 1);
  private readonly ends = new Uint32Array(MAX_ID + 1);
  private readonly order = new Float64Array(MAX_ID + 1);
  private count = 0;
  private sequence = 0;
  private nextId = 1;
  /** Ids in flight still to be re-sent on this connection (more were in flight than the broker's Receive Maximum). */
  private resendQueue: number[] = [];
  private resendHead = 0;

  private readonly slab = new EncodeSlab(SLAB_BYTES);
  private flushQueued = false;
  /** Set between CONNACK and the connection's loss: bytes are written only then. */
  private live: boolean;
  /** The current connection's PUBACKs go through a `PubackFilter` (else through 'packetreceive'). */
  private filtering = false;

  private readonly onPacket = (packet: Packet): void => {
    if (packet.cmd === 'puback' && !this.filtering) this.ack(packet.messageId ?? 0, packet.reasonCode ?? 0);
  };
  private readonly owns = (id: number): boolean => this.confirms[id] !== undefined;
  private readonly onAck = (id: number, reasonCode: number): void => this.ack(id, reasonCode);

  constructor(
    private readonly client: MqttClient,
    private readonly inner: ClientInternals,
    private readonly version: 4 | 5,
  ) {
    this.live = inner.connected;
    client.on('packetreceive', this.onPacket);
    const build = inner.streamBuilder;
    inner.streamBuilder = (c) => this.filtered(build(c));
  }

  get inflight(): number {
    return this.count;
  }

  /**
   * Arranges for `stream`'s bytes to pass a new `PubackFilter` on their way to mqtt.js: its one `stream.pipe(parser)`
   * becomes `stream.pipe(filter).pipe(parser)` (a Transform keeps pipe's backpressure and end as they were).
   */
  private filtered(stream: PipeableStream): PipeableStream {
    this.filtering = false;
    if (typeof stream?.pipe !== 'function') return stream;
    const filter = new PubackFilter(this.owns, this.onAck);
    const transform = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        done(null, filter.filter(chunk) ?? undefined);
      },
    });
    const pipe = stream.pipe;
    stream.pipe = <T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
      stream.pipe = pipe;
      this.filtering = true;
      pipe.call(stream, transform);
      return transform.pipe(destination, options);
    };
    return stream;
  }

  publish(topic: string, payload: string, confirm: PublishConfirm): void {
    const id = this.allocate();
    const slab = this.slab;
    slab.reserve(maxPublishBytes(topic, payload), this.flushPending);
    const at = slab.end;
    slab.end = encodePublish(slab.buf, at, this.version, topic, id, payload);
    this.confirms[id] = confirm;
    this.bufs[id] = slab.buf;
    this.starts[id] = at;
    this.ends[id] = slab.end;
    this.order[id] = ++this.sequence;
    this.count++;
    this.queueFlush();
  }

  disconnected(): void {
    this.live = false;
    // Encoded and not written yet: these stay in flight and go out with the others on `resume`.
    this.slab.discard();
    this.resendQueue = [];
    this.resendHead = 0;
  }

  resume(limit: number): void {
    this.live = true;
    const ids: number[] = [];
    for (let id = 1; id <= MAX_ID; id++) if (this.confirms[id] !== undefined) ids.push(id);
    if (ids.length === 0) return;
    // MQTT requires re-sending unacknowledged PUBLISH packets in their original order, with their ids. With a session
    // the broker lost (session present 0) they go out all the same, as new messages: at least once, as mqtt.js does.
    ids.sort((a, b) => this.order[a]! - this.order[b]!);
    const now = Math.min(ids.length, Math.max(1, limit));
    for (let i = 0; i < now; i++) this.resend(ids[i]!);
    this.resendQueue = ids.slice(now);
    this.resendHead = 0;
  }

  dispose(): void {
    this.client.removeListener('packetreceive', this.onPacket);
    this.live = false;
    this.slab.discard();
    this.confirms.fill(undefined);
    this.bufs.fill(undefined);
    this.count = 0;
    this.resendQueue = [];
  }

  private ack(id: number, reasonCode: number): void {
    const confirm = this.confirms[id];
    if (confirm === undefined) return; // not ours, or already acknowledged
    this.confirms[id] = undefined;
    this.bufs[id] = undefined;
    this.count--;
    // A re-send held back by the broker's Receive Maximum takes the freed slot before any new message.
    if (this.resendHead < this.resendQueue.length) this.resend(this.resendQueue[this.resendHead++]!);
    confirm(reasonCode >= 0x80 ? new PubackError(reasonCode) : null);
  }

  /** Copies a message's bytes into the current burst with the DUP flag set; it now lives there. */
  private resend(id: number): void {
    const buf = this.bufs[id];
    if (buf === undefined || this.confirms[id] === undefined) return;
    const from = this.starts[id]!;
    const to = this.ends[id]!;
    const slab = this.slab;
    slab.reserve(to - from, this.flushPending);
    const at = slab.end;
    buf.copy(slab.buf, at, from, to);
    slab.buf[at] = slab.buf[at]! | DUP_FLAG;
    slab.end = at + (to - from);
    this.bufs[id] = slab.buf;
    this.starts[id] = at;
    this.ends[id] = slab.end;
    this.queueFlush();
  }

  private allocate(): number {
    const outgoing = this.inner.outgoing;
    for (let i = 0; i < MAX_ID; i++) {
      const id = this.nextId;
      this.nextId = id === MAX_ID ? 1 : id + 1;
      if (this.confirms[id] === undefined && outgoing[id] === undefined) return id;
    }
    throw new Error('MQTT: no free packet id (65,535 messages in flight)');
  }

  /** Writes what is pending before the slab is replaced (its bytes stay where they are, for messages in flight). */
  private readonly flushPending = (): void => this.flush();

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // setImmediate, not nextTick: the check phase comes after everything this turn of the loop does that refills the
    // window (the PUBACKs of a socket read, which mqtt.js hands to 'packetreceive' one per nextTick when they are not
    // filtered; delivery's publish calls from promise callbacks), so all of it leaves in one write.
    setImmediate(this.flushNow);
  }

  private readonly flushNow = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  private flush(): void {
    const chunk = this.slab.take();
    if (chunk === null) return;
    const stream = this.inner.stream;
    // Lost connection: the messages stay in flight and are re-sent by `resume`.
    if (!this.live || !this.inner.connected || !stream) return;
    // The return value is ignored: memory is bounded by the window, and the socket queues what it cannot take now.
    stream.write(chunk);
  }
}
