/**
 * Event JSON, computed once per event however many channels and clients send it: live transactions reach every
 * follower (AMQP, MQTT, each WebSocket client) as the same objects, so a weak cache keyed by the event serves them all
 * and goes with the event.
 */
import type { BridgeEvent } from '../domain/types.js';

const cache = new WeakMap<BridgeEvent, string>();

/** The event's JSON text (cached). */
export function eventJson(event: BridgeEvent): string {
  let json = cache.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    cache.set(event, json);
  }
  return json;
}
