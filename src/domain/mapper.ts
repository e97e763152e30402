/**
 * The mapper: one committed Transaction in, its TransactionEvents out (CONTRACT sections 4 and 5).
 *
 * 1. Group the source schema's row changes into units (one per aggregate instance; other tables one unit per row);
 *    noise tables are counted and dropped.
 * 2. Fold versioned writes: an obs/condition insert with `previous_version` plus the void of the old row, and a
 *    REVISE/DISCONTINUE order plus the stop of the previous order, become one unit.
 * 3. Collect every reference, resolve them in one batch (same transaction, LRU, one query per table).
 * 4. Build each unit's events (aggregates.ts) at the place of its first row; a unit whose build throws goes out as
 *    RowChanged with `data.error`.
 * 5. Number them: txseq/txsize, id `<site>:<txid>:<txseq>`, cursor, commit time.
 */
import type { RowChange, Transaction } from '../capture/types.js';
import type { RowImage } from '../source/types.js';
import { cursorFor } from '../capture/cursor.js';
import type { TransactionEvents } from './types.js';
import {
  compile,
  wantRefs,
  rawImage,
  changedColumns,
  uuidRef,
  NOT_RESOLVED_YET,
  type ConvertContext,
} from './convert.js';
import {
  buildAllergy,
  buildCondition,
  buildDiagnosis,
  buildEncounter,
  buildMetadata,
  buildObs,
  buildOrder,
  buildPatient,
  buildProgram,
  buildVisit,
  IS_PATIENT,
  ORDER_TYPE_CLASS,
  RAW,
  unitUuidRef,
  type BuildResult,
} from './aggregates.js';
import { draftEvent, type Draft } from './draft.js';
import { EventCursors } from './event-cursors.js';
import { REF_TARGETS } from './catalog/fields.js';
import { noMetrics, type MappingMetrics } from './metrics.js';
import { memoSlotSource, ReferenceResolver, type RefBatch, type RefSpec, type ReferenceLookup } from './references.js';
import { NOISE_TABLES, TABLE_ROLES, tableClass, type TableRole } from './tables.js';
import { SourceClock, unixToIso } from './time.js';
import { addRow, newUnit, rawUnit, rootNet, UnitIndex, type Unit } from './units.js';

/** Options of an {@link EventMapper}. */
export interface MapperOptions {
  /** BRIDGE_SITE: `[a-z0-9][a-z0-9-]*`. */
  site: string;
  /** The OpenMRS database: rows of any other schema are ignored. */
  schema: string;
  /** BRIDGE_SOURCE_TIMEZONE (IANA name, `UTC` or `+03:00`). */
  timeZone: string;
  /** Looks references up in the source; without it, references not in the transaction or cache resolve to null. */
  lookup?: ReferenceLookup | null;
  /** Entries of the reference LRU cache (default 100,000). */
  cacheSize?: number;
  metrics?: MappingMetrics;
  /** More tables that never produce events (besides global_property, scheduler and Liquibase tables). */
  noiseTables?: Iterable<string>;
  /** The cursor of an event (default: capture's `cursorFor`). */
  cursor?: (tx: Transaction, txseq: number) => string;
}

/** Maps committed transactions to OpenMRS domain events. One instance per pipeline (it owns the reference cache). */
export class EventMapper {
  readonly site: string;
  readonly schema: string;
  readonly clock: SourceClock;
  readonly resolver: ReferenceResolver;
  private readonly metrics: MappingMetrics;
  private readonly noise: Set<string>;
  private readonly source: string;
  private readonly cursors: EventCursors;

