/**
 * The buffer a channel encodes its messages into, handed to the socket one chunk per burst (AMQP frames, MQTT
 * PUBLISH packets, WebSocket frames). Messages are encoded at `end`; `take()` returns what was encoded since the last
 * take. A full buffer is replaced, never rewritten: chunks taken from it may still wait in the socket's queue, and
 * MQTT keeps the bytes of messages in flight there for re-sending.
 */

const EMPTY = Buffer.alloc(0);

export class EncodeSlab {
  /** The current buffer; encode at `end` and move `end` past what was written. */
  buf: Buffer = EMPTY;
  /** Where the bytes not yet taken begin. */
  start = 0;
  end = 0;

  /** @param size bytes of each new buffer (more when one message needs more); the first is allocated on first use */
  constructor(private readonly size: number) {}

  /** Bytes encoded and not yet taken. */
  get pending(): number {
    return this.end - this.start;
  }

  /**
   * Makes room for `need` bytes at `end`: when they do not fit, `flush` takes what is pending (it is not carried over)
   * and a new buffer replaces the full one.
   */
  reserve(need: number, flush: () => void): void {
    if (this.end + need <= this.buf.length) return;
    flush();
    this.buf = Buffer.allocUnsafe(Math.max(this.size, need));
    this.start = this.end = 0;
  }

  /** The bytes encoded since the last take (a view of the buffer), or null when there are none. */
  take(): Buffer | null {
    if (this.end === this.start) return null;
    const chunk = this.buf.subarray(this.start, this.end);
    this.start = this.end;
    return chunk;
  }

  /** Forgets the bytes not yet taken (they will not be written). */
  discard(): void {
    this.start = this.end;
  }
}
