/**
 * The transaction assembler, cursor codec, start forms and the MySQL side of the requirement check, on synthetic
 * input (the MySQL flavor cannot be run here: no MySQL server; MariaDB is covered end to end by the integration tests).
 */
import { describe, expect, it } from 'vitest';
import { TransactionAssembler } from '../../src/capture/assembler.js';
import { cursorFor, decodeCursor, encodeCursor, InvalidCursorError } from '../../src/capture/cursor.js';
import { parseStartSpec } from '../../src/capture/start-position.js';
import type { Transaction } from '../../src/capture/types.js';
import { checkRequirements } from '../../src/source/requirements.js';
import type { BinlogEvent, EventHeader, TableMap } from '../../src/source/types.js';

const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
let pos = 4;
/** A header for an event of `size` bytes that starts where the previous one ended. */
function h(size = 50, timestamp = 1_700_000_000): EventHeader {
  const start = pos;
  pos += size;
  return { timestamp, typeCode: 0, serverId: 1, eventSize: size, nextPosition: start + size, flags: 0 };
}
const table = (schema: string, name: string): TableMap => ({
  tableId: 1,
  schema,
  table: name,
  columns: [],
  primaryKey: ['id'],
  namesFrom: 'binlog',
});
const gtid = (n: number): BinlogEvent => ({ kind: 'gtid', header: h(), gtid: `${UUID}:${n}`, standalone: false, flavor: 'mysql' });
const query = (q: string, schema = 'openmrs'): BinlogEvent => ({ kind: 'query', header: h(), schema, query: q });
const insert = (schema: string, ids: number[]): BinlogEvent => ({
  kind: 'rows',
  header: h(),
  op: 'insert',
  table: table(schema, 'obs'),
  rows: ids.map((id) => ({ before: null, after: { id } })),
  statementEnd: true,
});
const xid = (): BinlogEvent => ({ kind: 'xid', header: h(), xid: 1n });

function feed(a: TransactionAssembler, events: BinlogEvent[], ackLast = false): Transaction[] {
  const out: Transaction[] = [];
  events.forEach((e, i) => {
    const tx = a.push(e, ackLast && i === events.length - 1);
    if (tx) out.push(tx);
  });
  return out;
}

