/**
 * A throwaway MariaDB with the real OpenMRS 2.6.4 core schema, seeded metadata, the statement library, and a tap on
 * its binlog through the real capture engine: run actions, get the committed transactions they wrote.
 */
import mysql from 'mysql2/promise';
import { BinlogReader } from '../../src/capture/index.js';
import type { BinlogPosition, Transaction } from '../../src/capture/types.js';
import { compareBinlog } from '../../src/delivery/position.js';
import { OpenmrsActions, seedMetadata, type ActionsOptions, type SeedMeta } from '../../demo/openmrs/actions.js';
import { startMariaDb, type MariaDbServer, type MariaDbOptions } from './mariadb.js';

export const CORE_DUMP = '/work/shared/openmrs/openmrs-2.6.4-core.sql';
export const REFAPP_DUMP = '/work/shared/openmrs/refapp-2.x-demo-100-patients.sql';
export const CORE_DUMP_PATH = process.env.OPENMRS_CORE_DUMP ?? CORE_DUMP;
export const REFAPP_DUMP_PATH = process.env.OPENMRS_REFAPP_DUMP ?? REFAPP_DUMP;

/** Reads the binlog from where it was at `open()` and hands out transactions as the writes that made them commit. */
export class BinlogTap {
  private readonly reader: BinlogReader;
  private readonly it: AsyncIterator<Transaction>;

  private constructor(
    private readonly db: MariaDbServer,
    reader: BinlogReader,
  ) {
    this.reader = reader;
    this.it = reader[Symbol.asyncIterator]();
  }

  /** A tap from the current end of the binlog, keeping rows of `schemas` only (all when omitted). */
  static async open(
    db: MariaDbServer,
    options: { schemas?: string[]; serverId?: number; maxTxRows?: number } = {},
  ): Promise<BinlogTap> {
    const reader = new BinlogReader({
      source: { url: db.url() },
      serverId: options.serverId ?? 1000 + Math.floor(Math.random() * 100_000),
      start: 'latest',
      includeSchemas: options.schemas,
      maxTxRows: options.maxTxRows,
      checkServerId: false,
    });
    await reader.start();
    return new BinlogTap(db, reader);
  }

  /** A read of the next transaction that outlived the last `drain` (the reader's iterator cannot be cancelled). */
  private pending: Promise<IteratorResult<Transaction>> | null = null;

  /** The transactions committed up to now (since the last call), in commit order. */
  async drain(): Promise<Transaction[]> {
    const [status] = await this.db.query<Array<{ File: string; Position: number }>>('SHOW MASTER STATUS');
    const end = { file: status.File, pos: Number(status.Position) };
    const reached = (p: BinlogPosition) => compareBinlog(p, end) >= 0;
    const out: Transaction[] = [];
    while (true) {
      // The reader skips transactions of other schemas (a bridge's checkpoints on the same server), so the last one
      // before `end` may never be yielded: once the reader's position has passed `end`, whatever it still holds comes
      // at once, and a read that does not is the next commit's.
      const passed = this.reader.position !== null && reached(this.reader.position.binlog);
      this.pending ??= this.it.next();
      const next = await within(this.pending, passed ? 10 : 20);
      if (next === null) {
        if (passed) return out;
        continue;
      }
      this.pending = null;
      if (next.done) throw new Error('binlog reader ended');
      out.push(next.value);
      if (reached(next.value.end.binlog)) return out;
    }
  }

  /** Runs `fn` and returns the transactions it committed (DML only). */
  async capture<T>(fn: () => Promise<T>): Promise<{ result: T; txs: Transaction[] }> {
    await this.drain();
    const result = await fn();
    const txs = (await this.drain()).filter((t) => t.kind === 'dml');
    return { result, txs };
  }

  close(): void {
    this.reader.close();
  }
}

/** `promise`'s value, or null when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface OpenmrsDb {
  server: MariaDbServer;
  conn: mysql.Connection;
  meta: SeedMeta;
  om: OpenmrsActions;
  schema: string;
  /** A second connection for the reference lookup (a mysql2 pool). */
  pool: mysql.Pool;
  stop(): Promise<void>;
}

/** Starts MariaDB, loads the 2.6.4 core dump into `openmrs`, seeds metadata, returns the statement library. */
export async function startOpenmrs(
  options: { mariadb?: MariaDbOptions; actions?: ActionsOptions; schema?: string } = {},
): Promise<OpenmrsDb> {
  const schema = options.schema ?? 'openmrs';
  const server = await startMariaDb(options.mariadb);
  await server.loadDump(schema, CORE_DUMP_PATH);
  const conn = await server.connect(schema);
  const meta = await seedMetadata(conn);
  const pool = mysql.createPool({
    uri: server.url(schema),
    connectionLimit: 2,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  return {
    server,
    conn,
    meta,
    om: new OpenmrsActions(conn, meta, options.actions),
    schema,
    pool,
    async stop() {
      await conn.end().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await server.stop();
    },
  };
}
