/**
 * The start-up requirement check against a real MariaDB started with STATEMENT format, MINIMAL row image and
 * MINIMAL row metadata, and with users missing grants: every problem is named with its fix, all in one message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinlogReader } from '../../src/capture/index.js';
import { RequirementsError } from '../../src/source/errors.js';
import { checkRequirements } from '../../src/source/requirements.js';
import { connectSql } from '../../src/source/server-info.js';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';

let db: MariaDbServer;

beforeAll(async () => {
  db = await startMariaDb({
    extraArgs: ['--binlog-format=STATEMENT', '--binlog-row-image=MINIMAL', '--binlog-row-metadata=MINIMAL'],
  });
  await db.query(
    "CREATE DATABASE openmrs; CREATE USER 'weak'@'%' IDENTIFIED BY 'weak'; GRANT SELECT ON openmrs.* TO 'weak'@'%';" +
      "CREATE USER 'noselect'@'%' IDENTIFIED BY 'noselect'; GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'noselect'@'%';",
  );
});
afterAll(async () => {
  await db?.stop();
});

const urlFor = (user: string, password: string) => `mysql://${user}:${password}@127.0.0.1:${db.port}/openmrs`;

async function problemsOf(url: string) {
  const conn = await connectSql({ url });
  try {
    return (await checkRequirements(conn, { schema: 'openmrs' })).problems;
  } finally {
    await conn.end();
  }
}

describe('source requirement check', () => {
  it('refuses STATEMENT format, MINIMAL row image and MINIMAL metadata, naming each with its fix', async () => {
    const reader = new BinlogReader({ source: { url: db.url('openmrs') }, serverId: 500, schema: 'openmrs' });
    const err = await reader.start().then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(RequirementsError);
    const problems = (err as RequirementsError).problems;
    expect(problems).toHaveLength(3);
    expect(err.message).toMatch(/binlog_format is STATEMENT/);
    expect(err.message).toContain("SET GLOBAL binlog_format = 'ROW'");
    expect(err.message).toMatch(/binlog_row_image is MINIMAL/);
    expect(err.message).toContain("SET GLOBAL binlog_row_image = 'FULL'");
    expect(err.message).toMatch(/binlog_row_metadata is MINIMAL/);
    expect(err.message).toContain("SET GLOBAL binlog_row_metadata = 'FULL'");
    for (const p of problems) expect(p.fix).toMatch(/my\.cnf/);
  });

  it('names every missing grant of a user with the GRANT that fixes it', async () => {
    const weak = await problemsOf(urlFor('weak', 'weak'));
    const texts = weak.map((p) => p.problem).join('\n');
    expect(texts).toMatch(/lacks the REPLICATION SLAVE privilege/);
    expect(texts).toMatch(/lacks the BINLOG MONITOR privilege/);
    expect(texts).not.toMatch(/lacks SELECT/);
    expect(weak.map((p) => p.fix)).toEqual(
      expect.arrayContaining(["GRANT REPLICATION SLAVE ON *.* TO 'weak'@'%';", "GRANT BINLOG MONITOR ON *.* TO 'weak'@'%';"]),
    );
    const noselect = await problemsOf(urlFor('noselect', 'noselect'));
    const selectProblem = noselect.find((p) => /lacks SELECT/.test(p.problem));
    expect(selectProblem?.fix).toBe("GRANT SELECT ON `openmrs`.* TO 'noselect'@'%';");
    expect(noselect.some((p) => /REPLICATION SLAVE|BINLOG MONITOR/.test(p.problem))).toBe(false);
  });

  it('passes once the settings are fixed as the messages say', async () => {
    await db.query("SET GLOBAL binlog_format = 'ROW'; SET GLOBAL binlog_row_image = 'FULL'; SET GLOBAL binlog_row_metadata = 'FULL'");
    expect(await problemsOf(db.url('openmrs'))).toEqual([]);
    const reader = new BinlogReader({ source: { url: db.url('openmrs') }, serverId: 501, schema: 'openmrs' });
    await reader.start();
    expect(reader.position?.binlog.file).toMatch(/^mysql-bin\.\d+$/);
    reader.close();
  });
});
