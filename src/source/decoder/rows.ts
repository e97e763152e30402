/**
 * Row images: a decode plan built once per table definition (one small integer "kind" per column plus its
 * parameters in typed arrays), then a plain loop over the columns present in each image. No closures or per-value
 * allocations beyond the values themselves; BigInt only for 64-bit integers beyond 2^53.
 */
import type { ColumnMeta, RowImage, TableMap } from '../types.js';
import { BinlogDecodeError } from './bytes.js';
import { TextKind, charsetOfCollation, decodeText, textKindOf } from './charset.js';
import { ColumnType } from './constants.js';
import { decimalBytes, formatDecimal } from './decimal.js';
import { jsonBinaryToText } from './json-binary.js';
import {
  formatDate,
  formatDatetime2,
  formatDatetimeOld,
  formatTime2,
  formatTimeOld,
  formatTimestamp2,
  formatUnixSeconds,
  fractionBytes,
} from './temporal.js';

/** Per-column decode kinds (switch labels of the generic loop, and what codegen.ts emits code for). */
export const K = {
  UNSUPPORTED: 0,
  NULL: 1,
  TINY: 2,
  UTINY: 3,
  SHORT: 4,
  USHORT: 5,
  INT24: 6,
  UINT24: 7,
  LONG: 8,
  ULONG: 9,
  LONGLONG: 10,
  ULONGLONG: 11,
  FLOAT: 12,
  DOUBLE: 13,
  DECIMAL: 14,
  DATE: 15,
  TIME_OLD: 16,
  TIME2: 17,
  DATETIME_OLD: 18,
  DATETIME2: 19,
  TIMESTAMP_OLD: 20,
  TIMESTAMP2: 21,
  YEAR: 22,
  /** Length-prefixed bytes (VARCHAR, CHAR, BLOB, TEXT, GEOMETRY): p1 = prefix bytes, p2 = TextKind. */
  VARLEN: 23,
  JSON: 24,
  BIT: 25,
  ENUM: 26,
  SET: 27,
  /** BINARY(n): length-prefixed like CHAR but the server strips trailing 0x00 pad bytes; p1 = prefix, size = n. */
  BINARY_FIXED: 28,
} as const;

/** The compiled form of a table definition. */
export interface DecodePlan {
  table: TableMap;
  /** The TABLE_MAP bytes that produced this plan (identity for the cache). */
  definition: Buffer;
  n: number;
  names: string[];
  kinds: Uint8Array;
  /** Kind parameter 1: length-prefix bytes, fsp, precision, pack length. */
  p1: Int32Array;
  /** Kind parameter 2: TextKind, scale. */
  p2: Int32Array;
  /** Fixed byte size where known (DECIMAL), else 0. */
  size: Int32Array;
  /** Charset names for TextKind.Other columns. */
  charsets: Array<string | undefined>;
  /** ENUM/SET labels. */
  labels: Array<string[] | undefined>;
  /** Present-column list for a full image: 0..n-1. */
  all: Int32Array;
  /** The compiled decoder of a full image (codegen.ts), set by the decoder after building the plan. */
  full?: (buf: Buffer, pos: number, end: number, reader: RowReader) => RowImage;
}

/** Maximum byte length of a CHAR column from its TABLE_MAP metadata (the length's high bits hide in byte 0). */
function charLength(meta: number): number {
  if (meta < 256) return meta;
  const b0 = meta >> 8;
  const b1 = meta & 0xff;
  return (b0 & 0x30) !== 0x30 ? b1 | (((b0 & 0x30) ^ 0x30) << 4) : b1;
}

function textKindOfColumn(col: ColumnMeta, binaryWhenUnknown: boolean): { kind: TextKind; charset?: string } {
  if (col.collation === undefined) return { kind: binaryWhenUnknown ? TextKind.Binary : TextKind.Utf8 };
  const charset = charsetOfCollation(col.collation);
  return { kind: textKindOf(charset), charset };
}

