/**
 * `npm run bench:capture`: capture throughput of our binlog client + decoder against @vlasky/zongji, in one run on
 * the same binlog.
 *
 * 1. Starts a throwaway MariaDB (binlog ROW/FULL/FULL), loads the real OpenMRS 2.6.4 schema.
 * 2. Writes an OpenMRS-shaped workload: BENCH_ROWS row changes (default 1,000,000) over obs, encounter, person_name
 *    and orders, ~10 per transaction (a multi-row INSERT of 9 rows plus one UPDATE or DELETE of an earlier row:
 *    90% inserts, 7% updates, 3% deletes), on 4 parallel connections.
 * 3. Reads the whole workload binlog over the replication protocol: with our BinlogReader (connection, decoder,
 *    transaction assembler: what the bridge runs), then with zongji (rows events only). Prints rows/s and the ratio.
 *    Also decodes the binlog files in memory with the bare decoder, to show the decoder's own ceiling.
 *
 * Environment: BENCH_ROWS (row changes), BENCH_SKIP_ZONGJI=1.
 */
import ZongJi from '@vlasky/zongji';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BinlogReader } from '../src/capture/index.js';
import { BinlogDecoder } from '../src/source/decoder/index.js';
import { binlogFiles, eventsOf } from '../test/support/binlog-files.js';
import { startMariaDb, type MariaDbServer } from '../test/support/mariadb.js';

const TOTAL_ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROWS_PER_TX = 10;
const WRITERS = 4;
const SCHEMA = 'openmrs';
const DUMP = '/work/shared/openmrs/openmrs-2.6.4-core.sql';
const dumpPath = process.env.BENCH_OPENMRS_DUMP ?? DUMP;

