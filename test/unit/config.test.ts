import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { encodeCursor } from '../../src/capture/cursor.js';
import {
  ConfigError,
  formatStart,
  loadConfig,
  parseDuration,
  parseStart,
  serverIdFromSite,
  siteFromDatabase,
} from '../../src/config/index.js';

const SOURCE = 'mysql://bridge:secret@db.example:3306/openmrs';

function issuesOf(env: Record<string, string>, configFile?: string): { variable: string; message: string }[] {
  try {
    loadConfig({ env, configFile });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('applies every default of the contract', () => {
    const config = loadConfig({ env: { BRIDGE_SOURCE_URL: SOURCE } });
    expect(config.source).toMatchObject({ host: 'db.example', port: 3306, user: 'bridge', database: 'openmrs' });
    expect(config.site).toBe('openmrs');
    expect(config.serverId).toBe(serverIdFromSite('openmrs'));
    expect(config.state).toMatchObject({ host: 'db.example', port: 3306, database: 'openmrs_event_bridge' });
    expect(config.state.password).toBe('secret');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(config.adminToken).toBeUndefined();
    expect(config.subscribeTokens).toEqual([]);
    expect(config.amqp).toBeUndefined();
    expect(config.mqtt).toBeUndefined();
    expect(config.start).toEqual({ kind: 'latest' });
    expect(config.maxTxRows).toBe(100_000);
    expect(config.webhook).toEqual({
      timeoutMs: 15_000,
      retryScheduleMs: [1000, 5000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000],
      retryWindowMs: 86_400_000,
      allowPrivate: true,
    });
    expect(config.commitHold).toBe('off');
    expect(config.sourceTimezone).toBeUndefined();
    // The state database is on the source server, so the capture must ignore it.
    expect(config.ignoreSchemas).toEqual(['openmrs_event_bridge']);
  });

  it('derives the site from the database name', () => {
    expect(siteFromDatabase('OpenMRS_Clinic_A')).toBe('openmrs-clinic-a');
    expect(siteFromDatabase('_x.y')).toBe('x-y');
    const config = loadConfig({ env: { BRIDGE_SOURCE_URL: 'mysql://u:p@h/Clinic_B' } });
    expect(config.site).toBe('clinic-b');
  });

  it('derives a stable server id in 1,000,000..4,000,000,000 that differs per site', () => {
    const ids = new Set<number>();
    for (const site of ['openmrs', 'clinic-a', 'clinic-b', 'x', 'a-very-long-site-name-0123456789']) {
      const id = serverIdFromSite(site);
      expect(id).toBeGreaterThanOrEqual(1_000_000);
      expect(id).toBeLessThanOrEqual(4_000_000_000);
      expect(serverIdFromSite(site)).toBe(id);
      ids.add(id);
    }
    expect(ids.size).toBe(5);
  });

  it('enables channels when their URL is set, with default exchange and prefix', () => {
    const config = loadConfig({
      env: {
        BRIDGE_SOURCE_URL: SOURCE,
        BRIDGE_AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
        BRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1883',
      },
    });
    expect(config.amqp).toEqual({ url: 'amqp://guest:guest@127.0.0.1:5672', exchange: 'openmrs.events' });
    expect(config.mqtt).toEqual({ url: 'mqtt://127.0.0.1:1883', topicPrefix: 'openmrs' });
  });

  it('requires BRIDGE_SOURCE_URL with a database', () => {
    expect(issuesOf({})).toEqual([{ variable: 'BRIDGE_SOURCE_URL', message: expect.stringContaining('required') }]);
    expect(issuesOf({ BRIDGE_SOURCE_URL: 'mysql://u:p@h:3306/' })[0]).toMatchObject({
      variable: 'BRIDGE_SOURCE_URL',
      message: expect.stringContaining('no database'),
    });
    expect(issuesOf({ BRIDGE_SOURCE_URL: 'postgres://u:p@h/db' })[0].message).toContain('mysql://');
  });

  it.each([
    ['BRIDGE_SITE', 'Clinic A', 'must match'],
    ['BRIDGE_SERVER_ID', '0', 'integer in 1..4294967295'],
    ['BRIDGE_SERVER_ID', 'abc', 'integer'],
    ['BRIDGE_HTTP_PORT', '70000', 'integer in 0..65535'],
    ['BRIDGE_AMQP_URL', 'http://rabbit', 'amqp://'],
    ['BRIDGE_MQTT_URL', 'nonsense', 'mqtt://'],
    ['BRIDGE_MQTT_TOPIC_PREFIX', 'a/#', 'wildcards'],
    ['BRIDGE_START', 'yesterday', 'latest, earliest'],
    ['BRIDGE_START', 'gtid:abc', 'is neither a MariaDB GTID'],
    ['BRIDGE_START', 'binlog:mysql-bin.000001:x', 'binlog:<file>:<pos>'],
    ['BRIDGE_MAX_TX_ROWS', '-5', 'integer'],
    ['BRIDGE_WEBHOOK_TIMEOUT', '15 parsecs', 'duration'],
    ['BRIDGE_WEBHOOK_RETRY_SCHEDULE', '1s,,5s', 'comma list'],
    ['BRIDGE_WEBHOOK_RETRY_WINDOW', 'forever', 'duration'],
    ['BRIDGE_COMMIT_HOLD', 'on', 'off or semi-sync'],
    ['BRIDGE_SOURCE_TIMEZONE', 'Mars/Olympus', 'IANA'],
    ['BRIDGE_STATE_URL', 'mysql://u:p@h:3306', 'no database'],
    ['BRIDGE_ADMIN_TOKEN', 'short', 'at least 16'],
    ['BRIDGE_SUBSCRIBE_TOKENS', 'abc', 'at least 8'],
  ])('rejects %s=%s naming the variable', (variable, value, message) => {
    const issues = issuesOf({ BRIDGE_SOURCE_URL: SOURCE, [variable]: value });
    expect(issues).toHaveLength(1);
    expect(issues[0].variable).toBe(variable);
    expect(issues[0].message).toContain(message);
  });

  it('reports every bad variable at once', () => {
    const issues = issuesOf({ BRIDGE_HTTP_PORT: 'x', BRIDGE_COMMIT_HOLD: 'maybe' });
    expect(issues.map((i) => i.variable).sort()).toEqual([
      'BRIDGE_COMMIT_HOLD',
      'BRIDGE_HTTP_PORT',
      'BRIDGE_SOURCE_URL',
    ]);
  });

  it('requires BRIDGE_ADMIN_TOKEN when the API is not on loopback', () => {
    expect(issuesOf({ BRIDGE_SOURCE_URL: SOURCE, BRIDGE_HTTP_HOST: '0.0.0.0' })).toEqual([
      { variable: 'BRIDGE_ADMIN_TOKEN', message: expect.stringContaining('not a loopback') },
    ]);
    for (const host of ['127.0.0.1', 'localhost', '::1']) {
      expect(issuesOf({ BRIDGE_SOURCE_URL: SOURCE, BRIDGE_HTTP_HOST: host })).toEqual([]);
    }
    const config = loadConfig({
      env: { BRIDGE_SOURCE_URL: SOURCE, BRIDGE_HTTP_HOST: '0.0.0.0', BRIDGE_ADMIN_TOKEN: 'a-long-admin-token' },
    });
    expect(config.adminToken).toBe('a-long-admin-token');
  });

  it('parses durations and retry schedules', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('soon')).toBeNull();
    const config = loadConfig({
      env: { BRIDGE_SOURCE_URL: SOURCE, BRIDGE_WEBHOOK_RETRY_SCHEDULE: '1s, 2m', BRIDGE_WEBHOOK_TIMEOUT: '500ms' },
    });
    expect(config.webhook.retryScheduleMs).toEqual([1000, 120_000]);
    expect(config.webhook.timeoutMs).toBe(500);
  });

  it('parses every start form', () => {
    expect(parseStart('earliest')).toEqual({ kind: 'earliest' });
    expect(parseStart('gtid:0-1-4711')).toEqual({ kind: 'gtid', gtid: '0-1-4711' });
    expect(parseStart('gtid:3E11FA47-71CA-11E1-9E33-C80AA9429562:23')).toMatchObject({ kind: 'gtid' });
    expect(parseStart('binlog:mysql-bin.000003:1234')).toEqual({ kind: 'binlog', file: 'mysql-bin.000003', pos: 1234 });
    const cursor = encodeCursor({ start: { file: 'mysql-bin.000002', pos: 4711 }, txid: '0-1-9', txseq: 2 });
    expect(parseStart(cursor)).toEqual({ kind: 'cursor', cursor });
    expect(() => parseStart('eyJiIjoiMSJ9abcdefgh')).toThrow(/invalid cursor/);
    for (const text of ['latest', 'gtid:0-1-2', 'binlog:f.000001:4']) expect(formatStart(parseStart(text))).toBe(text);
  });

  it('reads --config FILE.json with camelCase keys, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-config-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'bridge.json');
    writeFileSync(
      file,
      JSON.stringify({
        sourceUrl: SOURCE,
        httpPort: 9000,
        site: 'from-file',
        subscribeTokens: ['token-one', 'token-two'],
      }),
    );
    const config = loadConfig({ env: { BRIDGE_SITE: 'from-env' }, configFile: file });
    expect(config.http.port).toBe(9000);
    expect(config.site).toBe('from-env');
    expect(config.subscribeTokens).toEqual(['token-one', 'token-two']);

    writeFileSync(file, JSON.stringify({ sourceUrl: SOURCE, httpPort: 'x', colour: 'blue' }));
    const issues = issuesOf({}, file);
    expect(issues.map((i) => i.variable)).toEqual([`colour (in ${file})`, `BRIDGE_HTTP_PORT (httpPort in ${file})`]);

    writeFileSync(file, '{not json');
    expect(issuesOf({}, file)[0]).toMatchObject({
      variable: '--config',
      message: expect.stringContaining('not valid JSON'),
    });
  });

  it('keeps no state schema to ignore when the state lives on another server', () => {
    const config = loadConfig({
      env: { BRIDGE_SOURCE_URL: SOURCE, BRIDGE_STATE_URL: 'mysql://u:p@state.example:3306/bridge' },
    });
    expect(config.ignoreSchemas).toEqual([]);
    expect(issuesOf({ BRIDGE_SOURCE_URL: SOURCE, BRIDGE_STATE_URL: SOURCE })[0].variable).toBe('BRIDGE_STATE_URL');
  });
});
