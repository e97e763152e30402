/** Creates the state database if missing and applies pending migrations, one bridge at a time. */
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';

/** One versioned schema change of the state database. */
export interface Migration {
  version: number;
  name: string;
  /** Executed in order; DDL commits implicitly in MySQL, so keep each migration small and idempotent where possible. */
  statements: string[];
}

const LOCK = 'openmrs_event_bridge.migrate';

/** Applies every migration newer than the recorded version; returns the versions applied. */
export async function migrate(pool: Pool, migrations: readonly Migration[]): Promise<number[]> {
  const versions = migrations.map((m) => m.version);
  if (new Set(versions).size !== versions.length || versions.some((v, i) => i > 0 && v <= versions[i - 1])) {
    throw new Error(`state migrations must have increasing, unique versions (got ${versions.join(', ')})`);
  }
  const conn = await pool.getConnection();
  try {
    // A named lock so two bridges starting together do not race on the same migration.
    const [locked] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 60) AS ok', [LOCK]);
    if (Number(locked[0].ok) !== 1) throw new Error('timed out waiting for the state migration lock');
    try {
      await conn.query(`CREATE TABLE IF NOT EXISTS schema_migration (
        version INT NOT NULL PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      const [rows] = await conn.query<RowDataPacket[]>('SELECT version FROM schema_migration');
      const done = new Set(rows.map((r) => Number(r.version)));
      const applied: number[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await apply(conn, migration);
        applied.push(migration.version);
      }
      return applied;
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [LOCK]);
    }
  } finally {
    conn.release();
  }
}

async function apply(conn: PoolConnection, migration: Migration): Promise<void> {
  for (const statement of migration.statements) {
    try {
      await conn.query(statement);
    } catch (err) {
      throw new Error(`state migration ${migration.version} (${migration.name}) failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  await conn.query('INSERT INTO schema_migration (version, name) VALUES (?, ?)', [migration.version, migration.name]);
}
