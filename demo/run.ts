/**
 * `npm run demo`: a throwaway MariaDB with the RefApp demo database, the bridge with every channel that is reachable,
 * a webhook receiver, a generator of clinical activity, and a live count of events per type. Ctrl-C (or SIGTERM)
 * stops everything it started, in order, and leaves nothing running.
 *
 * Environment: any BRIDGE_* variable is passed to the bridge (BRIDGE_AMQP_URL / BRIDGE_MQTT_URL override the probes
 * of 127.0.0.1:5672 and :1883; BRIDGE_HTTP_PORT defaults to 8787, or a free port when 8787 is taken);
 * DEMO_RATE sets the traffic in transactions per second (default 3).
 */
import { connect as netConnect } from 'node:net';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startMariaDb, type MariaDbServer } from '../test/support/mariadb.js';
import { PROJECT_ROOT, startBridge, waitReady, type BridgeProcess } from './bridge-process.js';
import { startReceiver, type DemoReceiver } from './receiver.js';
import { countEvents, type EventCounter } from './event-counter.js';
import { startDashboard, type Dashboard } from './dashboard.js';
import { prepareClinic, startTraffic, type Traffic } from './traffic.js';

const DATA = join(PROJECT_ROOT, 'demo', 'data');
const DATABASE = 'openmrs';
/** The user of docker/mariadb/01-bridge-user.sql: the grants of docs/getting-started.md, shared with docker-compose. */
const BRIDGE_USER = 'bridge';
const BRIDGE_PASSWORD = 'bridge-secret';

/** Everything started so far, stopped in reverse order by {@link shutdown}. */
const running: {
  db?: MariaDbServer;
  receiver?: DemoReceiver;
  bridge?: BridgeProcess;
  counter?: EventCounter;
  traffic?: Traffic;
  dashboard?: Dashboard;
} = {};

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** True when something accepts TCP connections on host:port within `timeoutMs`. */
function reachable(port: number, host = '127.0.0.1', timeoutMs = 700): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function httpPort(): Promise<string> {
  if (process.env.BRIDGE_HTTP_PORT) return process.env.BRIDGE_HTTP_PORT;
  return (await reachable(8787)) ? String(await freePort()) : '8787';
}

async function registerWebhook(baseUrl: string, receiver: DemoReceiver, token?: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({
      url: receiver.url,
      guarantee: 'transactional',
      description: 'npm run demo: the local receiver (demo/receiver.ts)',
    }),
  });
  if (res.status !== 201) throw new Error(`POST /v1/webhooks answered ${res.status}: ${await res.text()}`);
  const hook = (await res.json()) as { id: string; secret: string };
  receiver.setSecret(hook.secret);
  return hook.id;
}

