/**
 * What the binlog client asks the source with ordinary SQL: flavor and version, the binlog files, the end of the
 * binlog, GTID state, and the replicas registered with it.
 */
import mysql from 'mysql2/promise';

/** Options for a plain SQL connection to the source (the binlog connection builds on the same). */
export interface SourceConnectionOptions {
  /** `mysql://user:pass@host:port/db` (TLS via mysql2's `ssl` query parameter or the `ssl` option). */
  url: string;
  ssl?: mysql.ConnectionOptions['ssl'];
  connectTimeoutMs?: number;
}

/** Opens a mysql2 promise connection for metadata queries (the caller ends it). */
export async function connectSql(opts: SourceConnectionOptions): Promise<mysql.Connection> {
  return mysql.createConnection({
    uri: withoutDatabase(opts.url),
    ssl: opts.ssl,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
}

/**
 * The URL without its database: replication and metadata queries need none, and a user lacking SELECT on the
 * OpenMRS schema must still reach the requirement check that tells them so.
 */
function withoutDatabase(url: string): string {
  try {
    const u = new URL(url);
    u.pathname = '/';
    return u.toString();
  } catch {
    return url;
  }
}

/** The source server in a few facts. */
export interface ServerInfo {
  flavor: 'mariadb' | 'mysql';
  /** e.g. `10.11.19-MariaDB-0+deb12u1`. */
  version: string;
  /** [major, minor, patch]. */
  versionNumbers: [number, number, number];
  serverId: number;
}

/** Flavor, version and server id of the source. */
export async function getServerInfo(conn: mysql.Connection): Promise<ServerInfo> {
  const [rows] = await conn.query<any[]>('SELECT VERSION() AS version, @@server_id AS serverId');
  const version = String(rows[0].version);
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return {
    flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
    version,
    versionNumbers: m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0],
    serverId: Number(rows[0].serverId),
  };
}

/** True when `v` >= `min` (both [major, minor, patch]). */
export function versionAtLeast(v: [number, number, number], min: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i] > min[i];
  return true;
}

/** The binlog files still on the server, oldest first, with their sizes. */
export async function listBinaryLogs(conn: mysql.Connection): Promise<Array<{ file: string; size: number }>> {
  const [rows] = await conn.query<any[]>('SHOW BINARY LOGS');
  return rows.map((r) => ({ file: String(r.Log_name), size: Number(r.File_size) }));
}

/** The end of the binlog now: file, position and the GTID state there (MariaDB gtid_binlog_pos / MySQL gtid_executed). */
export async function getBinlogEnd(
  conn: mysql.Connection,
  flavor: 'mariadb' | 'mysql',
): Promise<{ file: string; pos: number; gtidState: string | undefined }> {
  const gtidSql =
    flavor === 'mariadb'
      ? "SELECT @@global.gtid_binlog_pos AS g, 'ON' AS mode"
      : 'SELECT @@global.gtid_executed AS g, @@global.gtid_mode AS mode';
  // The GTID state and the file position come from two statements: read the GTID state before and after the
  // position and retry until they agree, so both name the same point (no commit in between).
  for (let attempt = 0; ; attempt++) {
    const [g1] = await conn.query<any[]>(gtidSql);
    const [rows] = await conn.query<any[]>('SHOW MASTER STATUS');
    const [g2] = await conn.query<any[]>(gtidSql);
    if (rows.length === 0) throw new Error('SHOW MASTER STATUS returned nothing: the binary log is off');
    const a = String(g1[0].g ?? '').replace(/\s+/g, '');
    const b = String(g2[0].g ?? '').replace(/\s+/g, '');
    if (a === b || attempt >= 50) {
      const gtidState = String(g2[0].mode).toUpperCase() === 'ON' ? b : undefined;
      return { file: String(rows[0].File), pos: Number(rows[0].Position), gtidState };
    }
  }
}

/** MariaDB: the GTID state at a binlog position (`BINLOG_GTID_POS`), or undefined when the server cannot tell. */
export async function gtidStateAt(conn: mysql.Connection, file: string, pos: number): Promise<string | undefined> {
  const [rows] = await conn.query<any[]>('SELECT BINLOG_GTID_POS(?, ?) AS g', [file, pos]);
  const g = rows[0]?.g;
  return g === null || g === undefined ? undefined : String(g);
}

/** Replicas registered with the source (`SHOW SLAVE HOSTS`); `null` when our user may not list them. */
export async function listReplicas(
  conn: mysql.Connection,
): Promise<Array<{ serverId: number; host: string; port: number }> | null> {
  try {
    const [rows] = await conn.query<any[]>('SHOW SLAVE HOSTS');
    return rows.map((r) => ({ serverId: Number(r.Server_id), host: String(r.Host ?? ''), port: Number(r.Port ?? 0) }));
  } catch (err: any) {
    if (err?.errno === 1227 || err?.errno === 1045 || err?.errno === 1142) return null;
    throw err;
  }
}