/** Builds the decode plan of a table. */
export function buildPlan(table: TableMap, definition: Buffer): DecodePlan {
  const n = table.columns.length;
  const plan: DecodePlan = {
    table,
    definition,
    n,
    names: table.columns.map((c) => c.name),
    kinds: new Uint8Array(n),
    p1: new Int32Array(n),
    p2: new Int32Array(n),
    size: new Int32Array(n),
    charsets: new Array(n).fill(undefined),
    labels: new Array(n).fill(undefined),
    all: Int32Array.from({ length: n }, (_, i) => i),
  };
  for (let i = 0; i < n; i++) {
    const col = table.columns[i];
    const u = col.unsigned;
    let kind: number;
    switch (col.type) {
      case ColumnType.NULL:
        kind = K.NULL;
        break;
      case ColumnType.TINY:
        kind = u ? K.UTINY : K.TINY;
        break;
      case ColumnType.SHORT:
        kind = u ? K.USHORT : K.SHORT;
        break;
      case ColumnType.INT24:
        kind = u ? K.UINT24 : K.INT24;
        break;
      case ColumnType.LONG:
        kind = u ? K.ULONG : K.LONG;
        break;
      case ColumnType.LONGLONG:
        kind = u ? K.ULONGLONG : K.LONGLONG;
        break;
      case ColumnType.FLOAT:
        kind = K.FLOAT;
        break;
      case ColumnType.DOUBLE:
        kind = K.DOUBLE;
        break;
      case ColumnType.NEWDECIMAL:
        kind = K.DECIMAL;
        plan.p1[i] = col.meta >> 8;
        plan.p2[i] = col.meta & 0xff;
        plan.size[i] = decimalBytes(plan.p1[i], plan.p2[i]);
        break;
      case ColumnType.DATE:
      case ColumnType.NEWDATE:
        kind = K.DATE;
        break;
      case ColumnType.TIME:
        kind = K.TIME_OLD;
        break;
      case ColumnType.TIME2:
        kind = K.TIME2;
        plan.p1[i] = col.meta;
        break;
      case ColumnType.DATETIME:
        kind = K.DATETIME_OLD;
        break;
      case ColumnType.DATETIME2:
        kind = K.DATETIME2;
        plan.p1[i] = col.meta;
        break;
      case ColumnType.TIMESTAMP:
        kind = K.TIMESTAMP_OLD;
        break;
      case ColumnType.TIMESTAMP2:
        kind = K.TIMESTAMP2;
        plan.p1[i] = col.meta;
        break;
      case ColumnType.YEAR:
        kind = K.YEAR;
        break;
      case ColumnType.VARCHAR:
      case ColumnType.VAR_STRING: {
        kind = K.VARLEN;
        plan.p1[i] = col.meta > 255 ? 2 : 1;
        const t = textKindOfColumn(col, false);
        plan.p2[i] = t.kind;
        plan.charsets[i] = t.charset;
        break;
      }
      case ColumnType.STRING: {
        const length = charLength(col.meta);
        kind = K.VARLEN;
        plan.p1[i] = length > 255 ? 2 : 1;
        const t = textKindOfColumn(col, false);
        plan.p2[i] = t.kind;
        plan.charsets[i] = t.charset;
        if (t.kind === TextKind.Binary) {
          kind = K.BINARY_FIXED;
          plan.size[i] = length;
        }
        break;
      }
      case ColumnType.BLOB:
      case ColumnType.TINY_BLOB:
      case ColumnType.MEDIUM_BLOB:
      case ColumnType.LONG_BLOB: {
        kind = K.VARLEN;
        plan.p1[i] = col.meta;
        const t = textKindOfColumn(col, true);
        plan.p2[i] = t.kind;
        plan.charsets[i] = t.charset;
        break;
      }
      case ColumnType.GEOMETRY:
        kind = K.VARLEN;
        plan.p1[i] = col.meta;
        plan.p2[i] = TextKind.Binary;
        break;
      case ColumnType.JSON:
        kind = K.JSON;
        plan.p1[i] = col.meta;
        break;
      case ColumnType.BIT:
        kind = K.BIT;
        plan.p1[i] = (col.meta >> 8) + ((col.meta & 0xff) !== 0 ? 1 : 0);
        break;
      case ColumnType.ENUM:
        kind = K.ENUM;
        plan.p1[i] = col.meta & 0xff;
        plan.labels[i] = col.enumValues;
        break;
      case ColumnType.SET:
        kind = K.SET;
        plan.p1[i] = col.meta & 0xff;
        plan.labels[i] = col.setValues;
        break;
      default:
        kind = K.UNSUPPORTED;
    }
    plan.kinds[i] = kind;
  }
  return plan;
}

