/**
 * `npm run bench:domain`: what the domain mapping costs on top of capture, in one run on the same binlog.
 *
 * 1. Starts a throwaway MariaDB (binlog ROW/FULL/FULL), loads the OpenMRS 2.6.4 core schema, seeds the statement
 *    library's metadata and BENCH_PATIENTS patients (person + patient + name).
 * 2. Writes an OpenMRS-shaped workload of BENCH_ROWS row changes (default 300,000) on 4 connections, each transaction
 *    what saveEncounter writes: an encounter, its encounter_provider and 8 obs (one with a group member), and every
 *    fifth transaction also an obs edit of an earlier obs (insert with previous_version + void of the old one).
 * 3. Reads the workload's binlog twice with the capture BinlogReader: capture only (count rows), then capture plus the
 *    EventMapper (references resolved through the LRU and batched queries to the source, times converted from
 *    Africa/Nairobi). Prints rows/s of the first, events/s of the second, and their ratio.
 *
 * Environment: BENCH_ROWS, BENCH_PATIENTS (default 5,000).
 */
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import { BinlogReader } from '../src/capture/index.js';
import type { Transaction } from '../src/capture/types.js';
import { EventMapper, MysqlReferenceLookup, type TransactionEvents } from '../src/domain/index.js';
import { seedMetadata, type SeedMeta } from '../demo/openmrs/actions.js';
import { startMariaDb, type MariaDbServer } from '../test/support/mariadb.js';

