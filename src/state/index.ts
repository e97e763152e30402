/**
 * The bridge's own state (BRIDGE_STATE_URL): created and migrated by the bridge itself. Modules get the pool and
 * keep their own tables (their migrations are listed in `state/migrations`).
 */
import mysql, { type Pool } from 'mysql2/promise';
import type { DatabaseUrl } from '../config/index.js';
import { migrate, type Migration } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { PositionStore } from './positions.js';

export { PositionStore, type ConsumerPosition } from './positions.js';
export { migrate, type Migration } from './migrate.js';
export { MIGRATIONS } from './migrations/index.js';

export interface StateOptions {
  /**
   * Write without binary logging (`SET SESSION sql_log_bin=0`, needs BINLOG ADMIN / SYSTEM_VARIABLES_ADMIN): required
   * with the commit hold when the state lives on the source server, so the bridge never waits for itself.
   */
  skipBinlog?: boolean;
  /** Migrations to apply; defaults to the full list. */
  migrations?: readonly Migration[];
  connectionLimit?: number;
}

/** An open, migrated state database. */
export interface StateDb {
  pool: Pool;
  positions: PositionStore;
  /** The database name (for `ignoreSchemas`). */
  database: string;
  close(): Promise<void>;
}

/** Connects to the state database, creating it when missing, and applies pending migrations. */
export async function openState(db: DatabaseUrl, options: StateOptions = {}): Promise<StateDb> {
  const common = {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: false,
    timezone: 'Z' as const,
  };
  const bootstrap = await mysql.createConnection(common);
  try {
    if (options.skipBinlog) await bootstrap.query('SET SESSION sql_log_bin = 0');
    await bootstrap.query(
      `CREATE DATABASE IF NOT EXISTS ${mysql.escapeId(db.database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    );
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Without CREATE privilege, the database may still exist (created once by the admin).
    if (code !== 'ER_DBACCESS_DENIED_ERROR' && code !== 'ER_ACCESS_DENIED_ERROR') throw err;
  } finally {
    await bootstrap.end();
  }
  const pool = mysql.createPool({
    ...common,
    database: db.database,
    connectionLimit: options.connectionLimit ?? 5,
    enableKeepAlive: true,
  });
  if (options.skipBinlog) {
    // Runs before any query the caller queues on this connection (queries on one connection are sequential).
    pool.on('connection', (conn) => {
      conn.query('SET SESSION sql_log_bin = 0');
    });
  }
  try {
    await migrate(pool, options.migrations ?? MIGRATIONS);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return {
    pool,
    positions: new PositionStore(pool),
    database: db.database,
    close: () => pool.end(),
  };
}
