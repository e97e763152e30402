/**
 * TABLE_MAP events: the table's schema, name and column types, plus the optional metadata block that
 * binlog_row_metadata=FULL (MariaDB 10.5+, MySQL 8.0.1+) adds: signedness, charsets, column names, ENUM/SET values,
 * geometry types, primary key, column visibility.
 */
import type { ColumnMeta, TableMap } from '../types.js';
import { BinlogDecodeError, readPackedInt, readUIntLE } from './bytes.js';
import { charsetOfCollation, decodeText, textKindOf } from './charset.js';
import { ColumnType, EventType } from './constants.js';

/** Optional metadata field types (libbinlogevents Table_map_event::Optional_metadata_field_type). */
const Opt = {
  SIGNEDNESS: 1,
  DEFAULT_CHARSET: 2,
  COLUMN_CHARSET: 3,
  COLUMN_NAME: 4,
  SET_STR_VALUE: 5,
  ENUM_STR_VALUE: 6,
  GEOMETRY_TYPE: 7,
  SIMPLE_PRIMARY_KEY: 8,
  PRIMARY_KEY_WITH_PREFIX: 9,
  ENUM_AND_SET_DEFAULT_CHARSET: 10,
  ENUM_AND_SET_COLUMN_CHARSET: 11,
  COLUMN_VISIBILITY: 12,
} as const;

/** What the capture layer can tell about a column when the binlog carries no names (old servers). */
export interface ResolvedColumn {
  name: string;
  unsigned?: boolean;
  collation?: number;
  enumValues?: string[];
  setValues?: string[];
}

/**
 * Supplies column facts for a table whose TABLE_MAP has no column names (binlog_row_metadata MINIMAL or a server
 * without it), typically from information_schema.COLUMNS in ordinal order; synchronous, so the capture layer looks
 * them up ahead (and again after DDL). Return undefined when unknown: columns are then named `@1`, `@2`, ...
 */
export type ColumnResolver = (schema: string, table: string, columnCount: number) => ResolvedColumn[] | undefined;

/** A column as parsed, before names are settled. */
export interface ParsedColumn extends ColumnMeta {
  /** Column type code as written in the TABLE_MAP (STRING for ENUM/SET/CHAR). */
  binlogType: number;
  geometryType?: number;
  visible?: boolean;
}

/** A parsed TABLE_MAP before the decode plan is built. */
export interface ParsedTableMap {
  tableId: number;
  schema: string;
  table: string;
  columns: ParsedColumn[];
  primaryKey: number[];
  primaryKeyPrefixes: number[];
  hasNames: boolean;
  /** The bytes that define the table (everything after the table id and flags), to recognise an unchanged map. */
  definition: Buffer;
}

/**
 * Columns that have a bit in the SIGNEDNESS bitmap. MariaDB counts YEAR too (its Field_year is a Field_tiny and
 * reports a signedness); MySQL does not.
 */
function isNumeric(type: number, mariadb: boolean): boolean {
  switch (type) {
    case ColumnType.YEAR:
      return mariadb;
    case ColumnType.TINY:
    case ColumnType.SHORT:
    case ColumnType.INT24:
    case ColumnType.LONG:
    case ColumnType.LONGLONG:
    case ColumnType.FLOAT:
    case ColumnType.DOUBLE:
    case ColumnType.DECIMAL:
    case ColumnType.NEWDECIMAL:
      return true;
    default:
      return false;
  }
}

function isCharacter(type: number): boolean {
  return (
    type === ColumnType.STRING ||
    type === ColumnType.VAR_STRING ||
    type === ColumnType.VARCHAR ||
    type === ColumnType.BLOB
  );
}

/** Reads the table id of a TABLE_MAP or rows event post-header: 6 bytes, or 4 on servers with a 6-byte post-header. */
export function readTableId(buf: Buffer, start: number, postHeader: number): number {
  return postHeader === 6 ? readUIntLE(buf, start, 4) : readUIntLE(buf, start, 6);
}

