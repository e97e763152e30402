/**
 * The configuration of CONTRACT section 3: one zod schema per variable, each parsing the text of an environment
 * variable (or the same key, camelCase, in `--config FILE.json`) into its typed value.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { SITE_PATTERN } from './derive.js';
import { parseStart } from './start.js';

const mysqlUrl = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a URL (expected mysql://user:password@host:port/database)' });
    return z.NEVER;
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    ctx.addIssue({ code: 'custom', message: `has scheme ${url.protocol} (expected mysql:// or mariadb://)` });
    return z.NEVER;
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) {
    ctx.addIssue({ code: 'custom', message: 'names no database (expected mysql://user:password@host:port/database)' });
    return z.NEVER;
  }
  if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: 'names no host' });
    return z.NEVER;
  }
  return text;
});

const brokerUrl = (schemes: string[], example: string) =>
  z.string().refine(
    (text) => {
      try {
        return schemes.includes(new URL(text).protocol);
      } catch {
        return false;
      }
    },
    { message: `is not a ${schemes.map((s) => s + '//').join(' or ')} URL (e.g. ${example})` },
  );

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `must be an integer in ${min}..${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `must be an integer in ${min}..${max}` });

const duration = (minMs: number) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null || ms < minMs) {
      ctx.addIssue({ code: 'custom', message: `must be a duration of at least ${minMs} ms, like 500ms, 15s, 2m, 1h` });
      return z.NEVER;
    }
    return ms;
  });

const tokenList = z.string().transform((text, ctx) => {
  const tokens = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const token of tokens) {
    if (token.length < 8 || /\s/.test(token)) {
      ctx.addIssue({ code: 'custom', message: 'each token must be at least 8 characters without spaces' });
      return z.NEVER;
    }
  }
  return tokens;
});

/** Every variable: its environment name, its key in the JSON file, its schema, and its default (if a constant). */
export const VARIABLES = {
  sourceUrl: { env: 'BRIDGE_SOURCE_URL', schema: mysqlUrl },
  site: {
    env: 'BRIDGE_SITE',
    schema: z.string().regex(SITE_PATTERN, { message: 'must match [a-z0-9][a-z0-9-]*' }),
  },
  serverId: { env: 'BRIDGE_SERVER_ID', schema: integer(1, 4_294_967_295) },
  stateUrl: { env: 'BRIDGE_STATE_URL', schema: mysqlUrl },
  httpHost: {
    env: 'BRIDGE_HTTP_HOST',
    schema: z.string().min(1, { message: 'must not be empty' }),
    default: '127.0.0.1',
  },
  httpPort: { env: 'BRIDGE_HTTP_PORT', schema: integer(0, 65535), default: '8787' },
  adminToken: {
    env: 'BRIDGE_ADMIN_TOKEN',
    schema: z
      .string()
      .min(16, { message: 'must be at least 16 characters' })
      .regex(/^\S+$/, { message: 'must not contain spaces' }),
  },
  subscribeTokens: { env: 'BRIDGE_SUBSCRIBE_TOKENS', schema: tokenList },
  amqpUrl: { env: 'BRIDGE_AMQP_URL', schema: brokerUrl(['amqp:', 'amqps:'], 'amqp://guest:guest@127.0.0.1:5672') },
  amqpExchange: {
    env: 'BRIDGE_AMQP_EXCHANGE',
    schema: z.string().regex(/^[A-Za-z0-9_.:-]{1,255}$/, { message: 'must be 1-255 of A-Z a-z 0-9 _ . : -' }),
    default: 'openmrs.events',
  },
  mqttUrl: {
    env: 'BRIDGE_MQTT_URL',
    schema: brokerUrl(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'], 'mqtt://127.0.0.1:1883'),
  },
  mqttTopicPrefix: {
    env: 'BRIDGE_MQTT_TOPIC_PREFIX',
    schema: z.string().regex(/^[^#+/\s][^#+\s]*$/, {
      message: 'must be a topic level without wildcards (#, +), spaces, or a leading /',
    }),
    default: 'openmrs',
  },
  start: {
    env: 'BRIDGE_START',
    schema: z.string().transform((text, ctx) => {
      try {
        return parseStart(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
    default: 'latest',
  },
  maxTxRows: { env: 'BRIDGE_MAX_TX_ROWS', schema: integer(1, 100_000_000), default: '100000' },
  webhookTimeout: { env: 'BRIDGE_WEBHOOK_TIMEOUT', schema: duration(1), default: '15s' },
  webhookRetrySchedule: {
    env: 'BRIDGE_WEBHOOK_RETRY_SCHEDULE',
    schema: z.string().transform((text, ctx) => {
      const parts = text.split(',').map((p) => p.trim());
      const delays = parts.map(parseDuration);
      if (parts.length === 0 || delays.some((d) => d === null || d <= 0)) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma list of positive durations, like 1s,5s,30s,2m' });
        return z.NEVER;
      }
      return delays as number[];
    }),
    default: '1s,5s,30s,2m,10m,30m,1h',
  },
  webhookRetryWindow: { env: 'BRIDGE_WEBHOOK_RETRY_WINDOW', schema: duration(1000), default: '24h' },
  webhookAllowPrivate: {
    env: 'BRIDGE_WEBHOOK_ALLOW_PRIVATE',
    schema: z.enum(['true', 'false'], { message: 'must be true or false' }).transform((v) => v === 'true'),
  },
  commitHold: {
    env: 'BRIDGE_COMMIT_HOLD',
    schema: z.enum(['off', 'semi-sync'], { message: 'must be off or semi-sync' }),
    default: 'off',
  },
  sourceTimezone: {
    env: 'BRIDGE_SOURCE_TIMEZONE',
    schema: z.string().refine(isTimeZone, { message: 'must be an IANA time zone (e.g. Africa/Nairobi) or UTC' }),
  },
  logLevel: {
    env: 'BRIDGE_LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    }),
    default: 'info',
  },
} as const;

export type VariableKey = keyof typeof VARIABLES;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
