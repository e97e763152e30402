/**
 * Publishes on an amqplib confirm channel from frames encoded by `frames.ts`: the messages of a burst are encoded one
 * after the other into one buffer and handed to the channel's outgoing stream as one chunk (one socket write). Their
 * confirm callbacks are kept by delivery tag here (`confirm-tags.ts`) and settled from the channel's 'ack' and 'nack'
 * events, and failed when the channel closes, as amqplib does for `channel.publish`.
 *
 * This uses amqplib internals (the version is pinned in package.json): the channel's number (`ch`), and the
 * connection's `frameMax` and `channels[ch].buffer`. `frameWriter()` returns null when they are not there, and the
 * publisher then uses `channel.publish`.
 */
import type { ConfirmChannel } from 'amqplib';
import { ConfirmTags, type ConfirmCallback } from './confirm-tags.js';
import { EncodeSlab } from '../encode-slab.js';
import { encodePublish, maxPublishBytes, type PublishFrame } from './frames.js';

export interface FrameWriter {
  /** Encodes the message now (throws `FrameError` on a bad field) and sends it before the next turn of the loop. */
  publish(message: PublishFrame, confirm: ConfirmCallback): void;
}

interface ChannelInternals {
  ch: number;
  connection: ConnectionInternals;
}

/** The fields of a `basic.ack` or `basic.nack` as amqplib emits them. */
interface ConfirmFields {
  deliveryTag: number;
  multiple: boolean;
}

interface ConnectionInternals {
  frameMax: number;
  channels: Array<{ channel: unknown; buffer: OutgoingStream } | null | undefined>;
  /** amqplib's heartbeat skips a beat when this is set. */
  sentSinceLastCheck: boolean;
}

interface OutgoingStream {
  write(chunk: Buffer): boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
}

/** Encode buffers are this big (see `EncodeSlab`). */
const SLAB_BYTES = 1024 * 1024;

/**
 * Under load, bursts are written at most this often. RabbitMQ acknowledges a few messages per `basic.ack` frame, and
 * refilling the window on each one made a socket write of about five messages each time: coalescing them cut the
 * bridge's CPU per event by about a sixth in `bench:e2e` (a), CPU that RabbitMQ, the bottleneck on a small host, gets
 * instead. A burst after a quiet spell goes out at once, so a lone transaction waits for no timer.
 */
const COALESCE_MS = 1;

/**
 * A writer for `channel`, or null when amqplib's internals are not as expected. `current()` says whether the channel
 * is still the publisher's (false once its connection was dropped): a burst encoded before that is not sent.
 */
export function frameWriter(channel: ConfirmChannel, current: () => boolean): FrameWriter | null {
  const inner = channel as unknown as Partial<ChannelInternals>;
  const connection = inner.connection;
  const ch = inner.ch;
  if (
    typeof ch !== 'number' ||
    typeof connection?.frameMax !== 'number' ||
    !Array.isArray(connection.channels) ||
    typeof connection.channels[ch]?.buffer?.write !== 'function'
  ) {
    return null;
  }
  const conn = connection;
  const frameMax = conn.frameMax;
  const confirms = new ConfirmTags();
  channel.on('ack', (f: ConfirmFields) => confirms.settle(f.deliveryTag, f.multiple, null));
  channel.on('nack', (f: ConfirmFields) => confirms.settle(f.deliveryTag, f.multiple, new Error('message nacked')));
  channel.on('close', () => confirms.failAll(new Error('channel closed')));
  const slab = new EncodeSlab(SLAB_BYTES);
  let flushQueued = false;
  let lastFlush = -Infinity;

  const flush = () => {
    flushQueued = false;
    lastFlush = performance.now();
    const chunk = slab.take();
    if (chunk === null) return;
    const entry = conn.channels[ch];
    // Channel gone or closing: the confirms of these messages fail when it closes (`confirms.failAll`).
    if (!current() || entry?.channel !== channel || entry.buffer.writableEnded || entry.buffer.destroyed) return;
    conn.sentSinceLastCheck = true;
    entry.buffer.write(chunk);
  };

  return {
    publish(message, confirm) {
      slab.reserve(maxPublishBytes(message, frameMax), flush);
      slab.end = encodePublish(slab.buf, slab.end, ch, frameMax, message);
      confirms.push(confirm);
      if (!flushQueued) {
        flushQueued = true;
        if (performance.now() - lastFlush >= COALESCE_MS) process.nextTick(flush);
        else setTimeout(flush, COALESCE_MS);
      }
    },
  };
}
