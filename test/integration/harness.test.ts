import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';

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
});
