/**
 * Compiles a table's decode plan into one specialised function for full row images (binlog_row_image=FULL, the
 * common case): straight-line code per column with constants inlined, and one object literal per row so every row
 * of a table shares a single hidden class with in-object properties. This is where most of the decoder's speed
 * comes from (the generic loop in rows.ts handles partial images).
 *
 * Column names come from the binlog, so they only ever enter the generated source through JSON.stringify.
 */
import { BinlogDecodeError } from './bytes.js';
import { TextKind, cp1252Slice, decodeText } from './charset.js';
import { formatDecimal } from './decimal.js';
import { jsonBinaryToText } from './json-binary.js';
import {
  K,
  binaryFixed,
  copyBytes,
  enumValue,
  float32,
  int64,
  lengthAt,
  setValue,
  uint64,
  type DecodePlan,
} from './rows.js';
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

/** The helpers the generated code calls, passed in as one object. */
const helpers = {
  int64,
  uint64,
  float32,
  formatDecimal,
  formatDate,
  formatTime2,
  formatDatetime2,
  formatTimestamp2,
  formatTimeOld,
  formatDatetimeOld,
  formatUnixSeconds,
  cp1252Slice,
  decodeText,
  copyBytes,
  binaryFixed,
  jsonBinaryToText,
  enumValue,
  setValue,
  lengthAt,
  overrun(table: string, column: string): never {
    throw new BinlogDecodeError(`${table}.${column}: value runs past the end of the rows event`);
  },
  unsupported(table: string, column: string, type: number): never {
    throw new BinlogDecodeError(`${table}.${column}: column type ${type} is not supported`);
  },
};

/** Inline code reading an unsigned little-endian length of `bytes` bytes at p. */
function lengthCode(bytes: number): string {
  switch (bytes) {
    case 1:
      return 'buf[p]';
    case 2:
      return '(buf[p] | (buf[p + 1] << 8))';
    case 3:
      return '(buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16))';
    default:
      return '((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) + buf[p + 3] * 0x1000000)';
  }
}

/** Statements that set `v` from the bytes at `p` and advance `p`, for column i. */
function valueCode(plan: DecodePlan, i: number, where: string): string {
  const p1 = plan.p1[i];
  const p2 = plan.p2[i];
  switch (plan.kinds[i]) {
    case K.TINY:
      return 'v = (buf[p] << 24) >> 24; p += 1;';
    case K.UTINY:
      return 'v = buf[p]; p += 1;';
    case K.SHORT:
      return 'v = ((buf[p] | (buf[p + 1] << 8)) << 16) >> 16; p += 2;';
    case K.USHORT:
      return 'v = buf[p] | (buf[p + 1] << 8); p += 2;';
    case K.INT24:
      return 'v = ((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) << 8) >> 8; p += 3;';
    case K.UINT24:
      return 'v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16); p += 3;';
    case K.LONG:
      return 'v = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24); p += 4;';
    case K.ULONG:
      return 'v = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0; p += 4;';
    case K.LONGLONG:
      return 'v = h.int64(buf, p); p += 8;';
    case K.ULONGLONG:
      return 'v = h.uint64(buf, p); p += 8;';
    case K.FLOAT:
      return 'v = h.float32(buf, p); p += 4;';
    case K.DOUBLE:
      return 'v = buf.readDoubleLE(p); p += 8;';
    case K.DECIMAL:
      return `v = h.formatDecimal(buf, p, ${p1}, ${p2}); p += ${plan.size[i]};`;
    case K.DATE:
      return 'v = h.formatDate(buf, p); p += 3;';
    case K.TIME2:
      return `v = h.formatTime2(buf, p, ${p1}); p += ${3 + fractionBytes(p1)};`;
    case K.DATETIME2:
      return `v = h.formatDatetime2(buf, p, ${p1}); p += ${5 + fractionBytes(p1)};`;
    case K.TIMESTAMP2:
      return `v = h.formatTimestamp2(buf, p, ${p1}); p += ${4 + fractionBytes(p1)};`;
    case K.TIME_OLD:
      return 'v = h.formatTimeOld(buf, p); p += 3;';
    case K.DATETIME_OLD:
      return 'v = h.formatDatetimeOld(buf, p); p += 8;';
    case K.TIMESTAMP_OLD:
      return 'v = h.formatUnixSeconds(buf.readUInt32LE(p), 0, 0); p += 4;';
    case K.YEAR:
      return 'v = buf[p] === 0 ? 0 : 1900 + buf[p]; p += 1;';
    case K.VARLEN: {
      let text: string;
      switch (p2) {
        case TextKind.Utf8:
          text = 'buf.utf8Slice(s, p)';
          break;
        case TextKind.Cp1252:
          text = 'h.cp1252Slice(buf, s, p)';
          break;
        case TextKind.Ascii:
          text = 'buf.latin1Slice(s, p)';
          break;
        case TextKind.Binary:
          text = 'h.copyBytes(buf, s, p)';
          break;
        default:
          text = `h.decodeText(buf, s, p, ${p2}, ${JSON.stringify(plan.charsets[i] ?? 'utf8')})`;
      }
      return `s = p + ${p1}; p = s + ${lengthCode(p1)}; if (p > end) ${where}; v = ${text};`;
    }
    case K.BINARY_FIXED:
      return `s = p + ${p1}; p = s + ${lengthCode(p1)}; if (p > end) ${where}; v = h.binaryFixed(buf, s, p, ${plan.size[i]});`;
    case K.JSON:
      return `s = p + ${p1}; p = s + ${lengthCode(p1)}; if (p > end) ${where}; v = h.jsonBinaryToText(buf, s, p);`;
    case K.BIT:
      return `v = h.copyBytes(buf, p, p + ${p1}); p += ${p1};`;
    case K.ENUM:
      return `v = h.enumValue(${p1 === 1 ? 'buf[p]' : '(buf[p] | (buf[p + 1] << 8))'}, L[${i}]); p += ${p1};`;
    case K.SET:
      return `v = h.setValue(buf, p, ${p1}, L[${i}]); p += ${p1};`;
    case K.NULL:
      return 'v = null;';
    default: {
      const c = plan.table.columns[i];
      return `h.unsupported(T, ${JSON.stringify(c.name)}, ${c.type});`;
    }
  }
}

