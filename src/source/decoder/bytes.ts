/**
 * Small byte readers shared by the event parsers. The row-value hot path reads the buffer directly instead.
 */

/** Reads an unsigned little-endian integer of 1..6 bytes. */
export function readUIntLE(buf: Buffer, pos: number, bytes: number): number {
  switch (bytes) {
    case 1:
      return buf[pos];
    case 2:
      return buf[pos] | (buf[pos + 1] << 8);
    case 3:
      return buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16);
    case 4:
      return (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)) + buf[pos + 3] * 0x1000000;
    default:
      return buf.readUIntLE(pos, bytes);
  }
}

/** Reads an unsigned 64-bit little-endian integer as a number when it is safe, else as a decimal string. */
export function readUInt64LE(buf: Buffer, pos: number): number | string {
  const lo = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)) + buf[pos + 3] * 0x1000000;
  const hi = (buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16)) + buf[pos + 7] * 0x1000000;
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return buf.readBigUInt64LE(pos).toString();
}

/**
 * A MySQL length-encoded integer (protocol "lenenc"/packed integer): < 251 in one byte, 0xfc + 2 bytes,
 * 0xfd + 3 bytes, 0xfe + 8 bytes. Returns the value and advances `cursor.pos`.
 */
export function readPackedInt(buf: Buffer, cursor: { pos: number }): number {
  const first = buf[cursor.pos];
  if (first < 0xfb) {
    cursor.pos += 1;
    return first;
  }
  if (first === 0xfc) {
    const v = buf[cursor.pos + 1] | (buf[cursor.pos + 2] << 8);
    cursor.pos += 3;
    return v;
  }
  if (first === 0xfd) {
    const v = buf[cursor.pos + 1] | (buf[cursor.pos + 2] << 8) | (buf[cursor.pos + 3] << 16);
    cursor.pos += 4;
    return v;
  }
  if (first === 0xfe) {
    const v = buf.readBigUInt64LE(cursor.pos + 1);
    cursor.pos += 9;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`packed integer ${v} too large`);
    return Number(v);
  }
  throw new RangeError(`invalid packed integer prefix 0x${first.toString(16)} at ${cursor.pos}`);
}

/** Error raised for bytes that do not form a valid event; the stream must stop rather than guess. */
export class BinlogDecodeError extends Error {
  constructor(
    message: string,
    /** Event type code, when known. */
    readonly typeCode?: number,
  ) {
    super(message);
    this.name = 'BinlogDecodeError';
  }
}
