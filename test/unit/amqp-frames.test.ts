/**
 * The AMQP publish frames the bridge encodes itself (src/channels/amqp/frames.ts) are byte for byte what amqplib
 * writes for `channel.publish` with the same properties: method, content header (with amqplib's empty headers table)
 * and body frames, a body split over frames like amqplib splits it, non-ASCII text, no timestamp, and a short string
 * over 255 bytes refused.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePublish, FrameError, maxPublishBytes, type PublishFrame } from '../../src/channels/amqp/frames.js';

// amqplib's own encoders (not exported by the package: loaded by path).
const require = createRequire(import.meta.url);
const root = dirname(require.resolve('amqplib'));
const defs = require(join(root, 'lib/defs.js'));
const { makeBodyFrame } = require(join(root, 'lib/frame.js'));
const Args = require(join(root, 'lib/api_args.js'));

function amqplibBytes(channel: number, frameMax: number, m: PublishFrame): Buffer {
  const options = {
    persistent: true,
    contentType: m.contentType,
    messageId: m.messageId,
    type: m.type,
    appId: m.appId,
    timestamp: m.timestamp,
  };
  const fields = Args.publish(m.exchange, m.routingKey, options);
  const content = Buffer.from(m.body);
  const parts = [
    defs.encodeMethod(defs.BasicPublish, channel, fields),
    defs.encodeProperties(defs.BasicProperties, channel, content.length, fields),
  ];
  const maxBody = frameMax - 8;
  for (let offset = 0; offset < content.length; offset += maxBody) {
    parts.push(makeBodyFrame(channel, content.subarray(offset, Math.min(content.length, offset + maxBody))));
  }
  return Buffer.concat(parts);
}

function ours(channel: number, frameMax: number, m: PublishFrame): Buffer {
  const buf = Buffer.alloc(maxPublishBytes(m, frameMax) + 10, 0xaa);
  const end = encodePublish(buf, 3, channel, frameMax, m);
  return buf.subarray(3, end);
}

const message: PublishFrame = {
  exchange: 'openmrs.events',
  routingKey: 'clinic-a.obs.voided',
  contentType: 'application/cloudevents+json',
  messageId: 'clinic-a:0-1-4711:2',
  type: 'ObsVoided',
  appId: 'openmrs-event-bridge',
  timestamp: 1_796_527_611,
  body: JSON.stringify({ id: 'clinic-a:0-1-4711:2', data: { note: 'x'.repeat(700) } }),
};

describe('AMQP publish frames', () => {
  it('match amqplib for a typical event', () => {
    expect(ours(1, 131_072, message)).toEqual(amqplibBytes(1, 131_072, message));
  });

  it('match amqplib with non-ASCII text, another channel and no timestamp', () => {
    const m = { ...message, timestamp: undefined, body: JSON.stringify({ name: 'Zoë Nakato ✓ 𝄞', n: 1 }) };
    expect(ours(7, 131_072, m)).toEqual(amqplibBytes(7, 131_072, m));
  });

  it('split a body longer than a frame as amqplib does', () => {
    const m = { ...message, body: JSON.stringify({ text: 'é'.repeat(3000) + 'z'.repeat(5000) }) };
    const frameMax = 4096;
    const bytes = ours(1, frameMax, m);
    expect(bytes).toEqual(amqplibBytes(1, frameMax, m));
    // method + header + 3 body frames of at most frameMax bytes each
    expect(Buffer.byteLength(m.body)).toBeGreaterThan(2 * (frameMax - 8));
  });

  it('write messages one after the other in one buffer', () => {
    const second = { ...message, messageId: 'clinic-a:0-1-4711:3', routingKey: 'clinic-a.obs.created' };
    const buf = Buffer.alloc(maxPublishBytes(message, 131_072) + maxPublishBytes(second, 131_072));
    const middle = encodePublish(buf, 0, 1, 131_072, message);
    const end = encodePublish(buf, middle, 1, 131_072, second);
    expect(buf.subarray(0, end)).toEqual(
      Buffer.concat([amqplibBytes(1, 131_072, message), amqplibBytes(1, 131_072, second)]),
    );
  });

  it('refuse a short string over 255 bytes, as amqplib does', () => {
    const m = { ...message, messageId: 'm'.repeat(256) };
    expect(() => amqplibBytes(1, 131_072, m)).toThrow(TypeError);
    expect(() => ours(1, 131_072, m)).toThrow(FrameError);
    expect(ours(1, 131_072, { ...message, messageId: 'm'.repeat(255) })).toEqual(
      amqplibBytes(1, 131_072, { ...message, messageId: 'm'.repeat(255) }),
    );
  });
});
