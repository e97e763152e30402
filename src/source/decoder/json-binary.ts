/**
 * MySQL binary JSON (sql-common/json_binary.cc) to JSON text in MySQL's own output style: `{"a": 1, "b": [1, 2]}`
 * (", " and ": " separators, keys in stored order). MariaDB stores JSON as text and never reaches this file.
 *
 * A value is a type byte then its data. Objects and arrays: element count and byte size (2 bytes each in the small
 * form, 4 in the large), key entries (offset, 2-byte length) for objects, value entries (type byte, then an offset or
 * the value itself when it fits), then keys and values; offsets are from the start of the count.
 */
import { BinlogDecodeError } from './bytes.js';
import { ColumnType } from './constants.js';
import { formatDecimal } from './decimal.js';

const SMALL_OBJECT = 0x00;
const LARGE_OBJECT = 0x01;
const SMALL_ARRAY = 0x02;
const LARGE_ARRAY = 0x03;
const LITERAL = 0x04;
const INT16 = 0x05;
const UINT16 = 0x06;
const INT32 = 0x07;
const UINT32 = 0x08;
const INT64 = 0x09;
const UINT64 = 0x0a;
const DOUBLE = 0x0b;
const STRING = 0x0c;
const OPAQUE = 0x0f;

function fail(message: string): never {
  throw new BinlogDecodeError(`binary JSON: ${message}`);
}

/** Converts the binary JSON in `buf[start, end)` to JSON text; an empty value is JSON `null`, as MySQL reads it. */
export function jsonBinaryToText(buf: Buffer, start: number, end: number): string {
  if (end <= start) return 'null';
  return value(buf, buf[start], start + 1, end);
}

function value(buf: Buffer, type: number, p: number, end: number): string {
  switch (type) {
    case SMALL_OBJECT:
      return container(buf, p, end, false, true);
    case LARGE_OBJECT:
      return container(buf, p, end, true, true);
    case SMALL_ARRAY:
      return container(buf, p, end, false, false);
    case LARGE_ARRAY:
      return container(buf, p, end, true, false);
    case LITERAL:
      return literal(buf[p]);
    case INT16:
      need(p + 2, end);
      return String(buf.readInt16LE(p));
    case UINT16:
      need(p + 2, end);
      return String(buf.readUInt16LE(p));
    case INT32:
      need(p + 4, end);
      return String(buf.readInt32LE(p));
    case UINT32:
      need(p + 4, end);
      return String(buf.readUInt32LE(p));
    case INT64:
      need(p + 8, end);
      return buf.readBigInt64LE(p).toString();
    case UINT64:
      need(p + 8, end);
      return buf.readBigUInt64LE(p).toString();
    case DOUBLE:
      need(p + 8, end);
      return formatDouble(buf.readDoubleLE(p));
    case STRING: {
      const v = varLength(buf, p, end);
      need(v.next + v.length, end);
      return JSON.stringify(buf.utf8Slice(v.next, v.next + v.length));
    }
    case OPAQUE:
      return opaque(buf, p, end);
    default:
      return fail(`unknown value type 0x${type.toString(16)}`);
  }
}

function need(upTo: number, end: number): void {
  if (upTo > end) fail('value runs past the end of the column');
}

function literal(b: number): string {
  if (b === 0) return 'null';
  if (b === 1) return 'true';
  if (b === 2) return 'false';
  return fail(`invalid literal ${b}`);
}

/** MySQL prints doubles in their shortest round-trip form, exponents without '+' (1e20, 1.5e-7). */
export function formatDouble(d: number): string {
  const s = String(d);
  return s.includes('e+') ? s.replace('e+', 'e') : s;
}

