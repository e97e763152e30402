/** `BRIDGE_START` and `reset-positions --start`: where a consumer with no stored position starts. */

/** A parsed start form. A `cursor` is decoded (and so validated) by the capture cursor codec when it is used. */
export type StartSpec =
  | { kind: 'latest' }
  | { kind: 'earliest' }
  | { kind: 'gtid'; gtid: string }
  | { kind: 'binlog'; file: string; pos: number }
  | { kind: 'cursor'; cursor: string };

const MARIADB_GTID = /^\d+-\d+-\d+$/;
const MYSQL_GTID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:\d+$/i;
const CURSOR = /^[A-Za-z0-9_-]{16,}$/;

/** Parses a start form; throws an Error whose message says which forms are accepted. */
export function parseStart(text: string): StartSpec {
  const value = text.trim();
  if (value === 'latest' || value === 'earliest') return { kind: value };
  if (value.startsWith('gtid:')) {
    const gtid = value.slice(5);
    if (!MARIADB_GTID.test(gtid) && !MYSQL_GTID.test(gtid)) {
      throw new Error(`"${gtid}" is not a GTID (MariaDB domain-server-seq, e.g. 0-1-4711, or MySQL uuid:n)`);
    }
    return { kind: 'gtid', gtid };
  }
  if (value.startsWith('binlog:')) {
    const rest = value.slice(7);
    const colon = rest.lastIndexOf(':');
    const file = colon > 0 ? rest.slice(0, colon) : '';
    const pos = colon > 0 ? Number(rest.slice(colon + 1)) : NaN;
    if (!file || !Number.isInteger(pos) || pos < 4) {
      throw new Error(`"${value}" is not binlog:<file>:<pos> with pos >= 4 (e.g. binlog:mysql-bin.000003:4)`);
    }
    return { kind: 'binlog', file, pos };
  }
  if (CURSOR.test(value)) return { kind: 'cursor', cursor: value };
  throw new Error(`"${value}" is not one of latest, earliest, gtid:<gtid>, binlog:<file>:<pos>, or a cursor`);
}

/** The text form of a start spec, as it is written in configuration. */
export function formatStart(spec: StartSpec): string {
  switch (spec.kind) {
    case 'latest':
    case 'earliest':
      return spec.kind;
    case 'gtid':
      return `gtid:${spec.gtid}`;
    case 'binlog':
      return `binlog:${spec.file}:${spec.pos}`;
    case 'cursor':
      return spec.cursor;
  }
}
