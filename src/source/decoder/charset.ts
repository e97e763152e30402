/**
 * Character sets of text columns: collation id (from the TABLE_MAP metadata) -> how to turn the bytes into a string.
 * The id table holds the facts of MariaDB 10.11's information_schema.COLLATIONS and MySQL 8's utf8mb4_0900 range.
 */
import { TextDecoder } from 'node:util';

/** How the bytes of a text column become a JS value. */
export const TextKind = {
  /** Raw bytes, a `Buffer` (binary charset, BLOB, BINARY/VARBINARY). */
  Binary: 0,
  Utf8: 1,
  /** MySQL's latin1 is Windows-1252 (0x80 = €), with the five undefined bytes mapped to C1 controls. */
  Cp1252: 2,
  /** ASCII: bytes 0..0x7f, read as latin1. */
  Ascii: 3,
  /** Any other charset: decoded through a WHATWG TextDecoder. */
  Other: 4,
} as const;
export type TextKind = (typeof TextKind)[keyof typeof TextKind];

const CHARSET_BY_COLLATION = new Map<number, string>();
function ids(charset: string, list: number[]): void {
  for (const id of list) CHARSET_BY_COLLATION.set(id, charset);
}
ids('big5', [1, 84, 1025, 1108]);
ids('latin2', [2, 9, 21, 27, 77, 1033, 1101]);
ids('dec8', [3, 69, 1027, 1093]);
ids('cp850', [4, 80, 1028, 1104]);
ids('latin1', [5, 8, 15, 31, 47, 48, 49, 94, 1032, 1071]);
ids('hp8', [6, 72, 1030, 1096]);
ids('koi8r', [7, 74, 1031, 1098]);
ids('swe7', [10, 82, 1034, 1106]);
ids('ascii', [11, 65, 1035, 1089]);
ids('ujis', [12, 91, 1036, 1115]);
ids('sjis', [13, 88, 1037, 1112]);
ids('cp1251', [14, 23, 50, 51, 52, 1074, 1075]);
ids('hebrew', [16, 71, 1040, 1095]);
ids('tis620', [18, 89, 1042, 1113]);
ids('euckr', [19, 85, 1043, 1109]);
ids('latin7', [20, 41, 42, 79, 1065, 1103]);
ids('koi8u', [22, 75, 1046, 1099]);
ids('gb2312', [24, 86, 1048, 1110]);
ids('greek', [25, 70, 1049, 1094]);
ids('cp1250', [26, 34, 44, 66, 99, 1050, 1090]);
ids('gbk', [28, 87, 1052, 1111]);
ids('cp1257', [29, 58, 59, 1082, 1083]);
ids('latin5', [30, 78, 1054, 1102]);
ids('armscii8', [32, 64, 1056, 1088]);
ids('utf8mb3', [33, 76, 83, 223, 576, 577, 578, 1057, 1107, 1216, 1238]);
for (let id = 192; id <= 215; id++) CHARSET_BY_COLLATION.set(id, 'utf8mb3');
ids('ucs2', [35, 90, 159, 640, 641, 642, 1059, 1114, 1152, 1174]);
for (let id = 128; id <= 151; id++) CHARSET_BY_COLLATION.set(id, 'ucs2');
ids('cp866', [36, 68, 1060, 1092]);
ids('keybcs2', [37, 73, 1061, 1097]);
ids('macce', [38, 43, 1062, 1067]);
ids('macroman', [39, 53, 1063, 1077]);
ids('cp852', [40, 81, 1064, 1105]);
ids('utf8mb4', [45, 46, 608, 609, 610, 1069, 1070, 1248, 1270]);
for (let id = 224; id <= 247; id++) CHARSET_BY_COLLATION.set(id, 'utf8mb4');
// MySQL 8: utf8mb4_0900_* and friends.
for (let id = 255; id <= 323; id++) CHARSET_BY_COLLATION.set(id, 'utf8mb4');
ids('utf16', [54, 55, 672, 673, 674, 1078, 1079, 1125, 1147]);
for (let id = 101; id <= 124; id++) CHARSET_BY_COLLATION.set(id, 'utf16');
ids('utf16le', [56, 62, 1080, 1086]);
ids('cp1256', [57, 67, 1081, 1091]);
ids('utf32', [60, 61, 736, 737, 738, 1084, 1085, 1184, 1206]);
for (let id = 160; id <= 183; id++) CHARSET_BY_COLLATION.set(id, 'utf32');
ids('binary', [63]);
ids('geostd8', [92, 93, 1116, 1117]);
ids('cp932', [95, 96, 1119, 1120]);
ids('eucjpms', [97, 98, 1121, 1122]);
ids('gb18030', [248, 249, 250]);

