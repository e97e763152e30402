/**
 * Reference resolution: integer ids in rows become the uuids of the referenced rows. Per transaction, in this order:
 * rows of the same transaction, a bounded LRU cache, then one batched query per referenced table to the source.
 * uuids never change, so a cached uuid is always right; an id that is nowhere resolves to null with a reason.
 */
import type { RowChange } from '../capture/types.js';
import type { RowImage } from '../source/types.js';
import { GroupedLru } from './lru.js';

/** Looks values up in the source database by integer key, in batches. */
export interface ReferenceLookup {
  /**
   * `SELECT keyColumn, valueColumn FROM table WHERE keyColumn IN (ids)` in the OpenMRS schema. Returns the rows found;
   * ids missing from the result do not exist (any more). Rejects when the source cannot be queried.
   */
  lookup(table: string, keyColumn: string, valueColumn: string, ids: readonly number[]): Promise<Map<number, string>>;
  /**
   * Optional: like `lookup`, and also the rows of the aligned blocks of `block` keys around each id (`block` a power of
   * two), for the resolver to keep aside until they are referenced. OpenMRS keys are auto-increment integers, so the
   * rows next to one just referenced (the concepts of a form, the patients registered the same day) are often
   * referenced soon after.
   */
  lookupBlocks?(
    table: string,
    keyColumn: string,
    valueColumn: string,
    ids: readonly number[],
    block: number,
  ): Promise<Map<number, string>>;
}

/** The part of a mysql2 promise pool (or connection) the lookup uses. */
export interface Queryable {
  query(sql: string, values?: unknown): Promise<[unknown, unknown]>;
  /** A mysql2 promise pool's callback pool: when present, lookups use it (no promise wrapper, rows as arrays). */
  pool?: {
    query(
      options: { sql: string; rowsAsArray: boolean },
      callback: (err: Error | null, rows: unknown) => void,
    ): unknown;
  };
}

/**
 * `ReferenceLookup` over a mysql2 promise pool, `IN` lists of at most 1,000 ids per query. A cold cache sends one
 * lookup per table for every few transactions, so each query is kept lean: identifiers quoted once per table, ids
 * (integers) written inline, and rows fetched as arrays through the pool's callback API.
 */
export class MysqlReferenceLookup implements ReferenceLookup {
  private readonly heads = new Map<string, string>();

  /** @param pool a mysql2/promise pool or connection  @param schema the OpenMRS database name */
  constructor(
    private readonly pool: Queryable,
    private readonly schema: string,
  ) {}

  async lookup(
    table: string,
    keyColumn: string,
    valueColumn: string,
    ids: readonly number[],
  ): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const head = this.head(table, keyColumn, valueColumn);
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      for (const id of chunk)
        if (!Number.isSafeInteger(id)) throw new TypeError(`reference id ${id} is not an integer`);
      const rows = await this.query(`${head}${chunk.join(',')})`);
      for (const [k, v] of rows) if (v !== null && v !== undefined) out.set(Number(k), String(v));
    }
    return out;
  }

  async lookupBlocks(
    table: string,
    keyColumn: string,
    valueColumn: string,
    ids: readonly number[],
    block: number,
  ): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const ranges = blockRanges(ids, block);
    // One range scan of the primary key per block (adjacent blocks merged).
    const select = this.select(table, keyColumn, valueColumn);
    const key = quoteId(keyColumn);
    for (let i = 0; i < ranges.length; i += 400) {
      const where = ranges
        .slice(i, i + 400)
        .map(([lo, hi]) => `${key} BETWEEN ${lo} AND ${hi}`)
        .join(' OR ');
      const rows = await this.query(select + where);
      for (const [k, v] of rows) if (v !== null && v !== undefined) out.set(Number(k), String(v));
    }
    return out;
  }

  /** `SELECT key, value FROM schema.table WHERE key IN (` with quoted identifiers, built once per reference kind. */
  private head(table: string, keyColumn: string, valueColumn: string): string {
    return `${this.select(table, keyColumn, valueColumn)}${quoteId(keyColumn)} IN (`;
  }

  /** `SELECT key, value FROM schema.table WHERE ` with quoted identifiers, built once per reference kind. */
  private select(table: string, keyColumn: string, valueColumn: string): string {
    const name = `${table}\0${keyColumn}\0${valueColumn}`;
    let head = this.heads.get(name);
    if (head === undefined) {
      const [t, k, v, s] = [table, keyColumn, valueColumn, this.schema].map(quoteId);
      head = `SELECT ${k}, ${v} FROM ${s}.${t} WHERE `;
      this.heads.set(name, head);
    }
    return head;
  }

  private query(sql: string): Promise<Array<[unknown, unknown]>> {
    const core = this.pool.pool;
    if (core === undefined || typeof core.query !== 'function')
      return this.pool
        .query(sql)
        .then(([rows]) => (rows as Array<Record<string, unknown>>).map((r) => Object.values(r) as [unknown, unknown]));
    return new Promise((resolve, reject) => {
      core.query({ sql, rowsAsArray: true }, (err, rows) =>
        err ? reject(err) : resolve(rows as Array<[unknown, unknown]>),
      );
    });
  }
}

