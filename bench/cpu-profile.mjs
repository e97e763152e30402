/**
 * Preload that CPU-profiles a process Node will not profile with `--cpu-prof` (that flag is refused in NODE_OPTIONS):
 * `BENCH_BRIDGE_NODE_OPTIONS='--import ./bench/cpu-profile.mjs' npm run bench:e2e` writes
 * `<BENCH_PROFILE_DIR or .tmp/prof>/<pid>.cpuprofile` for each bridge process when it exits (SIGTERM or end of work).
 * Open the files in Chrome DevTools or speedscope.
 */
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';

const dir = resolve(process.env.BENCH_PROFILE_DIR ?? '.tmp/prof');
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 500 });
session.post('Profiler.start');

let saved = false;
function save() {
  if (saved) return;
  saved = true;
  session.post('Profiler.stop', (err, result) => {
    if (err) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
}
// The bridge stops on SIGTERM by itself; save first (the inspector answers synchronously in-process).
process.prependListener('SIGTERM', save);
process.on('beforeExit', save);
process.on('exit', save);
