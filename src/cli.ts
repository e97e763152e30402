#!/usr/bin/env node
/**
 * `openmrs-event-bridge`: the service process, and its maintenance commands.
 *
 *   openmrs-event-bridge [run] [--config FILE.json]
 *   openmrs-event-bridge reset-positions --start <latest|earliest|gtid:..|binlog:file:pos|cursor> [--consumer NAME]...
 *   openmrs-event-bridge positions
 *
 * Exit codes: 0 after a clean stop, 1 on a fatal error while running, 2 on a configuration or source-requirement
 * problem (the message names the variable or setting and the fix).
 */
import mysql from 'mysql2/promise';
import { ConfigError, loadConfig, parseStart, type BridgeConfig } from './config/index.js';
import { openState } from './state/index.js';
import { BridgeService } from './service/service.js';
import { resolveStartPosition, StartupConfigError } from './service/source-info.js';
import { defaultExtensions } from './service/plugins.js';
import { tuneV8 } from './service/v8-tuning.js';

tuneV8();

const USAGE = `usage:
  openmrs-event-bridge [run] [--config FILE.json]
      runs the bridge (configuration from BRIDGE_* environment variables; FILE.json holds the same settings as
      camelCase keys, e.g. {"sourceUrl": "mysql://...", "httpPort": 8787}; the environment wins)
  openmrs-event-bridge reset-positions --start <latest|earliest|gtid:<gtid>|binlog:<file>:<pos>|<cursor>>
                                       [--consumer <name>]... [--config FILE.json]
      replaces stored consumer positions (all stored ones and the enabled channels, or the named consumers);
      run it while the bridge is stopped
  openmrs-event-bridge positions [--config FILE.json]
      prints the stored consumer positions`;

interface Args {
  command: 'run' | 'reset-positions' | 'positions' | 'help';
  config?: string;
  start?: string;
  consumers: string[];
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const args: Args = { command: 'run', consumers: [] };
  let i = 0;
  if (argv[0] && !argv[0].startsWith('-')) {
    const command = argv[0];
    if (command !== 'run' && command !== 'reset-positions' && command !== 'positions' && command !== 'help') {
      throw new UsageError(`unknown command ${command}`);
    }
    args.command = command;
    i = 1;
  }
  for (; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--config' || flag === '-c') args.config = value();
    else if (flag === '--start') args.start = value();
    else if (flag === '--consumer') args.consumers.push(value());
    else if (flag === '--help' || flag === '-h') args.command = 'help';
    else throw new UsageError(`unknown option ${arg}`);
  }
  return args;
}

/** Prints a problem the operator must fix and exits with code 2. */
function exitConfig(message: string): never {
  process.stderr.write(`openmrs-event-bridge: ${message}\n`);
  process.exit(2);
}

function isOperatorError(err: unknown): err is Error {
  if (err instanceof ConfigError || err instanceof StartupConfigError) return true;
  const name = (err as Error)?.name;
  return name === 'RequirementsError' || name === 'ServerIdConflictError';
}

async function run(config: BridgeConfig): Promise<void> {
  const service = new BridgeService({ config, extensions: defaultExtensions() });
  let stopping: Promise<void> | null = null;
  const stop = (code: number) => {
    stopping ??= service
      .stop()
      .catch((err) => service.logger.error({ err }, 'error while stopping'))
      .finally(() => {
        service.logger.flush?.();
        process.exit(code);
      });
    return stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) {
        service.logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      service.logger.info({ signal }, 'signal received; stopping gracefully');
      void stop(0);
    });
  }
  try {
    await service.start();
  } catch (err) {
    await service.stop().catch(() => undefined);
    if (isOperatorError(err)) exitConfig((err as Error).message);
    throw err;
  }
  const fatal = await service.fatal;
  service.logger.fatal({ err: fatal }, 'stopping after a fatal error');
  await stop(1);
}

async function resetPositions(config: BridgeConfig, startText: string | undefined, named: string[]): Promise<void> {
  if (!startText) throw new UsageError('reset-positions needs --start <form>');
  let spec;
  try {
    spec = parseStart(startText);
  } catch (err) {
    exitConfig(`--start: ${(err as Error).message}`);
  }
  const state = await openState(config.state);
  try {
    // Refuse while a bridge runs on this state database: it would overwrite the positions at its next checkpoint.
    const [lock] = await state.pool.query<any[]>('SELECT GET_LOCK(?, 0) AS ok', [
      `openmrs_event_bridge.run:${config.state.database}`,
    ]);
    if (Number(lock[0].ok) !== 1) {
      process.stderr.write('openmrs-event-bridge: a bridge is running on this state database; stop it first\n');
      process.exitCode = 1;
      return;
    }
    const source = await mysql.createConnection({ uri: config.source.url, dateStrings: true });
    let position;
    try {
      position = await resolveStartPosition(source, spec);
    } catch (err) {
      exitConfig(`--start: ${(err as Error).message}`);
    } finally {
      await source.end();
    }
    const consumers = new Set(named);
    if (consumers.size === 0) {
      for (const p of await state.positions.list()) consumers.add(p.consumer);
      if (config.amqp) consumers.add('amqp');
      if (config.mqtt) consumers.add('mqtt');
    }
    const before = new Map((await state.positions.list()).map((p) => [p.consumer, p]));
    await state.positions.save(
      [...consumers].map((consumer) => ({ consumer, txid: null, position, commitTime: null })),
    );
    for (const consumer of consumers) {
      const old = before.get(consumer);
      const from = old ? `${old.position.binlog.file}:${old.position.binlog.pos}` : '(none)';
      process.stdout.write(
        `${consumer}: ${from} -> ${position.binlog.file || 'gtid'}:${position.binlog.pos}${position.gtidState ? ` (gtid ${position.gtidState})` : ''}\n`,
      );
    }
  } finally {
    await state.close();
  }
}

async function showPositions(config: BridgeConfig): Promise<void> {
  const state = await openState(config.state);
  try {
    for (const p of await state.positions.list()) {
      process.stdout.write(
        `${p.consumer}\t${p.position.binlog.file}:${p.position.binlog.pos}\t${p.txid ?? '-'}\t${p.position.gtidState ?? ''}\t${p.updatedAt?.toISOString() ?? ''}\n`,
      );
    }
  } finally {
    await state.close();
  }
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`openmrs-event-bridge: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let config: BridgeConfig;
  try {
    config = loadConfig({ env: process.env, configFile: args.config });
  } catch (err) {
    if (err instanceof ConfigError) exitConfig(err.message);
    throw err;
  }
  if (args.command === 'reset-positions') return resetPositions(config, args.start, args.consumers);
  if (args.command === 'positions') return showPositions(config);
  return run(config);
}

main().catch((err) => {
  if (err instanceof UsageError) {
    process.stderr.write(`openmrs-event-bridge: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (isOperatorError(err)) exitConfig(err.message);
  process.stderr.write(`openmrs-event-bridge: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
