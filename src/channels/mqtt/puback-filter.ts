/**
 * Takes the PUBACKs of the bridge's own messages out of the bytes a broker sends, before mqtt.js parses them: mqtt.js
 * turns each PUBACK into a packet object, an event and a handler call, one packet per nextTick; a window of 1,000
 * messages brings that many PUBACKs per window. Here a read from the socket is scanned once, every PUBACK whose id
 * `owns` is handed to `ack` right there, and everything else (CONNACK, PINGRESP, DISCONNECT, PUBACKs of ids that are
 * not ours) goes on to mqtt.js unchanged and in order. Packets may be split anywhere across reads.
 */

/** PUBACK's fixed header: type 4, no flags. */
const PUBACK = 0x40;

export class PubackFilter {
  /** Start of a packet whose header (or whole PUBACK) was cut off by the end of the last read. */
  private partial: Buffer | null = null;
  /** Bytes still to come of a packet being passed through. */
  private passing = 0;
  /** A malformed length was seen: from then on everything goes to mqtt.js, which will close the connection. */
  private broken = false;
  /** Ranges [from, to) of the current read to pass on, adjacent ones merged (reused from read to read). */
  private readonly keep: number[] = [];

  constructor(
    private readonly owns: (id: number) => boolean,
    private readonly ack: (id: number, reasonCode: number) => void,
  ) {}

  /** Returns the bytes of `chunk` for mqtt.js (the chunk itself when nothing was taken out), or null for none. */
  filter(chunk: Buffer): Buffer | null {
    if (this.broken) return chunk;
    let data = chunk;
    if (this.partial) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = null;
    }
    const length = data.length;
    this.keep.length = 0;
    let i = 0;
    if (this.passing > 0) {
      const n = Math.min(this.passing, length);
      this.pass(0, n);
      this.passing -= n;
      i = n;
    }
    while (i < length) {
      // Fixed header: type and flags, then the remaining length, 1-4 bytes of 7 bits, least significant first.
      const type = data[i]!;
      let remaining = 0;
      let multiplier = 1;
      let j = i + 1;
      let complete = false;
      for (let k = 0; k < 4 && j < length; k++) {
        const byte = data[j++]!;
        remaining += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (j - i > 4) {
          // A fifth length byte: not MQTT. mqtt.js's parser gets it all and reports the error.
          this.broken = true;
          this.pass(i, length);
          break;
        }
        this.partial = Buffer.from(data.subarray(i));
        break;
      }
      const end = j + remaining;
      if (type === PUBACK && remaining >= 2) {
        if (end > length) {
          this.partial = Buffer.from(data.subarray(i));
          break;
        }
        const id = (data[j]! << 8) | data[j + 1]!;
        if (this.owns(id)) {
          // MQTT 5: a reason code follows when it is not 0 (success); MQTT 3.1.1 PUBACKs are 2 bytes.
          this.ack(id, remaining >= 3 ? data[j + 2]! : 0);
          i = end;
          continue;
        }
      }
      const to = Math.min(end, length);
      this.pass(i, to);
      this.passing = end - to;
      i = to;
    }

    // Usually all of it (nothing of ours in this read) or none of it (only PUBACKs of ours).
    const keep = this.keep;
    if (keep.length === 0) return null;
    if (keep.length === 2) return keep[0] === 0 && keep[1] === length ? data : data.subarray(keep[0], keep[1]);
    const parts: Buffer[] = [];
    for (let r = 0; r < keep.length; r += 2) parts.push(data.subarray(keep[r], keep[r + 1]));
    return Buffer.concat(parts);
  }

  private pass(from: number, to: number): void {
    const keep = this.keep;
    if (keep.length > 0 && keep[keep.length - 1] === from) keep[keep.length - 1] = to;
    else keep.push(from, to);
  }
}
