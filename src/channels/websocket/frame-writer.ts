/**
 * The text frames of one stream subscriber, encoded by the bridge straight into one buffer per burst and written to the
 * TCP socket in one write.
 *
 * ws's `send` copies each string into a Buffer of its own, allocates a header per frame and hands the socket two
 * chunks per message; at tens of thousands of events a second that was about a fifth of the bridge's time in a
 * WebSocket replay. Here a burst (the events handed over before the next tick) becomes one buffer of unmasked server
 * frames (RFC 6455 section 5.2, FIN + text, the shortest length form) and one socket write.
 *
 * Only for connections without extensions: the stream never offers permessage-deflate, and without it ws writes its
 * own frames (pings, close) straight to the socket, so frames of both stay whole. A connection whose internals are not
 * as expected gets ws's own `send`, with the socket corked per burst.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { EncodeSlab } from '../encode-slab.js';
import { utf8Bound } from '../utf8-bound.js';

/** Where a subscriber's event JSON goes. */
export interface TextFrameSink {
  /** Queues one text message; it leaves with the rest of the burst on the next tick, or now if the buffer is full. */
  send(text: string): void;
  /** Writes what is queued now. */
  flush(): void;
  /** Bytes queued and not yet handed to the socket (add them to `bufferedAmount` for backpressure). */
  readonly pendingBytes: number;
}

/** FIN + opcode 1 (text). */
const FIN_TEXT = 0x81;
/** A burst is written once it reaches this size, so that what is not yet in the socket stays small. */
const CHUNK = 64 * 1024;

/** ws's fields this relies on (ws 8). */
interface WsInternals {
  _socket?: Socket;
  _extensions?: Record<string, unknown>;
}

/** The sink for `socket`: our frame writer when the connection allows it, else ws's `send` corked per burst. */
export function textFrameSink(socket: WebSocket): TextFrameSink {
  const internals = socket as unknown as WsInternals;
  const raw = internals._socket;
  const plain = internals._extensions !== undefined && Object.keys(internals._extensions).length === 0;
  if (raw && typeof raw.write === 'function' && plain) return new FrameWriter(socket, raw);
  return new CorkedSend(socket, raw);
}

/** Length of a frame header for a payload of `n` bytes (server frames are not masked). */
function headerSize(n: number): number {
  return n < 126 ? 2 : n < 0x10000 ? 4 : 10;
}

/**
 * Writes one text frame of `text` into `buf` at `offset` and returns the offset after it. `buf` needs
 * `maxFrameBytes(text)` free from `offset`.
 */
export function encodeTextFrame(buf: Buffer, offset: number, text: string): number {
  // The header's size depends on the UTF-8 length, known only once written: guess it from the string length (exact
  // for ASCII), write the payload after it, and move the payload in the rare case the guess was wrong.
  const guessed = headerSize(text.length);
  const n = buf.write(text, offset + guessed, 'utf8');
  const size = headerSize(n);
  if (size !== guessed) buf.copyWithin(offset + size, offset + guessed, offset + guessed + n);
  buf[offset] = FIN_TEXT;
  if (size === 2) {
    buf[offset + 1] = n;
  } else if (size === 4) {
    buf[offset + 1] = 126;
    buf.writeUInt16BE(n, offset + 2);
  } else {
    buf[offset + 1] = 127;
    buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), offset + 2);
    buf.writeUInt32BE(n >>> 0, offset + 6);
  }
  return offset + size + n;
}

/** Bytes `encodeTextFrame` may need at most for `text`. */
export function maxFrameBytes(text: string): number {
  return 10 + utf8Bound(text);
}

class FrameWriter implements TextFrameSink {
  private readonly slab = new EncodeSlab(CHUNK);
  private scheduled = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly raw: Socket,
  ) {}

  get pendingBytes(): number {
    return this.slab.pending;
  }

  send(text: string): void {
    const slab = this.slab;
    slab.reserve(maxFrameBytes(text), this.flushPending);
    slab.end = encodeTextFrame(slab.buf, slab.end, text);
    if (slab.pending >= CHUNK) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushTick);
    }
  }

  private readonly flushPending = (): void => this.flush();

  private readonly flushTick = () => {
    this.scheduled = false;
    this.flush();
  };

  flush(): void {
    const bytes = this.slab.take();
    if (bytes === null) return;
    // After a close frame nothing may follow; the subscriber resumes from its last cursor anyway.
    if (this.socket.readyState !== this.socket.OPEN || this.raw.destroyed) return;
    this.raw.write(bytes);
  }
}

/** ws's own `send`, with the TCP socket corked from the first message of a burst until the next tick. */
class CorkedSend implements TextFrameSink {
  private corked = false;
  readonly pendingBytes = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly raw: Socket | undefined,
  ) {}

  send(text: string): void {
    if (!this.corked && this.raw) {
      this.corked = true;
      this.raw.cork();
      process.nextTick(this.uncork);
    }
    this.socket.send(text);
  }

  flush(): void {
    this.uncork();
  }

  private readonly uncork = () => {
    if (!this.corked) return;
    this.corked = false;
    this.raw?.uncork();
  };
}
