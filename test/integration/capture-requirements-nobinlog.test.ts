/** The requirement check against a MariaDB with the binlog off. (MariaDB clamps server_id 0 to 1; that check is unit-tested.) */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinlogReader } from '../../src/capture/index.js';
import { RequirementsError } from '../../src/source/errors.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';

let db: MariaDbServer;

beforeAll(async () => {
  db = await startMariaDb({ noBinlog: true });
});
afterAll(async () => {
  await db?.stop();
});

describe('source requirement check without a binlog', () => {
  it('refuses a server with the binlog off, naming the fix and the other defaults to change', async () => {
    const reader = new BinlogReader({ source: { url: db.url() }, serverId: 600 });
    const err = await reader.start().then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(RequirementsError);
    expect(err.message).toMatch(/the binary log is off/);
    expect(err.message).toContain('log_bin=mysql-bin');
    // The server's defaults are wrong too, and named in the same message: MIXED format, no row metadata.
    expect(err.message).toMatch(/binlog_format is MIXED/);
    expect(err.message).toMatch(/binlog_row_metadata is NO_LOG/);
  });
});
