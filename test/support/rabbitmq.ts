/**
 * The machine's RabbitMQ (127.0.0.1:5672, guest/guest) seen from a test: unique names per run, and closing a
 * client's connection from the broker side (`rabbitmqctl close_connection`), as an operator or a broker restart would.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const RABBITMQ_URL = process.env.BRIDGE_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A name no other test run uses: `<prefix>-<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Closes, from the broker side, every connection whose client `connection_name` is `name`; returns how many. */
export async function closeConnectionsNamed(name: string, reason = 'closed by test'): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', '-q', '--no-table-headers', 'pid', 'client_properties']);
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0]!.trim())
    .filter(Boolean);
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, reason]);
  return pids.length;
}
