/**
 * AMQP 0-9-1 frames of one `basic.publish` (method frame, content header frame, body frames), encoded straight into a
 * caller's buffer: the same bytes amqplib writes for `channel.publish` with these properties (checked byte for byte in
 * test/unit/amqp-frames.test.ts), without its per-message objects, intermediate buffers and three copies of the body.
 */
import { utf8Bound } from '../utf8-bound.js';

const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_END = 0xce;
/** Type (1), channel (2), size (4) before the payload and the end octet after it. */
const FRAME_OVERHEAD = 8;
const BASIC_PUBLISH = (60 << 16) | 40;
const BASIC_CLASS = 60;

/** Property flags of the content header, in AMQP's order. */
const FLAG_CONTENT_TYPE = 1 << 15;
const FLAG_HEADERS = 1 << 13;
const FLAG_DELIVERY_MODE = 1 << 12;
const FLAG_MESSAGE_ID = 1 << 7;
const FLAG_TIMESTAMP = 1 << 6;
const FLAG_TYPE = 1 << 5;
const FLAG_APP_ID = 1 << 3;

/** What the bridge publishes: a persistent message with these properties and an empty headers table (as amqplib). */
export interface PublishFrame {
  exchange: string;
  routingKey: string;
  contentType: string;
  messageId: string;
  type: string;
  appId: string;
  /** Unix seconds; omitted when undefined. */
  timestamp: number | undefined;
  /** The body (event JSON). */
  body: string;
}

/** Thrown for a value AMQP cannot carry (a short string over 255 bytes), as amqplib does. */
export class FrameError extends TypeError {}

/**
 * Bytes `encodePublish` may need for `message` at most (short strings counted at 3 bytes per UTF-16 unit, a long body
 * measured): reserve this much before calling it.
 */
export function maxPublishBytes(message: PublishFrame, frameMax: number): number {
  const shorts =
    message.exchange.length +
    message.routingKey.length +
    message.contentType.length +
    message.messageId.length +
    message.type.length +
    message.appId.length;
  const body = utf8Bound(message.body);
  const bodyFrames = Math.max(1, Math.ceil(body / (frameMax - FRAME_OVERHEAD)));
  return 64 + shorts * 3 + body + bodyFrames * FRAME_OVERHEAD;
}

/**
 * Writes the frames of one publish on `channel` into `buf` at `offset` and returns the offset after them. `buf` must
 * have `maxPublishBytes` free from `offset`. Bodies longer than `frameMax` allows in one frame are split as amqplib
 * splits them.
 */
export function encodePublish(
  buf: Buffer,
  offset: number,
  channel: number,
  frameMax: number,
  message: PublishFrame,
): number {
  // Method frame: basic.publish(ticket 0, exchange, routing key, no mandatory/immediate).
  const method = offset;
  let o = frameStart(buf, offset, FRAME_METHOD, channel);
  buf.writeUInt32BE(BASIC_PUBLISH, o);
  buf.writeUInt16BE(0, o + 4);
  o = shortString(buf, o + 6, message.exchange, 'exchange');
  o = shortString(buf, o, message.routingKey, 'routingKey');
  buf[o++] = 0;
  o = frameEnd(buf, method, o);

  // Content header frame: class, weight, body size (written below), flags, properties.
  const header = o;
  o = frameStart(buf, o, FRAME_HEADER, channel);
  buf.writeUInt16BE(BASIC_CLASS, o);
  buf.writeUInt16BE(0, o + 2);
  const bodySizeAt = o + 4;
  let flags = FLAG_CONTENT_TYPE | FLAG_HEADERS | FLAG_DELIVERY_MODE | FLAG_MESSAGE_ID | FLAG_TYPE | FLAG_APP_ID;
  if (message.timestamp !== undefined) flags |= FLAG_TIMESTAMP;
  buf.writeUInt16BE(flags, o + 12);
  o = shortString(buf, o + 14, message.contentType, 'contentType');
  buf.writeUInt32BE(0, o); // headers: an empty table
  buf[o + 4] = 2; // delivery mode: persistent
  o = shortString(buf, o + 5, message.messageId, 'messageId');
  if (message.timestamp !== undefined) o = uint64(buf, o, message.timestamp);
  o = shortString(buf, o, message.type, 'type');
  o = shortString(buf, o, message.appId, 'appId');
  o = frameEnd(buf, header, o);

  // Body: written where its first frame's payload starts; split into more frames when it is too long for one.
  const maxBody = frameMax - FRAME_OVERHEAD;
  const bodyStart = o + 7;
  const size = buf.write(message.body, bodyStart, 'utf8');
  uint64(buf, bodySizeAt, size);
  if (size === 0) return o;
  if (size <= maxBody) {
    frameStart(buf, o, FRAME_BODY, channel);
    return frameEnd(buf, o, bodyStart + size);
  }
  // Rare (a body over frameMax, 128 KiB on RabbitMQ): move the tail out of the way and lay the frames out one by one.
  const body = Buffer.from(buf.subarray(bodyStart, bodyStart + size));
  for (let from = 0; from < size; from += maxBody) {
    const chunk = body.subarray(from, Math.min(size, from + maxBody));
    const start = o;
    o = frameStart(buf, o, FRAME_BODY, channel);
    o += chunk.copy(buf, o);
    o = frameEnd(buf, start, o);
  }
  return o;
}

function frameStart(buf: Buffer, offset: number, type: number, channel: number): number {
  buf[offset] = type;
  buf.writeUInt16BE(channel, offset + 1);
  return offset + 7;
}

/** Writes the payload size of the frame at `start` and its end octet at `end`; returns the offset after the frame. */
function frameEnd(buf: Buffer, start: number, end: number): number {
  buf.writeUInt32BE(end - start - 7, start + 3);
  buf[end] = FRAME_END;
  return end + 1;
}

/** A short string (length octet, UTF-8); the caller reserved room for all of it (`maxPublishBytes`). */
function shortString(buf: Buffer, offset: number, value: string, field: string): number {
  const n = buf.write(value, offset + 1, 'utf8');
  if (n > 255) throw new FrameError(`Field '${field}' is the wrong type; must be a string (up to 255 chars)`);
  buf[offset] = n;
  return offset + 1 + n;
}

/** An unsigned 64-bit integer (below 2^53) without a BigInt. */
function uint64(buf: Buffer, offset: number, value: number): number {
  buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
  return offset + 8;
}
