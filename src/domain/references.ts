/**
 * Reference resolution: integer ids in rows become the uuids of the referenced rows. Per transaction, in this order:
 * rows of the same transaction, a bounded LRU cache, then one batched query per referenced table to the source.
 * uuids never change, so a cached uuid is always right; an id that is nowhere resolves to null with a reason.
 */
import type { RowImage } from '../source/types.js';
import { Lru } from './lru.js';

/** Looks values up in the source database by integer key, in batches. */
export interface ReferenceLookup {
  /**
   * `SELECT keyColumn, valueColumn FROM table WHERE keyColumn IN (ids)` in the OpenMRS schema. Returns the rows found;
   * ids missing from the result do not exist (any more). Rejects when the source cannot be queried.
   */
  lookup(table: string, keyColumn: string, valueColumn: string, ids: readonly number[]): Promise<Map<number, string>>;
}

/** The part of a mysql2 promise pool (or connection) the lookup uses. */
export interface Queryable {
  query(sql: string, values?: unknown): Promise<[unknown, unknown]>;
}

/** `ReferenceLookup` over a mysql2 promise pool, `IN` lists of at most 1,000 ids per query. */
export class MysqlReferenceLookup implements ReferenceLookup {
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
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const [rows] = await this.pool.query('SELECT ?? AS k, ?? AS v FROM ??.?? WHERE ?? IN (?)', [
        keyColumn,
        valueColumn,
        this.schema,
        table,
        keyColumn,
        chunk,
      ]);
      for (const row of rows as Array<{ k: number | string; v: unknown }>) {
        if (row.v !== null && row.v !== undefined) out.set(Number(row.k), String(row.v));
      }
    }
    return out;
  }
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

function cacheKey(spec: RefSpec, id: number): number {
  return spec.idx * TWO_32 + id;
}

/** Why a reference resolved to null. */
export const NOT_FOUND = 'referenced row not found in the source (purged)';
export const NO_LOOKUP = 'referenced row not in this transaction and no source lookup configured';

/** Counters of where references were resolved, for tests and metrics. */
export interface ResolverStats {
  local: number;
  cached: number;
  queried: number;
  queries: number;
  missing: number;
}

/** Long-lived: owns the LRU cache and the lookup. One `batch()` per transaction. */
export class ReferenceResolver {
  readonly cache: Lru<number, string>;
  readonly stats: ResolverStats = { local: 0, cached: 0, queried: 0, queries: 0, missing: 0 };

  constructor(
    readonly lookup: ReferenceLookup | null,
    capacity = 100_000,
  ) {
    this.cache = new Lru(capacity);
  }

  /** A resolution batch for one transaction. */
  batch(): RefBatch {
    return new RefBatch(this);
  }

  private pending = new Map<RefSpec, { ids: Set<number>; result: Promise<Map<number, string>> }>();

  /**
   * Looks ids up, coalescing the requests of transactions mapped concurrently: requests made in the same turn of the
   * event loop go out as one query per table.
   */
  fetch(spec: RefSpec, ids: Iterable<number>): Promise<Map<number, string>> {
    let entry = this.pending.get(spec);
    if (!entry) {
      const set = new Set<number>();
      const result = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        this.pending.delete(spec);
        this.stats.queries++;
        return this.lookup!.lookup(spec.table, spec.key, spec.value, [...set]);
      });
      entry = { ids: set, result };
      this.pending.set(spec, entry);
    }
    for (const id of ids) entry.ids.add(id);
    return entry.result;
  }
}

/** The references of one transaction: note the rows, `want` the ids, `resolve()` once, then `get`. */
export class RefBatch {
  private readonly local = new Map<number, string>();
  /** The part of `local` worth keeping in the cache for later transactions. */
  private readonly learnt: number[] = [];
  private readonly wanted = new Map<RefSpec, Set<number>>();
  private readonly resolved = new Map<number, string | null>();
  private readonly reasons = new Map<number, string>();

  constructor(private readonly owner: ReferenceResolver) {}

  /** Records the uuid of a row of this transaction (before or after image; `spec` = its table and primary key), so
   * references to it need no query. */
  noteRow(spec: RefSpec, row: RowImage, learn = true): void {
    const id = row[spec.key];
    const uuid = row.uuid;
    if (typeof id === 'number' && typeof uuid === 'string') {
      const k = cacheKey(spec, id);
      this.local.set(k, uuid);
      if (learn) this.learnt.push(k);
    }
  }

  /** Records a value known from this transaction (e.g. that a person is a patient). */
  noteValue(spec: RefSpec, id: number, value: string): void {
    const k = cacheKey(spec, id);
    this.local.set(k, value);
    this.learnt.push(k);
  }

  /** Asks for `spec` of row `id`; answered by `get` after `resolve()`. */
  want(spec: RefSpec, id: number): void {
    const k = cacheKey(spec, id);
    if (this.local.has(k) || this.resolved.has(k)) return;
    const cached = this.owner.cache.get(k);
    if (cached !== undefined) {
      this.resolved.set(k, cached);
      this.owner.stats.cached++;
      return;
    }
    let ids = this.wanted.get(spec);
    if (!ids) this.wanted.set(spec, (ids = new Set()));
    ids.add(id);
  }

  /** Queries everything still wanted, one batched query per (table, column). */
  async resolve(): Promise<void> {
    const { lookup, cache, stats } = this.owner;
    if (this.wanted.size > 0) {
      const groups = [...this.wanted];
      this.wanted.clear();
      // One query per table, all tables at once; concurrent transactions share them (ReferenceResolver.fetch).
      const results = lookup ? await Promise.all(groups.map(([spec, ids]) => this.owner.fetch(spec, ids))) : null;
      for (let g = 0; g < groups.length; g++) {
        const [spec, ids] = groups[g];
        const found = results?.[g];
        for (const id of ids) {
          const k = cacheKey(spec, id);
          const value = found?.get(id);
          if (value === undefined) {
            this.resolved.set(k, null);
            this.reasons.set(k, found ? NOT_FOUND : NO_LOOKUP);
            stats.missing++;
          } else {
            this.resolved.set(k, value);
            cache.set(k, value);
            stats.queried++;
          }
        }
      }
    }
    // Values learnt from this transaction's rows are right for later transactions too.
    for (const k of this.learnt) cache.set(k, this.local.get(k)!);
  }

  /** The resolved value, or null (then `reason` says why). */
  get(spec: RefSpec, id: number): string | null {
    const k = cacheKey(spec, id);
    const local = this.local.get(k);
    if (local !== undefined) {
      this.owner.stats.local++;
      return local;
    }
    const value = this.resolved.get(k);
    if (value === undefined) throw new Error(`reference ${k} was not requested before resolve()`);
    return value;
  }

  /** Why `get(spec, id)` returned null. */
  reason(spec: RefSpec, id: number): string {
    return this.reasons.get(cacheKey(spec, id)) ?? NOT_FOUND;
  }
}
