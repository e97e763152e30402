import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { BinlogTap } from '../support/openmrs.js';

describe('throwaway MariaDB harness', () => {
  let db: MariaDbServer;
  beforeAll(async () => {
    db = await startMariaDb();
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('runs with the binlog on in ROW format with full images and metadata', async () => {
    const [row] = await db.query(
      'SELECT @@log_bin AS logBin, @@binlog_format AS format, @@binlog_row_image AS image, @@binlog_row_metadata AS meta',
    );
    expect({ ...row, logBin: Number(row.logBin) }).toEqual({ logBin: 1, format: 'ROW', image: 'FULL', meta: 'FULL' });
  });

  it("a binlog tap returns its schema's transactions when the binlog ends with another schema's (a bridge's checkpoints)", async () => {
    await db.query('CREATE DATABASE tapped; CREATE DATABASE other');
    await db.query('CREATE TABLE tapped.t (id INT PRIMARY KEY); CREATE TABLE other.t (id INT PRIMARY KEY)');
    const tap = await BinlogTap.open(db, { schemas: ['tapped'] });
    try {
      const { txs } = await tap.capture(async () => {
        await db.query('INSERT INTO tapped.t VALUES (1)');
        // Skipped by the tap's reader: the binlog's last transaction is never yielded.
        await db.query('INSERT INTO other.t VALUES (1)');
      });
      expect(txs.map((t) => t.rows?.map((r) => [r.schema, r.table, r.after?.id]))).toEqual([[['tapped', 't', 1]]]);
      expect((await tap.capture(async () => db.query('INSERT INTO other.t VALUES (2)'))).txs).toEqual([]);
      const { txs: next } = await tap.capture(async () => db.query('INSERT INTO tapped.t VALUES (2)'));
      expect(next.map((t) => t.rows?.[0]?.after?.id)).toEqual([2]);
    } finally {
      tap.close();
    }
  }, 30_000);
});
