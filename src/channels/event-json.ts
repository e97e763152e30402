/**
 * Event JSON for WebSocket subscribers. Live transactions reach every follower as the same objects, so with several
 * subscribers a weak cache keyed by the event serializes each event once for all of them and goes with the event.
 * With one subscriber nothing can be shared, and a weak map entry per event cost about a tenth of a replay's
 * throughput (bench:e2e, WebSocket alone: 41,000-45,000 against 48,000-49,000 events/s without it), so then there is
 * no cache.
 */
import type { BridgeEvent } from '../domain/types.js';

const cache = new WeakMap<BridgeEvent, string>();

/** The event's JSON text; cached per event when `shared` (more than one subscriber may send this same object). */
export function eventJson(event: BridgeEvent, shared: boolean): string {
  if (!shared) return JSON.stringify(event);
  let json = cache.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    cache.set(event, json);
  }
  return json;
}
