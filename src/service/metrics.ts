/**
 * The bridge's Prometheus metrics (CONTRACT section 6, operations table) on one registry. Metric names are part of the
 * contract; labels too. Modules that count something of their own create it on the same registry (get-or-create by
 * name, as `delivery/webhook-metrics` does).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { ChannelMetrics } from '../delivery/types.js';
import type { MappingMetrics, RowDisposition } from '../domain/metrics.js';

function getOrCreate<T extends Metric<string>>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Every metric of the bridge; implements the channel and mapping counters the other modules report to. */
export class BridgeMetrics implements ChannelMetrics, MappingMetrics {
  readonly registry: Registry;
  readonly transactions: Counter<string>;
  readonly rows: Counter<'table' | 'op'>;
  readonly events: Counter<'type'>;
  readonly mappingErrors: Counter<'table'>;
  readonly lagSeconds: Gauge<string>;
  readonly lagBytes: Gauge<string>;
  readonly channelPublished: Counter<'channel'>;
  readonly channelFailed: Counter<'channel'>;
  readonly channelInflight: Gauge<'channel'>;
  readonly checkpointTime: Gauge<'consumer'>;
  readonly checkpointLagBytes: Gauge<'consumer'>;
  readonly consumerCatchingUp: Gauge<'consumer'>;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const r = [registry];
    collectDefaultMetrics({ register: registry });
    this.transactions = getOrCreate(
      registry,
      'openmrs_bridge_transactions_total',
      () =>
        new Counter({
          name: 'openmrs_bridge_transactions_total',
          help: 'Committed source transactions read',
          registers: r,
        }),
    );
    this.rows = getOrCreate(
      registry,
      'openmrs_bridge_rows_total',
      () =>
        new Counter({
          name: 'openmrs_bridge_rows_total',
          help: 'Row changes read',
          labelNames: ['table', 'op'],
          registers: r,
          collect: () => this.flushRows(),
        }),
    );
    this.events = getOrCreate(
      registry,
      'openmrs_bridge_events_total',
      () =>
        new Counter({
          name: 'openmrs_bridge_events_total',
          help: 'Events produced',
          labelNames: ['type'],
          registers: r,
          collect: () => this.flushEvents(),
        }),
    );
    this.mappingErrors = getOrCreate(
      registry,
      'openmrs_bridge_mapping_errors_total',
      () =>
        new Counter({
          name: 'openmrs_bridge_mapping_errors_total',
          help: 'Rows delivered as RowChanged with data.error',
          labelNames: ['table'],
          registers: r,
        }),
    );
    this.lagSeconds = getOrCreate(
      registry,
      'openmrs_bridge_capture_lag_seconds',
      () =>
        new Gauge({
          name: 'openmrs_bridge_capture_lag_seconds',
          help: 'Now minus the commit time of the last transaction read (0 when caught up)',
          registers: r,
        }),
    );
    this.lagBytes = getOrCreate(
      registry,
      'openmrs_bridge_capture_lag_bytes',
      () =>
        new Gauge({
          name: 'openmrs_bridge_capture_lag_bytes',
          help: "Bytes of binlog between the last transaction read and the server's end",
          registers: r,
        }),
    );
    this.channelPublished = getOrCreate(
      registry,
      'openmrs_bridge_channel_published_total',
      () =>
        new Counter({
          name: 'openmrs_bridge_channel_published_total',
          help: 'Events confirmed per channel',
          labelNames: ['channel'],
          registers: r,
        }),
    );
    this.channelFailed = getOrCreate(
      registry,
      'openmrs_bridge_channel_failed_total',
      () =>
        new Counter({
          name: 'openmrs_bridge_channel_failed_total',
          help: 'Failed publish attempts per channel',
          labelNames: ['channel'],
          registers: r,
        }),
    );
    this.channelInflight = getOrCreate(
      registry,
      'openmrs_bridge_channel_inflight',
      () =>
        new Gauge({
          name: 'openmrs_bridge_channel_inflight',
          help: 'Events sent and not yet confirmed per channel',
          labelNames: ['channel'],
          registers: r,
        }),
    );
    this.checkpointTime = getOrCreate(
      registry,
      'openmrs_bridge_checkpoint_commit_time_seconds',
      () =>
        new Gauge({
          name: 'openmrs_bridge_checkpoint_commit_time_seconds',
          help: 'Commit time (unix seconds) of the last transaction a durable consumer confirmed and saved',
          labelNames: ['consumer'],
          registers: r,
        }),
    );
    this.checkpointLagBytes = getOrCreate(
      registry,
      'openmrs_bridge_checkpoint_lag_bytes',
      () =>
        new Gauge({
          name: 'openmrs_bridge_checkpoint_lag_bytes',
          help: "Bytes of binlog between a durable consumer's confirmed position and the server's end",
          labelNames: ['consumer'],
          registers: r,
        }),
    );
    this.consumerCatchingUp = getOrCreate(
      registry,
      'openmrs_bridge_consumer_catching_up',
      () =>
        new Gauge({
          name: 'openmrs_bridge_consumer_catching_up',
          help: '1 while a durable consumer reads the binlog with its own catch-up reader, 0 while it is on the live feed',
          labelNames: ['consumer'],
          registers: r,
        }),
    );
    for (const channel of ['amqp', 'mqtt', 'websocket', 'webhook']) {
      this.channelPublished.inc({ channel }, 0);
      this.channelFailed.inc({ channel }, 0);
      this.channelInflight.set({ channel }, 0);
    }
  }

  published(channel: string, events: number): void {
    this.channelPublished.inc({ channel }, events);
  }

  failed(channel: string, events: number): void {
    this.channelFailed.inc({ channel }, events);
  }

  inflight(channel: string, delta: number): void {
    this.channelInflight.inc({ channel }, delta);
  }

  /**
   * Rows and events are counted in plain maps and added to the prom-client counters when they are collected (a
   * scrape): `inc` with labels hashes them on every call, which at catch-up rates was a measurable share per event.
   */
  private readonly pendingRows = new Map<string, [inserts: number, updates: number, deletes: number]>();
  private readonly pendingEvents = new Map<string, number>();

  row(table: string, op: 'insert' | 'update' | 'delete', _disposition: RowDisposition): void {
    let counts = this.pendingRows.get(table);
    if (counts === undefined) this.pendingRows.set(table, (counts = [0, 0, 0]));
    counts[op === 'insert' ? 0 : op === 'update' ? 1 : 2]++;
  }

  private flushRows(): void {
    for (const [table, counts] of this.pendingRows) {
      if (counts[0]) this.rows.inc({ table, op: 'insert' }, counts[0]);
      if (counts[1]) this.rows.inc({ table, op: 'update' }, counts[1]);
      if (counts[2]) this.rows.inc({ table, op: 'delete' }, counts[2]);
      counts[0] = counts[1] = counts[2] = 0;
    }
  }

  private flushEvents(): void {
    for (const [type, n] of this.pendingEvents) {
      if (n) this.events.inc({ type }, n);
      this.pendingEvents.set(type, 0);
    }
  }

  mappingError(table: string, _error: string): void {
    this.mappingErrors.inc({ table });
  }

  produced(type: string, count: number): void {
    this.pendingEvents.set(type, (this.pendingEvents.get(type) ?? 0) + count);
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    // Also here: on a registry whose counters another instance created, their collect hooks are not ours.
    this.flushRows();
    this.flushEvents();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Mapping counters for readers whose rows were already counted by the live reader (catch-up, replay): no-ops. */
export const uncountedMapping: MappingMetrics = { row() {}, mappingError() {}, produced() {} };
