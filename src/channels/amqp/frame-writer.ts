/**
 * Publishes on an amqplib confirm channel from frames encoded by `frames.ts`: the messages of a burst are encoded one
 * after the other into one buffer and handed to the channel's outgoing stream as one chunk (one socket write), and
 * each message's confirm callback is registered with the channel in the same order, so amqplib's own confirm
 * tracking (delivery tags, acks, nacks, 'channel closed' for the unconfirmed) works exactly as for `channel.publish`.
 *
 * This uses amqplib internals (the version is pinned in package.json): the channel's number (`ch`), its
 * `pushConfirmCallback`, and the connection's `frameMax` and `channels[ch].buffer`. `frameWriter()` returns null when
 * they are not there, and the publisher then uses `channel.publish`.
 */
import type { ConfirmChannel } from 'amqplib';
import { encodePublish, maxPublishBytes, type PublishFrame } from './frames.js';

/** Called once with null (confirmed) or an error (nacked, channel closed). */
export type ConfirmCallback = (err: Error | null) => void;

export interface FrameWriter {
  /** Encodes the message now (throws `FrameError` on a bad field) and sends it before the next turn of the loop. */
  publish(message: PublishFrame, confirm: ConfirmCallback): void;
}

interface ChannelInternals {
  ch: number;
  pushConfirmCallback(cb: ConfirmCallback): void;
  connection: ConnectionInternals;
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

/** Encode buffers are this big (a new one when full: the old one is still queued for the socket). */
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
    typeof inner.pushConfirmCallback !== 'function' ||
    typeof connection?.frameMax !== 'number' ||
    !Array.isArray(connection.channels) ||
    typeof connection.channels[ch]?.buffer?.write !== 'function'
  ) {
    return null;
  }
  const conn = connection;
  const frameMax = conn.frameMax;
  const pushConfirm = inner.pushConfirmCallback.bind(channel);
  let slab = Buffer.allocUnsafe(SLAB_BYTES);
  let start = 0;
  let end = 0;
  let flushQueued = false;
  let lastFlush = -Infinity;

  const flush = () => {
    flushQueued = false;
    lastFlush = performance.now();
    if (end === start) return;
    const chunk = slab.subarray(start, end);
    start = end;
    const entry = conn.channels[ch];
    // Channel gone or closing: amqplib fails the confirms of these messages when it closes.
    if (!current() || entry?.channel !== channel || entry.buffer.writableEnded || entry.buffer.destroyed) return;
    conn.sentSinceLastCheck = true;
    entry.buffer.write(chunk);
  };

  return {
    publish(message, confirm) {
      const need = maxPublishBytes(message, frameMax);
      if (end + need > slab.length) {
        flush();
        slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, need));
        start = end = 0;
      }
      end = encodePublish(slab, end, ch, frameMax, message);
      pushConfirm(confirm);
      if (!flushQueued) {
        flushQueued = true;
        if (performance.now() - lastFlush >= COALESCE_MS) process.nextTick(flush);
        else setTimeout(flush, COALESCE_MS);
      }
    },
  };
}