/** A copy of `buf[s, e)`, so decoded values never pin the caller's (reusable) buffer. */
export function copyBytes(buf: Buffer, s: number, e: number): Buffer {
  const out = Buffer.allocUnsafe(e - s);
  buf.copy(out, 0, s, e);
  return out;
}

/** BIGINT: a number when it is a safe integer, else the exact decimal string. */
export function int64(buf: Buffer, p: number): number | string {
  const lo = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
  const hi = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
  // Exact when |hi| < 2^21: hi * 2^32 + lo then stays within 2^53.
  if (hi >= -0x200000 && hi < 0x200000) {
    const v = hi * 0x100000000 + lo;
    if (Number.isSafeInteger(v)) return v;
  }
  return buf.readBigInt64LE(p).toString();
}

/** BIGINT UNSIGNED: a number when it is a safe integer, else the exact decimal string. */
export function uint64(buf: Buffer, p: number): number | string {
  const hi = (buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24)) >>> 0;
  if (hi < 0x200000) {
    const v = hi * 0x100000000 + ((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0);
    if (v <= Number.MAX_SAFE_INTEGER) return v;
  }
  return buf.readBigUInt64LE(p).toString();
}

/** BINARY(n): the server strips trailing 0x00 pad bytes from the image; SELECT shows all n bytes. */
export function binaryFixed(buf: Buffer, s: number, e: number, size: number): Buffer {
  const out = Buffer.alloc(Math.max(size, e - s));
  buf.copy(out, 0, s, e);
  return out;
}

/** ENUM: the label of a 1-based index ('' for the invalid value 0), or the index when no labels are known. */
export function enumValue(idx: number, labels: string[] | undefined): string | number {
  if (!labels) return idx;
  return idx === 0 ? '' : (labels[idx - 1] ?? '');
}

/** FLOAT: the shortest decimal that reads back as the same single (what a MySQL client sees for common values). */
export function float32(buf: Buffer, p: number): number {
  const f = buf.readFloatLE(p);
  if (!Number.isFinite(f) || f === Math.trunc(f)) return f;
  for (let digits = 6; digits < 9; digits++) {
    const v = Number(f.toPrecision(digits));
    if (Math.fround(v) === f) return v;
  }
  return f;
}

export function setValue(buf: Buffer, p: number, bytes: number, labels: string[] | undefined): string {
  let out = '';
  for (let b = 0; b < bytes; b++) {
    const byte = buf[p + b];
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if (byte & (1 << bit)) {
        const idx = b * 8 + bit;
        const label = labels ? labels[idx] : String(idx + 1);
        out = out === '' ? (label ?? '') : out + ',' + (label ?? '');
      }
    }
  }
  return out;
}

/** Reads `bytes` little-endian bytes as an unsigned length. */
export function lengthAt(buf: Buffer, p: number, bytes: number): number {
  switch (bytes) {
    case 1:
      return buf[p];
    case 2:
      return buf[p] | (buf[p + 1] << 8);
    case 3:
      return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16);
    default:
      return (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) + buf[p + 3] * 0x1000000;
  }
}

/**
 * Decodes row images of one table. `pos` is the read position, advanced by `image()`; an image that would run past
 * `end` throws instead of producing a wrong value.
 */
export class RowReader {
  pos = 0;

