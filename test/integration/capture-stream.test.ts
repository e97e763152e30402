/**
 * The capture engine against a real MariaDB: the live stream, DDL mid-stream, binlog rotation, heartbeats,
 * reconnects, kill -9 of a consumer process mid-transaction, backpressure, oversized transactions, corrupt bytes,
 * semi-sync ACKs, cursors and purged positions. One throwaway server for the whole file; each test uses its own schema
 * and starts at the binlog end, so tests do not see each other's rows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinlogReader, cursorFor, type BinlogReaderOptions } from '../../src/capture/index.js';
import type { Transaction } from '../../src/capture/types.js';
import { crc32 } from 'node:zlib';
import { BinlogConnection } from '../../src/source/connection.js';
import { framePacket, PacketFramer } from '../../src/source/packets.js';
import { ChecksumError, PurgedPositionError, ServerIdConflictError } from '../../src/source/errors.js';
import { freePort, startMariaDb, type MariaDbServer } from '../support/mariadb.js';

let db: MariaDbServer;
let nextServerId = 100;

beforeAll(async () => {
  db = await startMariaDb();
});
afterAll(async () => {
  await db?.stop();
});

function reader(schema: string, extra: Partial<BinlogReaderOptions> = {}): BinlogReader {
  return new BinlogReader({
    source: { url: db.url() },
    serverId: nextServerId++,
    start: 'latest',
    includeSchemas: [schema],
    heartbeatMs: 1000,
    ...extra,
  });
}

/** Pulls transactions until `done` says so (or the timeout), then closes the reader. */
async function collect(r: BinlogReader, done: (txs: Transaction[]) => boolean, timeoutMs = 30_000): Promise<Transaction[]> {
  const txs: Transaction[] = [];
  const timer = setTimeout(() => r.close(), timeoutMs);
  try {
    for await (const tx of r) {
      txs.push(tx);
      if (done(txs)) break;
    }
  } finally {
    clearTimeout(timer);
    r.close();
  }
  return txs;
}

const dml = (txs: Transaction[]) => txs.filter((t) => t.kind === 'dml');

/**
 * A TCP proxy in front of the test server that lets `tamper` see (and change) each chunk the server sends; returning
 * `{ cutAfter }` forwards those bytes and then cuts both connections.
 */
