/**
 * The MQTT PUBLISH packets the bridge encodes itself (src/channels/mqtt/packets.ts) are byte for byte what
 * mqtt-packet (mqtt.js's encoder) generates for the same QoS 1 publish, MQTT 5 with the bridge's properties and MQTT
 * 3.1.1: the DUP flag, non-ASCII topics and payloads, long topics, and remaining lengths on both sides of every size
 * class of the variable-length integer (payloads over 127 bytes, 16,383 bytes and 2 MB), including ones where a
 * guess from the string length lands in the wrong class.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPE, encodePublish, maxPublishBytes, PacketError } from '../../src/channels/mqtt/packets.js';

// mqtt-packet as mqtt.js loads it (a dependency of mqtt, not of the bridge).
const require = createRequire(import.meta.url);
const mqttPacket = require(require.resolve('mqtt-packet', { paths: [dirname(require.resolve('mqtt'))] })) as {
  generate(packet: object, opts: { protocolVersion: number }): Buffer;
  parser(opts: { protocolVersion: number }): {
    on(event: 'packet', cb: (p: Record<string, unknown>) => void): void;
    on(event: 'error', cb: (e: Error) => void): void;
    parse(buf: Buffer): number;
  };
};

interface Case {
  topic: string;
  messageId: number;
  payload: string;
  dup?: boolean;
}

function reference(version: 4 | 5, c: Case): Buffer {
  return mqttPacket.generate(
    {
      cmd: 'publish',
      topic: c.topic,
      payload: c.payload,
      qos: 1,
      retain: false,
      dup: c.dup ?? false,
      messageId: c.messageId,
      // What the publisher passed to mqtt.js (MQTT 5 only; mqtt.js drops properties for 3.1.1).
      properties: version === 5 ? { contentType: CONTENT_TYPE, payloadFormatIndicator: true } : undefined,
    },
    { protocolVersion: version },
  );
}

function ours(version: 4 | 5, c: Case): Buffer {
  const buf = Buffer.alloc(maxPublishBytes(c.topic, c.payload) + 10, 0xaa);
  const end = encodePublish(buf, 3, version, c.topic, c.messageId, c.payload, c.dup);
  return buf.subarray(3, end);
}

const event = JSON.stringify({ id: 'clinic-a:0-1-4711:2', type: 'ObsVoided', data: { note: 'x'.repeat(1000) } });
const base: Case = { topic: 'openmrs/clinic-a/obs/voided', messageId: 4711, payload: event };

/** A payload of exactly `n` UTF-8 bytes, ASCII or with two-byte characters. */
const ascii = (n: number) => 'a'.repeat(n);
const twoByte = (n: number) => 'é'.repeat(Math.floor(n / 2)) + (n % 2 ? 'a' : '');

describe.each([5, 4] as const)('MQTT %i PUBLISH packets', (version) => {
  it('match mqtt-packet for a typical event', () => {
    expect(ours(version, base)).toEqual(reference(version, base));
  });

  it('match mqtt-packet with the DUP flag, the lowest and highest packet ids', () => {
    for (const messageId of [1, 255, 256, 65535]) {
      const c = { ...base, messageId, dup: true };
      expect(ours(version, c)).toEqual(reference(version, c));
    }
  });

  it('match mqtt-packet with non-ASCII topic and payload', () => {
    const c = { ...base, topic: 'openmrs/clinique-é/obs/voided', payload: JSON.stringify({ name: 'Zoë Nakato ✓ 𝄞' }) };
    expect(ours(version, c)).toEqual(reference(version, c));
  });

  it('match mqtt-packet for long topics (two-byte length, up to 65,535 bytes)', () => {
    for (const n of [127, 128, 255, 256, 5000, 65535]) {
      const c = { ...base, topic: 't'.repeat(n) };
      expect(ours(version, c)).toEqual(reference(version, c));
    }
  });

  it('match mqtt-packet on both sides of every size of the remaining length', () => {
    // The remaining length is what follows the fixed header: topic, id, properties, payload.
    const overhead = reference(version, { ...base, payload: '' }).length - 2;
    for (const limit of [128, 16_384, 2_097_152]) {
      for (const delta of [-2, -1, 0, 1, 2]) {
        const payloadBytes = limit - overhead + delta;
        for (const payload of [ascii(payloadBytes), twoByte(payloadBytes)]) {
          const c = { ...base, payload };
          expect(ours(version, c).equals(reference(version, c))).toBe(true);
        }
      }
    }
  });

  it('match mqtt-packet when the string length guesses the wrong size class (payloads of 16,383 and 2 MB)', () => {
    // Under 128 UTF-16 units but over 127 bytes; under 16,384 units but over 16,383 bytes; under 2 MiB but over.
    for (const payload of ['é'.repeat(100), 'é'.repeat(9000), '✓'.repeat(800_000), 'a'.repeat(3_000_000)]) {
      const c = { ...base, payload, dup: true };
      expect(ours(version, c).equals(reference(version, c))).toBe(true);
    }
  });

  it('write packets one after the other in one buffer, and mqtt-packet parses them back', () => {
    const second = { ...base, messageId: 4712, topic: 'openmrs/clinic-a/obs/created', payload: '{"n":2}' };
    const buf = Buffer.alloc(maxPublishBytes(base.topic, base.payload) + maxPublishBytes(second.topic, second.payload));
    const middle = encodePublish(buf, 0, version, base.topic, base.messageId, base.payload);
    const end = encodePublish(buf, middle, version, second.topic, second.messageId, second.payload, true);
    expect(buf.subarray(0, end)).toEqual(
      Buffer.concat([reference(version, base), reference(version, { ...second, dup: true })]),
    );

    const parsed: Array<Record<string, unknown>> = [];
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on('packet', (p) => parsed.push(p));
    parser.on('error', (e) => {
      throw e;
    });
    parser.parse(buf.subarray(0, end));
    expect(parsed.map((p) => [p.topic, p.messageId, p.qos, p.dup, String(p.payload)])).toEqual([
      [base.topic, 4711, 1, false, base.payload],
      [second.topic, 4712, 1, true, second.payload],
    ]);
    if (version === 5) {
      expect(parsed[0]!.properties).toEqual({ contentType: CONTENT_TYPE, payloadFormatIndicator: true });
    }
  });

  it('refuse a topic over 65,535 bytes', () => {
    expect(() => ours(version, { ...base, topic: 't'.repeat(65536) })).toThrow(PacketError);
  });
});