  constructor(options: MapperOptions) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(options.site)) throw new Error(`invalid site ${JSON.stringify(options.site)}`);
    this.site = options.site;
    this.schema = options.schema;
    this.clock = new SourceClock(options.timeZone);
    this.resolver = new ReferenceResolver(options.lookup ?? null, options.cacheSize ?? 100_000);
    this.metrics = options.metrics ?? noMetrics;
    this.noise = new Set([...NOISE_TABLES, ...(options.noiseTables ?? [])]);
    this.source = `openmrs://${options.site}`;
    this.cursors = new EventCursors(options.cursor ?? cursorFor);
  }

  /** The transaction's id in events: its GTID, or `<file>-<pos>` of its start on a server without GTIDs. */
  txid(tx: Transaction): string {
    return tx.gtid ?? `${tx.start.file}-${tx.start.pos}`;
  }

  /** Maps one committed transaction. DDL transactions and transactions of other schemas give no events. */
  map(tx: Transaction): Promise<TransactionEvents> {
    try {
      const out = this.mapNow(tx);
      return out instanceof Promise ? out : Promise.resolve(out);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `map` without a promise when none is needed: the events themselves when every reference was in the transaction
   * or the cache (most transactions), else a promise of them (lookups, or rows read again). May throw.
   */
  mapNow(tx: Transaction): TransactionEvents | Promise<TransactionEvents> {
    if (tx.kind !== 'dml' || tx.rows === null) return this.mapAsync(tx);
    const drafts = this.mapRows(tx.rows);
    return drafts instanceof Promise ? drafts.then((d) => this.envelope(tx, d)) : this.envelope(tx, drafts);
  }

  /** `map` for what is not in memory: oversized transactions (rows read again from the binlog), and non-DML ones. */
  private async mapAsync(tx: Transaction): Promise<TransactionEvents> {
    if (tx.kind !== 'dml') return this.envelope(tx, []);
    // Oversized transaction: folding needs all rows of an aggregate together, so read them all (see docs/events.md).
    const rows: RowChange[] = [];
    if (tx.readRows) for await (const chunk of tx.readRows()) for (const r of chunk) rows.push(r);
    return this.envelope(tx, await this.mapRows(rows));
  }

  /** Numbers a transaction's drafts into events: txseq/txsize, id `<site>:<txid>:<txseq>`, cursor, commit time. */
  private envelope(tx: Transaction, drafts: Draft[]): TransactionEvents {
    const txid = this.txid(tx);
    const size = drafts.length;
    const time = unixToIso(tx.commitTime);
    const cursors = size > 0 ? this.cursors.of(tx) : null;
    const idPrefix = `${this.site}:${txid}:`;
    // The drafts are the events already, in their final shape: fill in their numbering.
    const source = this.source;
    // Counted per run of one type (an encounter's obs): one metrics call per run, not per event.
    let runType = '';
    let runStart = 0;
    for (let i = 0; i < size; i++) {
      const e = drafts[i];
      const txseq = i + 1;
      e.id = idPrefix + txseq;
      e.source = source;
      e.time = time;
      e.txid = txid;
      e.txseq = txseq;
      e.txsize = size;
      e.cursor = cursors!.at(txseq);
      if (e.type !== runType) {
        if (i > runStart) this.metrics.produced(runType, i - runStart);
        runType = e.type;
        runStart = i;
      }
    }
    if (size > runStart) this.metrics.produced(runType, size - runStart);
    return { txid, commitTime: tx.commitTime, end: tx.end, events: drafts };
  }

  private readonly tables = new Map<string, TableInfo>();

  /** What the grouping needs to know of a table, worked out once per table name. */
  private tableInfo(table: string): TableInfo {
    let info = this.tables.get(table);
    if (info === undefined) {
      const role = ROLES.get(table);
      const key = REF_TABLE_KEYS.get(table);
      // The uuid spec references to this table's rows use (REF_TARGETS), under which its rows are also learnt.
      const target = key !== undefined ? uuidRef(table, key) : null;
      info = {
        noise: this.noise.has(table),
        role,
        learn: LEARNT_TABLES.has(table) ? target : null,
        memoUuid: target !== null ? memoWriter(target) : null,
        readKey: role ? (new Function('row', `return row[${JSON.stringify(role.key)}];`) as KeyReader) : null,
        isPatient: table === 'patient',
      };
      // Table names come from the binlog: bound the map against a source that creates tables without end.
      if (this.tables.size >= 10_000) this.tables.clear();
      this.tables.set(table, info);
    }
    return info;
  }

  /**
   * The event drafts of a transaction's row changes, in order (no envelope numbering). Returned directly when every
   * reference was in the transaction or the cache (no promise for the common case), else once the lookups are done.
   */
  mapRows(rows: readonly RowChange[]): Draft[] | Promise<Draft[]> {
    const refs = this.resolver.batch(rows, this.schema);
    // Units in the order of their first row; raw rows (no aggregate) are units of their own, so that drafts come out
    // in row order without sorting unless folding moved a unit earlier.
    const units: Unit[] = [];
    const byKey = new UnitIndex(units);

    const memoIds = this.resolver.lastId;
    const memoValues = this.resolver.lastValue;

    // 1. group
    let lastTable: string | null = null;
    let info: TableInfo = NO_TABLE;
    for (let i = 0; i < rows.length; i++) {
      const change = rows[i];
      if (change.schema !== this.schema) continue;
      const table = change.table;
      // Consecutive rows mostly share one table (and one string instance): look its facts up once per run of rows.
      if (table !== lastTable) {
        info = this.tableInfo(table);
        lastTable = table;
        refs.hasRowsOf(table);
      }
      if (info.noise) {
        this.metrics.row(table, change.op, 'noise');
        continue;
      }
      const img = change.after ?? change.before;
      if (!img) continue;
      const role = info.role;
      if (info.learn !== null) refs.learnRow(info.learn, change);
      // A row other rows can reference: its uuid goes to the resolver's memo now, so that the rows after it that name
      // it (an encounter's obs, an obs group's members, the edit of an obs) find it inline. The same value a lookup in
      // the transaction's rows would give: the last row of that id, its after-image first.
      if (info.memoUuid !== null) info.memoUuid(img, memoIds, memoValues);
      if (role === undefined) {
        units.push(rawUnit(table, i, null));
        continue;
      }
      const id = info.readKey!(img);
      if (typeof id !== 'number') {
        units.push(rawUnit(table, i, `${table}.${role.key} is not an integer id`));
        continue;
      }
      const unit = byKey.get(role, id);
      if (unit === undefined) byKey.add(newUnit(change, i, role, id));
      else addRow(unit, change, i, role);
      if (info.isPatient && change.after) refs.noteValue(IS_PATIENT, id, String(id));
    }

    // The uuids of the transaction's own rows go to the cache now, before any lookup is awaited: the transactions
    // mapped meanwhile (read-ahead) reference this one's encounter or patient, and would otherwise ask the source.
    refs.learn();

    // 2. fold versioned writes into the new row's unit
    let moved = false;
    for (const unit of units) {
      if (unit.agg !== 'obs' && unit.agg !== 'condition' && unit.agg !== 'order') continue;
      const root = rootNet(unit);
      if (!root || root.op !== 'insert') continue;
      const prevCol = unit.agg === 'order' ? 'previous_order_id' : 'previous_version';
      const prevId = root.after![prevCol];
      if (typeof prevId !== 'number') continue;
      if (unit.agg === 'order' && !/^(REVISE|DISCONTINUE)$/i.test(String(root.after!.order_action))) continue;
      const prev = byKey.get(TABLE_ROLES[unit.table], prevId);
      if (!prev || prev.foldedInto || prev.previous || prev === unit) continue;
      const prevRoot = rootNet(prev);
      if (!prevRoot || prevRoot.op !== 'update' || prev.nets.length !== 1) continue;
      const ok =
        unit.agg === 'order'
          ? prevRoot.before!.date_stopped == null && prevRoot.after!.date_stopped != null
          : !prevRoot.before!.voided && !!prevRoot.after!.voided;
      if (!ok) continue;
      unit.previous = prev;
      prev.foldedInto = unit;
      if (prev.first < unit.first) {
        unit.first = prev.first;
        moved = true;
      }
    }

    // 3. build each unit optimistically: references from the transaction's rows and the cache. A unit that missed a
    // reference asks for all of its references (wantUnit) and is built again once they are resolved; repeated only
    // when a resolved value opens a path with more references (a person found to be a patient).
    const ctx: ConvertContext = { clock: this.clock, refs, unresolved: [], lastId: memoIds, lastValue: memoValues };
    let retry: Unit[] | null = null;
    for (let u = 0; u < units.length; u++) {
      const unit = units[u];
      if (unit.foldedInto || unit.agg === 'row') continue;
      const misses = refs.misses;
      this.buildUnit(unit, ctx, refs);
      if (refs.misses !== misses) {
        this.wantUnit(unit, refs);
        if (unit.previous) this.wantUnit(unit.previous, refs);
        (retry ??= []).push(unit);
      }
    }
    if (retry !== null) return this.resolveAndRebuild(retry, units, rows, ctx, moved);
    return this.collect(units, rows, moved);
  }

  /** Queries what the first build missed, builds those units again (repeating while new references appear), collects. */
  private async resolveAndRebuild(
    first: Unit[],
    units: Unit[],
    rows: readonly RowChange[],
    ctx: ConvertContext,
    moved: boolean,
  ): Promise<Draft[]> {
    const refs = ctx.refs;
    let retry: Unit[] | null = first;
    for (let round = 0; retry !== null; round++) {
      if (round === MAX_RESOLVE_ROUNDS) {
        for (const unit of retry) {
          unit.result = RAW;
          unit.error = 'references did not resolve after repeated lookups';
        }
        break;
      }
      await refs.resolve();
      const again: Unit[] = retry;
      retry = null;
      for (const unit of again) {
        const misses = refs.misses;
        this.buildUnit(unit, ctx, refs);
        if (refs.misses !== misses) (retry ??= []).push(unit);
      }
    }
    return this.collect(units, rows, moved);
  }

  /** The units' drafts in the order of their first rows; RowChanged for rows that went out raw. */
  private collect(units: Unit[], rows: readonly RowChange[], moved: boolean): Draft[] {
    const drafts: Draft[] = [];
    let order: number[] | null = null;
    if (moved) {
      order = units.map((_, u) => u);
      order.sort((a, b) => units[a].first - units[b].first);
    }
    // Drafts come out in the order of their units' first rows, except the RowChanged fallback of a unit of several
    // rows, each at its own row: only then are the places kept, to sort by them at the end.
    let at: number[] | null = null;
    for (const unit of units)
      if (unit.result === RAW && (unit.previous !== undefined || unit.rawIndex.length > 1)) {
        at = [];
        break;
      }
    for (let k = 0; k < units.length; k++) {
      const u = order === null ? k : order[k];
      const unit = units[u];
      if (unit.foldedInto) continue;
      if (unit.agg === 'row') {
        const change = rows[unit.first];
        drafts.push(this.rowChanged(change, unit.error));
        at?.push(unit.first);
        this.metrics.row(change.table, change.op, 'row');
        if (unit.error) this.metrics.mappingError(change.table, unit.error);
        continue;
      }
      const result = unit.result!;
      const error = unit.error;
      if (result === RAW) {
        const idx = unit.previous ? [...unit.previous.rawIndex, ...unit.rawIndex].sort((a, b) => a - b) : unit.rawIndex;
        for (const i of idx) {
          drafts.push(this.rowChanged(rows[i], error));
          at?.push(i);
          this.metrics.row(rows[i].table, rows[i].op, 'row');
          if (error) this.metrics.mappingError(rows[i].table, error);
        }
        continue;
      }
      for (let d = 0; d < result.length; d++) {
        drafts.push(result[d]);
        at?.push(unit.first);
      }
      // The unit's first row caused its events, the others were folded in (both ascending: the first of either).
      const first = unit.previous ? Math.min(unit.previous.rawIndex[0], unit.rawIndex[0]) : unit.rawIndex[0];
      this.countRows(rows, unit.rawIndex, first, result.length > 0);
      if (unit.previous) this.countRows(rows, unit.previous.rawIndex, first, result.length > 0);
    }

    // 5. a unit's RowChanged fallback may interleave with later units: order by row (stable).
    if (at !== null)
      for (let i = 1; i < at.length; i++) {
        if (at[i] < at[i - 1]) {
          const places = at;
          const order = places.map((_, k) => k).sort((a, b) => places[a] - places[b] || a - b);
          return order.map((k) => drafts[k]);
        }
      }
    return drafts;
  }

  /** Counts a built unit's rows: `first` made its events (or nothing changed), the others were folded into them. */
  private countRows(rows: readonly RowChange[], idx: readonly number[], first: number, made: boolean): void {
    for (let j = 0; j < idx.length; j++) {
      const change = rows[idx[j]];
      this.metrics.row(change.table, change.op, !made ? 'unchanged' : idx[j] === first ? 'event' : 'folded');
    }
  }

  /**
   * Builds a unit into `unit.result`; a builder that throws makes it RAW with the message in `unit.error`. A build
   * that stopped at a reference not known yet leaves no result: `refs.misses` moved, and the caller builds it again.
   */
  private buildUnit(unit: Unit, ctx: ConvertContext, refs: RefBatch): void {
    if (ctx.unresolved.length) ctx.unresolved = [];
    try {
      unit.result = this.build(unit, ctx, refs);
      unit.error = undefined;
    } catch (err) {
      if (err === NOT_RESOLVED_YET) {
        unit.result = undefined;
        unit.error = undefined;
        return;
      }
      unit.result = RAW;
      unit.error = err instanceof Error ? err.message : String(err);
    }
  }

  /** Asks for every reference a unit's rows can need, so that one round of queries serves its next build. */
  private wantUnit(unit: Unit, refs: RefBatch): void {
    for (const net of unit.nets) {
      const fields = compile(net.role.fields);
      if (net.after) wantRefs(fields, net.after, refs);
      if (net.before && net.op !== 'insert') wantRefs(fields, net.before, refs);
    }
    const root = rootNet(unit);
    if (unit.agg === 'patient') {
      refs.want(unitUuidRef(unit), unit.id);
      if (!unit.nets.some((n) => n.table === 'patient')) refs.want(IS_PATIENT, unit.id);
    } else if (!root && unit.agg !== 'metadata') refs.want(unitUuidRef(unit), unit.id);
    if (unit.agg === 'order' && root && !unit.nets.some((n) => n.role.part !== 'root')) {
      const typeId = (root.after ?? root.before!).order_type_id;
      if (typeof typeId === 'number') refs.want(ORDER_TYPE_CLASS, typeId);
    }
  }

  private build(unit: Unit, ctx: ConvertContext, refs: RefBatch): BuildResult {
    switch (unit.agg) {
      case 'patient':
        return buildPatient(
          unit,
          ctx,
          unit.nets.some((n) => n.table === 'patient') || refs.get(IS_PATIENT, unit.id) !== null,
        );
      case 'visit':
        return buildVisit(unit, ctx);
      case 'encounter':
        return buildEncounter(unit, ctx);
      case 'obs':
        return buildObs(unit, ctx);
      case 'order':
        return buildOrder(unit, ctx);
      case 'allergy':
        return buildAllergy(unit, ctx);
      case 'condition':
        return buildCondition(unit, ctx);
      case 'diagnosis':
        return buildDiagnosis(unit, ctx);
      case 'program':
        return buildProgram(unit, ctx);
      case 'metadata':
        return buildMetadata(unit, ctx);
      case 'row':
        return RAW;
    }
  }

  /** A RowChanged draft for one row change (with `error` when the row belongs to an aggregate but failed). */
  rowChanged(change: RowChange, error?: string): Draft {
    const img = change.after ?? change.before!;
    const data: Record<string, unknown> = {
      table: change.table,
      op: change.op,
      before: rawImage(change.before),
      after: rawImage(change.after),
      changed: changedColumns(change.before, change.after),
    };
    if (error !== undefined) data.error = error;
    const uuid = img.uuid;
    return draftEvent(
      'RowChanged',
      typeof uuid === 'string' ? uuid : undefined,
      tableClass(change.table),
      change.op === 'insert' ? 'CREATED' : change.op === 'update' ? 'UPDATED' : 'PURGED',
      data,
    );
  }
}

/** Rounds of queries for one transaction; each round can only open a path one reference deeper (two suffice). */
const MAX_RESOLVE_ROUNDS = 4;

/** TABLE_ROLES as a Map: table names come from the binlog (not internalized), which a Map hashes once per string. */
const ROLES = new Map(Object.entries(TABLE_ROLES));

/** Reads a role's key column: one small function per table, so the property load stays monomorphic. */
type KeyReader = (row: RowImage) => unknown;

/** What the grouping step knows of a table (see `EventMapper.tableInfo`). */
interface TableInfo {
  noise: boolean;
  role: TableRole | undefined;
  /** The uuid RefSpec of the table's own rows when their uuids go to the cache (LEARNT_TABLES), else null. */
  learn: RefSpec | null;
  /** Puts a row's uuid in the resolver's memo, for tables whose rows other rows reference (REF_TARGETS). */
  memoUuid: MemoWriter | null;
  readKey: KeyReader | null;
  isPatient: boolean;
}

const NO_TABLE: TableInfo = {
  noise: false,
  role: undefined,
  learn: null,
  memoUuid: null,
  readKey: null,
  isPatient: false,
};

/** Writes a row's id and uuid to the memo slot of `memoSlot(spec.idx, id)` (see ReferenceResolver.lastId). */
type MemoWriter = (row: RowImage, lastId: number[], lastValue: string[]) => void;

/** A MemoWriter for one table: its columns read by constant names, so each table's loads stay monomorphic. */
function memoWriter(spec: RefSpec): MemoWriter {
  const body =
    `const id = row[${JSON.stringify(spec.key)}], uuid = row.uuid;` +
    `if (typeof id === 'number' && typeof uuid === 'string') { const s = ${memoSlotSource(spec.idx, 'id')}; L[s] = id; V[s] = uuid; }`;
  return new Function('row', 'L', 'V', body) as MemoWriter;
}

/** The key column of each table that references point to (REF_TARGETS), by table name. */
const REF_TABLE_KEYS: ReadonlyMap<string, string> = new Map(
  Object.values(REF_TARGETS).map((t) => [t.table as string, t.key as string]),
);

/**
 * Tables whose uuids are worth keeping in the cache for later transactions: those other rows reference. Not obs: an
 * obs is referenced later only by an edit, which voids the old obs in the same transaction. Rows of other tables
 * (encounter_provider, person_name, ...) are referenced by nothing, and caching them would only evict what is.
 */
const LEARNT_TABLES: ReadonlySet<string> = new Set(
  Object.values(REF_TARGETS)
    .map((t) => t.table as string)
    .filter((t) => t !== 'obs'),
);