  /** Decodes one image of the columns listed in `present` (count `m`) at `this.pos`. */
  image(buf: Buffer, end: number, plan: DecodePlan, present: Int32Array, m: number): RowImage {
    const names = plan.names;
    const kinds = plan.kinds;
    const p1 = plan.p1;
    const p2 = plan.p2;
    const nullAt = this.pos;
    let p = nullAt + ((m + 7) >> 3);
    const row: RowImage = {};
    for (let j = 0; j < m; j++) {
      const i = present[j];
      if (buf[nullAt + (j >> 3)] & (1 << (j & 7))) {
        setColumn(row, names[i], null);
        continue;
      }
      let v: number | string | Buffer | null = null;
      switch (kinds[i]) {
        case K.TINY:
          v = (buf[p] << 24) >> 24;
          p += 1;
          break;
        case K.UTINY:
          v = buf[p];
          p += 1;
          break;
        case K.SHORT:
          v = ((buf[p] | (buf[p + 1] << 8)) << 16) >> 16;
          p += 2;
          break;
        case K.USHORT:
          v = buf[p] | (buf[p + 1] << 8);
          p += 2;
          break;
        case K.INT24:
          v = ((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) << 8) >> 8;
          p += 3;
          break;
        case K.UINT24:
          v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16);
          p += 3;
          break;
        case K.LONG:
          v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
          p += 4;
          break;
        case K.ULONG:
          v = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
          p += 4;
          break;
        case K.LONGLONG:
          v = int64(buf, p);
          p += 8;
          break;
        case K.ULONGLONG:
          v = uint64(buf, p);
          p += 8;
          break;
        case K.FLOAT:
          v = float32(buf, p);
          p += 4;
          break;
        case K.DOUBLE:
          v = buf.readDoubleLE(p);
          p += 8;
          break;
        case K.DECIMAL:
          v = formatDecimal(buf, p, p1[i], p2[i]);
          p += plan.size[i];
          break;
        case K.DATE:
          v = formatDate(buf, p);
          p += 3;
          break;
        case K.TIME2:
          v = formatTime2(buf, p, p1[i]);
          p += 3 + fractionBytes(p1[i]);
          break;
        case K.DATETIME2:
          v = formatDatetime2(buf, p, p1[i]);
          p += 5 + fractionBytes(p1[i]);
          break;
        case K.TIMESTAMP2:
          v = formatTimestamp2(buf, p, p1[i]);
          p += 4 + fractionBytes(p1[i]);
          break;
        case K.VARLEN: {
          const lb = p1[i];
          const len = lengthAt(buf, p, lb);
          const s = p + lb;
          p = s + len;
          if (p > end) break;
          v = decodeText(buf, s, p, p2[i], plan.charsets[i]);
          break;
        }
        case K.BINARY_FIXED: {
          const lb = p1[i];
          const len = lengthAt(buf, p, lb);
          const s = p + lb;
          p = s + len;
          if (p > end) break;
          v = binaryFixed(buf, s, p, plan.size[i]);
          break;
        }
        case K.JSON: {
          const lb = p1[i];
          const len = lengthAt(buf, p, lb);
          const s = p + lb;
          p = s + len;
          if (p > end) break;
          v = jsonBinaryToText(buf, s, p);
          break;
        }
        case K.YEAR:
          v = buf[p] === 0 ? 0 : 1900 + buf[p];
          p += 1;
          break;
        case K.ENUM:
          v = enumValue(p1[i] === 1 ? buf[p] : buf[p] | (buf[p + 1] << 8), plan.labels[i]);
          p += p1[i];
          break;
        case K.SET:
          v = setValue(buf, p, p1[i], plan.labels[i]);
          p += p1[i];
          break;
        case K.BIT:
          v = copyBytes(buf, p, p + p1[i]);
          p += p1[i];
          break;
        case K.TIME_OLD:
          v = formatTimeOld(buf, p);
          p += 3;
          break;
        case K.DATETIME_OLD:
          v = formatDatetimeOld(buf, p);
          p += 8;
          break;
        case K.TIMESTAMP_OLD:
          v = formatUnixSeconds(buf.readUInt32LE(p), 0, 0);
          p += 4;
          break;
        case K.NULL:
          v = null;
          break;
        default: {
          const col = plan.table.columns[i];
          throw new BinlogDecodeError(
            `${plan.table.schema}.${plan.table.table}.${col.name}: column type ${col.type} is not supported`,
          );
        }
      }
      if (p > end) {
        throw new BinlogDecodeError(
          `${plan.table.schema}.${plan.table.table}.${names[i]}: value runs past the end of the rows event`,
        );
      }
      setColumn(row, names[i], v);
    }
    this.pos = p;
    return row;
  }
}

/** Sets a column of an image; a column named `__proto__` becomes an own property, not the object's prototype. */
function setColumn(row: RowImage, name: string, v: number | string | Buffer | null): void {
  if (name === '__proto__')
    Object.defineProperty(row, name, { value: v, enumerable: true, writable: true, configurable: true });
  else row[name] = v;
}

/** The indexes of the columns whose bit is set in a columns-present bitmap. */
export function presentColumns(buf: Buffer, p: number, n: number, plan: DecodePlan): Int32Array {
  let all = true;
  for (let i = 0; i < n; i++) {
    if (!(buf[p + (i >> 3)] & (1 << (i & 7)))) {
      all = false;
      break;
    }
  }
  if (all && n === plan.n) return plan.all;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (buf[p + (i >> 3)] & (1 << (i & 7))) out.push(i);
  return Int32Array.from(out);
}
