/**
 * Counters the mapper reports; the service wires them to prom-client (`openmrs_bridge_rows_total{table,op}`,
 * `openmrs_bridge_mapping_errors_total{table}`, `openmrs_bridge_events_total{type}`).
 */

/** What became of one row change. */
export type RowDisposition =
  /** it caused an event (the first row of a unit, or the row an event is named after) */
  | 'event'
  /** folded into an event caused by another row of the same aggregate */
  | 'folded'
  /** delivered as RowChanged (a table with no aggregate, or a row that could not be mapped) */
  | 'row'
  /** a noise table: produces nothing by design */
  | 'noise'
  /** an update that changed nothing but `changed_by`/`date_changed` (or nothing at all): produces nothing */
  | 'unchanged';

/** The mapper's counters. Every method is called synchronously from the mapping loop: keep them cheap. */
export interface MappingMetrics {
  /** One row change of the source schema was read (noise tables included). */
  row(table: string, op: 'insert' | 'update' | 'delete', disposition: RowDisposition): void;
  /** A row was delivered as RowChanged with `data.error`. */
  mappingError(table: string, error: string): void;
  /** `count` events of `type` were produced (one call per run of one type in a transaction). */
  produced(type: string, count: number): void;
}

/** Counters that do nothing. */
export const noMetrics: MappingMetrics = {
  row() {},
  mappingError() {},
  produced() {},
};

/** Counters kept in memory (tests, benchmarks, the replay report). */
export class CountingMetrics implements MappingMetrics {
  readonly rows = new Map<string, number>();
  readonly dispositions = new Map<RowDisposition, number>();
  readonly byTableDisposition = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly events = new Map<string, number>();
  totalRows = 0;

  row(table: string, op: 'insert' | 'update' | 'delete', disposition: RowDisposition): void {
    this.totalRows++;
    const k = `${table}:${op}`;
    this.rows.set(k, (this.rows.get(k) ?? 0) + 1);
    this.dispositions.set(disposition, (this.dispositions.get(disposition) ?? 0) + 1);
    const td = `${table}:${disposition}`;
    this.byTableDisposition.set(td, (this.byTableDisposition.get(td) ?? 0) + 1);
  }

  mappingError(table: string): void {
    this.errors.set(table, (this.errors.get(table) ?? 0) + 1);
  }

  produced(type: string, count: number): void {
    this.events.set(type, (this.events.get(type) ?? 0) + count);
  }
}
