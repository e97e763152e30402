/**
 * The real OpenMRS databases (/work/shared/openmrs) load into the throwaway server while the capture engine reads the
 * binlog: every row change of every table decodes, keyed by the table's column names, as many rows per table as
 * SELECT COUNT(*) finds, and the values equal what SELECT returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinlogReader } from '../../src/capture/index.js';
import type { Transaction } from '../../src/capture/types.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';

const DUMPS = {
  core: process.env.OPENMRS_CORE_DUMP ?? '/work/shared/openmrs/openmrs-2.6.4-core.sql',
  refapp: process.env.OPENMRS_REFAPP_DUMP ?? '/work/shared/openmrs/refapp-2.x-demo-100-patients.sql',
};

let db: MariaDbServer;
const txs: Transaction[] = [];

beforeAll(async () => {
  db = await startMariaDb();
  const reader = new BinlogReader({
    source: { url: db.url() },
    serverId: 700,
    start: 'latest',
    includeSchemas: Object.keys(DUMPS),
  });
  await reader.start();
  const reading = (async () => {
    for await (const tx of reader) txs.push(tx);
  })();
  for (const [schema, file] of Object.entries(DUMPS)) await db.loadDump(schema, file);
  // A marker transaction after the loads: once it is read, everything before it is.
  await db.query('CREATE TABLE refapp.zz_capture_marker (id INT PRIMARY KEY); INSERT INTO refapp.zz_capture_marker VALUES (1)');
  const deadline = Date.now() + 60_000;
  while (!txs.some((t) => t.rows?.some((r) => r.table === 'zz_capture_marker')) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  reader.close();
  await reading;
}, 180_000);

afterAll(async () => {
  await db?.stop();
});

describe.each(Object.keys(DUMPS))('OpenMRS database %s through the capture engine', (schema) => {
  it('every row change decodes with the column names of its table, as many as the table holds', async () => {
    const columns = new Map<string, string[]>();
    const colRows = await db.query<any[]>(
      'SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION',
      [schema],
    );
    for (const r of colRows) columns.set(r.t, [...(columns.get(r.t) ?? []), r.c]);

    const perTable = new Map<string, number>();
    let changes = 0;
    for (const tx of txs) {
      for (const row of tx.rows ?? []) {
        if (row.schema !== schema || row.table === 'zz_capture_marker') continue;
        changes++;
        expect(row.op).toBe('insert');
        const names = Object.keys(row.after!);
        expect(names, `${schema}.${row.table}`).toEqual(columns.get(row.table));
        perTable.set(row.table, (perTable.get(row.table) ?? 0) + 1);
      }
    }
    for (const tx of txs) expect(tx.rows, 'no transaction of a dump load exceeds MAX_TX_ROWS').not.toBeNull();
    const counts = await db.query<any[]>(
      'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = "BASE TABLE"',
      [schema],
    );
    let selected = 0;
    for (const { t } of counts) {
      if (t === 'zz_capture_marker') continue;
      const [{ n }] = await db.query<any[]>(`SELECT COUNT(*) AS n FROM \`${schema}\`.\`${t}\``);
      expect(perTable.get(t) ?? 0, `${schema}.${t}`).toBe(Number(n));
      selected += Number(n);
    }
    expect(changes).toBe(selected);
    expect(changes).toBeGreaterThan(schema === 'refapp' ? 10_000 : 1_000);
  });

  it('the decoded values equal what SELECT returns, row by row, for every table', async () => {
    const conn = await db.connect(schema);
    try {
      await conn.query("SET time_zone = '+00:00'");
      const byTable = new Map<string, Array<Record<string, unknown>>>();
      for (const tx of txs) {
        for (const row of tx.rows ?? []) {
          if (row.schema === schema && row.table !== 'zz_capture_marker') {
            byTable.set(row.table, [...(byTable.get(row.table) ?? []), row.after!]);
          }
        }
      }
      let compared = 0;
      for (const [table, rows] of byTable) {
        // Rows come in insert order, and no dump row is changed after its insert: compare as sets keyed by JSON.
        const [selectedRows] = await conn.query<any[]>({ sql: `SELECT * FROM \`${table}\``, typeCast: castLikeDecoder });
        const key = (r: Record<string, unknown>) => JSON.stringify(r, (_k, v) => (v?.type === 'Buffer' ? `hex:${Buffer.from(v.data).toString('hex')}` : v));
        const want = new Set(selectedRows.map(key));
        for (const r of rows) {
          expect(want.has(key(r)), `${schema}.${table}: ${key(r).slice(0, 300)}`).toBe(true);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(1_000);
    } finally {
      await conn.end();
    }
  });
});

/** SELECT values in the decoder's representation (src/source/types.ts): exact strings for DECIMAL and big BIGINTs, dates as text. */
function castLikeDecoder(field: any, next: () => unknown): unknown {
  switch (field.type) {
    case 'NEWDECIMAL':
    case 'DECIMAL':
      return field.string();
    case 'LONGLONG': {
      const s = field.string();
      if (s === null) return null;
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : s;
    }
    case 'DATE':
    case 'DATETIME':
    case 'TIMESTAMP':
    case 'TIME':
      return field.string();
    case 'BIT':
      return field.buffer();
    default:
      return next();
  }
}
