/**
 * `npm run bench:domain`: what the domain mapping costs on top of capture, in one run on the same binlog.
 *
 * 1. Starts a throwaway MariaDB (binlog ROW/FULL/FULL), loads the OpenMRS 2.6.4 core schema, seeds the statement
 *    library's metadata and BENCH_PATIENTS patients (person + patient + name).
 * 2. Writes an OpenMRS-shaped workload of BENCH_ROWS row changes (default 1,000,000) on 4 connections, each transaction
 *    what saveEncounter writes: an encounter, its encounter_provider and 8 obs (one with a group member), and every
 *    fifth transaction also an obs edit of an earlier obs (insert with previous_version + void of the old one).
 * 3. Reads the workload's binlog once to warm up, then BENCH_ROUNDS times (default 3) capture only (count rows)
 *    followed by capture plus the EventMapper through mapAhead, as the service maps (a new mapper each round: cold
 *    reference cache, lookups batched to the source, times converted from Africa/Nairobi). Prints each round and the
 *    medians: rows/s of capture only, events/s of capture + mapping, and their ratio; as a diagnostic, the same ratio
 *    over the second half of the rows alone, when the cold cache of the round has warmed (lookups are done by then).
 *
 * Environment: BENCH_ROWS, BENCH_PATIENTS (default 5,000), BENCH_ROUNDS, BENCH_INFLIGHT (default: the service's
 * MAP_AHEAD), BENCH_PROFILE(_PASS), BENCH_KEEP(_ROUNDS), BENCH_REUSE (see `workload`).
 */
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import { BinlogReader } from '../src/capture/index.js';
import type { Transaction } from '../src/capture/types.js';
import { EventMapper, mapAhead, MysqlReferenceLookup } from '../src/domain/index.js';
import { seedMetadata, type SeedMeta } from '../demo/openmrs/actions.js';
import { startMariaDb, type MariaDbServer } from '../test/support/mariadb.js';
import { tuneV8 } from '../src/service/v8-tuning.js';
import { MAP_AHEAD } from '../src/service/transaction-source.js';

// The bridge process's V8 settings (src/cli.ts), so that the mapper runs here as it does there.
tuneV8();

const TOTAL_ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 5_000);
const WRITERS = 4;
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? MAP_AHEAD);
const KEEP = process.env.BENCH_KEEP === '1';
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
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

/**
 * A pool for the reference lookups as the service makes it (src/service/service.ts: 4 connections, one of them opened
 * at start-up, before any transaction is read). The cache is cold in each measured pass; the connection is not.
 */
async function lookupPool(server: Pick<MariaDbServer, 'url'>): Promise<mysql.Pool> {
  const pool = mysql.createPool({ uri: server.url(SCHEMA), connectionLimit: 4, dateStrings: true });
  (await pool.getConnection()).release();
  return pool;
}

/** Reads from `start` with a fresh reader, timed until `consume` returns (it stops at `end`). */
async function read(
  server: Pick<MariaDbServer, 'url'>,
  start: { file: string; pos: number },
  consume: (txs: AsyncIterable<Transaction>) => Promise<void>,
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
  await consume(reader);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (process.env.BENCH_VERBOSE === '1') console.log('reader stats', reader.stats);
  lastCpuSeconds = (cpu.user + cpu.system) / 1e6;
  reader.close();
  return ms;
}

/**
 * With BENCH_PROFILE=<file>, CPU-profiles one pass alone, capture + mapping or (BENCH_PROFILE_PASS=capture) capture
 * only, or (BENCH_PROFILE_PASS=keep, with BENCH_KEEP=1) the first mapping of the transactions held in memory; open the file in Chrome DevTools or speedscope. `node --cpu-prof` would mix in the workload and the warm-up.
 */
