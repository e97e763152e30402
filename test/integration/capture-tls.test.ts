/**
 * The replication connection over TLS: mysql2 does the TLS handshake, the binlog client takes over the TLS socket and
 * streams (and verifies the CRC32 of) the events through it. The server gets a self-signed certificate made here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinlogReader } from '../../src/capture/index.js';
import type { Transaction } from '../../src/capture/types.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';

const run = promisify(execFile);
let db: MariaDbServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bridge-tls-'));
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  db = await startMariaDb({ extraArgs: [`--ssl-cert=${join(dir, 'cert.pem')}`, `--ssl-key=${join(dir, 'key.pem')}`] });
  await db.query(
    "CREATE USER 'tlsonly'@'%' IDENTIFIED BY 'secret' REQUIRE SSL; GRANT ALL PRIVILEGES ON *.* TO 'tlsonly'@'%'",
  );
});
afterAll(async () => {
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('replication over TLS', () => {
  it('streams transactions through a TLS connection of a user that requires SSL', async () => {
    const ca = await readFile(join(dir, 'cert.pem'), 'utf8');
    const reader = new BinlogReader({
      source: { url: `mysql://tlsonly:secret@127.0.0.1:${db.port}/`, ssl: { ca, rejectUnauthorized: true } },
      serverId: 800,
      start: 'latest',
      includeSchemas: ['tls'],
    });
    await reader.start();
    const got: Transaction[] = [];
    const done = (async () => {
      for await (const tx of reader) {
        if (tx.kind === 'dml') got.push(tx);
        if (got.length === 2) break;
      }
      reader.close();
    })();
    await db.query(
      "CREATE DATABASE tls; CREATE TABLE tls.t (id INT PRIMARY KEY, v MEDIUMTEXT); INSERT INTO tls.t VALUES (1, 'over tls')",
    );
    await db.query(`INSERT INTO tls.t VALUES (2, '${'x'.repeat(100_000)}')`);
    await done;
    expect(got[0].rows![0].after).toEqual({ id: 1, v: 'over tls' });
    expect(got[1].rows![0].after!.v).toHaveLength(100_000);
    // The session really was encrypted: a user with REQUIRE SSL cannot connect otherwise.
    const plain = new BinlogReader({ source: { url: `mysql://tlsonly:secret@127.0.0.1:${db.port}/` }, serverId: 801 });
    await expect(plain.start()).rejects.toThrow(/Access denied/);
  });
});
