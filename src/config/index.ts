/**
 * Loads and validates the bridge configuration: environment variables, optionally a `--config FILE.json` with the
 * same settings as camelCase keys (`BRIDGE_HTTP_PORT` -> `httpPort`); the environment wins.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { isLoopback, serverIdFromSite, siteFromDatabase, stateUrlFromSource } from './derive.js';
import { VARIABLES, type VariableKey } from './schema.js';
import type { StartSpec } from './start.js';

export { parseDuration, formatDuration } from './duration.js';
export { parseStart, formatStart, type StartSpec } from './start.js';
export { serverIdFromSite, siteFromDatabase, stateUrlFromSource, isLoopback } from './derive.js';
export { VARIABLES, type VariableKey } from './schema.js';

/** Connection settings parsed from a `mysql://` URL. */
export interface DatabaseUrl {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The validated configuration the service runs with. */
export interface BridgeConfig {
  source: DatabaseUrl;
  site: string;
  /** The live reader's replica server id; extra readers use ids of their own (see `delivery/server-ids`). */
  serverId: number;
  state: DatabaseUrl;
  http: { host: string; port: number };
  adminToken?: string;
  subscribeTokens: string[];
  amqp?: { url: string; exchange: string };
  mqtt?: { url: string; topicPrefix: string };
  start: StartSpec;
  maxTxRows: number;
  webhook: {
    timeoutMs: number;
    retryScheduleMs: number[];
    retryWindowMs: number;
    /** Accept hook URLs on loopback/private addresses (BRIDGE_WEBHOOK_ALLOW_PRIVATE; default: when the API is on loopback). */
    allowPrivate: boolean;
  };
  commitHold: 'off' | 'semi-sync';
  /** Unset: the service derives it from the source server at start (CONTRACT section 3). */
  sourceTimezone?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Schemas the capture must ignore entirely: the bridge's own state database, so its writes never feed back into the
   * stream (only relevant when the state lives on the source server).
   */
  ignoreSchemas: string[];
}

/** One bad setting: the variable it concerns and what is wrong with it. */
export interface ConfigIssue {
  variable: string;
  message: string;
}

/** Thrown for any invalid configuration; the CLI prints `message` and exits with code 2. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super('invalid configuration:\n' + issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Where the settings come from. */
export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON file with camelCase keys. */
  configFile?: string;
}

type Parsed = { [K in VariableKey]?: z.output<(typeof VARIABLES)[K]['schema']> };

/** Reads, validates and completes the configuration; throws `ConfigError` naming every bad variable. */
export function loadConfig(sources: ConfigSources = {}): BridgeConfig {
  const env = sources.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const file = sources.configFile ? readConfigFile(sources.configFile, issues) : {};

  const parsed: Parsed = {};
  const keys = Object.keys(VARIABLES) as VariableKey[];
  for (const key of Object.keys(file)) {
    if (!(keys as string[]).includes(key)) {
      issues.push({
        variable: `${key} (in ${sources.configFile})`,
        message: `unknown setting; known: ${keys.join(', ')}`,
      });
    }
  }
  for (const key of keys) {
    const spec = VARIABLES[key];
    let raw: string | undefined;
    let origin: string = spec.env;
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') raw = fromEnv;
    else if (file[key] !== undefined && file[key] !== null) {
      origin = `${spec.env} (${key} in ${sources.configFile})`;
      const value = file[key];
      raw = Array.isArray(value) ? value.join(',') : String(value);
    } else if ('default' in spec) raw = spec.default;
    if (raw === undefined) continue;
    const result = (spec.schema as z.ZodType).safeParse(raw);
    if (result.success) (parsed as Record<string, unknown>)[key] = result.data;
    else {
      const shown = spec.env.includes('TOKEN') || spec.env.endsWith('_URL') ? '' : ` (got ${JSON.stringify(raw)})`;
      issues.push({ variable: origin, message: result.error.issues[0].message + shown });
    }
  }

  if (parsed.sourceUrl === undefined && !issues.some((i) => i.variable.startsWith('BRIDGE_SOURCE_URL'))) {
    issues.push({
      variable: 'BRIDGE_SOURCE_URL',
      message: 'is required (e.g. mysql://bridge:secret@127.0.0.1:3306/openmrs)',
    });
  }
  const httpHost = parsed.httpHost ?? '127.0.0.1';
  if (!isLoopback(httpHost) && !parsed.adminToken && !issues.some((i) => i.variable === 'BRIDGE_ADMIN_TOKEN')) {
    issues.push({
      variable: 'BRIDGE_ADMIN_TOKEN',
      message: `is required when BRIDGE_HTTP_HOST (${httpHost}) is not a loopback address`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const source = parseDatabaseUrl(parsed.sourceUrl!);
  const site = parsed.site ?? siteFromDatabase(source.database);
  const state = parseDatabaseUrl(parsed.stateUrl ?? stateUrlFromSource(source.url));
  if (state.database === source.database && state.host === source.host && state.port === source.port) {
    throw new ConfigError([
      { variable: 'BRIDGE_STATE_URL', message: `must not name the OpenMRS database itself (${source.database})` },
    ]);
  }
  const sameServer = state.host === source.host && state.port === source.port;
  return {
    source,
    site,
    serverId: parsed.serverId ?? serverIdFromSite(site),
    state,
    http: { host: httpHost, port: parsed.httpPort ?? 8787 },
    adminToken: parsed.adminToken,
    subscribeTokens: parsed.subscribeTokens ?? [],
    amqp: parsed.amqpUrl ? { url: parsed.amqpUrl, exchange: parsed.amqpExchange ?? 'openmrs.events' } : undefined,
    mqtt: parsed.mqttUrl ? { url: parsed.mqttUrl, topicPrefix: parsed.mqttTopicPrefix ?? 'openmrs' } : undefined,
    start: parsed.start ?? { kind: 'latest' },
    maxTxRows: parsed.maxTxRows ?? 100_000,
    webhook: {
      timeoutMs: parsed.webhookTimeout ?? 15_000,
      retryScheduleMs: parsed.webhookRetrySchedule ?? [1000, 5000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000],
      retryWindowMs: parsed.webhookRetryWindow ?? 86_400_000,
      allowPrivate: parsed.webhookAllowPrivate ?? isLoopback(httpHost),
    },
    commitHold: parsed.commitHold ?? 'off',
    sourceTimezone: parsed.sourceTimezone,
    logLevel: parsed.logLevel ?? 'info',
    ignoreSchemas: sameServer ? [state.database] : [],
  };
}

/** Splits a validated `mysql://` URL into connection settings. */
export function parseDatabaseUrl(text: string): DatabaseUrl {
  const url = new URL(text);
  return {
    url: text,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
  };
}

function readConfigFile(path: string, issues: ConfigIssue[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    issues.push({ variable: '--config', message: `cannot read ${path}: ${(err as Error).message}` });
    return {};
  }
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    issues.push({ variable: '--config', message: `${path} must hold a JSON object` });
  } catch (err) {
    issues.push({ variable: '--config', message: `${path} is not valid JSON: ${(err as Error).message}` });
  }
  return {};
}