async function main(): Promise<void> {
  const started = Date.now();
  const rate = Number(process.env.DEMO_RATE ?? '3');
  if (!(rate > 0 && rate <= 1000))
    throw new Error(`DEMO_RATE must be a number of transactions per second, got ${process.env.DEMO_RATE}`);
  await mkdir(join(PROJECT_ROOT, '.tmp'), { recursive: true });

  say('Starting a throwaway MariaDB (binlog on, ROW/FULL/FULL) ...');
  running.db = await startMariaDb({ extraArgs: ['--default-time-zone=+00:00'] }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new Error(`${err.message}: MariaDB is not installed (on Debian: bash scripts/ensure-services.sh)`);
    }
    throw err;
  });
  const db = running.db;
  const pid = (await readFile(join(db.datadir, 'mysqld.pid'), 'utf8').catch(() => '?')).trim();
  say(`  mariadbd pid ${pid} on 127.0.0.1:${db.port}, datadir ${db.datadir}`);
  say('Loading the OpenMRS Reference Application demo database (100 patients) ...');
  await db.loadDump(DATABASE, join(DATA, 'refapp-2.x-demo-100-patients.sql'));
  await db.loadDump(DATABASE, join(DATA, 'upgrade-to-2.6.4.sql'));
  await db.loadDump(DATABASE, join(PROJECT_ROOT, 'docker', 'mariadb', '01-bridge-user.sql'));
  await prepareClinic(db, DATABASE);
  say(`  loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  running.receiver = await startReceiver();
  const port = await httpPort();
  const token = process.env.BRIDGE_ADMIN_TOKEN;
  const env: Record<string, string> = {
    BRIDGE_SOURCE_URL: `mysql://${BRIDGE_USER}:${BRIDGE_PASSWORD}@127.0.0.1:${db.port}/${DATABASE}`,
    BRIDGE_SITE: process.env.BRIDGE_SITE ?? 'demo',
    BRIDGE_HTTP_PORT: port,
    BRIDGE_SOURCE_TIMEZONE: process.env.BRIDGE_SOURCE_TIMEZONE ?? 'UTC',
  };
  const channels = ['websocket', 'webhook'];
  const amqpUrl = process.env.BRIDGE_AMQP_URL ?? ((await reachable(5672)) ? 'amqp://guest:guest@127.0.0.1:5672' : '');
  if (amqpUrl) {
    env.BRIDGE_AMQP_URL = amqpUrl;
    channels.push(`amqp (exchange ${process.env.BRIDGE_AMQP_EXCHANGE ?? 'openmrs.events'})`);
  }
  const mqttUrl = process.env.BRIDGE_MQTT_URL ?? ((await reachable(1883)) ? 'mqtt://127.0.0.1:1883' : '');
  if (mqttUrl) {
    env.BRIDGE_MQTT_URL = mqttUrl;
    channels.push(`mqtt (${process.env.BRIDGE_MQTT_TOPIC_PREFIX ?? 'openmrs'}/${env.BRIDGE_SITE}/#)`);
  }

  say(`Starting the bridge (${channels.join(', ')}) ...`);
  running.bridge = startBridge(env, join(PROJECT_ROOT, '.tmp', 'demo-bridge.log'));
  const bridge = running.bridge;
  say(`  bridge pid ${bridge.pid}, log ${bridge.logFile}`);
  void bridge.exited.then(async (code) => {
    if (stopping) return;
    say(`\nThe bridge exited unexpectedly (${code}). Last lines of its log:\n${await bridge.tail(30)}`);
    await shutdown(1);
  });
  await waitReady(bridge, 120_000, token);
  say(`  ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  let hookNote = `webhook -> ${running.receiver.url}`;
  try {
    const id = await registerWebhook(bridge.baseUrl, running.receiver, token);
    hookNote += ` (transactional, id ${id})`;
  } catch (err) {
    hookNote = `webhook not registered: ${(err as Error).message}`;
  }

  running.counter = countEvents(bridge.baseUrl, { token });
  running.traffic = await startTraffic({ db, database: DATABASE, ratePerSecond: rate });

  const consoleUrl = `${bridge.baseUrl}/${token ? `#access_token=${encodeURIComponent(token)}` : ''}`;
  running.dashboard = startDashboard({
    header: [
      '',
      `OpenMRS Event Bridge demo, up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  console   ${consoleUrl}`,
      `  source    mysql://${BRIDGE_USER}@127.0.0.1:${db.port}/${DATABASE} (binlog on; traffic at ${rate} tx/s)`,
      `  channels  ${channels.join(', ')}`,
      `  ${hookNote}`,
    ],
    counter: running.counter,
    receiver: running.receiver.stats,
    traffic: running.traffic.stats,
  });
}

let stopping = false;

/** Stops everything that was started, newest first, then exits. A second signal forces it. */
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('\nStopping the demo ...');
  const step = async (name: string, fn: (() => Promise<unknown> | unknown) | undefined) => {
    if (!fn) return;
    try {
      await fn();
    } catch (err) {
      say(`  stopping ${name}: ${(err as Error).message}`);
    }
  };
  await step('traffic', running.traffic && (() => running.traffic!.stop()));
  await step('dashboard', running.dashboard && (() => running.dashboard!.stop()));
  await step('stream', running.counter && (() => running.counter!.close()));
  await step('bridge', running.bridge && (() => running.bridge!.stop()));
  await step('receiver', running.receiver && (() => running.receiver!.close()));
  await step('mariadb', running.db && (() => running.db!.stop()));
  say('Stopped: the bridge, MariaDB and the demo processes are gone.');
  process.exit(code);
}

// A closed terminal or pipe must not abort the cleanup with an EPIPE/EIO: keep stopping what was started.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    signals++;
    if (signals > 1) {
      // Impatient second Ctrl-C: no more grace.
      if (running.bridge) process.kill(running.bridge.pid, 'SIGKILL');
      void running.db?.kill('SIGKILL').finally(() => process.exit(130));
      return;
    }
    void shutdown(0);
  });
}

main().catch(async (err: unknown) => {
  say(`\nThe demo could not start: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
});
