/**
 * The start-up check of CONTRACT section 2: every setting and grant the bridge needs on the source, each missing one
 * named with the exact SQL or my.cnf line that fixes it. All problems are collected before failing, so an admin fixes
 * them in one round.
 */
import type mysql from 'mysql2/promise';
import { RequirementsError } from './errors.js';
import { getServerInfo, versionAtLeast, type ServerInfo } from './server-info.js';

/** One unmet requirement and its fix. */
export interface RequirementProblem {
  problem: string;
  fix: string;
}

/** What the check found besides problems. */
export interface RequirementsReport {
  server: ServerInfo;
  problems: RequirementProblem[];
  /**
   * Where column names come from: the binlog (binlog_row_metadata=FULL) or, on servers without that variable
   * (MariaDB < 10.5, MySQL < 8.0.1), information_schema, refreshed after every DDL.
   */
  columnNames: 'binlog' | 'information_schema';
  /** Remarks worth logging at start (not errors). */
  notes: string[];
}

/** Options of {@link checkRequirements}. */
export interface RequirementsOptions {
  /** The OpenMRS schema the bridge needs SELECT on (for information_schema lookups and snapshots). */
  schema?: string;
}

/**
 * Checks the source and returns every problem found (an empty list when all is well). Use
 * {@link assertRequirements} to throw a {@link RequirementsError} instead.
 */
export async function checkRequirements(
  conn: mysql.Connection,
  options: RequirementsOptions = {},
): Promise<RequirementsReport> {
  const server = await getServerInfo(conn);
  const problems: RequirementProblem[] = [];
  const notes: string[] = [];
  const mariadb = server.flavor === 'mariadb';
  const v = server.versionNumbers;

  const [varRows] = await conn.query<any[]>(
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', " +
      "'binlog_row_metadata', 'server_id', 'gtid_mode', 'enforce_gtid_consistency', 'binlog_checksum', " +
      "'binlog_transaction_compression')",
  );
  const vars = new Map<string, string>(varRows.map((r) => [String(r.Variable_name), String(r.Value)]));
  const get = (name: string) => vars.get(name)?.toUpperCase();

  if (get('log_bin') !== 'ON' && get('log_bin') !== '1') {
    problems.push({
      problem: 'the binary log is off (log_bin=OFF): there is nothing to read',
      fix: 'add `log_bin=mysql-bin` (and `server_id=1`) under [mysqld] in my.cnf and restart the server',
    });
  }
  if (get('binlog_format') !== 'ROW') {
    problems.push({
      problem: `binlog_format is ${vars.get('binlog_format') ?? 'unknown'}, the bridge needs ROW (row images, not statements)`,
      fix: "SET GLOBAL binlog_format = 'ROW'; and `binlog_format=ROW` under [mysqld] in my.cnf (sessions already open keep the old format until they reconnect)",
    });
  }
  if (get('binlog_row_image') !== 'FULL') {
    problems.push({
      problem: `binlog_row_image is ${vars.get('binlog_row_image') ?? 'unknown'}, the bridge needs FULL (every column before and after a change)`,
      fix: "SET GLOBAL binlog_row_image = 'FULL'; and `binlog_row_image=FULL` under [mysqld] in my.cnf",
    });
  }
  const hasRowMetadata = mariadb ? versionAtLeast(v, [10, 5, 0]) : versionAtLeast(v, [8, 0, 1]);
  let columnNames: 'binlog' | 'information_schema' = 'binlog';
  if (hasRowMetadata && vars.has('binlog_row_metadata')) {
    if (get('binlog_row_metadata') !== 'FULL') {
      problems.push({
        problem: `binlog_row_metadata is ${vars.get('binlog_row_metadata')}, the bridge needs FULL (column names, signedness, charsets in the binlog)`,
        fix: "SET GLOBAL binlog_row_metadata = 'FULL'; and `binlog_row_metadata=FULL` under [mysqld] in my.cnf",
      });
    }
  } else {
    columnNames = 'information_schema';
    notes.push(
      `${server.version} has no binlog_row_metadata: column names are read from information_schema and refreshed ` +
        'after every DDL (rows written before an ALTER that are read after it may be named by the new definition)',
    );
  }
  if (Number(vars.get('server_id') ?? '0') === 0) {
    problems.push({
      problem: 'server_id is 0: a server with id 0 refuses replicas',
      fix: 'SET GLOBAL server_id = 1; and `server_id=1` under [mysqld] in my.cnf',
    });
  }
  if (!mariadb && get('gtid_mode') !== 'ON') {
    problems.push({
      problem: `gtid_mode is ${vars.get('gtid_mode') ?? 'unknown'}, the bridge needs ON on MySQL (transaction ids and resume by GTID)`,
      fix:
        "SET GLOBAL enforce_gtid_consistency = ON; then SET GLOBAL gtid_mode = OFF_PERMISSIVE; SET GLOBAL gtid_mode = ON_PERMISSIVE; SET GLOBAL gtid_mode = ON; " +
        'and `gtid_mode=ON`, `enforce_gtid_consistency=ON` under [mysqld] in my.cnf',
    });
  }

  if (!mariadb && get('binlog_transaction_compression') === 'ON') {
    problems.push({
      problem: 'binlog_transaction_compression is ON: the bridge does not read compressed transaction payloads (MySQL 8.0.20+)',
      fix: 'SET GLOBAL binlog_transaction_compression = OFF; and `binlog_transaction_compression=OFF` under [mysqld] in my.cnf',
    });
  }
  if (vars.has('binlog_checksum') && get('binlog_checksum') !== 'CRC32') {
    notes.push(
      `binlog_checksum is ${vars.get('binlog_checksum')}: events carry no CRC32, so corruption in transit cannot be ` +
        "detected; SET GLOBAL binlog_checksum = 'CRC32' is recommended",
    );
  }

  problems.push(...(await checkGrants(conn, server, options.schema)));
  return { server, problems, columnNames, notes };
}

