/**
 * Start positions (`BRIDGE_START`, `reset-positions --start`): `latest`, `earliest`, `gtid:<gtid or state>`,
 * `binlog:<file>:<pos>`, or an event cursor. Parsing is pure (config validation uses it); resolving asks the server.
 */
import type mysql from 'mysql2/promise';
import { MariaDbGtidState, MysqlGtidSet } from '../source/gtid.js';
import { getBinlogEnd, gtidStateAt, listBinaryLogs } from '../source/server-info.js';
import { decodeCursor, InvalidCursorError, type CursorData } from './cursor.js';
import type { ResumePosition } from './types.js';

/** A parsed start specification. */
export type StartSpec =
  | { kind: 'latest' }
  | { kind: 'earliest' }
  /** After this transaction (MariaDB `d-s-n`, MySQL `uuid:n`), or after a whole GTID state / set. */
  | { kind: 'gtid'; gtid: string }
  | { kind: 'binlog'; file: string; pos: number }
  /** An event cursor (string; decoded when resolved). Structurally the same as the config's StartSpec. */
  | { kind: 'cursor'; cursor: string };

/** Parses a start specification; throws an Error whose message says what is wrong. */
export function parseStartSpec(text: string): StartSpec {
  const t = text.trim();
  if (t === 'latest') return { kind: 'latest' };
  if (t === 'earliest') return { kind: 'earliest' };
  if (t.startsWith('gtid:')) {
    const g = t.slice(5).trim();
    if (g === '') throw new Error('gtid: needs a GTID, e.g. gtid:0-1-4711 (MariaDB) or gtid:3E11FA47-71CA-11E1-9E33-C80AA9429562:23 (MySQL)');
    // Validate with whichever flavor parses it.
    try {
      MariaDbGtidState.parse(g);
    } catch {
      try {
        MysqlGtidSet.parse(g);
      } catch {
        throw new Error(`gtid:${g} is neither a MariaDB GTID (domain-server-seq) nor a MySQL GTID (uuid:n)`);
      }
    }
    return { kind: 'gtid', gtid: g };
  }
  if (t.startsWith('binlog:')) {
    const m = /^binlog:([^:]+):(\d+)$/.exec(t);
    if (!m || Number(m[2]) < 4) throw new Error(`${t} is not binlog:<file>:<pos> with pos >= 4, e.g. binlog:mysql-bin.000003:4`);
    return { kind: 'binlog', file: m[1], pos: Number(m[2]) };
  }
  try {
    decodeCursor(t);
    return { kind: 'cursor', cursor: t };
  } catch (err) {
    const why = err instanceof InvalidCursorError ? ` (${err.message})` : '';
    throw new Error(
      `${JSON.stringify(t)} is not a start position: use latest, earliest, gtid:<gtid>, binlog:<file>:<pos> or an event cursor${why}`,
      { cause: err },
    );
  }
}

/**
 * Where a dump begins: a resume position (file position, with the GTID state when known), or for a `gtid:` start on
 * a server where no file position is known yet, only a GTID state. `skipThroughTxseq` is set for a cursor: the first
 * transaction read is the cursor's, and its events up to that txseq were already seen.
 */
export interface ResolvedStart {
  position: ResumePosition | null;
  gtidState?: string;
  skipThroughTxseq?: number;
  /** For a cursor: the transaction the cursor points into (checked when it is read). */
  expectTxid?: string | null;
}

/** Resolves a start specification against the server. */
export async function resolveStart(
  conn: mysql.Connection,
  flavor: 'mariadb' | 'mysql',
  spec: StartSpec,
): Promise<ResolvedStart> {
  switch (spec.kind) {
    case 'latest': {
      const end = await getBinlogEnd(conn, flavor);
      return { position: { binlog: { file: end.file, pos: end.pos }, ...(end.gtidState !== undefined ? { gtidState: end.gtidState } : {}) } };
    }
    case 'earliest': {
      const logs = await listBinaryLogs(conn);
      if (logs.length === 0) throw new Error('the source has no binary logs');
      const gtidState = flavor === 'mariadb' ? await gtidStateAt(conn, logs[0].file, 4) : undefined;
      return { position: { binlog: { file: logs[0].file, pos: 4 }, ...(gtidState !== undefined ? { gtidState } : {}) } };
    }
    case 'gtid': {
      if (flavor === 'mariadb') return { position: null, gtidState: MariaDbGtidState.parse(spec.gtid).toString() };
      // MySQL: "after uuid:n" means the executed set uuid:1-n (a full set passes through).
      const m = /^([0-9a-fA-F-]{32,36}):(\d+)$/.exec(spec.gtid);
      const set = m ? MysqlGtidSet.parse(`${m[1]}:1-${m[2]}`) : MysqlGtidSet.parse(spec.gtid);
      return { position: null, gtidState: set.toString() };
    }
    case 'binlog': {
      const gtidState = flavor === 'mariadb' ? await gtidStateAt(conn, spec.file, spec.pos).catch(() => undefined) : undefined;
      return { position: { binlog: { file: spec.file, pos: spec.pos }, ...(gtidState !== undefined ? { gtidState } : {}) } };
    }
    case 'cursor': {
      const c: CursorData = decodeCursor(spec.cursor);
      return {
        position: { binlog: { ...c.start }, ...(c.gtidStateBefore ? { gtidState: c.gtidStateBefore } : {}) },
        skipThroughTxseq: c.txseq,
        expectTxid: c.txid ?? null,
      };
    }
  }
}