/** MariaDB 10.10+ UCA-14.0 collations live in blocks of 256 ids per charset. */
function ucaBlock(id: number): string | undefined {
  if (id >= 2048 && id < 2304) return 'utf8mb3';
  if (id >= 2304 && id < 2560) return 'utf8mb4';
  if (id >= 2560 && id < 2816) return 'ucs2';
  if (id >= 2816 && id < 3072) return 'utf16';
  if (id >= 3072 && id < 3328) return 'utf32';
  return undefined;
}

/** The character set name of a collation id, or undefined when unknown. */
export function charsetOfCollation(id: number): string | undefined {
  return CHARSET_BY_COLLATION.get(id) ?? ucaBlock(id);
}

/** WHATWG encoding labels of the MySQL charsets that are neither UTF-8, latin1, ASCII nor binary. */
const WHATWG_LABEL: Record<string, string> = {
  big5: 'big5',
  latin2: 'iso-8859-2',
  cp850: 'ibm866', // no WHATWG cp850; see docs/decoder.md (only ASCII is exact)
  koi8r: 'koi8-r',
  koi8u: 'koi8-u',
  ujis: 'euc-jp',
  eucjpms: 'euc-jp',
  sjis: 'shift_jis',
  cp932: 'shift_jis',
  cp1251: 'windows-1251',
  cp1250: 'windows-1250',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  hebrew: 'iso-8859-8',
  tis620: 'windows-874',
  euckr: 'euc-kr',
  latin7: 'iso-8859-13',
  gb2312: 'gbk',
  gbk: 'gbk',
  gb18030: 'gb18030',
  greek: 'iso-8859-7',
  latin5: 'windows-1254',
  cp866: 'ibm866',
  macroman: 'macintosh',
  ucs2: 'utf-16be',
  utf16: 'utf-16be',
  utf16le: 'utf-16le',
};

/** The text kind of a charset name. */
export function textKindOf(charset: string | undefined): TextKind {
  switch (charset) {
    case undefined:
    case 'utf8':
    case 'utf8mb3':
    case 'utf8mb4':
      return TextKind.Utf8;
    case 'binary':
      return TextKind.Binary;
    case 'latin1':
      return TextKind.Cp1252;
    case 'ascii':
      return TextKind.Ascii;
    default:
      return TextKind.Other;
  }
}

const decoders = new Map<string, TextDecoder | null>();

/** A TextDecoder for a charset of kind `Other`; null when the runtime has none (then bytes are read as UTF-8). */
export function otherDecoder(charset: string): TextDecoder | null {
  let d = decoders.get(charset);
  if (d !== undefined) return d;
  try {
    d = charset === 'utf32' ? null : new TextDecoder(WHATWG_LABEL[charset] ?? charset);
  } catch {
    d = null;
  }
  decoders.set(charset, d);
  return d;
}

/** UTF-32 (big-endian, as MySQL stores it) to a string. */
export function utf32Slice(buf: Buffer, start: number, end: number): string {
  let out = '';
  for (let p = start; p + 4 <= end; p += 4) out += String.fromCodePoint(buf.readUInt32BE(p));
  return out;
}

// Windows-1252 0x80..0x9f; the five undefined bytes (0x81, 0x8d, 0x8f, 0x90, 0x9d) stay C1 controls as in MySQL.
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1_RANGE = /[\x80-\x9f]/g;
const C1_TEST = /[\x80-\x9f]/;
const cp1252Replace = (c: string) => CP1252_HIGH[c.charCodeAt(0) - 0x80];

/** MySQL latin1 bytes to a string: latin1 is ISO-8859-1 except 0x80..0x9f, which are Windows-1252 there. */
export function cp1252Slice(buf: Buffer, start: number, end: number): string {
  const s = buf.latin1Slice(start, end);
  return C1_TEST.test(s) ? s.replace(C1_RANGE, cp1252Replace) : s;
}

/** Bytes of a text column to its value: a string in the column's charset, or a copy of the bytes for binary. */
export function decodeText(
  buf: Buffer,
  s: number,
  e: number,
  kind: number,
  charset: string | undefined,
): string | Buffer {
  switch (kind) {
    case TextKind.Utf8:
      return buf.utf8Slice(s, e);
    case TextKind.Cp1252:
      return cp1252Slice(buf, s, e);
    case TextKind.Ascii:
      return buf.latin1Slice(s, e);
    case TextKind.Binary: {
      const out = Buffer.allocUnsafe(e - s);
      buf.copy(out, 0, s, e);
      return out;
    }
    default: {
      if (charset === 'utf32') return utf32Slice(buf, s, e);
      const d = otherDecoder(charset ?? 'utf8');
      return d ? d.decode(buf.subarray(s, e)) : buf.utf8Slice(s, e);
    }
  }
}
