/**
 * Runs the bridge as a child process, exactly as `npm start` would (`node --import tsx src/cli.ts`), with its
 * configuration in the environment and its log in a file, and stops it (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The project root (this file is demo/bridge-process.ts). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BridgeProcess {
  readonly pid: number;
  /** `http://host:port` of the bridge's API. */
  readonly baseUrl: string;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): Promise<string>;
  /** Graceful stop: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the bridge with `env` (BRIDGE_* variables) added to this process's environment. */
export function startBridge(env: Record<string, string>, logFile: string): BridgeProcess {
  const log = createWriteStream(logFile, { flags: 'w' });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C in the terminal reaches only the demo, which stops the bridge in order.
    detached: true,
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      log.end();
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const host = env.BRIDGE_HTTP_HOST ?? '127.0.0.1';
  return {
    pid: child.pid ?? -1,
    baseUrl: `http://${host}:${env.BRIDGE_HTTP_PORT ?? '8787'}`,
    logFile,
    exited,
    async tail(lines = 20) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Waits until `GET /readyz` answers 200 (source connected, sinks ready), failing early when the process exits.
 * Returns the last `/readyz` body.
 */
export async function waitReady(bridge: BridgeProcess, timeoutMs = 90_000, token?: string): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | null = null;
  void bridge.exited.then((c) => (exitedWith = c));
  let last = '';
  while (Date.now() < deadline) {
    if (exitedWith !== null) {
      throw new Error(`the bridge exited (${exitedWith}) before it was ready:\n${await bridge.tail(30)}`);
    }
    try {
      const res = await fetch(`${bridge.baseUrl}/readyz`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      last = await res.text();
      if (res.ok) return parseJson(last);
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `the bridge was not ready within ${timeoutMs / 1000} s (last /readyz: ${last})\n${await bridge.tail(30)}`,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
