/**
 * V8 settings for the bridge's workload, applied at process start (NODE_OPTIONS does not accept them).
 *
 * Allocation-site pretenuring is off. The pipeline allocates rows, payloads and envelopes that almost all die young;
 * but while transactions wait for a reference lookup (a cold cache, a catch-up), those in flight survive a scavenge
 * or two. V8 then marks their allocation sites as long-lived and allocates every later object of those sites in the
 * old generation, where they die anyway: in `npm run bench:domain` that turned 1 full (mark-compact) collection per
 * pass into 5-7, with the heap swinging between 25 and 180 MB. Without pretenuring the young generation absorbs them.
 */
import v8 from 'node:v8';

let applied = false;

/** Applies the bridge's V8 settings once per process (before the pipeline starts allocating). */
export function tuneV8(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
}