async function tamperingProxy(
  tamper: (chunk: Buffer, connection: number) => Buffer | { cutAfter: Buffer },
): Promise<{ url: string; connections(): number; close(): Promise<void> }> {
  const port = await freePort();
  const sockets: Socket[] = [];
  let connections = 0;
  const proxy: Server = createServer((client) => {
    const connection = connections++;
    const upstream = createConnection({ host: '127.0.0.1', port: db.port });
    sockets.push(client, upstream);
    client.pipe(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('data', (chunk: Buffer) => {
      const out = tamper(chunk, connection);
      if (Buffer.isBuffer(out)) client.write(out);
      else client.write(out.cutAfter, end);
    });
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((res) => proxy.listen(port, '127.0.0.1', res));
  return {
    url: `mysql://${db.user}:${db.password}@127.0.0.1:${port}/`,
    connections: () => connections,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((res) => proxy.close(res));
    },
  };
}

async function makeSchema(schema: string, ddl: string): Promise<void> {
  await db.query(`CREATE DATABASE ${schema}; USE ${schema}; ${ddl}`);
}

describe('capture engine on a live MariaDB binlog', () => {
  it('streams committed transactions with GTIDs, positions at boundaries and rows keyed by column name', async () => {
    await makeSchema('s_live', 'CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), n DECIMAL(6,2))');
    const r = reader('s_live');
    await r.start();
    const started = r.position!;
    const run = collect(r, (txs) => dml(txs).length >= 3);
    const c = await db.connect('s_live');
    await c.query("INSERT INTO t VALUES (1, 'a', 1.50), (2, 'b', -2.25)");
    await c.query('BEGIN');
    await c.query("UPDATE t SET name = 'c' WHERE id = 1");
    await c.query('DELETE FROM t WHERE id = 2');
    await c.query('COMMIT');
    await c.query('BEGIN');
    await c.query("INSERT INTO t VALUES (9, 'rolled back', 0)");
    await c.query('ROLLBACK');
    await c.query("INSERT INTO t VALUES (3, 'ü😀', 0)");
    await c.end();
    const txs = dml(await run);
    expect(txs.map((t) => t.rows!.map((x) => x.op))).toEqual([['insert', 'insert'], ['update', 'delete'], ['insert']]);
    expect(txs[0].rows![1].after).toEqual({ id: 2, name: 'b', n: '-2.25' });
    expect(txs[1].rows![0].before).toEqual({ id: 1, name: 'a', n: '1.50' });
    expect(txs[1].rows![0].after).toEqual({ id: 1, name: 'c', n: '1.50' });
    expect(txs[2].rows![0].after!.name).toBe('ü😀');
    for (const t of txs) {
      expect(t.gtid).toMatch(/^0-1-\d+$/);
      expect(t.end.gtidState).toBe(t.gtid);
      expect(t.end.binlog.pos).toBeGreaterThan(t.start.pos);
      expect(t.rows![0].schema).toBe('s_live');
    }
    // Consecutive: each transaction starts where the previous ended; the first after where we started.
    expect(txs[0].start.pos).toBeGreaterThanOrEqual(started.binlog.pos);
    expect(txs[1].start).toEqual(txs[0].end.binlog);
    expect(txs[1].startGtidState).toBe(txs[0].end.gtidState);
  });

  it('follows an ALTER TABLE mid-stream: rows before and after decode with their own columns', async () => {
    await makeSchema('s_alter', 'CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT)');
    const r = reader('s_alter');
    await r.start();
    const run = collect(r, (txs) => dml(txs).length >= 3);
    await db.query("INSERT INTO s_alter.t VALUES (1, 'x', 10)");
    await db.query('ALTER TABLE s_alter.t ADD COLUMN c VARCHAR(5) FIRST, DROP COLUMN a');
    await db.query("INSERT INTO s_alter.t (id, b, c) VALUES (2, 20, 'new')");
    await db.query('UPDATE s_alter.t SET b = 11 WHERE id = 1');
    const all = await run;
    const ddl = all.find((t) => t.kind === 'ddl');
    expect(ddl?.ddl?.query).toMatch(/ALTER TABLE/);
    const txs = dml(all);
    expect(txs[0].rows![0].after).toEqual({ id: 1, a: 'x', b: 10 });
    expect(txs[1].rows![0].after).toEqual({ c: 'new', id: 2, b: 20 });
    expect(txs[2].rows![0].before).toEqual({ c: null, id: 1, b: 10 });
  });

  it('loses nothing across FLUSH BINARY LOGS during the stream', async () => {
    await makeSchema('s_rotate', 'CREATE TABLE t (id INT PRIMARY KEY)');
    const r = reader('s_rotate');
    await r.start();
    const run = collect(r, (txs) => dml(txs).length >= 60);
    for (let i = 1; i <= 60; i++) {
      await db.query(`INSERT INTO s_rotate.t VALUES (${i})`);
      if (i % 20 === 0) await db.query('FLUSH BINARY LOGS');
    }
    const txs = dml(await run);
    expect(txs.map((t) => t.rows![0].after!.id)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(new Set(txs.map((t) => t.end.binlog.file)).size).toBeGreaterThanOrEqual(3);
  });

  it('tells a quiet server from a dead connection by its heartbeats', async () => {
    let beats = 0;
    const r = reader('s_none', { heartbeatMs: 200, onHeartbeat: () => beats++ });
    const run = collect(r, () => false, 1_500);
    await run;
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(r.stats.heartbeats).toBe(beats);
    expect(r.stats.reconnects).toBe(0);
  });

  it('declares a connection dead when neither events nor heartbeats arrive, and reconnects', async () => {
    await makeSchema('s_dead', 'CREATE TABLE t (id INT PRIMARY KEY)');
    // The proxy swallows everything the server sends on the connections open when `silenced` is set.
    let silenced = -1;
    const proxy = await tamperingProxy((chunk, connection) => (connection < silenced ? Buffer.alloc(0) : chunk));
    try {
      const r = new BinlogReader({
        source: { url: proxy.url },
        serverId: nextServerId++,
        start: 'latest',
        includeSchemas: ['s_dead'],
        heartbeatMs: 200,
        deadTimeoutMs: 1_000,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      });
      await r.start();
      const run = collect(r, (txs) => dml(txs).length >= 2);
      await db.query('INSERT INTO s_dead.t VALUES (1)');
      await new Promise((res) => setTimeout(res, 500));
      silenced = proxy.connections(); // a half-open connection: the socket stays up, nothing comes through
      await db.query('INSERT INTO s_dead.t VALUES (2)');
      const txs = dml(await run);
      expect(txs.map((t) => t.rows![0].after!.id)).toEqual([1, 2]);
      expect(r.stats.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await proxy.close();
    }
  });

  it('reconnects after the server kills the dump thread and resumes from the last complete transaction', async () => {
    await makeSchema('s_kill', 'CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(200))');
    const r = reader('s_kill', { reconnect: { initialDelayMs: 50 } });
    await r.start();
    const run = collect(r, (txs) => dml(txs).length >= 40);
    const pad = 'p'.repeat(200);
    for (let i = 1; i <= 40; i++) {
      // 50 rows per transaction so that a KILL is likely to land inside one.
      const values = Array.from({ length: 50 }, (_, k) => `(${i * 1000 + k}, '${pad}')`).join(',');
      await db.query(`INSERT INTO s_kill.t VALUES ${values}`);
      if (i % 10 === 5) {
        const threads = await db.query<any[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
        for (const t of threads) await db.query(`KILL ${t.ID}`).catch(() => {});
      }
    }
    const txs = dml(await run);
    expect(r.stats.reconnects).toBeGreaterThanOrEqual(1);
    const first = txs.map((t) => t.rows![0].after!.id);
    expect(first).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) * 1000));
    for (const t of txs) expect(t.rowCount).toBe(50);
  });

  it('a consumer process killed with SIGKILL mid-transaction and restarted from its saved position gets every transaction exactly once, none partially', async () => {
    await makeSchema('s_crash', 'CREATE TABLE t (id INT PRIMARY KEY, batch INT, pad VARCHAR(255))');
    const dir = await mkdtemp(join(tmpdir(), 'bridge-capture-'));
    const out = join(dir, 'tx.jsonl');
    const [status] = await db.query<any[]>('SHOW MASTER STATUS');
    const start = `binlog:${status.File}:${status.Position}`;
    const serverId = nextServerId++;
    let child: ChildProcess | null = null;
    const launch = async () => {
      child = spawn(process.execPath, ['--import', 'tsx', 'test/support/capture-child.ts', db.url(), String(serverId), out, 's_crash', start], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
        child!.once('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
    };
    const TX = 300;
    const ROWS = (i: number) => 1 + ((i * 37) % 120);
    try {
      await launch();
      const pad = 'x'.repeat(255);
      const writer = (async () => {
        const c = await db.connect('s_crash');
        for (let i = 1; i <= TX; i++) {
          const values = Array.from({ length: ROWS(i) }, (_, k) => `(${i * 1000 + k}, ${i}, '${pad}')`).join(',');
          await c.query(`INSERT INTO t VALUES ${values}`);
        }
        await c.end();
      })();
      // Several SIGKILLs at random moments while the workload runs, each followed by a restart.
      for (let k = 0; k < 4; k++) {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
        const exited = new Promise((r) => child!.once('exit', r));
        child!.kill('SIGKILL');
        await exited;
        await launch();
      }
      await writer;
      // Wait until the last transaction is recorded.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const text = await readFile(out, 'utf8').catch(() => '');
        if (text.includes(`"batch":[${TX},`) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      (child as ChildProcess | null)?.kill('SIGKILL');
    }
    const lines = (await readFile(out, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const records = lines.flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return []; // a line torn by SIGKILL does not count as delivered
      }
    });
    await rm(dir, { recursive: true, force: true });
    const batches = records.map((r) => r.batch[0]);
    // Every transaction exactly once, in commit order ...
    expect(batches).toEqual(Array.from({ length: TX }, (_, i) => i + 1));
    // ... and each one whole.
    for (const r of records) {
      const i = r.batch[0];
      expect(r.rows).toBe(ROWS(i));
      expect(r.ids).toEqual(Array.from({ length: ROWS(i) }, (_, k) => i * 1000 + k));
      expect(new Set(r.batch)).toEqual(new Set([i]));
    }
  });

  it('keeps memory bounded when the consumer is slow: the socket is paused, not buffered', async () => {
    await makeSchema('s_slow', 'CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(1000))');
    const pad = 'm'.repeat(1000);
    for (let i = 0; i < 100; i++) {
      const values = Array.from({ length: 50 }, (_, k) => `(${i * 100 + k}, '${pad}')`).join(',');
      await db.query(`INSERT INTO s_slow.t VALUES ${values}`);
    }
    // ~5 MB of binlog; the reader may hold at most 256 KiB of unread events.
    const highWater = 256 * 1024;
    const r = reader('s_slow', { start: 'earliest', highWaterBytes: highWater });
    let n = 0;
    const timer = setTimeout(() => r.close(), 60_000);
    for await (const tx of r) {
      if (tx.kind !== 'dml') continue;
      n++;
      if (n <= 20) await new Promise((res) => setTimeout(res, 25)); // slow at first: the server keeps sending
      if (n === 100) break;
    }
    clearTimeout(timer);
    r.close();
    expect(n).toBe(100);
    expect(r.stats.bytes).toBeGreaterThan(10 * highWater);
    expect(r.stats.pauses).toBeGreaterThan(0);
    // One socket read (64 KiB) and one packet can come on top of the mark, never the whole backlog.
    expect(r.stats.maxQueuedBytes).toBeLessThan(highWater + 256 * 1024);
  });

  it('reads a transaction larger than BRIDGE_MAX_TX_ROWS twice: counted first, then re-read in chunks', async () => {
    await makeSchema('s_big', 'CREATE TABLE t (id INT PRIMARY KEY, v INT)');
    const r = reader('s_big', { maxTxRows: 1000, rowChunkSize: 700 });
    await r.start();
    const run = collect(r, (txs) => dml(txs).length >= 2);
    const c = await db.connect('s_big');
    await c.query('BEGIN');
    for (let k = 0; k < 5; k++) {
      const values = Array.from({ length: 1000 }, (_, j) => `(${k * 1000 + j + 1}, ${j})`).join(',');
      await c.query(`INSERT INTO t VALUES ${values}`);
    }
    await c.query('UPDATE t SET v = v + 1 WHERE id <= 10');
    await c.query('COMMIT');
    await c.query('INSERT INTO t VALUES (100000, 1)');
    await c.end();
    const [big, small] = dml(await run);
    expect(big.rows).toBeNull();
    expect(big.rowCount).toBe(5010);
    expect(small.rows).toHaveLength(1);
    for (let pass = 0; pass < 2; pass++) {
      const chunks: number[] = [];
      const ids: number[] = [];
      for await (const chunk of big.readRows!()) {
        chunks.push(chunk.length);
        for (const row of chunk) ids.push(Number((row.after ?? row.before)!.id));
      }
      expect(Math.max(...chunks)).toBeLessThanOrEqual(700);
      expect(ids).toHaveLength(5010);
      expect(ids.slice(0, 5000)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
      expect(ids.slice(5000)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    }
  });

  it('stops with a checksum error, never a wrong value, when a byte of an event is corrupted in transit', async () => {
    await makeSchema('s_corrupt', 'CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
    // Flip one byte of the first server chunk holding the marker.
    let flipped = false;
    const proxy = await tamperingProxy((chunk) => {
      const at = flipped ? -1 : chunk.indexOf('CORRUPTME');
      if (at >= 0) {
        chunk[at + 3] ^= 0x01; // 'R' -> 'S'
        flipped = true;
      }
      return chunk;
    });
    try {
      const r = new BinlogReader({
        source: { url: proxy.url },
        serverId: nextServerId++,
        start: 'latest',
        includeSchemas: ['s_corrupt'],
      });
      await r.start();
      const seen: Transaction[] = [];
      const run = (async () => {
        for await (const tx of r) seen.push(tx);
      })();
      await db.query("INSERT INTO s_corrupt.t VALUES (1, 'fine')");
      await db.query("INSERT INTO s_corrupt.t VALUES (2, 'CORRUPTME')");
      await db.query("INSERT INTO s_corrupt.t VALUES (3, 'after')");
      const err = await run.then(
        () => null,
        (e) => e,
      );
      r.close();
      expect(flipped).toBe(true);
      expect(err).toBeInstanceOf(ChecksumError);
      expect(err.message).toMatch(/checksum mismatch at mysql-bin\.\d+:\d+/);
      const values = dml(seen).map((t) => t.rows![0].after!.v);
      expect(values).toEqual(['fine']);
    } finally {
      await proxy.close();
    }
  });

  it('a connection cut in the middle of a transaction: the transaction is read again whole, exactly once', async () => {
    await makeSchema('s_cut', 'CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
    // Forward the server's bytes up to the marker, then cut: the reader holds the first half of the transaction.
    let cut = false;
    let partial: Buffer = Buffer.alloc(0);
    const proxy = await tamperingProxy((chunk) => {
      const at = cut ? -1 : chunk.indexOf('CUTHERE');
      if (at < 0) return chunk;
      cut = true;
      partial = chunk.subarray(0, at);
      return { cutAfter: partial };
    });
    try {
      const r = new BinlogReader({
        source: { url: proxy.url },
        serverId: nextServerId++,
        start: 'latest',
        includeSchemas: ['s_cut'],
        reconnect: { initialDelayMs: 50 },
      });
      await r.start();
      const run = collect(r, (txs) => dml(txs).length >= 2);
      const c = await db.connect('s_cut');
      await c.query('BEGIN');
      await c.query("INSERT INTO t VALUES (1, 'first half')");
      await c.query("INSERT INTO t VALUES (2, 'CUTHERE')");
      await c.query("INSERT INTO t VALUES (3, 'second half')");
      await c.query('COMMIT');
      await c.query("INSERT INTO t VALUES (4, 'next')");
      await c.end();
      const txs = dml(await run);
      expect(cut).toBe(true);
      // The reader did get the start of the transaction (its first row) before the cut.
      expect(partial.includes('first half')).toBe(true);
      expect(r.stats.reconnects).toBeGreaterThanOrEqual(1);
      expect(txs.map((t) => t.rows!.map((x) => x.after!.id))).toEqual([[1, 2, 3], [4]]);
    } finally {
      await proxy.close();
    }
  });

  it('a rows event that cannot be decoded (valid checksum) is delivered as a row change with an error, and the stream goes on', async () => {
    await makeSchema('s_undecodable', 'CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
    // A packet-level proxy: in the rows event holding the marker, claim 250 columns (the TABLE_MAP has 2) and
    // re-sign the event with a correct CRC32, so only the decoder can object.
    const port = await freePort();
    let tampered = false;
    const sockets: Socket[] = [];
    const proxy = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: db.port });
      sockets.push(client, upstream);
      client.pipe(upstream);
      const framer = new PacketFramer();
      upstream.on('data', (chunk: Buffer) =>
        framer.push(chunk, (buf, start, end, seq) => {
          const payload = Buffer.from(buf.subarray(start, end));
          if (!tampered && payload[0] === 0 && payload[5] === 23 && payload.includes('BADROWS')) {
            const ev = payload.subarray(1);
            ev[27] = 250; // column count, right after the 8-byte post-header of a v1 rows event
            ev.writeUInt32LE(crc32(ev.subarray(0, ev.length - 4)) >>> 0, ev.length - 4);
            tampered = true;
          }
          client.write(framePacket(payload, seq));
        }),
      );
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      for (const s of [client, upstream]) {
        s.on('close', end);
        s.on('error', end);
      }
    });
    await new Promise<void>((res) => proxy.listen(port, '127.0.0.1', res));
    try {
      const r = new BinlogReader({
        source: { url: `mysql://${db.user}:${db.password}@127.0.0.1:${port}/` },
        serverId: nextServerId++,
        start: 'latest',
        includeSchemas: ['s_undecodable'],
      });
      await r.start();
      const run = collect(r, (txs) => dml(txs).length >= 3);
      await db.query("INSERT INTO s_undecodable.t VALUES (1, 'before')");
      await db.query("INSERT INTO s_undecodable.t VALUES (2, 'BADROWS')");
      await db.query("INSERT INTO s_undecodable.t VALUES (3, 'after')");
      const txs = dml(await run);
      expect(tampered).toBe(true);
      expect(txs[0].rows![0].after).toEqual({ id: 1, v: 'before' });
      expect(txs[1].rows).toEqual([
        { schema: 's_undecodable', table: 't', op: 'insert', before: null, after: {}, error: expect.stringMatching(/undecodable binlog rows event: .*250 columns/) },
      ]);
      expect(txs[2].rows![0].after).toEqual({ id: 3, v: 'after' });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((res) => proxy.close(res));
    }
  });

  it('as a semi-sync replica: the transaction asks for an ACK and the ACK releases the writer', async () => {
    await makeSchema('s_semi', 'CREATE TABLE t (id INT PRIMARY KEY)');
    await db.query('SET GLOBAL rpl_semi_sync_master_timeout = 3000; SET GLOBAL rpl_semi_sync_master_enabled = ON');
    try {
      const r = reader('s_semi', { semiSync: true });
      await r.start();
      const acked: Transaction[] = [];
      const run = (async () => {
        for await (const tx of r) {
          if (tx.ackRequested) {
            acked.push(tx);
            r.sendSemiSyncAck(tx.end.binlog.file, tx.end.binlog.pos);
          }
          if (tx.kind === 'dml') break;
        }
        r.close();
      })();
      // Wait until the reader is registered as a semi-sync client, else the commit does not wait for it.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const [v] = await db.query<any[]>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'");
        if (Number(v.Value) >= 1) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(r.semiSyncActive).toBe(true);
      const t0 = Date.now();
      await db.query('INSERT INTO s_semi.t VALUES (1)');
      const commitMs = Date.now() - t0;
      await run;
      expect(acked.some((t) => t.kind === 'dml')).toBe(true);
      // Without the ACK the commit would wait for the 3 s timeout.
      expect(commitMs).toBeLessThan(2000);
      const [yes] = await db.query<any[]>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_yes_tx'");
      expect(Number(yes.Value)).toBeGreaterThanOrEqual(1);
    } finally {
      await db.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
    }
  });

  it('resumes by a GTID state of two replication domains without loss or repeat', async () => {
    await makeSchema('s_domains', 'CREATE TABLE t (id INT PRIMARY KEY)');
    const r = reader('s_domains');
    await r.start();
    const c = await db.connect('s_domains');
    for (let i = 1; i <= 12; i++) {
      await c.query(`SET SESSION gtid_domain_id = ${i % 2}`);
      await c.query(`INSERT INTO t VALUES (${i})`);
    }
    await c.end();
    const firstHalf = dml(await collect(r, (txs) => dml(txs).length >= 6));
    const resumeAt = firstHalf[5].end;
    expect(resumeAt.gtidState).toMatch(/^0-1-\d+,1-1-\d+$/);
    const rest = dml(await collect(reader('s_domains', { from: resumeAt }), (txs) => dml(txs).length >= 6));
    expect([...firstHalf, ...rest].map((t) => t.rows![0].after!.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(rest.map((t) => t.gtid!.split('-')[0])).toEqual(['1', '0', '1', '0', '1', '0']);
  });

  it('starts from a cursor at the transaction the cursor points into', async () => {
    await makeSchema('s_cursor', 'CREATE TABLE t (id INT PRIMARY KEY)');
    const r = reader('s_cursor');
    await r.start();
    const run = collect(r, (txs) => dml(txs).length >= 3);
    for (let i = 1; i <= 3; i++) await db.query(`INSERT INTO s_cursor.t VALUES (${i}), (${i * 10})`);
    const txs = dml(await run);
    const cursor = cursorFor(txs[1], 2);
    const again = dml(await collect(reader('s_cursor', { start: cursor }), (t) => dml(t).length >= 2));
    expect(again.map((t) => t.gtid)).toEqual([txs[1].gtid, txs[2].gtid]);
    expect(again[0].rows).toEqual(txs[1].rows);
  });

  it('refuses a server id that another replica of the source uses, or the source its own', async () => {
    const id = nextServerId++;
    // Another replica (not the bridge) registered with that id.
    const other = await BinlogConnection.open({ url: db.url() }, { serverId: id, from: { gtidState: '' }, reportHost: 'replica-2.example' });
    try {
      const hosts = await db.query<any[]>('SHOW SLAVE HOSTS');
      expect(hosts.some((h) => Number(h.Server_id) === id)).toBe(true);
      const err = await reader('s_none', { serverId: id }).start().then(
        () => null,
        (e) => e,
      );
      expect(err).toBeInstanceOf(ServerIdConflictError);
      expect(err.message).toMatch(new RegExp(`BRIDGE_SERVER_ID ${id} is already used by the replica replica-2\\.example`));
    } finally {
      other.close();
    }
    const own = await reader('s_none', { serverId: 1 }).start().then(
      () => null,
      (e) => e,
    );
    expect(own).toBeInstanceOf(ServerIdConflictError);
    expect(own.message).toMatch(/the source's own server_id/);
  });

  it('rides out a restart of the source server: reconnects with backoff and loses nothing', async () => {
    await makeSchema('s_restart', 'CREATE TABLE t (id INT PRIMARY KEY)');
    const r = reader('s_restart', { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
    await r.start();
    const run = collect(r, (txs) => dml(txs).length >= 20, 60_000);
    for (let i = 1; i <= 10; i++) await db.query(`INSERT INTO s_restart.t VALUES (${i})`);
    await db.kill('SIGTERM');
    await db.restart();
    for (let i = 11; i <= 20; i++) await db.query(`INSERT INTO s_restart.t VALUES (${i})`);
    const txs = dml(await run);
    expect(txs.map((t) => t.rows![0].after!.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(r.stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('names the lost range and the ways to restart when the saved position was purged', async () => {
    await makeSchema('s_purged', 'CREATE TABLE t (id INT PRIMARY KEY)');
    const r = reader('s_purged');
    await r.start();
    const run = collect(r, (txs) => dml(txs).length >= 1);
    await db.query('INSERT INTO s_purged.t VALUES (1)');
    const [tx] = dml(await run);
    await db.query('INSERT INTO s_purged.t VALUES (2)');
    await db.query('FLUSH BINARY LOGS');
    const [status] = await db.query<any[]>('SHOW MASTER STATUS');
    // The server keeps a file until InnoDB's binlog checkpoint has passed it: retry the purge until it went.
    for (let i = 0; i < 100; i++) {
      await db.query(`PURGE BINARY LOGS TO '${status.File}'`);
      const logs = await db.query<any[]>('SHOW BINARY LOGS');
      if (logs[0].Log_name === status.File) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    for (const resumeBy of ['gtid', 'binlog'] as const) {
      const late = reader('s_purged', { from: tx.end, resumeBy, reconnect: { maxAttempts: 0 } });
      const err = await collect(late, () => true, 10_000).then(
        () => null,
        (e) => e,
      );
      expect(err).toBeInstanceOf(PurgedPositionError);
      expect(err.message).toContain(tx.end.binlog.file);
      expect(err.message).toContain(`oldest binlog still on the server starts at ${status.File}:4`);
      expect(err.message).toMatch(/BRIDGE_START=earliest/);
      expect(err.message).toMatch(/reset-positions/);
    }
  });
});