/** Parses a TABLE_MAP body `buf[start, end)` (start = the post-header). */
export function parseTableMap(
  buf: Buffer,
  start: number,
  end: number,
  postHeader: number,
  mariadb: boolean,
): ParsedTableMap {
  const tableId = readTableId(buf, start, postHeader);
  const c = { pos: start + postHeader };
  const bodyStart = c.pos;
  const schemaLength = buf[c.pos];
  const schema = buf.utf8Slice(c.pos + 1, c.pos + 1 + schemaLength);
  c.pos += schemaLength + 2;
  const tableLength = buf[c.pos];
  const table = buf.utf8Slice(c.pos + 1, c.pos + 1 + tableLength);
  c.pos += tableLength + 2;
  const n = readPackedInt(buf, c);
  if (c.pos + n > end) throw new BinlogDecodeError(`TABLE_MAP of ${schema}.${table} truncated`, EventType.TABLE_MAP);
  const columns: ParsedColumn[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = buf[c.pos + i];
    columns[i] = { name: '', type: t, binlogType: t, meta: 0, nullable: false, unsigned: false };
  }
  c.pos += n;
  const metaLength = readPackedInt(buf, c);
  const metaEnd = c.pos + metaLength;
  let p = c.pos;
  for (const col of columns) {
    switch (col.binlogType) {
      case ColumnType.FLOAT:
      case ColumnType.DOUBLE:
      case ColumnType.BLOB:
      case ColumnType.TINY_BLOB:
      case ColumnType.MEDIUM_BLOB:
      case ColumnType.LONG_BLOB:
      case ColumnType.GEOMETRY:
      case ColumnType.JSON:
      case ColumnType.TIMESTAMP2:
      case ColumnType.DATETIME2:
      case ColumnType.TIME2:
        col.meta = buf[p++];
        break;
      case ColumnType.VARCHAR:
      case ColumnType.VAR_STRING:
      case ColumnType.BIT:
        col.meta = buf[p] | (buf[p + 1] << 8);
        p += 2;
        break;
      case ColumnType.NEWDECIMAL:
      case ColumnType.STRING:
      case ColumnType.ENUM:
      case ColumnType.SET:
        col.meta = (buf[p] << 8) | buf[p + 1];
        p += 2;
        break;
      default:
        break;
    }
    if (col.binlogType === ColumnType.STRING) {
      const real = col.meta >> 8;
      if (real === ColumnType.ENUM || real === ColumnType.SET) col.type = real;
    } else if (col.binlogType === ColumnType.TINY_BLOB || col.binlogType === ColumnType.MEDIUM_BLOB) {
      col.type = ColumnType.BLOB;
    } else if (col.binlogType === ColumnType.LONG_BLOB) {
      col.type = ColumnType.BLOB;
    }
  }
  if (p !== metaEnd) {
    throw new BinlogDecodeError(
      `TABLE_MAP of ${schema}.${table}: column metadata is ${metaLength} bytes, types account for ${p - c.pos}`,
      EventType.TABLE_MAP,
    );
  }
  c.pos = metaEnd;
  for (let i = 0; i < n; i++) columns[i].nullable = (buf[c.pos + (i >> 3)] & (1 << (i & 7))) !== 0;
  c.pos += (n + 7) >> 3;
  const parsed: ParsedTableMap = {
    tableId,
    schema,
    table,
    columns,
    primaryKey: [],
    primaryKeyPrefixes: [],
    hasNames: false,
    definition: Buffer.from(buf.subarray(bodyStart, end)),
  };
  if (c.pos < end) parseOptionalMetadata(buf, c.pos, end, parsed, mariadb);
  return parsed;
}

