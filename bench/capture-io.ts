/**
 * `npm run bench:capture-io`: the I/O path of the capture engine, apart from decoding.
 *
 * Writes an obs-shaped workload (BENCH_ROWS row changes, default 500,000, 10 per transaction) into a throwaway MariaDB,
 * then reads its binlog three times in one run:
 *   1. receive only: BinlogConnection (socket takeover, packet framing, CRC32 of every event), no decoding;
 *   2. the full BinlogReader (connection + decoder + transaction assembler), what the bridge runs;
 *   3. the full BinlogReader with a 1 MiB high-water mark and a consumer that pauses 1 ms every 1,000 transactions,
 *      to show what backpressure costs and that queued bytes stay under the mark.
 * Prints rows/s, MB/s and the I/O share of the full read.
 */
import { performance } from 'node:perf_hooks';
import { BinlogReader } from '../src/capture/index.js';
import { BinlogConnection } from '../src/source/connection.js';
import { startMariaDb } from '../test/support/mariadb.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 500_000);
const PER_TX = 10;

const db = await startMariaDb();
try {
  await db.query(
    'CREATE DATABASE openmrs; CREATE TABLE openmrs.obs (obs_id INT PRIMARY KEY, person_id INT NOT NULL, concept_id INT NOT NULL, ' +
      'encounter_id INT, obs_datetime DATETIME NOT NULL, value_numeric DOUBLE, value_text TEXT, creator INT NOT NULL, ' +
      'date_created DATETIME NOT NULL, voided TINYINT(1) NOT NULL DEFAULT 0, uuid CHAR(38) NOT NULL, status VARCHAR(16) NOT NULL)',
  );
  const t0 = performance.now();
  const writers = 4;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const c = await db.connect('openmrs');
      for (let first = w * PER_TX; first < ROWS; first += writers * PER_TX) {
        const values: string[] = [];
        for (let id = first; id < first + PER_TX; id++) {
          values.push(
            `(${id},${id % 5000},${id % 900},${Math.floor(id / 10)},'2024-05-01 10:15:00',${(id % 300) / 3},` +
              `${id % 7 === 0 ? `'free text note ${id}'` : 'NULL'},1,'2024-05-01 10:15:00',0,'${id.toString(16).padStart(36, '0')}','FINAL')`,
          );
        }
        await c.query(`INSERT INTO obs VALUES ${values.join(',')}`);
      }
      await c.end();
    }),
  );
  console.log(`wrote ${ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const [end] = await db.query<any[]>('SHOW MASTER STATUS');
  const [first] = await db.query<any[]>('SHOW BINARY LOGS');
  const atEnd = (file: string, pos: number) => file === end.File && pos >= end.Position;

  // 1. receive only
  let receiveSec: number;
  {
    const conn = await BinlogConnection.open({ url: db.url() }, { serverId: 901, from: { file: first.Log_name, pos: 4 } });
    const t = performance.now();
    let events = 0;
    outer: for (;;) {
      const batch = await conn.read();
      if (!batch) break;
      for (const e of batch) {
        events++;
        if (atEnd(conn.file, e.data.readUInt32LE(13))) break outer;
      }
    }
    receiveSec = (performance.now() - t) / 1000;
    console.log(
      `receive only (framing + CRC32): ${events} events, ${(conn.stats.bytes / 1e6).toFixed(1)} MB in ${receiveSec.toFixed(2)} s: ` +
        `${Math.round(ROWS / receiveSec).toLocaleString('en')} rows/s, ${(conn.stats.bytes / 1e6 / receiveSec).toFixed(0)} MB/s`,
    );
    conn.close();
  }
  // 2. and 3. the full reader
  for (const slow of [false, true]) {
    const r = new BinlogReader({
      source: { url: db.url() },
      serverId: slow ? 903 : 902,
      start: `binlog:${first.Log_name}:4`,
      includeSchemas: ['openmrs'],
      ...(slow ? { highWaterBytes: 1024 * 1024 } : {}),
    });
    await r.start();
    const t = performance.now();
    let rows = 0;
    let n = 0;
    for await (const tx of r) {
      rows += tx.rowCount;
      if (slow && ++n % 1000 === 0) await new Promise((res) => setTimeout(res, 1));
      if (atEnd(tx.end.binlog.file, tx.end.binlog.pos)) break;
    }
    const sec = (performance.now() - t) / 1000;
    r.close();
    const label = slow ? 'BinlogReader, 1 MiB high-water, slow consumer' : 'BinlogReader (connection + decoder + assembler)';
    console.log(
      `${label}: ${rows} rows in ${sec.toFixed(2)} s: ${Math.round(rows / sec).toLocaleString('en')} rows/s` +
        (slow ? `, socket paused ${r.stats.pauses} times, max queued ${(r.stats.maxQueuedBytes / 1024).toFixed(0)} KiB` : `, I/O share ${((receiveSec / sec) * 100).toFixed(0)}%`),
    );
  }
} finally {
  await db.stop();
}
