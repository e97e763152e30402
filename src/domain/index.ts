/**
 * The `domain` module: the OpenMRS event catalog (zod schemas and inferred types), the mapper from committed
 * transactions to events, reference resolution, source time zone handling and routing helpers.
 */
export * from './catalog/index.js';
export type { BridgeEvent, TransactionEvents } from './types.js';
export { EventMapper, type MapperOptions } from './mapper.js';
export { mapAhead, type MappedTransaction } from './map-ahead.js';
export { routeOf, routingKey, mqttTopic } from './routing.js';
export { SourceClock, unixToIso } from './time.js';
export {
  MysqlReferenceLookup,
  ReferenceResolver,
  type ReferenceLookup,
  type Queryable,
  type ResolverStats,
} from './references.js';
export { CountingMetrics, noMetrics, type MappingMetrics, type RowDisposition } from './metrics.js';
export { NOISE_TABLES, TABLE_ROLES, tableClass } from './tables.js';