describe('TransactionAssembler (MySQL flavor)', () => {
  it('assembles GTID, BEGIN, rows, XID into one transaction and tracks the executed GTID set', () => {
    pos = 4;
    const a = new TransactionAssembler({ flavor: 'mysql', file: 'binlog.000007', gtidState: `${UUID}:1-9`, maxTxRows: 100 });
    const txs = feed(a, [gtid(10), query('BEGIN'), insert('openmrs', [1, 2]), insert('openmrs', [3]), xid()]);
    expect(txs).toHaveLength(1);
    const [tx] = txs;
    expect(tx.kind).toBe('dml');
    expect(tx.gtid).toBe(`${UUID}:10`);
    expect(tx.start).toEqual({ file: 'binlog.000007', pos: 4 });
    expect(tx.startGtidState).toBe(`${UUID}:1-9`);
    expect(tx.end).toEqual({ binlog: { file: 'binlog.000007', pos: pos }, gtidState: `${UUID}:1-10` });
    expect(tx.rows!.map((r) => r.after!.id)).toEqual([1, 2, 3]);
    expect(tx.commitTime).toBe(1_700_000_000);
  });

  it('a GTID followed by a statement other than BEGIN is a DDL transaction; a rotate changes the file', () => {
    pos = 4;
    const ddl: string[] = [];
    const a = new TransactionAssembler({ flavor: 'mysql', file: 'binlog.000001', gtidState: '', maxTxRows: 100, onDdl: (_s, q) => ddl.push(q) });
    const txs = feed(a, [
      gtid(1),
      query('ALTER TABLE obs ADD COLUMN x INT'),
      { kind: 'rotate', header: h(), file: 'binlog.000002', position: 4 },
      gtid(2),
      query('BEGIN'),
      insert('openmrs', [5]),
      query('COMMIT'),
    ]);
    expect(txs.map((t) => t.kind)).toEqual(['ddl', 'dml']);
    expect(txs[0].ddl).toEqual({ schema: 'openmrs', query: 'ALTER TABLE obs ADD COLUMN x INT' });
    expect(ddl).toEqual(['ALTER TABLE obs ADD COLUMN x INT']);
    expect(txs[1].end.binlog.file).toBe('binlog.000002');
    expect(txs[1].end.gtidState).toBe(`${UUID}:1-2`);
  });

  it('above maxTxRows keeps no rows but counts them all', () => {
    pos = 4;
    const a = new TransactionAssembler({ flavor: 'mysql', file: 'b.1', maxTxRows: 3 });
    const [tx] = feed(a, [gtid(1), query('BEGIN'), insert('openmrs', [1, 2]), insert('openmrs', [3, 4, 5]), xid()]);
    expect(tx.rows).toBeNull();
    expect(tx.rowCount).toBe(5);
    expect(tx.end.gtidState).toBeUndefined(); // no initial state: positions carry none
  });

  it('drops rows of ignored schemas and skips a transaction left empty, unless the source waits for its ACK', () => {
    pos = 4;
    const a = new TransactionAssembler({ flavor: 'mysql', file: 'b.1', maxTxRows: 10, ignoreSchemas: ['openmrs_event_bridge'] });
    expect(feed(a, [gtid(1), query('BEGIN'), insert('openmrs_event_bridge', [1]), xid()])).toEqual([]);
    expect(a.position?.binlog.pos).toBe(pos); // the position still moves past it
    const acked = feed(a, [gtid(2), query('BEGIN'), insert('openmrs_event_bridge', [2]), xid()], true);
    expect(acked).toHaveLength(1);
    expect(acked[0].ackRequested).toBe(true);
    expect(acked[0].rowCount).toBe(0);
    const mixed = feed(a, [gtid(3), query('BEGIN'), insert('openmrs_event_bridge', [3]), insert('openmrs', [4]), xid()]);
    expect(mixed[0].rows!.map((r) => r.schema)).toEqual(['openmrs']);
  });

  it('drops a transaction cut off by a new GTID (a stream restarted mid-transaction)', () => {
    pos = 4;
    const a = new TransactionAssembler({ flavor: 'mysql', file: 'b.1', maxTxRows: 10 });
    const txs = feed(a, [gtid(1), query('BEGIN'), insert('openmrs', [1]), gtid(1), query('BEGIN'), insert('openmrs', [1]), insert('openmrs', [2]), xid()]);
    expect(txs).toHaveLength(1);
    expect(txs[0].rows!.map((r) => r.after!.id)).toEqual([1, 2]);
  });
});

describe('cursor codec', () => {
  const data = { start: { file: 'mysql-bin.000042', pos: 123_456_789_012 }, gtidStateBefore: '0-1-4710,1-2-9', txid: '0-1-4711', txseq: 2 };

  it('round-trips and is a compact base64url string', () => {
    const c = encodeCursor(data);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(c.length).toBeLessThan(100);
    expect(decodeCursor(c)).toEqual(data);
    const minimal = { start: { file: 'f.1', pos: 4 }, txseq: 0 };
    expect(decodeCursor(encodeCursor(minimal))).toEqual(minimal);
  });

  it('cursorFor points at a transaction start with the GTID state before it', () => {
    const tx = { kind: 'dml', gtid: '0-1-5', commitTime: 0, start: { file: 'm.1', pos: 900 }, startGtidState: '0-1-4', end: { binlog: { file: 'm.1', pos: 1000 } }, rowCount: 0, rows: [] } as Transaction;
    expect(decodeCursor(cursorFor(tx, 3))).toEqual({ start: { file: 'm.1', pos: 900 }, gtidStateBefore: '0-1-4', txid: '0-1-5', txseq: 3 });
  });

  it('rejects what is not a cursor with a clear error', () => {
    const good = encodeCursor(data);
    for (const bad of ['', 'not a cursor!', 'AAAA', good.slice(0, 10), 'Ag' + good.slice(2), good + 'A']) {
      expect(() => decodeCursor(bad)).toThrow(InvalidCursorError);
    }
    expect(() => decodeCursor('AAAA')).toThrow(/^invalid cursor: /);
  });
});

