/**
 * `npm run demo`, as a user runs it: it starts MariaDB, the bridge and the traffic, events flow to the WebSocket
 * counter and the webhook receiver, the console is served, and Ctrl-C (SIGINT to the whole foreground process group,
 * as a terminal sends it) stops everything it started: no mariadbd, no bridge, no process of the group remains, and
 * the throwaway datadir is gone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { freePort } from '../support/mariadb.js';
import { startMosquitto, type MosquittoServer } from '../support/mosquitto.js';
import { RABBITMQ_URL } from '../support/rabbitmq.js';

const root = join(import.meta.dirname, '..', '..');
const runId = `demo-test-${process.pid}-${Date.now()}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

let demo: ChildProcess | undefined;
let mosquitto: MosquittoServer | undefined;

afterAll(async () => {
  await mosquitto?.stop();
  // Only if the test failed half-way: never leave the demo's processes behind.
  if (demo?.pid && demo.exitCode === null) {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const conn = await amqp.connect(RABBITMQ_URL).catch(() => null);
  if (conn) {
    const ch = await conn.createChannel();
    await ch.deleteExchange(runId).catch(() => undefined);
    await conn.close();
  }
});

describe('npm run demo', () => {
  it('shows events within a minute and Ctrl-C leaves nothing running', { timeout: 240_000 }, async () => {
    const port = await freePort();
    mosquitto = await startMosquitto();
    // Every channel on, each on something of this run's own: RabbitMQ with a unique exchange, a private Mosquitto.
    const amqpConn = await amqp.connect(RABBITMQ_URL);
    const amqpChannel = await amqpConn.createChannel();
    // Declared as the bridge declares it (durable topic), so that this queue exists before the first publish.
    await amqpChannel.assertExchange(runId, 'topic', { durable: true });
    const { queue } = await amqpChannel.assertQueue('', { exclusive: true });
    await amqpChannel.bindQueue(queue, runId, '#');
    let amqpMessages = 0;
    await amqpChannel.consume(queue, () => amqpMessages++, { noAck: true });
    demo = spawn('npm', ['run', 'demo'], {
      cwd: root,
      env: {
        ...process.env,
        BRIDGE_HTTP_PORT: String(port),
        BRIDGE_SITE: runId.toLowerCase(),
        BRIDGE_AMQP_URL: RABBITMQ_URL,
        BRIDGE_AMQP_EXCHANGE: runId,
        BRIDGE_MQTT_URL: mosquitto.url,
        DEMO_RATE: '5',
      },
      // Its own process group, like a shell job: the test sends SIGINT to the group, as Ctrl-C does.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout!.on('data', (d) => (output += d));
    demo.stderr!.on('data', (d) => (output += d));
    // 'close': npm has exited and every process holding its stdout (the demo itself) has closed it.
    const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      demo!.once('close', (code, signal) => resolve({ code, signal })),
    );

    // Wait for the first summary that shows streamed events and webhook deliveries.
    const deadline = Date.now() + 180_000;
    let streamed = 0;
    let hookEvents = 0;
    while (Date.now() < deadline && demo.exitCode === null) {
      for (const m of output.matchAll(/(\d+) events streamed .*webhook (\d+) requests\/(\d+) events/g)) {
        streamed = Number(m[1]);
        hookEvents = Number(m[3]);
      }
      if (streamed > 0 && hookEvents > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(demo.exitCode, output).toBeNull();
    expect(streamed, output).toBeGreaterThan(0);
    expect(hookEvents, output).toBeGreaterThan(0);
    expect(output).toContain(`console   http://127.0.0.1:${port}/`);
    expect(output).toMatch(/channels {2}websocket, webhook, amqp .*, mqtt /);
    expect(amqpMessages).toBeGreaterThan(0);
    await amqpConn.close();

    // The console is served by the bridge at the printed URL.
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('OpenMRS Event Bridge');

    const mariadbPid = Number(/mariadbd pid (\d+)/.exec(output)?.[1]);
    const bridgePid = Number(/bridge pid (\d+)/.exec(output)?.[1]);
    const datadir = /datadir (\S+)/.exec(output)?.[1] ?? '';
    expect(alive(mariadbPid)).toBe(true);
    expect(alive(bridgePid)).toBe(true);
    expect(existsSync(datadir)).toBe(true);

    process.kill(-demo.pid!, 'SIGINT');
    const end = await Promise.race([closed, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);
    // npm re-raises the SIGINT it got (as in a terminal); the demo itself reports a clean stop.
    expect(end, output).toMatchObject(
      (end as { code: number | null }).code === null ? { signal: 'SIGINT' } : { code: 0 },
    );

    expect(alive(mariadbPid)).toBe(false);
    expect(alive(bridgePid)).toBe(false);
    expect(existsSync(datadir)).toBe(false);
    expect(processesMentioning(datadir)).toEqual([]);
    // Nothing of the demo's process group is left either (npm, sh, node).
    expect(() => process.kill(-demo!.pid!, 0)).toThrow();
    expect(output).toContain('Stopped');
  });
});
