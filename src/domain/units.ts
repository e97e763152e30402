/**
 * Grouping of a transaction's row changes into units: all rows of one aggregate instance (a patient, an encounter, an
 * order, ...) in the transaction, with repeated changes of the same row collapsed into one net change. Each unit makes
 * zero or more events at the place of its first row.
 */
import type { RowChange } from '../capture/types.js';
import type { RowImage } from '../source/types.js';
import type { AggregateKind, TableRole } from './tables.js';
import type { BuildResult } from './aggregates.js';

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
  /** Why the unit's rows go out as RowChanged: a `row` unit that failed to key, or a unit whose build threw. */
  error: string | undefined;
  /** The unit's drafts once built (RAW: its rows go out as RowChanged). */
  result: BuildResult | undefined;
  /** For versioned writes (obs/condition edit, order revise/discontinue): the unit of the replaced row, folded in. */
  previous: Unit | undefined;
  /** Set on a unit that was folded into another. */
  foldedInto: Unit | undefined;
}

/**
 * A unit holding its first row change. Most units are one row: arrays made with that row hold one slot, where an empty
 * array's first push reserves sixteen.
 */
export function newUnit(change: RowChange, index: number, role: TableRole, id: number): Unit {
  return {
    agg: role.agg,
    table: role.root,
    id,
    first: index,
    nets: [netOf(change, role)],
    rawIndex: [index],
    error: undefined,
    result: undefined,
    previous: undefined,
    foldedInto: undefined,
  };
}

/** A unit for one row of a table with no aggregate (or one that cannot be keyed, `error` says why): RowChanged. */
export function rawUnit(table: string, index: number, error: string | null): Unit {
  return {
    agg: 'row',
    table,
    id: 0,
    first: index,
    nets: [],
    rawIndex: [index],
    error: error ?? undefined,
    result: undefined,
    previous: undefined,
    foldedInto: undefined,
  };
}

function netOf(change: RowChange, role: TableRole): NetChange {
  return { table: change.table, role, op: change.op, before: change.before, after: change.after };
}

/** Units of up to this many per transaction are found by a scan; beyond, through maps by root table and id. */
const SCAN_MAX = 24;

/**
 * The units of one transaction by aggregate (root table) and id. Most transactions hold a few units, which a scan of
 * the unit list finds faster than maps built for each transaction; large ones (void cascades) get maps.
 */
export class UnitIndex {
  /** Per root table (TableRole.unitIdx), units by aggregate id, once the transaction has more than SCAN_MAX units. */
  private byRoot: Array<Map<number, Unit> | undefined> | null = null;

  /** @param units the transaction's units in order, raw ones included; `add` appends to it */
  constructor(private readonly units: Unit[]) {}

  /** The unit of aggregate `id` of `role`'s root table, if the transaction has one. */
  get(role: TableRole, id: number): Unit | undefined {
    if (this.byRoot !== null) return this.byRoot[role.unitIdx]?.get(id);
    const units = this.units;
    // From the end: the rows of one unit mostly come together.
    for (let i = units.length - 1; i >= 0; i--) {
      const u = units[i];
      if (u.id === id && u.table === role.root && u.agg !== 'row') return u;
    }
    return undefined;
  }

  /** Appends a new unit (of an aggregate: `unit.table` its root table) to the transaction's units. */
  add(unit: Unit): void {
    this.units.push(unit);
    if (this.byRoot !== null) this.keep(unit);
    else if (this.units.length > SCAN_MAX) {
      this.byRoot = [];
      for (const u of this.units) if (u.agg !== 'row') this.keep(u);
    }
  }

  private keep(unit: Unit): void {
    const idx = unit.nets[0].role.unitIdx;
    let byId = this.byRoot![idx];
    if (byId === undefined) this.byRoot![idx] = byId = new Map();
    byId.set(unit.id, unit);
  }
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
