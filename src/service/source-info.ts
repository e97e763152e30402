/** Facts the service asks the source at start: flavor, the time zone of DATETIME columns, start positions. */
import type mysql from 'mysql2/promise';
import { resolveStart } from '../capture/index.js';
import type { ResumePosition } from '../capture/types.js';
import type { StartSpec } from '../config/index.js';
import { getServerInfo } from '../source/server-info.js';

/** A startup problem the operator must fix in configuration: the CLI exits 2 with the message. */
export class StartupConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'StartupConfigError';
  }
}

/**
 * BRIDGE_SOURCE_TIMEZONE's default: the server's `time_zone` when it is an offset or IANA name; when it is `SYSTEM`,
 * `system_time_zone` if that is UTC; otherwise the operator must set the variable.
 */
export async function sourceTimeZone(conn: mysql.Connection, configured?: string): Promise<string> {
  if (configured) return configured;
  const [rows] = await conn.query<any[]>('SELECT @@global.time_zone AS tz, @@system_time_zone AS sys');
  const tz = String(rows[0].tz);
  const sys = String(rows[0].sys);
  if (tz !== 'SYSTEM') {
    if (/^[+-]\d{1,2}:\d{2}$/.test(tz)) return tz.length === 5 ? `${tz[0]}0${tz.slice(1)}` : tz;
    if (isIana(tz)) return tz;
    throw new StartupConfigError(
      'BRIDGE_SOURCE_TIMEZONE',
      `the source's time_zone is ${tz}, which is not an offset or IANA name; set BRIDGE_SOURCE_TIMEZONE to the IANA zone of the OpenMRS DATETIME columns (e.g. Africa/Nairobi)`,
    );
  }
  if (/^(UTC|GMT|Etc\/UTC|Z|Coordinated Universal Time|UCT)$/i.test(sys)) return 'UTC';
  throw new StartupConfigError(
    'BRIDGE_SOURCE_TIMEZONE',
    `the source's time_zone is SYSTEM and its system_time_zone is ${sys}, which does not name one IANA zone; set BRIDGE_SOURCE_TIMEZONE to the IANA zone of the OpenMRS DATETIME columns (e.g. Africa/Nairobi)`,
  );
}

function isIana(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves a start form to a resume position. A `gtid:` start has no file position until it is read: it gets an
 * empty file name (ordered before every real position) and its GTID state, and readers resume by GTID. A cursor
 * resumes at the start of its transaction (a durable consumer gets that whole transaction again: at least once).
 */
export async function resolveStartPosition(conn: mysql.Connection, spec: StartSpec): Promise<ResumePosition> {
  const info = await getServerInfo(conn);
  const resolved = await resolveStart(conn, info.flavor, spec);
  if (resolved.position) return resolved.position;
  return { binlog: { file: '', pos: 0 }, gtidState: resolved.gtidState };
}
