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
