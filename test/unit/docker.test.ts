/**
 * No Docker engine runs here, so check what can be checked: docker-compose.yml parses and configures the source as
 * the bridge requires (CONTRACT section 2), every file it mounts exists, and the image runs as a non-root user, with
 * production dependencies only, a /healthz HEALTHCHECK, and the same start command as `npm start`.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

/** Instructions of a Dockerfile with continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, any>;
  };

  it('runs MariaDB 10.11, RabbitMQ, Mosquitto and the bridge', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['bridge', 'mariadb', 'mosquitto', 'rabbitmq']);
    expect(compose.services.mariadb.image).toBe('mariadb:10.11');
    expect(compose.services.rabbitmq.image).toMatch(/^rabbitmq:/);
    expect(compose.services.mosquitto.image).toMatch(/^eclipse-mosquitto:/);
    expect(compose.services.bridge.build).toBe('.');
  });

  it('gives MariaDB every binlog setting the bridge requires', () => {
    const args = (compose.services.mariadb.command as string[]).map((a) => a.replace(/_/g, '-'));
    for (const setting of [
      '--log-bin=mysql-bin',
      '--binlog-format=ROW',
      '--binlog-row-image=FULL',
      '--binlog-row-metadata=FULL',
    ]) {
      expect(args).toContain(setting);
    }
    const serverId = args.find((a) => a.startsWith('--server-id='));
    expect(Number(serverId?.split('=')[1])).toBeGreaterThan(0);
  });

  it('points the bridge at the services of the file', () => {
    const env = compose.services.bridge.environment as Record<string, string>;
    expect(new URL(env.BRIDGE_SOURCE_URL).host).toBe('mariadb:3306');
    expect(env.BRIDGE_AMQP_URL).toMatch(/@rabbitmq:5672$/);
    expect(env.BRIDGE_MQTT_URL).toBe('mqtt://mosquitto:1883');
    // Not loopback inside a container: the contract requires a token then.
    expect(env.BRIDGE_HTTP_HOST).toBe('0.0.0.0');
    expect(env.BRIDGE_ADMIN_TOKEN).toBeTruthy();
    const dependsOn = compose.services.bridge.depends_on as Record<string, { condition: string }>;
    expect(dependsOn.mariadb.condition).toBe('service_healthy');
  });

  it('uses only well-formed variable interpolations', () => {
    // Compose accepts `${VAR}`, `${VAR:-default}`, `${VAR:?message}` (and `$$` for a literal dollar).
    const bad = read('docker-compose.yml').match(/\$(?!\$|\{[A-Z_][A-Z0-9_]*(?::?[-?][^}$]*)?\})/g);
    expect(bad).toBeNull();
  });

  it('mounts only files that exist', () => {
    for (const service of Object.values(compose.services)) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const [from] = volume.split(':');
        if (from.startsWith('./')) expect(existsSync(join(root, from)), volume).toBe(true);
      }
    }
  });

  it('creates the bridge user with the grants of the contract', () => {
    const sql = read('docker/mariadb/01-bridge-user.sql');
    expect(sql).toMatch(/GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON \*\.\* TO 'bridge'/);
    expect(sql).toMatch(/GRANT SELECT ON `openmrs`\.\*/);
    expect(sql).toMatch(/GRANT ALL PRIVILEGES ON `openmrs_event_bridge`\.\*/);
    const env = compose.services.bridge.environment as Record<string, string>;
    const password = /IDENTIFIED BY '([^']+)'/.exec(sql)?.[1];
    expect(decodeURIComponent(new URL(env.BRIDGE_SOURCE_URL).password)).toBe(password);
  });
});

describe('Dockerfile', () => {
  const steps = instructions(read('Dockerfile'));
  const froms = steps.filter((s) => s.op === 'FROM');
  const lastStage = steps.slice(steps.lastIndexOf(froms.at(-1)!));

  it('is multi-stage on node:20-slim', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args).toMatch(/^node:20-slim\b/);
  });

  it('runs as a non-root user with production dependencies only', () => {
    const user = lastStage.filter((s) => s.op === 'USER').at(-1);
    expect(user?.args).toBeTruthy();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
    expect(steps.some((s) => s.op === 'RUN' && /npm ci\b.*--omit=dev/.test(s.args))).toBe(true);
    // The final stage takes node_modules from the production-only stage, never from the build stage.
    const modules = lastStage.find((s) => s.op === 'COPY' && /node_modules/.test(s.args));
    const fromStage = /--from=(\S+)/.exec(modules!.args)![1];
    const stage = steps.find((s) => s.op === 'FROM' && new RegExp(`\\bAS ${fromStage}$`, 'i').test(s.args));
    const stageSteps = steps.slice(steps.indexOf(stage!) + 1);
    const stageRun = stageSteps
      .slice(
        0,
        stageSteps.findIndex((s) => s.op === 'FROM'),
      )
      .filter((s) => s.op === 'RUN');
    expect(stageRun.map((s) => s.args).join(' ')).toMatch(/--omit=dev/);
  });

  it('checks /healthz', () => {
    const check = lastStage.find((s) => s.op === 'HEALTHCHECK');
    expect(check?.args).toMatch(/\/healthz/);
  });

  it('starts with the same command as `npm start`', () => {
    const cmd = lastStage.find((s) => s.op === 'CMD');
    const argv = JSON.parse(cmd!.args) as string[];
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start;
    expect(start, 'package.json has a start script').toBeTruthy();
    expect(argv.join(' ')).toBe(start);
    // What that command needs at run time is in the image: every file it names, and the production dependencies.
    for (const arg of argv.filter((a) => /\.[cm]?[jt]s$/.test(a))) expect(existsSync(join(root, arg)), arg).toBe(true);
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const imported = argv.flatMap((a, i) => (argv[i - 1] === '--import' ? [a] : []));
    for (const mod of imported) expect(pkg.dependencies[mod], `${mod} is a production dependency`).toBeTruthy();
    expect(lastStage.some((s) => s.op === 'COPY' && /\bsrc\b/.test(s.args))).toBe(true);
  });
});
