/**
 * Binlog event checksums (binlog_checksum=CRC32): the last 4 bytes of an event are the little-endian CRC32 of all
 * the bytes before them, header included.
 */
import { crc32 } from 'node:zlib';

/** Returns null when the checksum of `event` (header to checksum) matches, else `{expected, actual}`. */
export function checkEventCrc32(event: Buffer): { expected: number; actual: number } | null {
  const n = event.length - 4;
  if (n < 0) return { expected: 0, actual: 0 };
  const expected = (event[n] | (event[n + 1] << 8) | (event[n + 2] << 16)) + event[n + 3] * 0x1000000;
  const actual = crc32(event.subarray(0, n)) >>> 0;
  return expected === actual ? null : { expected, actual };
}