function parseOptionalMetadata(buf: Buffer, p: number, end: number, t: ParsedTableMap, mariadb: boolean): void {
  const cols = t.columns;
  const numeric = cols.filter((col) => isNumeric(col.type, mariadb));
  const character = cols.filter((col) => isCharacter(col.type));
  const enumSet = cols.filter((col) => col.type === ColumnType.ENUM || col.type === ColumnType.SET);
  const enums = cols.filter((col) => col.type === ColumnType.ENUM);
  const sets = cols.filter((col) => col.type === ColumnType.SET);
  const geometry = cols.filter((col) => col.type === ColumnType.GEOMETRY);
  const enumSetRaw: Array<{ col: ParsedColumn; raw: Buffer[]; set: boolean }> = [];
  while (p < end) {
    const type = buf[p];
    const c = { pos: p + 1 };
    const length = readPackedInt(buf, c);
    const s = c.pos;
    const e = s + length;
    if (e > end) throw new BinlogDecodeError(`TABLE_MAP of ${t.schema}.${t.table}: metadata field ${type} truncated`);
    switch (type) {
      case Opt.SIGNEDNESS:
        for (let i = 0; i < numeric.length; i++) numeric[i].unsigned = (buf[s + (i >> 3)] & (0x80 >> (i & 7))) !== 0;
        break;
      case Opt.DEFAULT_CHARSET:
      case Opt.ENUM_AND_SET_DEFAULT_CHARSET: {
        const target = type === Opt.DEFAULT_CHARSET ? character : enumSet;
        const r = { pos: s };
        const def = readPackedInt(buf, r);
        for (const col of target) col.collation = def;
        while (r.pos < e) {
          const index = readPackedInt(buf, r);
          const collation = readPackedInt(buf, r);
          if (target[index]) target[index].collation = collation;
        }
        break;
      }
      case Opt.COLUMN_CHARSET:
      case Opt.ENUM_AND_SET_COLUMN_CHARSET: {
        const target = type === Opt.COLUMN_CHARSET ? character : enumSet;
        const r = { pos: s };
        for (let i = 0; r.pos < e && i < target.length; i++) target[i].collation = readPackedInt(buf, r);
        break;
      }
      case Opt.COLUMN_NAME: {
        const r = { pos: s };
        for (let i = 0; r.pos < e && i < cols.length; i++) {
          const len = readPackedInt(buf, r);
          cols[i].name = buf.utf8Slice(r.pos, r.pos + len);
          r.pos += len;
        }
        t.hasNames = true;
        break;
      }
      case Opt.SET_STR_VALUE:
      case Opt.ENUM_STR_VALUE: {
        const target = type === Opt.SET_STR_VALUE ? sets : enums;
        const r = { pos: s };
        for (let i = 0; r.pos < e && i < target.length; i++) {
          const count = readPackedInt(buf, r);
          const raw: Buffer[] = [];
          for (let k = 0; k < count; k++) {
            const len = readPackedInt(buf, r);
            raw.push(buf.subarray(r.pos, r.pos + len));
            r.pos += len;
          }
          // Decoded below, once the ENUM/SET charsets (which may come later in the block) are known.
          enumSetRaw.push({ col: target[i], raw, set: type === Opt.SET_STR_VALUE });
        }
        break;
      }
      case Opt.GEOMETRY_TYPE: {
        const r = { pos: s };
        for (let i = 0; r.pos < e && i < geometry.length; i++) geometry[i].geometryType = readPackedInt(buf, r);
        break;
      }
      case Opt.SIMPLE_PRIMARY_KEY: {
        const r = { pos: s };
        while (r.pos < e) {
          t.primaryKey.push(readPackedInt(buf, r));
          t.primaryKeyPrefixes.push(0);
        }
        break;
      }
      case Opt.PRIMARY_KEY_WITH_PREFIX: {
        const r = { pos: s };
        while (r.pos < e) {
          t.primaryKey.push(readPackedInt(buf, r));
          t.primaryKeyPrefixes.push(readPackedInt(buf, r));
        }
        break;
      }
      case Opt.COLUMN_VISIBILITY:
        for (let i = 0; i < cols.length; i++) cols[i].visible = (buf[s + (i >> 3)] & (0x80 >> (i & 7))) !== 0;
        break;
      default:
        break; // unknown fields are skipped by their length, as the format intends
    }
    p = e;
  }
  for (const { col, raw, set } of enumSetRaw) {
    const decode = labelDecoder(col.collation);
    const values = raw.map(decode);
    if (set) col.setValues = values;
    else col.enumValues = values;
  }
}

/** ENUM/SET labels are stored in the column's charset. */
function labelDecoder(collation: number | undefined): (b: Buffer) => string {
  const charset = collation === undefined ? undefined : charsetOfCollation(collation);
  return (b) => {
    const v = decodeText(b, 0, b.length, textKindOf(charset), charset);
    return typeof v === 'string' ? v : v.toString('latin1');
  };
}

/** Applies resolver facts (names, signedness, charsets, ENUM/SET labels) to a map that came without names. */
export function applyResolved(t: ParsedTableMap, resolved: ResolvedColumn[] | undefined): TableMap['namesFrom'] {
  if (t.hasNames) return 'binlog';
  if (!resolved || resolved.length !== t.columns.length) {
    for (let i = 0; i < t.columns.length; i++) t.columns[i].name = `@${i + 1}`;
    return 'position';
  }
  for (let i = 0; i < t.columns.length; i++) {
    const col = t.columns[i];
    const r = resolved[i];
    col.name = r.name;
    if (r.unsigned !== undefined) col.unsigned = r.unsigned;
    if (col.collation === undefined && r.collation !== undefined) col.collation = r.collation;
    if (!col.enumValues && r.enumValues) col.enumValues = r.enumValues;
    if (!col.setValues && r.setValues) col.setValues = r.setValues;
  }
  return 'information_schema';
}

/** The public TableMap of a parsed map. */
export function toTableMap(t: ParsedTableMap, namesFrom: TableMap['namesFrom']): TableMap {
  return {
    tableId: t.tableId,
    schema: t.schema,
    table: t.table,
    columns: t.columns,
    primaryKey: t.primaryKey.map((i) => t.columns[i]?.name ?? `@${i + 1}`),
    namesFrom,
  };
}
