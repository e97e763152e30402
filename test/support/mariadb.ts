/**
 * A throwaway MariaDB server for tests and benchmarks: `mariadbd` from the system, a temp datadir, a free port,
 * the binlog on in ROW/FULL/FULL. The machine's own MariaDB on 3306 has no binlog and is never touched.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createReadStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';

const execFileAsync = promisify(execFile);

export interface MariaDbOptions {
  /** Extra `--name=value` server options, e.g. `['--binlog-format=STATEMENT']`. */
  extraArgs?: string[];
  /** Turn on semi-sync on the source with this timeout (ms). Off unless a test asks for it. */
  semiSyncTimeoutMs?: number;
  /** Server id of the source. */
  serverId?: number;
  /** Leave the binlog off entirely (to test the requirement check). */
  noBinlog?: boolean;
}

export interface MariaDbServer {
  host: string;
  port: number;
  /** A TCP user with every privilege (root@localhost here authenticates by socket only). */
  user: string;
  password: string;
  datadir: string;
  socket: string;
  /** `mysql://user:pass@host:port/` + database. */
  url(database?: string): string;
  /** Runs SQL as the admin user (multiple statements allowed). */
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
  /** A new admin connection; the caller ends it. */
  connect(database?: string): Promise<mysql.Connection>;
  /** Loads a .sql dump into `database` (created first, utf8mb3 as the OpenMRS dumps expect). */
  loadDump(database: string, file: string): Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL) without removing its datadir. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped server again on the same port and datadir. */
  restart(): Promise<void>;
  /** Stops the server and removes its datadir. */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * `mariadbd` from PATH, else from the sbin folders: Debian installs it in /usr/sbin, which is not on an ordinary
 * user's PATH (`npm run demo` runs this harness as that user).
 */
function mariadbdBinary(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  return dirs.map((d) => join(d, 'mariadbd')).find((p) => existsSync(p)) ?? 'mariadbd';
}

const ADMIN_USER = 'bridge_admin';
const ADMIN_PASSWORD = 'bridge-test';

/** Starts a fresh server and creates the TCP admin user. */
export async function startMariaDb(options: MariaDbOptions = {}): Promise<MariaDbServer> {
  const datadir = await mkdtemp(join(process.env.BRIDGE_TEST_TMP ?? tmpdir(), 'bridge-mariadb-'));
  const dataPath = join(datadir, 'data');
  const socket = join(datadir, 'mysqld.sock');
  // A private tmpdir: bootstraps running in parallel collided on temporary tables in the shared /tmp.
  const serverTmp = join(datadir, 'tmp');
  await mkdir(serverTmp);
  await execFileAsync('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${dataPath}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--user=root',
    `--tmpdir=${serverTmp}`,
  ]);
  const port = await freePort();
  const args = [
    '--no-defaults',
    `--datadir=${dataPath}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${socket}`,
    `--tmpdir=${serverTmp}`,
    `--pid-file=${join(datadir, 'mysqld.pid')}`,
    `--log-error=${join(datadir, 'error.log')}`,
    '--user=root',
    `--server-id=${options.serverId ?? 1}`,
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=128M',
    '--innodb-log-file-size=256M',
    '--innodb-flush-log-at-trx-commit=2',
    '--sync-binlog=0',
    '--max-connections=500',
    '--max-allowed-packet=256M',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_general_ci',
    ...(options.noBinlog
      ? []
      : ['--log-bin=mysql-bin', '--binlog-format=ROW', '--binlog-row-image=FULL', '--binlog-row-metadata=FULL']),
    ...(options.semiSyncTimeoutMs !== undefined
      ? ['--rpl-semi-sync-master-enabled=ON', `--rpl-semi-sync-master-timeout=${options.semiSyncTimeoutMs}`]
      : []),
    ...(options.extraArgs ?? []),
  ];

  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(mariadbdBinary(), args, { stdio: 'ignore' });
    child.unref();
    await waitForServer(port, child, join(datadir, 'error.log'));
  };
  await launch();

  const rootConn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '' });
  await rootConn.query(`CREATE USER '${ADMIN_USER}'@'%' IDENTIFIED BY '${ADMIN_PASSWORD}'`);
  await rootConn.query(`GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'%' WITH GRANT OPTION`);
  await rootConn.end();

  const connect = (database?: string) =>
    mysql.createConnection({
      host: '127.0.0.1',
      port,
      user: ADMIN_USER,
      password: ADMIN_PASSWORD,
      database,
      multipleStatements: true,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });

  const server: MariaDbServer = {
    host: '127.0.0.1',
    port,
    user: ADMIN_USER,
    password: ADMIN_PASSWORD,
    datadir,
    socket,
    url: (database = '') => `mysql://${ADMIN_USER}:${ADMIN_PASSWORD}@127.0.0.1:${port}/${database}`,
    async query(sql, params) {
      const conn = await connect();
      try {
        const [rows] = await conn.query(sql, params);
        return rows as any;
      } finally {
        await conn.end();
      }
    },
    connect,
    async loadDump(database, file) {
      await server.query(
        `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci`,
      );
      await new Promise<void>((resolve, reject) => {
        const cli = spawn(
          'mariadb',
          ['--no-defaults', '-h127.0.0.1', `-P${port}`, `-u${ADMIN_USER}`, `-p${ADMIN_PASSWORD}`, database],
          { stdio: ['pipe', 'ignore', 'pipe'] },
        );
        let stderr = '';
        cli.stderr!.on('data', (d) => (stderr += d));
        cli.on('error', reject);
        cli.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`loading ${file}: ${stderr}`))));
        createReadStream(file).pipe(cli.stdin!);
      });
    },
    async kill(signal = 'SIGTERM') {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill(signal);
      const timer = setTimeout(() => child?.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    async restart() {
      await launch();
    },
    async stop() {
      await server.kill('SIGTERM');
      await rm(datadir, { recursive: true, force: true });
    },
  };
  return server;
}

async function waitForServer(port: number, child: ChildProcess, errorLog: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) {
      const log = await readFile(errorLog, 'utf8').catch(() => '');
      throw new Error(`mariadbd exited during start:\n${log.slice(-2000)}`);
    }
    try {
      const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '' });
      await conn.end();
      return;
    } catch (err: any) {
      // Access denied means the server is up (the admin user exists after a restart, root too).
      if (err?.code === 'ER_ACCESS_DENIED_ERROR') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`mariadbd did not start on port ${port} within 60 s`);
}

