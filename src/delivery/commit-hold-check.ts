/**
 * What BRIDGE_COMMIT_HOLD=semi-sync needs of the source, checked at start (CONTRACT.md section 7): semi-sync enabled
 * on the source, and, when the state database lives on the source server, the right to write it without binary
 * logging (its writes would otherwise wait for the bridge's own ACK).
 */
import mysql from 'mysql2/promise';
import type { DatabaseUrl } from '../config/index.js';

/** One unmet requirement and the exact fix. */
export interface HoldProblem {
  problem: string;
  fix: string;
}

/** What the check found out about the source's semi-sync setup (logged at start). */
export interface HoldFacts {
  flavor: 'mariadb' | 'mysql';
  enabled: boolean;
  /** `rpl_semi_sync_master_timeout`, ms: how long the server holds a COMMIT at most. */
  timeoutMs: number | null;
  /** AFTER_SYNC (lossless: others see the row only after the ACK) or AFTER_COMMIT. */
  waitPoint: string | null;
  /** Semi-sync replicas connected now (another one would ACK in the bridge's place). */
  clients: number | null;
}

type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

async function variables(query: Query, like: string): Promise<Map<string, string>> {
  const rows = await query(`SHOW GLOBAL VARIABLES LIKE '${like}'`);
  return new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
}

/** Reads the source's semi-sync settings and lists what is missing. */
export async function checkSemiSyncSource(
  source: mysql.Connection | mysql.Pool | mysql.PoolConnection,
): Promise<{ facts: HoldFacts; problems: HoldProblem[] }> {
  const query: Query = async (sql) => (await source.query(sql))[0] as Array<Record<string, unknown>>;
  const [version] = await query('SELECT VERSION() AS v');
  const flavor = /mariadb/i.test(String(version.v)) ? 'mariadb' : 'mysql';
  const vars = new Map([
    ...(await variables(query, 'rpl_semi_sync_master_%')),
    ...(await variables(query, 'rpl_semi_sync_source_%')),
  ]);
  const get = (name: string) => vars.get(`rpl_semi_sync_master_${name}`) ?? vars.get(`rpl_semi_sync_source_${name}`);
  const enabledText = get('enabled');
  const status = new Map(
    (
      await query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_clients', 'Rpl_semi_sync_source_clients')",
      )
    ).map((r) => [String(r.Variable_name).toLowerCase(), Number(r.Value)]),
  );
  const facts: HoldFacts = {
    flavor,
    enabled: enabledText !== undefined && /^(on|1)$/i.test(enabledText),
    timeoutMs: get('timeout') !== undefined ? Number(get('timeout')) : null,
    waitPoint: get('wait_point') ?? null,
    clients: status.get('rpl_semi_sync_master_clients') ?? status.get('rpl_semi_sync_source_clients') ?? null,
  };
  const problems: HoldProblem[] = [];
  if (!facts.enabled) {
    problems.push(
      flavor === 'mariadb'
        ? {
            problem: 'semi-synchronous replication is off on the source (rpl_semi_sync_master_enabled=OFF)',
            fix: 'SET GLOBAL rpl_semi_sync_master_enabled = ON; and under [mariadb] in my.cnf: rpl_semi_sync_master_enabled = ON',
          }
        : {
            problem:
              enabledText === undefined
                ? 'the semi-sync source plugin is not installed on the source'
                : 'semi-synchronous replication is off on the source (rpl_semi_sync_source_enabled=OFF)',
            fix:
              (enabledText === undefined ? "INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'; " : '') +
              'SET GLOBAL rpl_semi_sync_source_enabled = 1; and in my.cnf: rpl_semi_sync_source_enabled = 1',
          },
    );
  }
  return { facts, problems };
}

/**
 * With the state on the source server: the state user must be able to `SET SESSION sql_log_bin = 0`, or the bridge's
 * own writes would wait for its own ACK.
 */
export async function checkStateWithoutBinlog(state: DatabaseUrl, flavor: 'mariadb' | 'mysql'): Promise<HoldProblem[]> {
  const conn = await mysql.createConnection({
    host: state.host,
    port: state.port,
    user: state.user,
    password: state.password,
  });
  try {
    await conn.query('SET SESSION sql_log_bin = 0');
    return [];
  } catch (err) {
    const grant = flavor === 'mariadb' ? 'BINLOG ADMIN' : 'SYSTEM_VARIABLES_ADMIN';
    return [
      {
        problem: `the state database is on the source server and ${state.user} may not write it without binary logging (${(err as Error).message}); its writes would wait for the bridge's own semi-sync ACK`,
        fix: `GRANT ${grant} ON *.* TO '${state.user}'@'%'; or put the state on another server with BRIDGE_STATE_URL`,
      },
    ];
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** The message of a refused start: every problem with its fix. */
export function holdProblemsMessage(problems: readonly HoldProblem[]): string {
  return (
    'BRIDGE_COMMIT_HOLD=semi-sync cannot work with this source:\n' +
    problems.map((p, i) => `  ${i + 1}. ${p.problem}\n     fix: ${p.fix}`).join('\n')
  );
}

/**
 * Refuses to start the commit hold when the source cannot do it; returns the facts to log. `stateOnSource`: the
 * state database is on the source server.
 */
export async function assertCommitHold(
  source: mysql.Connection | mysql.Pool | mysql.PoolConnection,
  state: DatabaseUrl,
  stateOnSource: boolean,
): Promise<{ facts: HoldFacts; problems: HoldProblem[] }> {
  const { facts, problems } = await checkSemiSyncSource(source);
  if (stateOnSource) problems.push(...(await checkStateWithoutBinlog(state, facts.flavor)));
  return { facts, problems };
}