/** The first key of the aligned block of `block` keys that holds `id`. */
function blockStart(id: number, block: number): number {
  return Math.floor(id / block) * block;
}

/** The aligned blocks of `block` keys (a power of two) holding `ids`, sorted, adjacent ones merged: [first, last]. */
export function blockRanges(ids: readonly number[], block: number): Array<[number, number]> {
  const starts = [
    ...new Set(
      ids.map((id) => {
        if (!Number.isSafeInteger(id)) throw new TypeError(`reference id ${id} is not an integer`);
        return blockStart(id, block);
      }),
    ),
  ].sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const start of starts) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[1] + 1 === start) last[1] = start + block - 1;
    else ranges.push([start, start + block - 1]);
  }
  return ranges;
}

/** A MySQL identifier in backquotes. */
function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/**
 * What a reference points at: a table, its integer key and the column wanted (usually `uuid`). Create them with
 * {@link refSpec}: instances are shared and numbered, so cache keys are plain numbers (`idx * 2^32 + id`).
 */
export interface RefSpec {
  readonly table: string;
  readonly key: string;
  readonly value: string;
  readonly idx: number;
}

const specByName = new Map<string, RefSpec>();

/** The shared RefSpec instance for (table, key, value). */
export function refSpec(table: string, key: string, value = 'uuid'): RefSpec {
  const name = `${table}\0${key}\0${value}`;
  let spec = specByName.get(name);
  if (!spec) {
    spec = { table, key, value, idx: specByName.size + 1 };
    specByName.set(name, spec);
  }
  return spec;
}

const TWO_32 = 2 ** 32;

/** Memo slots per RefSpec (a power of two): an encounter's obs name a handful of concepts in turn. */
export const MEMO_WAYS = 8;

/** The memo slot of `id` for the RefSpec numbered `idx` (ids are integers: `id & 7` is never negative). */
export function memoSlot(idx: number, id: number): number {
  return idx * MEMO_WAYS + (id & (MEMO_WAYS - 1));
}

/** `memoSlot(idx, id)` as JavaScript source for generated code, `id` an expression of an integer id. */
export function memoSlotSource(idx: number, id: string): string {
  return `${memoSlot(idx, 0)} + (${id} & ${MEMO_WAYS - 1})`;
}

function cacheKey(spec: RefSpec, id: number): number {
  return spec.idx * TWO_32 + id;
}

/** Why a reference resolved to null. */
export const NOT_FOUND = 'referenced row not found in the source (purged)';
export const NO_LOOKUP = 'referenced row not in this transaction and no source lookup configured';

/**
 * Counters of where references were resolved, for tests and benchmarks. A reference a generated payload converter
 * answered from the memo of the last value (see `ConvertContext.lastId`) is not counted.
 */
export interface ResolverStats {
  local: number;
  cached: number;
  queried: number;
  queries: number;
  missing: number;
}

