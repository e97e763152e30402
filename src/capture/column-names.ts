/**
 * Column names from information_schema, for servers whose TABLE_MAP carries no names (MariaDB < 10.5, MySQL < 8.0.1,
 * or binlog_row_metadata=MINIMAL). Names are looked up once per table and forgotten after every DDL, so an ALTER in
 * the stream is followed. Limitation, stated in docs/capture.md: the lookup reads today's definition, so rows written
 * before an ALTER and read after it are named by the new definition (a column-count mismatch is detected and logged).
 */
import type mysql from 'mysql2/promise';
import { connectSql, type SourceConnectionOptions } from '../source/server-info.js';

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
  private readonly cache = new Map<string, string[]>();
  private warned = new Set<string>();

  constructor(
    private readonly source: SourceConnectionOptions,
    private readonly log?: CaptureLogger,
  ) {}

  /** Names of `schema`.`table` in ordinal order (cached), or undefined when the table no longer exists. */
  async load(schema: string, table: string): Promise<string[] | undefined> {
    const key = `${schema}\u0000${table}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    this.conn ??= await connectSql(this.source);
    const [rows] = await this.conn.query<any[]>(
      'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [schema, table],
    );
    if (rows.length === 0) return undefined;
    const names = rows.map((r) => String(r.name));
    this.cache.set(key, names);
    if (!this.warned.has(key)) {
      this.warned.add(key);
      this.log?.info({ schema, table, columns: names.length }, 'column names read from information_schema (the binlog carries none)');
    }
    return names;
  }

  /** Cached names, without a lookup. */
  get(schema: string, table: string): string[] | undefined {
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
