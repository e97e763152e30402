/**
 * Routing parts of an event for AMQP routing keys (`<site>.<aggregate>.<action>`) and MQTT topics
 * (`<prefix>/<site>/<aggregate>/<action>`), CONTRACT sections 5 and 6.
 */
import { eventTypeInfo } from './catalog/index.js';

const ROW_ACTIONS: Record<string, string> = { insert: 'inserted', update: 'updated', delete: 'deleted' };

/** `<aggregate>` and `<action>` of an event, kebab case: `{aggregate: 'obs', action: 'voided'}`, `row.updated`. */
export function routeOf(event: { type: string; data?: unknown }): { aggregate: string; action: string } {
  if (event.type === 'RowChanged') {
    const op = (event.data as { op?: string } | undefined)?.op ?? '';
    const action = ROW_ACTIONS[op];
    if (!action) throw new Error(`RowChanged with unknown op ${JSON.stringify(op)}`);
    return { aggregate: 'row', action };
  }
  const info = eventTypeInfo(event.type);
  if (info) return { aggregate: info.aggregate, action: info.action };
  // Not a catalog type: derive it from the name so a newer producer still routes sensibly.
  const parts = event.type.match(/[A-Z][a-z0-9]*/g) ?? [event.type];
  const verb = parts.pop()!.toLowerCase();
  return { aggregate: parts.map((p) => p.toLowerCase()).join('-') || 'unknown', action: verb };
}

/** The AMQP routing key of an event: `<site>.<aggregate>.<action>`. */
export function routingKey(site: string, event: { type: string; data?: unknown }): string {
  const { aggregate, action } = routeOf(event);
  return `${site}.${aggregate}.${action}`;
}

/** The MQTT topic of an event: `<prefix>/<site>/<aggregate>/<action>`. */
export function mqttTopic(prefix: string, site: string, event: { type: string; data?: unknown }): string {
  const { aggregate, action } = routeOf(event);
  return `${prefix}/${site}/${aggregate}/${action}`;
}

/** Bounds the caches of `routeNames`, should a producer invent event types without end. */
const MAX_CACHED_ROUTES = 1000;

/**
 * `name(event)` (a routing key, a topic) cached by event type and, for RowChanged, by op: `routeOf` builds an object
 * and the name a new string per call, once per published message.
 */
export function routeNames(
  name: (event: { type: string; data?: unknown }) => string,
): (event: { type: string; data?: unknown }) => string {
  const byType = new Map<unknown, string>();
  const byRowOp = new Map<unknown, string>();
  return (event) => {
    const row = event.type === 'RowChanged';
    const key = row ? (event.data as { op?: unknown } | undefined)?.op : event.type;
    const cache = row ? byRowOp : byType;
    let cached = cache.get(key);
    if (cached === undefined) {
      cached = name(event);
      if (cache.size < MAX_CACHED_ROUTES) cache.set(key, cached);
    }
    return cached;
  };
}
