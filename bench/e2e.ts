/**
 * `npm run bench:e2e`: (a) each channel's throughput next to a bare client's (bench/e2e-channels.ts, by the channels
 * module) and (b) commit-to-consumer latency on all three channels together (bench/e2e-latency.ts), one after the
 * other so that they do not compete for the machine. `BENCH_E2E_PART=a` or `b` runs one part only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const part = process.env.BENCH_E2E_PART;
const parts = [
  { name: 'a', file: 'e2e-channels.ts' },
  { name: 'b', file: 'e2e-latency.ts' },
].filter((p) => !part || p.name === part);

let failed = false;
for (const { name, file } of parts) {
  const path = `${here}${file}`;
  if (!existsSync(path)) {
    console.log(`part (${name}): ${file} is not there yet; skipped`);
    continue;
  }
  console.log(`\n== part (${name}): ${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