type FullImage = NonNullable<DecodePlan['full']>;

/** Compiles the full-image decoder of a plan. */
export function compileFullImage(plan: DecodePlan): FullImage {
  const n = plan.n;
  const lines: string[] = [];
  lines.push(`let p = pos + ${(n + 7) >> 3}; let v; let s;`);
  for (let i = 0; i < n; i++) {
    const name = JSON.stringify(plan.names[i]);
    const where = `h.overrun(T, ${name})`;
    lines.push(
      `let c${i} = null; if ((buf[pos + ${i >> 3}] & ${1 << (i & 7)}) === 0) { ${valueCode(plan, i, where)} c${i} = v; }`,
    );
  }
  lines.push(`if (p > end) h.overrun(T, '(row)');`);
  lines.push('reader.pos = p;');
  // A computed key defines an own property even for `__proto__` (a plain `"__proto__": v` would set the prototype).
  const props = plan.names.map((name, i) =>
    name === '__proto__' ? `[${JSON.stringify(name)}]: c${i}` : `${JSON.stringify(name)}: c${i}`,
  );
  lines.push(`return { ${props.join(', ')} };`);
  const body = lines.join('\n');
  const name = `${plan.table.schema}.${plan.table.table}`;
  // The same definition compiled again (a new reader or connection, a re-sent TABLE_MAP) reuses the function, so
  // its rows keep the same hidden class: code downstream (the domain mapper) stays monomorphic across reconnects.
  const key = `${name}\0${JSON.stringify(plan.labels)}\0${body}`;
  let fn = compiledImages.get(key);
  if (!fn) {
    const factory = new Function(
      'h',
      'L',
      'T',
      `return function decodeFullImage(buf, pos, end, reader) {\n${body}\n};`,
    );
    fn = factory(helpers, plan.labels, name) as FullImage;
    if (compiledImages.size >= MAX_COMPILED) compiledImages.delete(compiledImages.keys().next().value!);
    compiledImages.set(key, fn);
  }
  return fn;
}

/** Compiled full-image decoders by table name, enum labels and generated source (bounded, oldest dropped). */
const compiledImages = new Map<string, FullImage>();
const MAX_COMPILED = 2_000;