const uuid = (kind: number, n: number) =>
  `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const DT = "'2024-05-01 10:15:00'";

/** One INSERT of `n` rows into `table` starting at id `first`. */
function insertSql(table: string, first: number, n: number): string {
  const rows: string[] = [];
  for (let k = 0; k < n; k++) {
    const id = first + k;
    switch (table) {
      case 'obs':
        rows.push(
          `(${id},${(id % 5000) + 1},${(id % 900) + 1},${Math.floor(id / 10)},${DT},1,${(id % 300) / 3},` +
            `${id % 7 === 0 ? `'free text note ${id}'` : 'NULL'},1,${DT},0,'${uuid(1, id)}','FINAL')`,
        );
        break;
      case 'encounter':
        rows.push(`(${id},${(id % 8) + 1},${(id % 5000) + 1},1,${DT},1,${DT},0,${(id % 1000) + 1},'${uuid(2, id)}')`);
        break;
      case 'person_name':
        rows.push(`(${id},1,${(id % 5000) + 1},'Given${id}','Family${id % 997}',1,${DT},0,'${uuid(3, id)}')`);
        break;
      default:
        rows.push(
          `(${id},2,${(id % 900) + 1},1,${Math.floor(id / 10)},'take ${id % 4} tablets',${DT},1,${DT},0,` +
            `${(id % 5000) + 1},'${uuid(4, id)}','ROUTINE','ORD-${id}','NEW',1)`,
        );
    }
  }
  const cols: Record<string, string> = {
    obs:
      '(obs_id,person_id,concept_id,encounter_id,obs_datetime,location_id,value_numeric,value_text,creator,' +
      'date_created,voided,uuid,status)',
    encounter:
      '(encounter_id,encounter_type,patient_id,location_id,encounter_datetime,creator,date_created,voided,visit_id,uuid)',
    person_name: '(person_name_id,preferred,person_id,given_name,family_name,creator,date_created,voided,uuid)',
    orders:
      '(order_id,order_type_id,concept_id,orderer,encounter_id,instructions,date_activated,creator,date_created,' +
      'voided,patient_id,uuid,urgency,order_number,order_action,care_setting)',
  };
  return `INSERT INTO ${table} ${cols[table]} VALUES ${rows.join(',')}`;
}

const PK: Record<string, string> = {
  obs: 'obs_id',
  encounter: 'encounter_id',
  person_name: 'person_name_id',
  orders: 'order_id',
};
/** Transaction kinds in a cycle of 10: obs-heavy, like a clinic's day. */
const CYCLE = ['obs', 'obs', 'obs', 'obs', 'obs', 'obs', 'encounter', 'encounter', 'person_name', 'orders'];

/** The statements of transaction `t` (0-based): 9 inserts, then an update (70%) or a delete (30%). */
function transaction(t: number): string {
  const table = CYCLE[t % CYCLE.length];
  // Ids are disjoint per transaction: tx t owns ids t*9+1 .. t*9+9 of its table.
  const first = t * 9 + 1;
  const stmts = [insertSql(table, first, 9)];
  const pk = PK[table];
  if (t % 10 < 7) {
    const col = table === 'obs' ? 'value_numeric = value_numeric + 1' : 'voided = 1, void_reason = "bench"';
    stmts.push(`UPDATE ${table} SET ${col} WHERE ${pk} = ${first}`);
  } else {
    stmts.push(`DELETE FROM ${table} WHERE ${pk} = ${first + 8}`);
  }
  return `BEGIN; ${stmts.join('; ')}; COMMIT`;
}

async function writeWorkload(db: MariaDbServer, transactions: number): Promise<void> {
  let next = 0;
  const writer = async () => {
    const conn = await db.connect(SCHEMA);
    await conn.query('SET SESSION foreign_key_checks = 0, unique_checks = 0');
    try {
      for (;;) {
        const batch: string[] = [];
        while (batch.length < 20 && next < transactions) batch.push(transaction(next++));
        if (batch.length === 0) return;
        await conn.query(batch.join('; '));
      }
    } finally {
      await conn.end();
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

async function currentFile(db: MariaDbServer): Promise<string> {
  const [status] = await db.query('SHOW MASTER STATUS');
  return status.File as string;
}

/** Rows per wall-clock second, and per CPU-second of this process (robust to a machine shared with others). */
interface Rate {
  rows: number;
  wall: number;
  cpu: number;
}

function rate(rows: number, t0: number, c0: NodeJS.CpuUsage): Rate {
  const cpu = process.cpuUsage(c0);
  return { rows, wall: rows / ((performance.now() - t0) / 1000), cpu: rows / ((cpu.user + cpu.system) / 1e6) };
}

async function benchReader(db: MariaDbServer, file: string, expected: number): Promise<Rate> {
  const reader = new BinlogReader({
    source: { url: db.url() },
    serverId: 4_200_000_001,
    start: `binlog:${file}:4`,
    includeSchemas: [SCHEMA],
    checkServerId: false,
  });
  await reader.start();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let rows = 0;
  for await (const tx of reader) {
    rows += tx.rowCount;
    if (rows >= expected) break;
  }
  const r = rate(rows, t0, c0);
  reader.close();
  return r;
}

async function benchZongji(db: MariaDbServer, file: string, expected: number): Promise<Rate> {
  const zongji = new ZongJi({ host: db.host, port: db.port, user: db.user, password: db.password, dateStrings: true });
  let rows = 0;
  let t0 = 0;
  let c0 = process.cpuUsage();
  try {
    await new Promise<void>((resolve, reject) => {
      zongji.on('error', reject);
      zongji.on('binlog', (evt: any) => {
        if (t0 === 0) {
          t0 = performance.now();
          c0 = process.cpuUsage();
        }
        const r = evt.rows;
        if (r) rows += r.length;
        if (rows >= expected) resolve();
      });
      zongji.start({
        serverId: 4_200_000_002,
        filename: file,
        position: 4,
        includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
        includeSchema: { [SCHEMA]: true },
      });
    });
    return rate(rows, t0, c0);
  } finally {
    zongji.stop();
  }
}

/** Decodes the workload's binlog files (read into memory first) with the bare decoder: the decoder's own ceiling. */
async function benchDecoderOnly(db: MariaDbServer, file: string): Promise<Rate> {
  await db.query('FLUSH BINARY LOGS');
  const names = (await binlogFiles(db)).filter((n) => n >= file);
  const buffers = await Promise.all(names.map((n) => readFile(join(db.datadir, 'data', n))));
  const decoder = new BinlogDecoder();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let rows = 0;
  for (let i = 0; i < buffers.length; i++) {
    for (const e of eventsOf(names[i], buffers[i])) {
      const ev = decoder.decode(e.buf, e.offset, e.length);
      if (ev.kind === 'rows' && ev.table.schema === SCHEMA) rows += ev.rows.length;
    }
  }
  return rate(rows, t0, c0);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const cpus = availableParallelism();

async function main(): Promise<void> {
  const transactions = Math.ceil(TOTAL_ROWS / ROWS_PER_TX);
  const expected = transactions * ROWS_PER_TX;
  console.log(`bench:capture: ${fmt(expected)} row changes in ${fmt(transactions)} transactions`);
  const db = await startMariaDb();
  try {
    await db.loadDump(SCHEMA, dumpPath);
    await db.query('FLUSH BINARY LOGS');
    const file = await currentFile(db);
    const t0 = performance.now();
    await writeWorkload(db, transactions);
    console.log(`  workload written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const logs = (await db.query('SHOW BINARY LOGS')) as Array<{ Log_name: string; File_size: number }>;
    const bytes = logs.filter((l) => l.Log_name >= file).reduce((a, l) => a + Number(l.File_size), 0);
    console.log(`  binlog: ${(bytes / 1e6).toFixed(0)} MB from ${file}`);

    const load = loadavg()[0].toFixed(1);
    const ours = await benchReader(db, file, expected);
    console.log(
      `  ours   (BinlogReader: connection + decoder + transactions): ${fmt(ours.wall)} rows/s ` +
        `(${fmt(ours.cpu)} rows per CPU-second of this process)`,
    );
    if (!process.env.BENCH_SKIP_ZONGJI) {
      const theirs = await benchZongji(db, file, expected);
      console.log(
        `  zongji (@vlasky/zongji 0.9, rows events):               ${fmt(theirs.wall)} rows/s ` +
          `(${fmt(theirs.cpu)} rows per CPU-second)`,
      );
      console.log(
        `  ratio ours/zongji: ${(ours.wall / theirs.wall).toFixed(2)}x wall-clock, ` +
          `${(ours.cpu / theirs.cpu).toFixed(2)}x per CPU-second`,
      );
    }
    const only = await benchDecoderOnly(db, file);
    console.log(
      `  decoder only (binlog files in memory, ${fmt(only.rows)} rows): ${fmt(only.wall)} rows/s ` +
        `(${fmt(only.cpu)} rows per CPU-second)`,
    );
    console.log(
      `  machine: ${cpus} cores, load average ${load} at the start of the reads, ${loadavg()[0].toFixed(1)} at the end`,
    );
  } finally {
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