async function startProfile(pass: 'capture' | 'mapping' | 'keep'): Promise<{ stop(): Promise<void> } | null> {
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

/** One round's figures: a capture-only pass and a capture + mapping pass over the same binlog. */
interface Round {
  captureRows: number;
  captureRate: number;
  captureCpuRate: number;
  events: number;
  mappedRows: number;
  eventRate: number;
  eventCpuRate: number;
  queries: number;
  /** Events/s of the mapping pass over capture rows/s, both over the second half of the rows (the cache warm). */
  secondHalf: number;
}

/** The rate of a pass over the second half of the workload's rows: counted from the row halfway to the end. */
class Halves {
  private at = -1;
  private count = 0;
  private ms = 0;
  private total = 0;

  /** Called after each transaction: `rows` so far, `count` (rows or events) so far. */
  passed(rows: number, count: number): void {
    if (this.at < 0 && rows >= TOTAL_ROWS / 2) {
      this.at = performance.now();
      this.count = count;
    }
  }

  end(count: number): void {
    this.ms = performance.now() - this.at;
    this.total = count - this.count;
  }

  /** Per second, over the second half. */
  rate(): number {
    return this.total / (this.ms / 1000);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/** CPU-seconds (user + system) of this process during the last `read`. */
let lastCpuSeconds = 0;

async function main(): Promise<void> {
  console.log(`bench:domain: ${TOTAL_ROWS.toLocaleString()} row changes, ${PATIENTS.toLocaleString()} patients`);
  const { server, start, end, stop } = await workload();
  try {
    // Warm-up pass (JIT of reader and mapper, page cache), not measured; the measured mapper starts with a cold cache.
    {
      const warmPool = await lookupPool(server);
      const warm = new EventMapper({
        site: 'bench',
        schema: SCHEMA,
        timeZone: 'Africa/Nairobi',
        lookup: new MysqlReferenceLookup(warmPool, SCHEMA),
      });
      await read(server, start, async (txs) => {
        for await (const { tx } of mapAhead(txs, (t) => warm.mapNow(t), INFLIGHT)) if (after(tx.end.binlog, end)) break;
      });
      await warmPool.end();
    }

    const os = await import('node:os');
    const rounds: Round[] = [];
    let kept: Transaction[] = [];
    let last: { mapper: EventMapper; types: Record<string, number> } | null = null;
    for (let round = 1; round <= ROUNDS; round++) {
      // Capture only, then capture + mapping, alternating, so that both see the same state of the machine.
      let captureRows = 0;
      kept = [];
      const captureProfiler = round === ROUNDS ? await startProfile('capture') : null;
      const captureHalf = new Halves();
      const captureMs = await read(server, start, async (txs) => {
        for await (const tx of txs) {
          captureRows += tx.rowCount;
          captureHalf.passed(captureRows, captureRows);
          if (KEEP) kept.push(tx);
          if (after(tx.end.binlog, end)) break;
        }
        captureHalf.end(captureRows);
      });
      await captureProfiler?.stop();
      const captureCpu = lastCpuSeconds;

      // A new mapper each round: its reference cache starts cold.
      const pool = await lookupPool(server);
      const types: Record<string, number> = {};
      const mapper = new EventMapper({
        site: 'bench',
        schema: SCHEMA,
        timeZone: 'Africa/Nairobi',
        lookup: new MysqlReferenceLookup(pool, SCHEMA),
        metrics: { row() {}, mappingError() {}, produced: (type, n) => (types[type] = (types[type] ?? 0) + n) },
      });
      const profiler = round === ROUNDS ? await startProfile('mapping') : null;
      let mappedRows = 0;
      let events = 0;
      // The service's read-ahead: up to BENCH_INFLIGHT transactions mapped concurrently, taken in commit order, so
      // that the reference lookups of a cold cache share queries.
      const mapHalf = new Halves();
      const mapMs = await read(server, start, async (txs) => {
        for await (const { tx, events: out } of mapAhead(txs, (t) => mapper.mapNow(t), INFLIGHT)) {
          mappedRows += tx.rowCount;
          events += out.events.length;
          mapHalf.passed(mappedRows, events);
          if (after(tx.end.binlog, end)) break;
        }
        mapHalf.end(events);
      });
      await profiler?.stop();
      await pool.end();
      const r: Round = {
        captureRows,
        captureRate: captureRows / (captureMs / 1000),
        captureCpuRate: captureRows / captureCpu,
        events,
        mappedRows,
        eventRate: events / (mapMs / 1000),
        eventCpuRate: events / lastCpuSeconds,
        queries: mapper.resolver.stats.queries,
        secondHalf: mapHalf.rate() / captureHalf.rate(),
      };
      rounds.push(r);
      console.log(
        `round ${round}: capture ${Math.round(r.captureRate).toLocaleString()} rows/s (${Math.round(r.captureCpuRate).toLocaleString()} per CPU-s); ` +
          `capture + mapping ${Math.round(r.eventRate).toLocaleString()} events/s (${Math.round(r.eventCpuRate).toLocaleString()} per CPU-s); ` +
          `${pct(r.eventRate / r.captureRate)} wall-clock, ${pct(r.eventCpuRate / r.captureCpuRate)} per CPU-s; ` +
          `${r.queries} queries; second half of the rows ${pct(r.secondHalf)}; ` +
          `load ${os.loadavg()[0].toFixed(1)}`,
      );
      last = { mapper, types };
    }
    if (KEEP && last) {
      // Diagnostic: the mapping alone, from transactions held in memory (warm cache).
      const mapper = last.mapper;
      for (let round = 0; round < Number(process.env.BENCH_KEEP_ROUNDS ?? 1); round++) {
        const profiler = round === 0 ? await startProfile('keep') : null;
        const t0 = performance.now();
        let n = 0;
        for (const tx of kept) n += (await mapper.map(tx)).events.length;
        const ms = performance.now() - t0;
        await profiler?.stop();
        console.log(
          `mapping alone (in memory, warm cache): ${n.toLocaleString()} events in ${(ms / 1000).toFixed(2)} s = ${Math.round(n / (ms / 1000)).toLocaleString()} events/s`,
        );
      }
    }

    const med = (f: (r: Round) => number) => median(rounds.map(f));
    const r = rounds[rounds.length - 1];
    console.log(`load average (1 min): ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
    console.log(`medians of ${rounds.length} rounds:`);
    console.log(
      `capture only:        ${r.captureRows.toLocaleString()} rows, ${Math.round(med((x) => x.captureRate)).toLocaleString()} rows/s (${Math.round(med((x) => x.captureCpuRate)).toLocaleString()} rows per CPU-second)`,
    );
    console.log(
      `capture + mapping:   ${r.events.toLocaleString()} events (${r.mappedRows.toLocaleString()} rows), ${Math.round(med((x) => x.eventRate)).toLocaleString()} events/s (${Math.round(med((x) => x.eventCpuRate)).toLocaleString()} events per CPU-second)`,
    );
    console.log(
      `events/s vs capture rows/s: ${pct(med((x) => x.eventRate / x.captureRate))} wall-clock, ${pct(med((x) => x.eventCpuRate / x.captureCpuRate))} per CPU-second (target >= 50%)`,
    );
    console.log(
      `second half of the rows only (reference cache warm by then): ${pct(med((x) => x.secondHalf))} wall-clock (diagnostic)`,
    );
    console.log('events by type:', last!.types);
    console.log('reference resolution (last round):', last!.mapper.resolver.stats);
  } finally {
    await stop();
  }
}

type Position = { file: string; pos: number };

/**
 * A server holding the workload's binlog, from `start` to `end`. With BENCH_REUSE=<file>, the first run leaves its
 * server running and writes where it is to the file; later runs read that binlog again (for A/B comparisons of the
 * mapper without writing the workload each time; delete the file and stop the server when done).
 */
async function workload(): Promise<{
  server: Pick<MariaDbServer, 'url'>;
  start: Position;
  end: Position;
  stop(): Promise<void>;
}> {
  const reuse = process.env.BENCH_REUSE;
  if (reuse) {
    const { existsSync, readFileSync } = await import('node:fs');
    if (existsSync(reuse)) {
      const kept = JSON.parse(readFileSync(reuse, 'utf8')) as { url: string; start: Position; end: Position };
      console.log(`workload: reused from ${reuse}`);
      return { server: { url: (db = '') => kept.url + db }, start: kept.start, end: kept.end, stop: async () => {} };
    }
  }
  const server = await startMariaDb();
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
  if (reuse) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(reuse, JSON.stringify({ url: server.url(), start, end }));
    return { server, start, end, stop: async () => {} };
  }
  return { server, start, end, stop: () => server.stop() };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