const TOTAL_ROWS = Number(process.env.BENCH_ROWS ?? 300_000);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 5_000);
const WRITERS = 4;
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 64);
const KEEP = process.env.BENCH_KEEP === '1';
const SCHEMA = 'openmrs';
const DUMP = process.env.OPENMRS_CORE_DUMP ?? '/work/shared/openmrs/openmrs-2.6.4-core.sql';
const DT = "'2026-11-29 10:15:00'";
const uuid = (kind: number, n: number) =>
  `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

async function seedPatients(conn: mysql.Connection): Promise<void> {
  for (let first = 1; first <= PATIENTS; first += 1000) {
    const ids = Array.from({ length: Math.min(1000, PATIENTS - first + 1) }, (_, k) => 100_000 + first + k);
    await conn.query(
      `INSERT INTO person (person_id, gender, birthdate, creator, date_created, voided, uuid) VALUES ${ids.map((id) => `(${id},'F','1990-01-01',1,${DT},0,'${uuid(9, id)}')`).join(',')}`,
    );
    await conn.query(
      `INSERT INTO patient (patient_id, creator, date_created, voided) VALUES ${ids.map((id) => `(${id},1,${DT},0)`).join(',')}`,
    );
    await conn.query(
      `INSERT INTO person_name (preferred, person_id, given_name, family_name, creator, date_created, voided, uuid) VALUES ${ids.map((id) => `(1,${id},'Given${id}','Family${id % 97}',1,${DT},0,'${uuid(10, id)}')`).join(',')}`,
    );
  }
}

/** One writer: transactions of encounter + provider + 8 obs (+ an obs edit every 5th), until `rows` row changes. */
async function writer(server: MariaDbServer, meta: SeedMeta, w: number, rows: number): Promise<number> {
  const conn = await server.connect(SCHEMA);
  const c = meta.concepts;
  const numeric = [c.weight, c.height, c.temperature];
  let written = 0;
  let tx = 0;
  let lastObs: number[] = [];
  try {
    while (written < rows) {
      tx++;
      const n = w * 10_000_000 + tx;
      const patient = 100_001 + ((n * 7919) % PATIENTS);
      const encounterId = n;
      await conn.beginTransaction();
      await conn.query(
        `INSERT INTO encounter (encounter_id, encounter_type, patient_id, location_id, encounter_datetime, creator, date_created, voided, uuid) VALUES (${encounterId},${meta.encounterTypeId},${patient},${meta.locationId},${DT},1,${DT},0,'${uuid(2, n)}')`,
      );
      await conn.query(
        `INSERT INTO encounter_provider (encounter_id, provider_id, encounter_role_id, creator, date_created, voided, uuid) VALUES (${encounterId},${meta.providerId},1,1,${DT},0,'${uuid(3, n)}')`,
      );
      const obsRows: string[] = [];
      for (let k = 0; k < 8; k++) {
        const obsId = n * 10 + k;
        const group = k === 7 ? n * 10 + 6 : 'NULL';
        const concept = k === 6 ? c.vitals : k === 5 ? c.note : numeric[k % 3];
        const value = k === 5 ? `NULL,'note ${n}'` : k === 6 ? 'NULL,NULL' : `${36 + (k % 3)},NULL`;
        obsRows.push(
          `(${obsId},${patient},${concept},${encounterId},${DT},${meta.locationId},${group},${value},1,${DT},0,'${uuid(1, obsId)}','FINAL')`,
        );
      }
      await conn.query(
        `INSERT INTO obs (obs_id, person_id, concept_id, encounter_id, obs_datetime, location_id, obs_group_id, value_numeric, value_text, creator, date_created, voided, uuid, status) VALUES ${obsRows.join(',')}`,
      );
      written += 10;
      if (tx % 5 === 0 && lastObs.length) {
        const old = lastObs[0];
        const newId = n * 10 + 9;
        await conn.query(
          `INSERT INTO obs (obs_id, person_id, concept_id, encounter_id, obs_datetime, location_id, value_numeric, creator, date_created, voided, uuid, previous_version, status) SELECT ${newId}, person_id, concept_id, encounter_id, obs_datetime, location_id, value_numeric + 1, 1, ${DT}, 0, '${uuid(1, newId)}', obs_id, 'AMENDED' FROM obs WHERE obs_id = ${old}`,
        );
        await conn.query(
          `UPDATE obs SET voided = 1, voided_by = 1, date_voided = ${DT}, void_reason = 'changed' WHERE obs_id = ${old}`,
        );
        written += 2;
      }
      await conn.commit();
      lastObs = [n * 10];
    }
  } finally {
    await conn.end();
  }
  return written;
}

async function masterStatus(server: MariaDbServer): Promise<{ file: string; pos: number }> {
  const [s] = await server.query<Array<{ File: string; Position: number }>>('SHOW MASTER STATUS');
  return { file: s.File, pos: Number(s.Position) };
}

function after(a: { file: string; pos: number }, b: { file: string; pos: number }): boolean {
  return a.file > b.file || (a.file === b.file && a.pos >= b.pos);
}

/** Reads from `start` to `end` with a fresh reader; `onTx` sees every transaction. */
async function read(
  server: MariaDbServer,
  start: { file: string; pos: number },
  end: { file: string; pos: number },
  onTx: (tx: Transaction) => Promise<void> | void,
  onEnd?: () => Promise<void>,
): Promise<number> {
  const reader = new BinlogReader({
    source: { url: server.url() },
    serverId: 3000 + Math.floor(Math.random() * 10_000),
    start: `binlog:${start.file}:${start.pos}`,
    includeSchemas: [SCHEMA],
    checkServerId: false,
  });
  await reader.start();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for await (const tx of reader) {
    await onTx(tx);
    if (after(tx.end.binlog, end)) break;
  }
  await onEnd?.();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (process.env.BENCH_VERBOSE === '1') console.log('reader stats', reader.stats);
  lastCpuSeconds = (cpu.user + cpu.system) / 1e6;
  reader.close();
  return ms;
}

/**
 * With BENCH_PROFILE=<file>, CPU-profiles one pass alone, capture + mapping or (BENCH_PROFILE_PASS=capture) capture
 * only; open the file in Chrome DevTools or speedscope. `node --cpu-prof` would mix in the workload and the warm-up.
 */
async function startProfile(pass: 'capture' | 'mapping'): Promise<{ stop(): Promise<void> } | null> {
  const file = process.env.BENCH_PROFILE;
  if (!file || (process.env.BENCH_PROFILE_PASS ?? 'mapping') !== pass) return null;
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** CPU-seconds (user + system) of this process during the last `read`. */
let lastCpuSeconds = 0;

async function main(): Promise<void> {
  console.log(`bench:domain: ${TOTAL_ROWS.toLocaleString()} row changes, ${PATIENTS.toLocaleString()} patients`);
  const server = await startMariaDb();
  try {
    await server.loadDump(SCHEMA, DUMP);
    const conn = await server.connect(SCHEMA);
    const meta = await seedMetadata(conn);
    await seedPatients(conn);
    await conn.end();

    const start = await masterStatus(server);
    const tw = performance.now();
    const written = (
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(server, meta, w + 1, TOTAL_ROWS / WRITERS)))
    ).reduce((a, b) => a + b, 0);
    const end = await masterStatus(server);
    console.log(
      `workload: ${written.toLocaleString()} row changes written in ${((performance.now() - tw) / 1000).toFixed(1)} s`,
    );

    // Warm-up pass (JIT of reader and mapper, page cache), not measured; the measured mapper starts with a cold cache.
    {
      const warmPool = mysql.createPool({ uri: server.url(SCHEMA), connectionLimit: 2, dateStrings: true });
      const warm = new EventMapper({
        site: 'bench',
        schema: SCHEMA,
        timeZone: 'Africa/Nairobi',
        lookup: new MysqlReferenceLookup(warmPool, SCHEMA),
      });
      await read(server, start, end, async (tx) => {
        await warm.map(tx);
      });
      await warmPool.end();
    }

    let captureRows = 0;
    const kept: Transaction[] = [];
    const captureProfiler = await startProfile('capture');
    const captureMs = await read(server, start, end, (tx) => {
      captureRows += tx.rowCount;
      if (KEEP) kept.push(tx);
    });
    await captureProfiler?.stop();
    const captureCpu = lastCpuSeconds;

    const pool = mysql.createPool({ uri: server.url(SCHEMA), connectionLimit: 2, dateStrings: true });
    const mapper = new EventMapper({
      site: 'bench',
      schema: SCHEMA,
      timeZone: 'Africa/Nairobi',
      lookup: new MysqlReferenceLookup(pool, SCHEMA),
    });
    const profiler = await startProfile('mapping');
    let mappedRows = 0;
    let events = 0;
    const types = new Map<string, number>();
    // Up to 64 transactions mapped concurrently, results taken in commit order: their reference lookups share
    // queries (what the service does with the transactions the reader has buffered).
    const inflight: Array<Promise<TransactionEvents>> = [];
    const take = async () => {
      const out = await inflight.shift()!;
      events += out.events.length;
      for (const e of out.events) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    };
    const mapMs = await read(
      server,
      start,
      end,
      async (tx) => {
        mappedRows += tx.rowCount;
        inflight.push(mapper.map(tx));
        if (inflight.length >= INFLIGHT) await take();
      },
      async () => {
        while (inflight.length) await take();
      },
    );
    await profiler?.stop();
    if (KEEP) {
      // Diagnostic: the mapping alone, from transactions held in memory (warm cache).
      if (process.env.BENCH_KEEP_CLONE === '1')
        for (const tx of kept)
          tx.rows =
            tx.rows &&
            tx.rows.map((r) => ({ ...r, before: r.before && { ...r.before }, after: r.after && { ...r.after } }));
      for (let round = 0; round < Number(process.env.BENCH_KEEP_ROUNDS ?? 1); round++) {
        const t0 = performance.now();
        let n = 0;
        for (const tx of kept) n += (await mapper.map(tx)).events.length;
        const ms = performance.now() - t0;
        console.log(
          `mapping alone (in memory, warm cache): ${n.toLocaleString()} events in ${(ms / 1000).toFixed(2)} s = ${Math.round(n / (ms / 1000)).toLocaleString()} events/s`,
        );
      }
    }
    await pool.end();

    const mapCpu = lastCpuSeconds;
    const captureRate = captureRows / (captureMs / 1000);
    const eventRate = events / (mapMs / 1000);
    const mappedRowRate = mappedRows / (mapMs / 1000);
    const os = await import('node:os');
    console.log(`load average (1 min): ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
    console.log(
      `capture only:        ${captureRows.toLocaleString()} rows in ${(captureMs / 1000).toFixed(2)} s = ${Math.round(captureRate).toLocaleString()} rows/s (${Math.round(captureRows / captureCpu).toLocaleString()} rows per CPU-second)`,
    );
    console.log(
      `capture + mapping:   ${events.toLocaleString()} events (${mappedRows.toLocaleString()} rows) in ${(mapMs / 1000).toFixed(2)} s = ${Math.round(eventRate).toLocaleString()} events/s (${Math.round(events / mapCpu).toLocaleString()} events per CPU-second; ${Math.round(mappedRowRate).toLocaleString()} rows/s)`,
    );
    console.log(
      `events/s vs capture rows/s: ${((eventRate / captureRate) * 100).toFixed(0)}% wall-clock, ${((events / mapCpu / (captureRows / captureCpu)) * 100).toFixed(0)}% per CPU-second (target >= 50%)`,
    );
    console.log('events by type:', Object.fromEntries(types));
    console.log('reference resolution:', mapper.resolver.stats);
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
