/**
 * The commands of docs/getting-started.md work as written, against a real MariaDB: the my.cnf lines are options
 * mariadbd accepts (the test server starts with them), the check query runs and shows the required values, the SQL
 * for the bridge's user runs and grants what CONTRACT section 2 lists (the same grants as docker/ and the demo use),
 * and the snapshot commands print the GTID position the dump corresponds to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMariaDb, type MariaDbServer } from '../support/mariadb.js';

const root = join(import.meta.dirname, '..', '..');
const execFileAsync = promisify(execFile);

/** The fenced blocks of a Markdown section (from its heading to the next heading of the same level). */
function blocks(markdown: string, heading: string, lang: string): string[] {
  const start = markdown.indexOf(`\n## ${heading}`);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const end = markdown.indexOf('\n## ', start + 4);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** GRANT statements, whitespace-normalized, without comments. */
function grants(sql: string): string[] {
  return sql
    .split('\n')
    .filter((l) => /^\s*GRANT\b/i.test(l))
    .map((l) => l.trim().replace(/\s+/g, ' '));
}

let doc: string;
let db: MariaDbServer;
let work: string;

beforeAll(async () => {
  doc = await readFile(join(root, 'docs', 'getting-started.md'), 'utf8');
  const ini = blocks(doc, '1. The database', 'ini')[0];
  const options = ini
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l && !l.startsWith('['))
    .map((l) => {
      const [key, value] = l.split('=').map((x) => x.trim());
      return `--${key}=${value}`;
    });
  expect(options.length).toBeGreaterThanOrEqual(6);
  // Started with the documented lines (after the harness's own): mariadbd refuses options it does not know.
  db = await startMariaDb({ extraArgs: options });
  await db.query('CREATE DATABASE openmrs CHARACTER SET utf8mb3; CREATE TABLE openmrs.t (id INT PRIMARY KEY)');
  work = await mkdtemp(join(tmpdir(), 'bridge-docs-'));
});

afterAll(async () => {
  await db?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('docs/getting-started.md', () => {
  it('shows the required binlog settings with its check query', async () => {
    const query = blocks(doc, '1. The database', 'sql')[0];
    const rows = (await db.query(query)) as Array<{ Variable_name: string; Value: string }>;
    const vars = Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
    expect(vars).toMatchObject({
      log_bin: 'ON',
      binlog_format: 'ROW',
      binlog_row_image: 'FULL',
      binlog_row_metadata: 'FULL',
    });
    expect(Number(vars.server_id)).toBeGreaterThan(0);
  });

  it("creates the bridge's user with the grants of the contract", async () => {
    const sql = blocks(doc, "2. The bridge's user", 'sql')[0];
    const conn = await db.connect();
    try {
      await conn.query(sql);
    } finally {
      await conn.end();
    }
    const rows = (await db.query("SHOW GRANTS FOR 'bridge'@'%'")) as Array<Record<string, string>>;
    const shown = rows.map((r) => Object.values(r)[0]).join('\n');
    expect(shown).toMatch(/GRANT .*REPLICATION SLAVE.* ON \*\.\*/);
    expect(shown).toMatch(/GRANT .*BINLOG MONITOR.* ON \*\.\*/);
    expect(shown).toMatch(/GRANT SELECT ON `openmrs`\.\*/);
    expect(shown).toMatch(/GRANT ALL PRIVILEGES ON `openmrs_event_bridge`\.\*/);
    // The demo and docker-compose create the user from docker/mariadb/01-bridge-user.sql: the same grants.
    const dockerSql = await readFile(join(root, 'docker', 'mariadb', '01-bridge-user.sql'), 'utf8');
    expect(grants(dockerSql)).toEqual(grants(sql));
  });

  it('prints the GTID position of a snapshot taken as documented', async () => {
    await db.query('INSERT INTO openmrs.t VALUES (1), (2); INSERT INTO openmrs.t VALUES (3)');
    const [{ pos }] = (await db.query('SELECT @@gtid_binlog_pos AS pos')) as Array<{ pos: string }>;
    // A `mariadb-dump` on PATH that adds this server's address and credentials, so the documented lines run verbatim.
    const bin = join(work, 'bin');
    await execFileAsync('mkdir', ['-p', bin]);
    const wrapper = join(bin, 'mariadb-dump');
    await writeFile(
      wrapper,
      `#!/bin/sh\nexec /usr/bin/mariadb-dump --no-defaults -h127.0.0.1 -P${db.port} -u${db.user} -p${db.password} "$@"\n`,
    );
    await chmod(wrapper, 0o755);
    const script = blocks(doc, '5. Loading existing data first', 'sh')[0];
    const { stdout } = await execFileAsync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: work,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(stdout.trim()).toBe(`gtid_slave_pos='${pos}'`);
    // The documented BRIDGE_START form uses the same value.
    expect(doc).toMatch(/BRIDGE_START=gtid:\d+-\d+-\d+/);
  });
});
