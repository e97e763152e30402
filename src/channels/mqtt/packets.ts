/**
 * MQTT PUBLISH packets of the bridge (QoS 1, no retain; MQTT 5 with the content type and payload format indicator of
 * CONTRACT.md section 6, or MQTT 3.1.1), encoded straight into a caller's buffer: the same bytes mqtt-packet writes
 * for mqtt.js's `publish` with these options (checked byte for byte in test/unit/mqtt-packets.test.ts), without its
 * packet objects and the ten or so stream writes per packet.
 */
import { utf8Bound } from '../utf8-bound.js';

/** PUBLISH, QoS 1, no retain: type 3 in the high nibble, QoS in bits 1-2. */
const PUBLISH_QOS1 = 0x32;
/** The DUP flag of a PUBLISH re-sent after a reconnect. */
export const DUP_FLAG = 0x08;
/** MQTT's largest remaining length (four bytes of variable-length integer). */
const MAX_REMAINING_LENGTH = 268_435_455;

export const CONTENT_TYPE = 'application/cloudevents+json';

/**
 * The MQTT 5 properties of every message, with their length in front: content type (0x03, a UTF-8 string) and payload
 * format indicator (0x01, 1 = UTF-8), in this order, as mqtt-packet writes `{contentType, payloadFormatIndicator: true}`.
 */
const PROPERTIES_V5: Buffer = (() => {
  const type = Buffer.from(CONTENT_TYPE, 'utf8');
  const body = Buffer.concat([Buffer.from([0x03, type.length >> 8, type.length & 0xff]), type, Buffer.from([0x01, 1])]);
  if (body.length > 127) throw new Error('MQTT 5 publish properties must fit a one-byte length');
  return Buffer.concat([Buffer.from([body.length]), body]);
})();
const NO_PROPERTIES = Buffer.alloc(0);

/** Thrown for a packet MQTT cannot carry (a topic over 65,535 bytes, a packet over 256 MB). */
export class PacketError extends RangeError {}

/**
 * Bytes `encodePublish` may need at most (short strings counted at 3 bytes per UTF-16 unit, a long payload measured, so
 * a 50 MB event does not reserve 150 MB): reserve this much first.
 */
export function maxPublishBytes(topic: string, payload: string): number {
  return 1 + 4 + 2 + topic.length * 3 + 2 + PROPERTIES_V5.length + utf8Bound(payload);
}

/**
 * Writes one QoS 1 PUBLISH into `buf` at `offset` and returns the offset after it. `buf` must have `maxPublishBytes`
 * free from `offset`. `version` 5 adds the bridge's properties; 4 is MQTT 3.1.1.
 */
export function encodePublish(
  buf: Buffer,
  offset: number,
  version: 4 | 5,
  topic: string,
  messageId: number,
  payload: string,
  dup = false,
): number {
  const properties = version === 5 ? PROPERTIES_V5 : NO_PROPERTIES;
  // The remaining length (a variable-length integer of 1-4 bytes) comes first but depends on the UTF-8 sizes of topic
  // and payload. Guess its size from the string lengths (exact for ASCII, the usual case), write everything after it
  // in place, and move it in the rare case the guess lands in another size class: no second pass over the payload.
  const fixed = 2 + 2 + properties.length;
  const guessed = varIntSize(fixed + topic.length + payload.length);
  const start = offset + 1 + guessed;
  const topicBytes = buf.write(topic, start + 2, 'utf8');
  if (topicBytes > 0xffff) throw new PacketError(`MQTT topic over 65535 bytes (${topicBytes})`);
  buf.writeUInt16BE(topicBytes, start);
  let o = start + 2 + topicBytes;
  buf[o] = messageId >> 8;
  buf[o + 1] = messageId & 0xff;
  o += 2;
  o += properties.copy(buf, o);
  o += buf.write(payload, o, 'utf8');
  const remaining = o - start;
  if (remaining > MAX_REMAINING_LENGTH) throw new PacketError(`MQTT packet over 256 MB (${remaining} bytes)`);
  const size = varIntSize(remaining);
  if (size !== guessed) {
    buf.copyWithin(offset + 1 + size, start, o);
    o += size - guessed;
  }
  buf[offset] = dup ? PUBLISH_QOS1 | DUP_FLAG : PUBLISH_QOS1;
  writeVarInt(buf, offset + 1, remaining);
  return o;
}

/** Bytes of MQTT's variable-length integer for `n`. */
function varIntSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Seven bits per byte, least significant first, high bit set on all but the last. */
function writeVarInt(buf: Buffer, offset: number, n: number): void {
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    buf[offset++] = byte;
  } while (n > 0);
}
