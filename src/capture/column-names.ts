/**
 * Column names from information_schema, for servers whose TABLE_MAP carries no names (MariaDB < 10.5, MySQL < 8.0.1,
 * or binlog_row_metadata=MINIMAL). Names are looked up once per table and forgotten after every DDL, so an ALTER in
 * the stream is followed. Limitation, stated in docs/capture.md: the lookup reads today's definition, so rows written
 * before an ALTER and read after it are named by the new definition (a column-count mismatch is detected and logged).
 */
import type mysql from 'mysql2/promise';
import { connectSql, type SourceConnectionOptions } from '../source/server-info.js';

/**
 * What information_schema tells about a column that a TABLE_MAP without metadata does not: its name, signedness,
 * collation id (63 = binary) and ENUM/SET members. Same shape as the decoder's `ResolvedColumn`.
 */
export interface ColumnInfo {
  name: string;
  unsigned?: boolean;
  collation?: number;
  enumValues?: string[];
  setValues?: string[];
}

/** Minimal pino-compatible logger. */
export interface CaptureLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** A cache of column names per table, filled from information_schema. */
export class InformationSchemaColumns {
  private conn: mysql.Connection | null = null;
  private readonly cache = new Map<string, ColumnInfo[]>();
  private warned = new Set<string>();

  constructor(
    private readonly source: SourceConnectionOptions,
    private readonly log?: CaptureLogger,
  ) {}

  /** Columns of `schema`.`table` in ordinal order (cached), or undefined when the table no longer exists. */
  async load(schema: string, table: string): Promise<ColumnInfo[] | undefined> {
    const key = `${schema}\u0000${table}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    this.conn ??= await connectSql(this.source);
    const [rows] = await this.conn.query<any[]>(
      'SELECT c.COLUMN_NAME AS name, c.COLUMN_TYPE AS type, c.DATA_TYPE AS dataType, co.ID AS collation ' +
        'FROM information_schema.COLUMNS c LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME ' +
        'WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ? ORDER BY c.ORDINAL_POSITION',
      [schema, table],
    );
    if (rows.length === 0) return undefined;
    const columns = rows.map((r) => columnInfo(String(r.name), String(r.type), String(r.dataType), r.collation));
    this.cache.set(key, columns);
    if (!this.warned.has(key)) {
      this.warned.add(key);
      this.log?.info({ schema, table, columns: columns.length }, 'column names read from information_schema (the binlog carries none)');
    }
    return columns;
  }

  /** Cached columns, without a lookup (the decoder's `resolveColumnNames` hook). */
  get(schema: string, table: string): ColumnInfo[] | undefined {
    return this.cache.get(`${schema}\u0000${table}`);
  }

  /** Forgets every table (after a DDL statement). */
  clear(): void {
    this.cache.clear();
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    await c?.end().catch(() => c.destroy());
  }
}

/**
 * Schema and table name of a raw TABLE_MAP event (header 19 bytes, post-header `postHeaderLength`, then
 * schema length (1), schema, NUL, table length (1), table, NUL), without decoding the rest.
 */
export function peekTableMapName(event: Buffer, postHeaderLength = 8): { schema: string; table: string } {
  let o = 19 + postHeaderLength;
  const sl = event[o++];
  const schema = event.toString('utf8', o, o + sl);
  o += sl + 1;
  const tl = event[o++];
  const table = event.toString('utf8', o, o + tl);
  return { schema, table };
}

const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

function columnInfo(name: string, columnType: string, dataType: string, collation: unknown): ColumnInfo {
  const info: ColumnInfo = { name };
  if (/\bunsigned\b/i.test(columnType)) info.unsigned = true;
  const dt = dataType.toLowerCase();
  if (collation !== null && collation !== undefined) info.collation = Number(collation);
  else if (BINARY_TYPES.has(dt)) info.collation = 63;
  if (dt === 'enum') info.enumValues = parseMembers(columnType);
  if (dt === 'set') info.setValues = parseMembers(columnType);
  return info;
}

/** The members of `enum('a','b''c')` / `set(...)` as written in COLUMN_TYPE. */
export function parseMembers(columnType: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'')*)'/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(columnType))) out.push(m[1].replace(/''/g, "'"));
  return out;
}
