/**
 * A capture consumer run as a child process by the kill/restart tests: reads transactions with BinlogReader and
 * appends one line per transaction (its GTID, rows and end position) to an output file with a single write, so a
 * SIGKILL leaves at most one torn last line. On start it resumes from the end position of the last whole line.
 *
 * Usage: tsx test/support/capture-child.ts <source url> <server id> <out file> <schema> [start]
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { BinlogReader } from '../../src/capture/index.js';
import type { ResumePosition } from '../../src/capture/types.js';

const [url, serverId, out, schema, start] = process.argv.slice(2);

function lastPosition(): ResumePosition | null {
  if (!existsSync(out)) return null;
  const lines = readFileSync(out, 'utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]).end as ResumePosition;
    } catch {
      // a torn last line (killed mid-write): the transaction will be read again
    }
  }
  return null;
}

const reader = new BinlogReader({
  source: { url },
  serverId: Number(serverId),
  from: lastPosition(),
  start: start ?? 'latest',
  includeSchemas: [schema],
  heartbeatMs: 1000,
});
await reader.start();
process.stdout.write('ready\n');
for await (const tx of reader) {
  if (tx.kind !== 'dml') continue;
  const ids = tx.rows!.map((r) => Number((r.after ?? r.before)!.id));
  const batch = tx.rows!.map((r) => Number((r.after ?? r.before)!.batch));
  appendFileSync(out, JSON.stringify({ gtid: tx.gtid, rows: tx.rowCount, ids, batch, end: tx.end }) + '\n');
}
