/**
 * Grouping of a transaction's row changes into units: all rows of one aggregate instance (a patient, an encounter, an
 * order, ...) in the transaction, with repeated changes of the same row collapsed into one net change. Each unit makes
 * zero or more events at the place of its first row.
 */
import type { RowChange } from '../capture/types.js';
import type { RowImage } from '../source/types.js';
import type { AggregateKind, TableRole } from './tables.js';

/** The net change of one row over the transaction. */
export interface NetChange {
  table: string;
  role: TableRole;
  op: 'insert' | 'update' | 'delete';
  before: RowImage | null;
  after: RowImage | null;
}

/** The rows of one aggregate instance in one transaction. */
export interface Unit {
  /** The aggregate, or `row` for a row that goes out as RowChanged. */
  agg: AggregateKind | 'row';
  /** Root table (the aggregate's main table, or the metadata table). */
  table: string;
  /** The aggregate instance's id (person_id, encounter_id, ...). */
  id: number;
  /** Index of the first row change that belongs to the unit: where its events go. */
  first: number;
  nets: NetChange[];
  /** Indices (in the transaction) of the unit's row changes, to fall back to RowChanged. */
  rawIndex: number[];
  /** For a `row` unit that failed to key: why. */
  error?: string;
  /** For versioned writes (obs/condition edit, order revise/discontinue): the unit of the replaced row, folded in. */
  previous?: Unit;
  /** Set on a unit that was folded into another. */
  foldedInto?: Unit;
}

/**
 * A unit holding its first row change. Most units are one row: arrays made with that row hold one slot, where an empty
 * array's first push reserves sixteen.
 */
export function newUnit(change: RowChange, index: number, role: TableRole, id: number): Unit {
  return { agg: role.agg, table: role.root, id, first: index, nets: [netOf(change, role)], rawIndex: [index] };
}

function netOf(change: RowChange, role: TableRole): NetChange {
  return { table: change.table, role, op: change.op, before: change.before, after: change.after };
}

/** Adds a row change to the unit, collapsing it with an earlier change of the same row. */
export function addRow(unit: Unit, change: RowChange, index: number, role: TableRole): void {
  unit.rawIndex.push(index);
  const img = change.after ?? change.before!;
  const pk = img[role.pk];
  for (let i = 0; i < unit.nets.length; i++) {
    const n = unit.nets[i];
    if (n.table !== change.table) continue;
    const npk = (n.after ?? n.before!)[role.pk];
    if (npk !== pk) continue;
    // Same row again: keep the first before-image and the last after-image.
    if (change.op === 'delete') {
      n.op = n.op === 'insert' ? 'delete' : 'delete';
      n.before = n.before ?? n.after;
      n.after = null;
    } else if (change.op === 'update') {
      n.after = change.after;
    } else {
      // Re-insert after a delete of the same key: an update from the old image.
      n.op = n.before ? 'update' : 'insert';
      n.after = change.after;
    }
    return;
  }
  unit.nets.push(netOf(change, role));
}

/** The unit's net change of its root table, if the transaction wrote it. */
export function rootNet(unit: Unit): NetChange | undefined {
  for (const n of unit.nets) if (n.table === unit.table || n.role.part === 'root') return n;
  return undefined;
}

/** Whether column `col` went 0 to 1 ('on'), 1 to 0 ('off') or neither (null) in an update. */
export function flip(net: NetChange | undefined, col: string): 'on' | 'off' | null {
  if (!net || net.op !== 'update') return null;
  const a = truthy(net.before![col]);
  const b = truthy(net.after![col]);
  return a === b ? null : b ? 'on' : 'off';
}

function truthy(v: unknown): boolean {
  return v !== null && v !== undefined && v !== 0 && v !== '0' && v !== '';
}
