import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../src/config/index.js';
import { MIGRATIONS, openState, type StateDb } from '../../src/state/index.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';

describe('state database', () => {
  let db: MariaDbServer;
  let state: StateDb;
  beforeAll(async () => {
    db = await startMariaDb();
    state = await openState(parseDatabaseUrl(db.url('bridge_state_test')));
  });
  afterAll(async () => {
    await state?.close();
    await db?.stop();
  });

  it('creates the database and applies every migration once', async () => {
    const rows = await db.query('SELECT version FROM bridge_state_test.schema_migration ORDER BY version');
    expect(rows.map((r: any) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    // Opening again applies nothing new and keeps the data.
    await state.positions.save([
      { consumer: 'amqp', txid: '0-1-5', position: { binlog: { file: 'mysql-bin.000001', pos: 900 } }, commitTime: 1 },
    ]);
    const again = await openState(parseDatabaseUrl(db.url('bridge_state_test')));
    try {
      expect((await again.positions.get('amqp'))?.txid).toBe('0-1-5');
    } finally {
      await again.close();
    }
  });

  it('upserts positions in batches and lists them', async () => {
    await state.positions.save([
      {
        consumer: 'amqp',
        txid: '0-1-42',
        position: { binlog: { file: 'mysql-bin.000002', pos: 4711 }, gtidState: '0-1-42' },
        commitTime: 1_790_000_000,
      },
      {
        consumer: 'webhook:abc',
        txid: null,
        position: { binlog: { file: 'mysql-bin.000001', pos: 4 } },
        commitTime: null,
      },
    ]);
    expect(await state.positions.get('amqp')).toMatchObject({
      consumer: 'amqp',
      txid: '0-1-42',
      position: { binlog: { file: 'mysql-bin.000002', pos: 4711 }, gtidState: '0-1-42' },
      commitTime: 1_790_000_000,
    });
    expect((await state.positions.list()).map((p) => p.consumer)).toEqual(['amqp', 'webhook:abc']);
    expect(await state.positions.delete('webhook:abc')).toBe(true);
    expect(await state.positions.get('webhook:abc')).toBeNull();
  });

  it('writes nothing to the binlog with skipBinlog', async () => {
    const [before] = await db.query('SHOW MASTER STATUS');
    const quiet = await openState(parseDatabaseUrl(db.url('bridge_state_quiet')), { skipBinlog: true });
    try {
      await quiet.positions.save([
        { consumer: 'mqtt', txid: '0-1-1', position: { binlog: { file: 'f.000001', pos: 4 } }, commitTime: 1 },
      ]);
      expect((await quiet.positions.get('mqtt'))?.txid).toBe('0-1-1');
    } finally {
      await quiet.close();
    }
    const [after] = await db.query('SHOW MASTER STATUS');
    expect(after.Position).toBe(before.Position);
  });
});
