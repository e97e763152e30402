/**
 * The stream's own text frames (src/channels/websocket/frame-writer.ts): byte for byte what ws's Sender frames for an
 * unmasked server text message, on both sides of each length form (125/126 bytes, 65,535/65,536 bytes) and where a
 * guess from the string length lands in the wrong form (non-ASCII); and, over a real ws connection, bursts with ws's
 * own pings in between arrive whole and in order, and `pendingBytes` counts what is not yet in the socket.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import WebSocket, { WebSocketServer } from 'ws';
import { encodeTextFrame, maxFrameBytes, textFrameSink } from '../../src/channels/websocket/frame-writer.js';

// ws's frame encoder (exported by ws, not declared by @types/ws).
const Sender = (ws as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;

function reference(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text, 'utf8'), {
    fin: true,
    rsv1: false,
    opcode: 1,
    mask: false,
    readOnly: false,
  });
  return Buffer.concat(parts);
}

function ours(text: string, offset = 3): Buffer {
  const buf = Buffer.alloc(offset + maxFrameBytes(text));
  const end = encodeTextFrame(buf, offset, text);
  return buf.subarray(offset, end);
}

describe('encodeTextFrame', () => {
  const cases: Array<[string, string]> = [
    ['empty', ''],
    ['short ASCII', '{"a":1}'],
    ['125 bytes', 'x'.repeat(125)],
    ['126 bytes', 'x'.repeat(126)],
    ['65,535 bytes', 'x'.repeat(65_535)],
    ['65,536 bytes', 'x'.repeat(65_536)],
    ['2 MB', 'y'.repeat(2 * 1024 * 1024)],
    ['non-ASCII, guessed 2-byte header, needs 4', 'é'.repeat(100)],
    ['non-ASCII, guessed 4-byte header, needs 10', '€'.repeat(30_000)],
    ['surrogate pairs and a lone surrogate', '😀 a \ud800 b'],
  ];
  for (const [name, text] of cases) {
    it(`matches ws's frame: ${name}`, () => {
      expect(ours(text).equals(reference(text))).toBe(true);
    });
  }
});

describe('textFrameSink over a real connection', () => {
  it('delivers bursts whole and in order, with pings in between, and counts pending bytes', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const messages = Array.from({ length: 3000 }, (_, i) => (i % 500 === 7 ? 'é'.repeat(40_000) : `{"n":${i},"p":"${'z'.repeat(i % 300)}"}`));
    const pending: number[] = [];
    server.on('connection', (socket) => {
      const sink = textFrameSink(socket);
      // Three bursts: two in one tick each, the third split by ws's own ping and a flush.
      for (let i = 0; i < 1000; i++) sink.send(messages[i]!);
      pending.push(sink.pendingBytes);
      setImmediate(() => {
        for (let i = 1000; i < 2000; i++) sink.send(messages[i]!);
        socket.ping();
        for (let i = 2000; i < 3000; i++) {
          sink.send(messages[i]!);
          if (i === 2500) sink.flush();
        }
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: string[] = [];
    let pinged = 0;
    client.on('ping', () => pinged++);
    await new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('message', (data, isBinary) => {
        expect(isBinary).toBe(false);
        received.push(data.toString());
        if (received.length === messages.length) resolve();
      });
    });
    client.close();
    server.close();
    expect(received).toEqual(messages);
    expect(pinged).toBe(1);
    // Bursts are written once they reach 64 KiB, so what waits outside the socket stays below that plus one message.
    expect(pending[0]).toBeGreaterThan(0);
    expect(pending[0]).toBeLessThan(64 * 1024 + 200);
  });
});
