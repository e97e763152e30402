/**
 * What `delivery` does with a ChannelPublisher, reduced to its core for channel tests and benchmarks: publish
 * transactions in order with many calls in flight, track the position (transactions confirmed contiguously from the
 * first), and after any rejection wait for the calls in flight to settle and re-send from the position.
 */
import type { ChannelPublisher } from '../../src/delivery/types.js';
import type { TransactionEvents } from '../../src/domain/types.js';

export interface DriveOptions {
  /** Transactions to publish; omit to go on until `until` says stop. */
  count?: number;
  /** Checked between calls: once true, no transaction beyond those already sent is started. */
  until?: () => boolean;
  /** publish() calls in flight. Default 64. */
  callsInFlight?: number;
  /** Gives up (rejects) when nothing is confirmed for this long. Default 30 s. */
  stallMs?: number;
}

export interface DriveResult {
  /** Transactions confirmed (0..confirmed-1). */
  confirmed: number;
  /** How often a rejection made the driver go back to its position. */
  rewinds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function drive(
  publisher: ChannelPublisher,
  tx: (index: number) => TransactionEvents,
  options: DriveOptions,
): Promise<DriveResult> {
  const callsInFlight = options.callsInFlight ?? 64;
  const stallMs = options.stallMs ?? 30_000;
  let limit = options.count ?? Infinity;
  let confirmed = 0;
  let next = 0;
  let epoch = 0;
  let failed = false;
  let rewinds = 0;
  let lastProgress = Date.now();
  const done = new Set<number>();
  const pending = new Set<Promise<void>>();

  while (true) {
    while (done.has(confirmed)) {
      done.delete(confirmed);
      confirmed++;
      lastProgress = Date.now();
    }
    if (limit === Infinity && options.until?.()) limit = next;
    if (confirmed >= limit) return { confirmed, rewinds };
    if (Date.now() - lastProgress > stallMs) throw new Error(`no progress for ${stallMs} ms at ${confirmed}`);
    if (failed) {
      await Promise.allSettled([...pending]);
      epoch++;
      failed = false;
      done.clear();
      next = confirmed;
      rewinds++;
      continue;
    }
    if (publisher.ready && next < limit && pending.size < callsInFlight) {
      const index = next++;
      const e = epoch;
      const p = publisher.publish(tx(index).events).then(
        () => void (e === epoch && done.add(index)),
        () => void (e === epoch && (failed = true)),
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
      continue;
    }
    await Promise.race([...pending, sleep(pending.size ? 100 : 20)]);
  }
}