/** Long-lived: owns the LRU cache and the lookup. One `batch()` per transaction. */
export class ReferenceResolver {
  /** uuids (and other values) by RefSpec `idx` and id. */
  readonly cache: GroupedLru<string>;
  /**
   * The neighbours a block lookup brought that nobody asked for (yet), apart from `cache` so that a lookup over
   * scattered ids (64 rows fetched per id) cannot push out what is in use: one that is read moves to `cache`.
   */
  readonly prefetched: GroupedLru<string>;
  readonly stats: ResolverStats = { local: 0, cached: 0, queried: 0, queries: 0, missing: 0 };

  /**
   * A memo of the values last found (in a transaction's rows or the cache): MEMO_WAYS slots per RefSpec, slot
   * `memoSlot(idx, id)`, holding an id and its value. The rows of a transaction repeat their patient, encounter,
   * location and creator, and an encounter's obs cycle through a few concepts; a uuid never changes, so the memo stays
   * right even once the cache has evicted the entry.
   */
  readonly lastId: number[] = [];
  readonly lastValue: string[] = [];

  constructor(
    readonly lookup: ReferenceLookup | null,
    capacity = 100_000,
  ) {
    this.cache = new GroupedLru(capacity);
    this.prefetched = new GroupedLru(Math.max(2, Math.floor(capacity / 4)));
  }

  /** A cached value, through the memo; a prefetched one moves to the cache. */
  cached(spec: RefSpec, id: number): string | undefined {
    const slot = memoSlot(spec.idx, id);
    if (this.lastId[slot] === id) return this.lastValue[slot];
    return this.cachedPastMemo(spec.idx, id, slot);
  }

  /** `cached` once the memo's `slot` (`memoSlot(idx, id)`) did not hold `id`. */
  cachedPastMemo(idx: number, id: number, slot: number): string | undefined {
    let value = this.cache.get(idx, id);
    if (value === undefined) {
      value = this.prefetched.get(idx, id);
      if (value === undefined) return undefined;
      this.cache.set(idx, id, value);
    }
    this.remember(slot, id, value);
    return value;
  }

  /** Keeps `value` of `id` in the memo's `slot`. */
  remember(slot: number, id: number, value: string): void {
    this.lastId[slot] = id;
    this.lastValue[slot] = value;
  }

  /**
   * A resolution batch for one transaction: `rows` are its row changes, of which those of `schema` answer references
   * to rows of the same transaction.
   */
  batch(rows: readonly RowChange[] = [], schema: string | null = null): RefBatch {
    return new RefBatch(this, rows, schema);
  }

  /** Per table: the query on the wire, and the next one, which collects ids until the first returns. */
  private readonly flights = new Map<RefSpec, { sent: Flight | null; next: Flight | null }>();

  /**
   * Looks ids up, one query per table at a time. Ids asked for while a table's query is on the wire go out together
   * in its next query when it returns (a cold cache with many transactions mapped ahead makes few large queries, not
   * one per event-loop turn); an id already on the wire waits for that query instead of being asked for again.
   */
  fetch(spec: RefSpec, ids: Iterable<number>): Promise<Found> {
    let table = this.flights.get(spec);
    if (table === undefined) this.flights.set(spec, (table = { sent: null, next: null }));
    const sent = table.sent;
    let onWire = false;
    let next: Flight | null = null;
    for (const id of ids) {
      if (sent !== null && sent.ids.has(id)) {
        onWire = true;
        continue;
      }
      if (next === null) {
        next = table.next ??= new Flight();
        // Nothing on the wire: send after this turn of the event loop, so that concurrent batches share the query.
        if (sent === null && next.ids.size === 0) setImmediate(() => this.send(spec));
      }
      next.ids.add(id);
    }
    if (next === null) return sent!.result;
    if (!onWire) return next.result;
    // Some ids on the wire, some in the next query: answer from both, without copying either (they can be large).
    return Promise.all([sent!.result, next.result]).then(([a, b]) => ({ get: (id: number) => a.get(id) ?? b.get(id) }));
  }