describe('start forms', () => {
  it('parses latest, earliest, gtid:, binlog: and cursors, and explains bad input', () => {
    expect(parseStartSpec('latest')).toEqual({ kind: 'latest' });
    expect(parseStartSpec('earliest')).toEqual({ kind: 'earliest' });
    expect(parseStartSpec('gtid:0-1-4711')).toEqual({ kind: 'gtid', gtid: '0-1-4711' });
    expect(parseStartSpec(`gtid:${UUID}:23`)).toEqual({ kind: 'gtid', gtid: `${UUID}:23` });
    expect(parseStartSpec('binlog:mysql-bin.000003:4')).toEqual({ kind: 'binlog', file: 'mysql-bin.000003', pos: 4 });
    const c = encodeCursor({ start: { file: 'm.1', pos: 4 }, txseq: 1 });
    expect(parseStartSpec(c)).toEqual({ kind: 'cursor', cursor: c });
    expect(() => parseStartSpec('binlog:mysql-bin.000003')).toThrow(/binlog:<file>:<pos>/);
    expect(() => parseStartSpec('gtid:banana')).toThrow(/neither a MariaDB GTID/);
    expect(() => parseStartSpec('yesterday')).toThrow(/not a start position/);
  });
});

/** A scripted stand-in for a MySQL server's answers (no MySQL server runs on this machine). */
function mysqlServer(version: string, vars: Record<string, string>, grants: string[]) {
  return {
    async query(sql: string) {
      if (sql.startsWith('SELECT VERSION()')) return [[{ version, serverId: vars.server_id }]];
      if (sql.startsWith('SHOW GLOBAL VARIABLES')) return [Object.entries(vars).map(([Variable_name, Value]) => ({ Variable_name, Value }))];
      if (sql.startsWith('SHOW GRANTS')) return [grants.map((g) => ({ grant: g }))];
      if (sql.startsWith('SELECT CURRENT_USER()')) return [[{ u: 'bridge@%' }]];
      throw new Error(`unexpected query ${sql}`);
    },
  } as any;
}

describe('requirement check, MySQL side', () => {
  it('MySQL 8 with gtid_mode OFF and server_id 0 gets both named with their fixes', async () => {
    const report = await checkRequirements(
      mysqlServer(
        '8.0.36',
        { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_row_metadata: 'FULL', server_id: '0', gtid_mode: 'OFF' },
        ["GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `bridge`@`%`"],
      ),
      { schema: 'openmrs' },
    );
    expect(report.problems.map((p) => p.problem)).toEqual([
      expect.stringMatching(/server_id is 0/),
      expect.stringMatching(/gtid_mode is OFF/),
    ]);
    expect(report.problems[1].fix).toContain('SET GLOBAL gtid_mode = ON');
    expect(report.columnNames).toBe('binlog');
  });

  it('MySQL 8 with compressed transaction payloads is refused; a binlog without checksums gets a note', async () => {
    const report = await checkRequirements(
      mysqlServer(
        '8.0.36',
        {
          log_bin: 'ON',
          binlog_format: 'ROW',
          binlog_row_image: 'FULL',
          binlog_row_metadata: 'FULL',
          server_id: '3',
          gtid_mode: 'ON',
          binlog_transaction_compression: 'ON',
          binlog_checksum: 'NONE',
        },
        ['GRANT ALL PRIVILEGES ON *.* TO `bridge`@`%`'],
      ),
      { schema: 'openmrs' },
    );
    expect(report.problems.map((p) => p.fix)).toEqual([expect.stringContaining('SET GLOBAL binlog_transaction_compression = OFF')]);
    expect(report.notes.join(' ')).toMatch(/binlog_checksum is NONE/);
  });

  it('MySQL 5.7 has no binlog_row_metadata: names come from information_schema, and the report says so', async () => {
    const report = await checkRequirements(
      mysqlServer(
        '5.7.44-log',
        { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', server_id: '7', gtid_mode: 'ON' },
        ["GRANT SELECT ON `openmrs`.* TO 'bridge'@'%'", "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'bridge'@'%'"],
      ),
      { schema: 'openmrs' },
    );
    expect(report.problems).toEqual([]);
    expect(report.columnNames).toBe('information_schema');
    expect(report.notes.join(' ')).toMatch(/information_schema/);
  });
});