/** Runs {@link checkRequirements} and throws a {@link RequirementsError} naming every problem. */
export async function assertRequirements(
  conn: mysql.Connection,
  options: RequirementsOptions = {},
): Promise<RequirementsReport> {
  const report = await checkRequirements(conn, options);
  if (report.problems.length > 0) throw new RequirementsError(report.problems);
  return report;
}

/** Grants of the current user, parsed from SHOW GRANTS: scope (`*.*`, `db.*`) -> privileges (upper case). */
async function currentGrants(conn: mysql.Connection): Promise<{ user: string; grants: Map<string, Set<string>> }> {
  const [rows] = await conn.query<any[]>('SHOW GRANTS FOR CURRENT_USER()');
  const [who] = await conn.query<any[]>('SELECT CURRENT_USER() AS u');
  const grants = new Map<string, Set<string>>();
  for (const r of rows) {
    const line = String(Object.values(r)[0]);
    const m = /^GRANT (.+?) ON (\S+) TO /i.exec(line);
    if (!m) continue;
    const scope = m[2].replace(/`/g, '').toLowerCase();
    // Column lists `SELECT (a, b)` contain commas: drop them before splitting.
    const privs = m[1].replace(/\([^)]*\)/g, '').split(',').map((p) => p.trim().toUpperCase());
    const set = grants.get(scope) ?? new Set<string>();
    for (const p of privs) set.add(p);
    grants.set(scope, set);
  }
  const u = String(who[0].u);
  const at = u.lastIndexOf('@');
  return { user: at > 0 ? `'${u.slice(0, at)}'@'${u.slice(at + 1)}'` : u, grants };
}

async function checkGrants(conn: mysql.Connection, server: ServerInfo, schema?: string): Promise<RequirementProblem[]> {
  const { user, grants } = await currentGrants(conn);
  const global = grants.get('*.*') ?? new Set<string>();
  const all = global.has('ALL PRIVILEGES') || global.has('ALL');
  const has = (p: string) => all || global.has(p);
  const problems: RequirementProblem[] = [];
  const mariadb = server.flavor === 'mariadb';

  if (!has('REPLICATION SLAVE') && !has('REPLICATION REPLICA')) {
    problems.push({
      problem: `${user} lacks the REPLICATION SLAVE privilege (needed to read the binlog as a replica)`,
      fix: `GRANT REPLICATION SLAVE ON *.* TO ${user};`,
    });
  }
  // MariaDB 10.5 renamed REPLICATION CLIENT to BINLOG MONITOR (SHOW GRANTS prints the new name); either will do.
  const monitor = has('REPLICATION CLIENT') || has('BINLOG MONITOR');
  if (!monitor) {
    const mariaNew = mariadb && versionAtLeast(server.versionNumbers, [10, 5, 2]);
    problems.push({
      problem: mariaNew
        ? `${user} lacks the BINLOG MONITOR privilege (formerly REPLICATION CLIENT; needed for SHOW MASTER STATUS / SHOW BINARY LOGS)`
        : `${user} lacks the REPLICATION CLIENT privilege (needed for SHOW MASTER STATUS / SHOW BINARY LOGS)`,
      fix: mariaNew
        ? `GRANT BINLOG MONITOR ON *.* TO ${user};`
        : `GRANT REPLICATION CLIENT ON *.* TO ${user};`,
    });
  }
  if (schema) {
    const db = grants.get(`${schema.toLowerCase()}.*`) ?? new Set<string>();
    const select = has('SELECT') || db.has('SELECT') || db.has('ALL PRIVILEGES') || db.has('ALL');
    if (!select) {
      problems.push({
        problem: `${user} lacks SELECT on the OpenMRS schema \`${schema}\` (needed for column names and snapshots)`,
        fix: `GRANT SELECT ON \`${schema}\`.* TO ${user};`,
      });
    }
  }
  return problems;
}