  /** Sends the table's next query; when it returns, the one that collected ids meanwhile. */
  private send(spec: RefSpec): void {
    const table = this.flights.get(spec)!;
    const flight = table.next;
    if (flight === null || table.sent !== null) return;
    table.next = null;
    table.sent = flight;
    this.stats.queries++;
    const done = () => {
      table.sent = null;
      if (table.next !== null) this.send(spec);
      else this.flights.delete(spec);
    };
    let query: Promise<Map<number, string>>;
    const lookup = this.lookup!;
    const ids = [...flight.ids];
    try {
      if (lookup.lookupBlocks !== undefined && blockCount(ids) <= PREFETCH_BLOCKS) {
        query = lookup.lookupBlocks(spec.table, spec.key, spec.value, ids, PREFETCH_BLOCK);
        // The neighbours nobody asked for yet are kept aside; the asked ids are cached by the batches that asked.
        query = query.then((found) => {
          for (const [id, value] of found) if (!flight.ids.has(id)) this.prefetched.set(spec.idx, id, value);
          return found;
        });
      } else query = lookup.lookup(spec.table, spec.key, spec.value, ids);
    } catch (err) {
      // A lookup that throws instead of rejecting fails this query's transactions, not the event loop.
      query = Promise.reject(err);
    }
    query.then(
      (found) => {
        done();
        flight.settle(found, null);
      },
      (err: unknown) => {
        done();
        flight.settle(null, err);
      },
    );
  }
}

/** Keys per prefetched block: a lookup also brings the rows of the aligned block of 64 keys around each id asked. */
const PREFETCH_BLOCK = 64;
/** Blocks per query at most (4,096 rows); a query over more blocks asks for its ids alone. */
const PREFETCH_BLOCKS = 64;

/** Distinct aligned blocks of PREFETCH_BLOCK keys the ids fall in. */
function blockCount(ids: readonly number[]): number {
  const blocks = new Set<number>();
  for (const id of ids) blocks.add(blockStart(id, PREFETCH_BLOCK));
  return blocks.size;
}

/** The answer to a lookup: the value of each id found. */
export type Found = Pick<Map<number, string>, 'get'>;

/** One lookup query of a table: the ids it asks for and its answer. */
class Flight {
  readonly ids = new Set<number>();
  readonly result: Promise<Map<number, string>>;
  settle!: (found: Map<number, string> | null, err: unknown) => void;

  constructor() {
    this.result = new Promise((resolve, reject) => {
      this.settle = (found, err) => (found !== null ? resolve(found) : reject(err));
    });
    // A query nobody awaits any more (its transaction failed elsewhere) must not become an unhandled rejection.
    this.result.catch(() => undefined);
  }
}

/** Transactions of up to this many rows answer same-transaction references by a scan of their rows. */
const SCAN_ROWS = 16;

/** The uuid of `row` when its `key` column is `id`. */
function uuidOf(row: RowImage | null, key: string, id: number): string | undefined {
  if (row === null || row[key] !== id) return undefined;
  const uuid = row.uuid;
  return typeof uuid === 'string' ? uuid : undefined;
}

/** Adds a row's (key, uuid) to `values` (created on the first), when both are there. */
function addUuid(values: Map<number, string> | null, row: RowImage, key: string): Map<number, string> | null {
  const id = row[key];
  const uuid = row.uuid;
  if (typeof id !== 'number' || typeof uuid !== 'string') return values;
  (values ??= new Map()).set(id, uuid);
  return values;
}

/** Caches a row's uuid under `spec` (its table and primary key), when both are there. */
function learnUuid(cache: GroupedLru<string>, spec: RefSpec, row: RowImage): void {
  const id = row[spec.key];
  const uuid = row.uuid;
  if (typeof id === 'number' && typeof uuid === 'string') cache.set(spec.idx, id, uuid);
}

/** Per RefSpec (by `idx`), a Map from integer id to value: small-integer keys hash without allocating. */
type BySpec<V> = Array<Map<number, V> | undefined>;

function mapOf<V>(by: BySpec<V>, spec: RefSpec): Map<number, V> {
  let m = by[spec.idx];
  if (m === undefined) by[spec.idx] = m = new Map();
  return m;
}

/**
 * The references of one transaction. `get` answers from the transaction's own rows, the values resolved for this
 * batch and the LRU cache, and records what it cannot answer as a miss (returning null). When anything missed,
 * `resolve()` queries the misses (one query per table) and the caller builds again: most transactions find everything
 * in their own rows or the cache and never wait for a query.
 */
