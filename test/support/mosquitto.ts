/**
 * A throwaway Mosquitto broker for tests and benchmarks: its own temp config and persistence directory, a free port,
 * lossless queueing (`max_queued_messages 0`: the default of 1000 drops QoS 1 messages for a subscriber that falls
 * behind, after acknowledging the publish) and no-delay sockets. Can be stopped (SIGTERM, so it saves its
 * persistence file) and started again on the same port and data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mariadb.js';

export interface MosquittoOptions {
  /** More lines for mosquitto.conf. */
  extraConfig?: string[];
}

export interface MosquittoServer {
  port: number;
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  dir: string;
  /** The broker's log so far (for failing tests). */
  log(): string;
  /** Stops the broker with SIGTERM (it writes its persistence file) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the stopped broker again, same port and data. */
  restart(): Promise<void>;
  /** Stops the broker and removes its directory. */
  stop(): Promise<void>;
}

/** Starts a fresh broker on a free port. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoServer> {
  const dir = await mkdtemp(join(process.env.BRIDGE_TEST_TMP ?? tmpdir(), 'bridge-mosquitto-'));
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'max_queued_messages 0',
    'max_inflight_messages 0',
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    // mosquitto drops root privileges to the `mosquitto` user, which cannot write our temp directory.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    ...(options.extraConfig ?? []),
  ];
  await writeFile(config, lines.join('\n') + '\n');

  let child: ChildProcess | null = null;
  let output = '';

  async function launch(): Promise<void> {
    const proc = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`mosquitto exited with ${code} during start:\n${output}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (proc.exitCode !== null) await exited;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}:\n${output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    child = null;
  }

  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    log: () => output,
    kill,
    restart: launch,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
