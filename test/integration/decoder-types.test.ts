/**
 * Type matrix: every column type and charset, edge values, inserted, updated and deleted on a real MariaDB; the rows
 * decoded from its binlog files equal what SELECT returned. Also: partial row images (columns-present bitmaps),
 * MariaDB compressed events, and a TABLE_MAP without column names (information_schema fallback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { BinlogReader } from '../../src/capture/index.js';
import { BinlogDecoder, EventType } from '../../src/source/decoder/index.js';
import type { ResolvedColumn } from '../../src/source/decoder/index.js';
import type { BinlogEvent, RowImage } from '../../src/source/types.js';
import { readAllEvents } from '../support/binlog-files.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { diffRow } from '../support/matrix-compare.js';
import { MATRIX_SCHEMA, MATRIX_TABLES, runMatrix, type Snapshot } from '../support/type-matrix.js';

type RowsEvent = Extract<BinlogEvent, { kind: 'rows' }>;
type TableMapEvent = Extract<BinlogEvent, { kind: 'table_map' }>;

let db: MariaDbServer;
let snaps: Snapshot[];
let rowsEvents: RowsEvent[];
let tableMaps: TableMapEvent[];
let typeCodes: number[];
let formatEvents: Array<Extract<BinlogEvent, { kind: 'format' }>>;
let allEvents: BinlogEvent[];
let minimalColumns: ResolvedColumn[];
let partialBefore: Record<string, unknown>;
let partialAfter: Record<string, unknown>;
let compressedRows: Record<string, unknown>[];

/** Decodes every event of the server's binlog files with one decoder (and an optional name resolver). */
async function decodeAll(
  resolver?: (s: string, t: string) => ResolvedColumn[] | undefined,
  compile = true,
): Promise<BinlogEvent[]> {
  const decoder = new BinlogDecoder({ resolveColumnNames: resolver, compile });
  return (await readAllEvents(db)).map((e) => decoder.decode(e.buf, e.offset, e.length));
}

async function withConn<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await db.connect();
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  db = await startMariaDb();
  snaps = await withConn((c) => runMatrix(c));

  await withConn(async (c) => {
    await c.query(`USE ${MATRIX_SCHEMA}`);
    // Partial images: MINIMAL logs the primary key as the before image and only changed columns after.
    await c.query(`CREATE TABLE part_img (id INT PRIMARY KEY, a INT, b VARCHAR(20), bl BLOB)`);
    await c.query(`INSERT INTO part_img VALUES (1, 10, 'ten', X'0A')`);
    [[partialBefore]] = (await c.query('SELECT * FROM part_img WHERE id = 1')) as any;
    await c.query(`SET SESSION binlog_row_image = 'MINIMAL'`);
    await c.query(`UPDATE part_img SET b = 'eleven' WHERE id = 1`);
    [[partialAfter]] = (await c.query('SELECT * FROM part_img WHERE id = 1')) as any;
    await c.query(`SET SESSION binlog_row_image = 'FULL'`);
  });

  // Compressed events (MariaDB log_bin_compress): rows and query events above the minimum length are zlib'd.
  await db.query(`SET GLOBAL log_bin_compress = ON, GLOBAL log_bin_compress_min_len = 10`);
  await withConn(async (c) => {
    await c.query(`USE ${MATRIX_SCHEMA}`);
    await c.query(`CREATE TABLE comp (id INT PRIMARY KEY, txt VARCHAR(300), n BIGINT UNSIGNED)`);
    await c.query(
      `INSERT INTO comp VALUES (1, REPEAT('compress me ', 20), 18446744073709551615), (2, 'é€😀', 0), (3, NULL, 42)`,
    );
    await c.query(`UPDATE comp SET txt = CONCAT(txt, '!') WHERE id = 2`);
    [compressedRows] = (await c.query('SELECT * FROM comp ORDER BY id')) as any;
  });
  await db.query(`SET GLOBAL log_bin_compress = OFF`);

  // A TABLE_MAP without column names: binlog_row_metadata MINIMAL (still signedness and charsets).
  await db.query(`SET GLOBAL binlog_row_metadata = 'MINIMAL'`);
  await withConn(async (c) => {
    await c.query(`USE ${MATRIX_SCHEMA}`);
    await c.query(`CREATE TABLE nometa (id INT PRIMARY KEY, name VARCHAR(20), u INT UNSIGNED, e ENUM('p','q'))`);
    await c.query(`INSERT INTO nometa VALUES (1, 'zoë', 4294967295, 'q')`);
    const [cols] = (await c.query(
      `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'nometa' ORDER BY ORDINAL_POSITION`,
      [MATRIX_SCHEMA],
    )) as any;
    minimalColumns = cols.map((col: { name: string; type: string }) => ({
      name: col.name,
      enumValues: col.type.startsWith('enum(') ? ['p', 'q'] : undefined,
    }));
  });
  await db.query(`SET GLOBAL binlog_row_metadata = 'FULL'`);

  // A binlog file without checksums (binlog_checksum changed at runtime rotates to a file whose FDE says so).
  await db.query(`SET GLOBAL binlog_checksum = 'NONE'`);
  await withConn(async (c) => {
    await c.query(`USE ${MATRIX_SCHEMA}`);
    await c.query(`CREATE TABLE nocrc (id INT PRIMARY KEY, v VARCHAR(20))`);
    await c.query(`INSERT INTO nocrc VALUES (1, 'no checksum'), (2, 'ünïcödé')`);
  });
  await db.query(`SET GLOBAL binlog_checksum = 'CRC32'`);

  const events = await decodeAll();
  allEvents = events;
  typeCodes = events.map((e) => e.header.typeCode);
  formatEvents = events.filter((e): e is Extract<BinlogEvent, { kind: 'format' }> => e.kind === 'format');
  rowsEvents = events.filter((e): e is RowsEvent => e.kind === 'rows' && e.table.schema === MATRIX_SCHEMA);
  tableMaps = events.filter((e): e is TableMapEvent => e.kind === 'table_map' && e.table.schema === MATRIX_SCHEMA);
});