function container(buf: Buffer, base: number, end: number, large: boolean, isObject: boolean): string {
  const offSize = large ? 4 : 2;
  need(base + 2 * offSize, end);
  const count = large ? buf.readUInt32LE(base) : buf.readUInt16LE(base);
  const size = large ? buf.readUInt32LE(base + 4) : buf.readUInt16LE(base + 2);
  if (base + size > end) fail('container larger than the column');
  const limit = base + size;
  const keyEntry = offSize + 2;
  const valueEntry = 1 + offSize;
  const valuesAt = base + 2 * offSize + (isObject ? count * keyEntry : 0);
  if (valuesAt + count * valueEntry > limit) fail('container header larger than the container');
  let out = isObject ? '{' : '[';
  for (let i = 0; i < count; i++) {
    if (i > 0) out += ', ';
    if (isObject) {
      const k = base + 2 * offSize + i * keyEntry;
      const keyOffset = large ? buf.readUInt32LE(k) : buf.readUInt16LE(k);
      const keyLength = buf.readUInt16LE(k + offSize);
      if (base + keyOffset + keyLength > limit) fail('key outside the object');
      out += JSON.stringify(buf.utf8Slice(base + keyOffset, base + keyOffset + keyLength)) + ': ';
    }
    const e = valuesAt + i * valueEntry;
    const t = buf[e];
    if (t === LITERAL || t === INT16 || t === UINT16 || (large && (t === INT32 || t === UINT32))) {
      out += value(buf, t, e + 1, e + valueEntry);
    } else {
      const off = large ? buf.readUInt32LE(e + 1) : buf.readUInt16LE(e + 1);
      if (base + off >= limit) fail('value outside its container');
      out += value(buf, t, base + off, limit);
    }
  }
  return out + (isObject ? '}' : ']');
}

/** The variable-length length of strings and opaque values: 7 bits per byte, low first, high bit = more. */
function varLength(buf: Buffer, p: number, end: number): { length: number; next: number } {
  let length = 0;
  for (let i = 0; i < 5 && p + i < end; i++) {
    const b = buf[p + i];
    length += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { length, next: p + i + 1 };
  }
  return fail('bad variable-length length');
}

const PAD2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** A MySQL packed temporal (TIME_to_longlong_*_packed): integer part << 24 | microseconds. */
function packedTemporal(buf: Buffer, p: number, type: number): string {
  // The packed value needs all 64 bits: split it as a BigInt, then work on the two parts as numbers.
  let v = buf.readBigInt64LE(p);
  const negative = v < 0n;
  if (negative) v = -v;
  const micros = Number(v & 0xffffffn);
  const intPart = Number(v >> 24n);
  const frac = '.' + String(micros).padStart(6, '0');
  if (type === ColumnType.TIME) {
    const h = Math.floor(intPart / 4096) % 1024;
    return `${negative ? '-' : ''}${PAD2(h)}:${PAD2(Math.floor(intPart / 64) % 64)}:${PAD2(intPart % 64)}${frac}`;
  }
  const ymd = Math.floor(intPart / 0x20000);
  const hms = intPart % 0x20000;
  const ym = Math.floor(ymd / 32);
  const date = `${String(Math.floor(ym / 13)).padStart(4, '0')}-${PAD2(ym % 13)}-${PAD2(ymd % 32)}`;
  if (type === ColumnType.DATE) return date;
  return `${date} ${PAD2(Math.floor(hms / 4096))}:${PAD2(Math.floor(hms / 64) % 64)}:${PAD2(hms % 64)}${frac}`;
}

/**
 * OPAQUE: a MySQL field type byte, a variable length, the data. DECIMAL prints as a number, temporal values as
 * quoted strings (DATE "YYYY-MM-DD", DATETIME/TIMESTAMP "YYYY-MM-DD HH:MM:SS.ffffff", TIME "HH:MM:SS.ffffff"),
 * anything else as MySQL does: "base64:type<N>:<base64 of the bytes>".
 */
function opaque(buf: Buffer, p: number, end: number): string {
  need(p + 1, end);
  const type = buf[p];
  const v = varLength(buf, p + 1, end);
  const s = v.next;
  need(s + v.length, end);
  switch (type) {
    case ColumnType.NEWDECIMAL:
      return formatDecimal(buf, s + 2, buf[s], buf[s + 1]);
    case ColumnType.DATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP:
    case ColumnType.TIME:
      need(s + 8, end);
      return `"${packedTemporal(buf, s, type)}"`;
    default:
      return `"base64:type${type}:${buf.toString('base64', s, s + v.length)}"`;
  }
}