export class RefBatch {
  /**
   * The transaction's own values per RefSpec: indexed from its rows the first time a reference of that spec is looked
   * up (null: no row of that table), so rows that nothing references cost nothing.
   */
  private readonly local: Array<Map<number, string> | null | undefined> = [];
  /** Values worth keeping in the cache for later transactions: (spec, row change) pairs, and noted (spec, id) pairs. */
  private readonly learnt: Array<RefSpec | RowChange | number> = [];
  private wanted: Map<RefSpec, Set<number>> | null = null;
  private resolved: BySpec<string | null> | null = null;
  private reasons: Map<number, string> | null = null;
  /** Misses recorded so far, every one (the mapper compares it before and after a unit's build: did it miss?). */
  misses = 0;
  /** The tables the transaction has rows of (see `hasRowsOf`): a spec of any other table needs no scan. */
  private readonly tables: string[] = [];

  constructor(
    private readonly owner: ReferenceResolver,
    private readonly rows: readonly RowChange[] = [],
    private readonly schema: string | null = null,
  ) {}

  /** The values of `spec` this transaction knows, indexed on first use. */
  private localOf(spec: RefSpec): Map<number, string> | null {
    let values = this.local[spec.idx];
    if (values === undefined) this.local[spec.idx] = values = this.indexRows(spec);
    return values;
  }

  /**
   * The value of `spec` for row `id` known from this transaction. A small transaction's rows are scanned (cheaper
   * than an index per referenced table, most of them looked up once or twice); a large one's are indexed.
   */
  private localValue(spec: RefSpec, id: number): string | undefined {
    const values = this.local[spec.idx];
    if (values !== undefined) return values === null ? undefined : values.get(id);
    if (spec.value !== 'uuid' || this.rows.length > SCAN_ROWS) return this.localOf(spec)?.get(id);
    if (!this.tables.includes(spec.table)) return undefined;
    const { table, key } = spec;
    let found: string | undefined;
    // Later rows last, as in the index: any image of the row carries its uuid.
    for (const change of this.rows) {
      if (change.table !== table || change.schema !== this.schema) continue;
      const uuid = uuidOf(change.after, key, id) ?? uuidOf(change.before, key, id);
      if (uuid !== undefined) found = uuid;
    }
    return found;
  }

  /** Tells the batch the transaction has rows of `table` (in its schema); called at least once per such table. */
  hasRowsOf(table: string): void {
    if (!this.tables.includes(table)) this.tables.push(table);
  }

  /** The uuids of the transaction's rows of `spec`'s table (before and after images, later rows last), or null. */
  private indexRows(spec: RefSpec): Map<number, string> | null {
    if (spec.value !== 'uuid' || !this.tables.includes(spec.table)) return null;
    let values: Map<number, string> | null = null;
    const { table, key } = spec;
    for (const change of this.rows) {
      if (change.table !== table || change.schema !== this.schema) continue;
      if (change.before !== null) values = addUuid(values, change.before, key);
      if (change.after !== null) values = addUuid(values, change.after, key);
    }
    return values;
  }

  /**
   * Marks a row change of this transaction whose uuid (`spec`: its table and primary key) is worth caching for later
   * transactions (`learn()` caches it).
   */
  learnRow(spec: RefSpec, change: RowChange): void {
    this.learnt.push(spec, change);
  }

  /** Records a value known from this transaction (e.g. that a person is a patient); it is cached by `learn()`. */
  noteValue(spec: RefSpec, id: number, value: string): void {
    let values = this.localOf(spec);
    if (values === null) this.local[spec.idx] = values = new Map();
    values.set(id, value);
    this.learnt.push(spec, id);
  }

  /**
   * The value of `spec` for row `id`: from this transaction's rows, this batch's query results or the cache. Null
   * when it is known not to exist (then `reason` says why) or not known yet (then it is recorded as a miss for
   * `resolve()`, and `misses` grows).
   */
  get(spec: RefSpec, id: number): string | null {
    const value = this.known(spec, id, this.owner.stats);
    if (value !== undefined) return value;
    this.miss(spec, id);
    return null;
  }