afterAll(async () => {
  await db?.stop();
});

function idOf(image: RowImage | null): number {
  return Number(image!.id);
}

describe('decoder type matrix (MariaDB binlog files)', () => {
  it('decodes every inserted, updated and deleted row equal to SELECT', () => {
    const [afterInsert, afterUpdate, afterDelete] = snaps;
    const diffs: string[] = [];
    const seen = { insert: new Set<string>(), update: new Set<string>(), delete: new Set<string>() };
    for (const ev of rowsEvents) {
      const t = ev.table.table;
      if (!MATRIX_TABLES.includes(t)) continue;
      for (const r of ev.rows) {
        const id = idOf(r.after ?? r.before);
        seen[ev.op].add(`${t}:${id}`);
        if (ev.op === 'insert') diffs.push(...diffRow(t, r.after!, afterInsert.get(t)!.get(id)!));
        if (ev.op === 'update') {
          diffs.push(...diffRow(t, r.before!, afterInsert.get(t)!.get(id)!));
          diffs.push(...diffRow(t, r.after!, afterUpdate.get(t)!.get(id)!));
        }
        if (ev.op === 'delete') diffs.push(...diffRow(t, r.before!, afterUpdate.get(t)!.get(id)!));
      }
    }
    expect(diffs).toEqual([]);

    // Every row change is there: inserts = rows after stage 1, updates = rows that changed, deletes = rows gone.
    const expected = { insert: new Set<string>(), update: new Set<string>(), delete: new Set<string>() };
    for (const t of MATRIX_TABLES) {
      for (const [id, row] of afterInsert.get(t)!) {
        expected.insert.add(`${t}:${id}`);
        const updated = afterUpdate.get(t)!.get(id);
        if (JSON.stringify(updated) !== JSON.stringify(row)) expected.update.add(`${t}:${id}`);
        if (!afterDelete.get(t)!.has(id)) expected.delete.add(`${t}:${id}`);
      }
    }
    expect([...seen.insert].sort()).toEqual([...expected.insert].sort());
    expect([...seen.update].sort()).toEqual([...expected.update].sort());
    expect([...seen.delete].sort()).toEqual([...expected.delete].sort());
    expect(expected.update.size).toBeGreaterThan(5);
  });

  it('decodes the same through the generic loop as through the compiled per-table decoders', async () => {
    const generic = (await decodeAll(undefined, false)).filter(
      (e): e is RowsEvent => e.kind === 'rows' && e.table.schema === MATRIX_SCHEMA,
    );
    expect(generic.length).toBe(rowsEvents.length);
    expect(generic.map((e) => e.rows)).toEqual(rowsEvents.map((e) => e.rows));
  });

  it('reads column names, primary key, signedness, charsets and ENUM/SET labels from the TABLE_MAP', () => {
    const types = tableMaps.find((e) => e.table.table === 'types')!.table;
    expect(types.namesFrom).toBe('binlog');
    expect(types.primaryKey).toEqual(['id']);
    const col = (name: string) => types.columns.find((c) => c.name === name)!;
    expect(col('biu').unsigned).toBe(true);
    expect(col('bi').unsigned).toBe(false);
    expect(col('dec_u').unsigned).toBe(true);
    expect(col('e').enumValues).toEqual(['a', 'b', 'ç€', '😀']);
    expect(col('s').setValues).toEqual(['x', 'y', 'z', 'w']);
    expect(col('vb').collation).toBe(63);
    const latin = tableMaps.find((e) => e.table.table === 'latin')!.table;
    expect(latin.columns.find((c) => c.name === 'e')!.enumValues).toEqual(['é', '€uro', 'plain']);
    expect(latin.columns.find((c) => c.name === 'vc')!.collation).toBe(8); // latin1_swedish_ci
    // The pre-5.6 temporal formats really are in this binlog: DATETIME 12, TIME 11, TIMESTAMP 7.
    const old = tableMaps.find((e) => e.table.table === 'old_temporal')!.table;
    expect(old.columns.map((c) => c.type)).toEqual([3, 12, 11, 7, 10]);
  });

  it('values in the documented representation', () => {
    const row2 = rowsEvents.find((e) => e.op === 'insert' && e.table.table === 'types' && idOf(e.rows[0].after) === 2)!
      .rows[0].after!;
    expect(row2.biu).toBe('18446744073709551615');
    expect(row2.bi).toBe('9223372036854775807');
    expect(row2.iu).toBe(4294967295);
    expect(row2.ts6).toBe('2038-01-19 03:14:07.999999');
    expect(row2.tm3).toBe('838:59:59.000');
    expect(row2.f).toBe(3.14);
    expect(Buffer.isBuffer(row2.bn)).toBe(true);
    const row4 = rowsEvents.find((e) => e.op === 'insert' && e.table.table === 'types' && idOf(e.rows[0].after) === 4)!
      .rows[0].after!;
    expect(row4.bi).toBe('9007199254740993');
    expect(row4.biu).toBe(9007199254740991); // the largest safe integer stays a number
    expect(rowsEvents.some((e) => e.rows.some((r) => r.after?.biu === '18446744073709551614'))).toBe(true);
    expect(row4.tm6).toBe('-00:00:00.123456');
    expect(row4.c).toBe('😀𝄞');
  });

  it('handles partial images through the columns-present bitmaps (binlog_row_image=MINIMAL)', () => {
    const upd = rowsEvents.find((e) => e.table.table === 'part_img' && e.op === 'update')!;
    expect(upd.rows).toHaveLength(1);
    expect(upd.rows[0].before).toEqual({ id: partialBefore.id });
    expect(upd.rows[0].after).toEqual({ b: partialAfter.b });
    const ins = rowsEvents.find((e) => e.table.table === 'part_img' && e.op === 'insert')!;
    expect(ins.rows[0].after).toEqual({ ...partialBefore, bl: Buffer.from([0x0a]) });
  });

  it('decodes MariaDB compressed rows events', () => {
    const compressed = typeCodes.filter(
      (t) => t >= EventType.WRITE_ROWS_COMPRESSED_V1 && t <= EventType.DELETE_ROWS_COMPRESSED,
    );
    expect(compressed.length).toBeGreaterThanOrEqual(2);
    expect(typeCodes).toContain(EventType.QUERY_COMPRESSED);
    const comp = rowsEvents.filter((e) => e.table.table === 'comp');
    const inserted = comp.find((e) => e.op === 'insert')!.rows.map((r) => r.after!);
    const updated = comp.find((e) => e.op === 'update')!.rows[0];
    const selected = compressedRows.map((r) => ({ ...r, n: String(r.n) }));
    expect(inserted.map((r) => ({ ...r, n: String(r.n) }))[0]).toEqual(selected[0]);
    expect(inserted[2]).toEqual({ id: 3, txt: null, n: 42 });
    expect(updated.after).toEqual({ ...compressedRows[1], n: 0 });
  });

  it('decodes MariaDB GTID (162) with its flags, XID and GTID_LIST (163) at each new file', () => {
    let last: string | undefined;
    let lists = 0;
    let expectedSeq = 1;
    for (let i = 0; i < allEvents.length; i++) {
      const e = allEvents[i];
      if (e.kind === 'gtid') {
        expect(e.flavor).toBe('mariadb');
        expect(e.gtid).toBe(`0-1-${expectedSeq++}`);
        const next = allEvents[i + 1];
        // A standalone group (DDL, no BEGIN) is its statement; a transactional one starts with rows or BEGIN.
        if (e.standalone) expect(next.kind === 'query' && next.query !== 'BEGIN').toBe(true);
        expect(((e.flags ?? 0) & 1) === 1).toBe(e.standalone);
        last = e.gtid;
      } else if (e.kind === 'gtid_list') {
        // Each file opens with the binlog state: the last GTID written before it.
        expect(e.gtids).toEqual(last ? [last] : []);
        lists++;
      }
    }
    expect(lists).toBeGreaterThanOrEqual(3);
    expect(allEvents.filter((e) => e.kind === 'xid').length).toBeGreaterThan(10);
  });

  it('follows the checksum setting of each file (one written with binlog_checksum=NONE)', () => {
    const formats = formatEvents.map((f) => f.checksumAlg);
    expect(formats).toContain(0);
    expect(formats).toContain(1);
    const rows = rowsEvents.find((e) => e.table.table === 'nocrc')!.rows.map((r) => r.after);
    expect(rows).toEqual([
      { id: 1, v: 'no checksum' },
      { id: 2, v: 'ünïcödé' },
    ]);
  });

  it('names columns through the resolver when the TABLE_MAP has none, and by position without one', async () => {
    const plain = rowsEvents.find((e) => e.table.table === 'nometa')!;
    expect(plain.table.namesFrom).toBe('position');
    expect(plain.rows[0].after).toEqual({ '@1': 1, '@2': 'zoë', '@3': 4294967295, '@4': 2 });
    const asked: string[] = [];
    const events = await decodeAll((schema, table) => {
      asked.push(`${schema}.${table}`);
      return table === 'nometa' ? minimalColumns : undefined;
    });
    const resolved = events.find((e): e is RowsEvent => e.kind === 'rows' && e.table.table === 'nometa')!;
    expect(resolved.table.namesFrom).toBe('information_schema');
    expect(resolved.rows[0].after).toEqual({ id: 1, name: 'zoë', u: 4294967295, e: 'q' });
    expect(asked).toContain(`${MATRIX_SCHEMA}.nometa`);
    expect(asked).not.toContain(`${MATRIX_SCHEMA}.types`); // FULL metadata needs no lookup
  });

  it('decodes the same rows over the live replication stream (BinlogReader) as from the files', async () => {
    const fromFiles = rowsEvents.flatMap((e) =>
      e.rows.map((r) => ({ table: e.table.table, op: e.op, before: r.before, after: r.after })),
    );
    const reader = new BinlogReader({
      source: { url: db.url() },
      serverId: 4_100_000_002,
      start: 'earliest',
      includeSchemas: [MATRIX_SCHEMA],
      checkServerId: false,
    });
    const live: typeof fromFiles = [];
    try {
      for await (const tx of reader) {
        for (const r of tx.rows ?? []) live.push({ table: r.table, op: r.op, before: r.before, after: r.after });
        if (live.length >= fromFiles.length) break;
      }
    } finally {
      reader.close();
    }
    expect(live).toEqual(fromFiles);
  });
});