  /** Asks for `spec` of row `id` ahead of a `get` (recorded as a miss unless it is already known). */
  want(spec: RefSpec, id: number): void {
    if (this.known(spec, id, null) === undefined) this.miss(spec, id);
  }

  /**
   * What is known of `spec` for row `id`, in order: this transaction's rows, this batch's query results (null: not in
   * the source), the cache. Undefined when nothing is known. `stats`, when given, counts where it was found.
   */
  private known(spec: RefSpec, id: number, stats: ResolverStats | null): string | null | undefined {
    // A uuid never changes: the last value found for this spec, wherever it came from, is right for any transaction.
    // The rows of a transaction mostly repeat their patient, encounter, location and creator.
    const owner = this.owner;
    const slot = memoSlot(spec.idx, id);
    if (owner.lastId[slot] === id) {
      if (stats !== null) stats.cached++;
      return owner.lastValue[slot];
    }
    const local = this.localValue(spec, id);
    if (local !== undefined) {
      if (stats !== null) stats.local++;
      owner.remember(slot, id, local);
      return local;
    }
    if (this.resolved !== null) {
      const value = this.resolved[spec.idx]?.get(id);
      if (value !== undefined) return value;
    }
    const cached = owner.cachedPastMemo(spec.idx, id, slot);
    if (cached !== undefined && stats !== null) stats.cached++;
    return cached;
  }

  private miss(spec: RefSpec, id: number): void {
    // Counted on every miss, also of an id already wanted: each unit that missed must be built again.
    this.misses++;
    const wanted = (this.wanted ??= new Map());
    let ids = wanted.get(spec);
    if (!ids) wanted.set(spec, (ids = new Set()));
    ids.add(id);
  }

  /** Whether `resolve()` has anything to query. */
  get needsQuery(): boolean {
    return this.wanted !== null && this.wanted.size > 0;
  }

  /** Queries every miss, one batched query per (table, column); the values are then answered by `get`. */
  async resolve(): Promise<void> {
    const wanted = this.wanted;
    if (wanted === null || wanted.size === 0) return;
    const { lookup, cache, stats } = this.owner;
    const groups = [...wanted];
    wanted.clear();
    // One query per table, all tables at once; concurrent transactions share them (ReferenceResolver.fetch).
    const results = lookup ? await Promise.all(groups.map(([spec, ids]) => this.owner.fetch(spec, ids))) : null;
    const resolvedBySpec = (this.resolved ??= []);
    for (let g = 0; g < groups.length; g++) {
      const [spec, ids] = groups[g];
      const found = results?.[g];
      const resolved = mapOf(resolvedBySpec, spec);
      for (const id of ids) {
        const value = found?.get(id);
        if (value === undefined) {
          resolved.set(id, null);
          (this.reasons ??= new Map()).set(cacheKey(spec, id), found ? NOT_FOUND : NO_LOOKUP);
          stats.missing++;
        } else {
          resolved.set(id, value);
          cache.set(spec.idx, id, value);
          stats.queried++;
        }
      }
    }
  }

  /** Caches the values learnt from this transaction's rows: they are right for later transactions too. */
  learn(): void {
    const cache = this.owner.cache;
    const learnt = this.learnt;
    for (let i = 0; i < learnt.length; i += 2) {
      const spec = learnt[i] as RefSpec;
      const what = learnt[i + 1];
      if (typeof what === 'number') {
        cache.set(spec.idx, what, this.local[spec.idx]!.get(what)!);
        continue;
      }
      const change = what as RowChange;
      if (change.before !== null) learnUuid(cache, spec, change.before);
      if (change.after !== null) learnUuid(cache, spec, change.after);
    }
  }

  /** Why `get(spec, id)` returned null. */
  reason(spec: RefSpec, id: number): string {
    return this.reasons?.get(cacheKey(spec, id)) ?? (this.needsQuery ? NOT_RESOLVED : NOT_FOUND);
  }
}

/** The reason of a reference still waiting for its query (never in an event: the unit is built again after it). */
const NOT_RESOLVED = 'reference not resolved yet';
