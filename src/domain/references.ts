/**
 * Reference resolution: integer ids in rows become the uuids of the referenced rows. Per transaction, in this order:
 * rows of the same transaction, a bounded LRU cache, then one batched query per referenced table to the source.
 * uuids never change, so a cached uuid is always right; an id that is nowhere resolves to null with a reason.
 */
import type { RowImage } from '../source/types.js';
import { GroupedLru } from './lru.js';

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
  /** uuids (and other values) by RefSpec `idx` and id. */
  readonly cache: GroupedLru<string>;
  readonly stats: ResolverStats = { local: 0, cached: 0, queried: 0, queries: 0, missing: 0 };

  constructor(
    readonly lookup: ReferenceLookup | null,
    capacity = 100_000,
  ) {
    this.cache = new GroupedLru(capacity);
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

/** Per RefSpec (by `idx`), a Map from integer id to value: small-integer keys hash without allocating. */
type BySpec<V> = Array<Map<number, V> | undefined>;

function mapOf<V>(by: BySpec<V>, spec: RefSpec): Map<number, V> {
  let m = by[spec.idx];
  if (m === undefined) by[spec.idx] = m = new Map();
  return m;
}

/** The references of one transaction: note the rows, `want` the ids, `resolve()` once, then `get`. */
export class RefBatch {
  private readonly local: BySpec<string> = [];
  /** The part of `local` worth keeping in the cache for later transactions (spec, id pairs). */
  private readonly learnt: Array<RefSpec | number> = [];
  private readonly wanted = new Map<RefSpec, Set<number>>();
  private readonly resolved: BySpec<string | null> = [];
  private readonly reasons = new Map<number, string>();

  constructor(private readonly owner: ReferenceResolver) {}

  /** Records the uuid of a row of this transaction (before or after image; `spec` = its table and primary key), so
   * references to it need no query. */
  noteRow(spec: RefSpec, row: RowImage, learn = true): void {
    const id = row[spec.key];
    const uuid = row.uuid;
    if (typeof id === 'number' && typeof uuid === 'string') {
      mapOf(this.local, spec).set(id, uuid);
      if (learn) this.learnt.push(spec, id);
    }
  }

  /** Records a value known from this transaction (e.g. that a person is a patient). */
  noteValue(spec: RefSpec, id: number, value: string): void {
    mapOf(this.local, spec).set(id, value);
    this.learnt.push(spec, id);
  }

  /** Asks for `spec` of row `id`; answered by `get` after `resolve()`. */
  want(spec: RefSpec, id: number): void {
    const local = this.local[spec.idx];
    if (local !== undefined && local.has(id)) return;
    const resolved = mapOf(this.resolved, spec);
    if (resolved.has(id)) return;
    const cached = this.owner.cache.get(spec.idx, id);
    if (cached !== undefined) {
      resolved.set(id, cached);
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
        const resolved = mapOf(this.resolved, spec);
        for (const id of ids) {
          const value = found?.get(id);
          if (value === undefined) {
            resolved.set(id, null);
            this.reasons.set(cacheKey(spec, id), found ? NOT_FOUND : NO_LOOKUP);
            stats.missing++;
          } else {
            resolved.set(id, value);
            cache.set(spec.idx, id, value);
            stats.queried++;
          }
        }
      }
    }
    this.learn();
  }

  /** Whether `resolve()` has anything to query; when not, `learn()` alone completes the batch without a promise. */
  get needsQuery(): boolean {
    return this.wanted.size > 0;
  }

  /** Caches the values learnt from this transaction's rows: they are right for later transactions too. */
  learn(): void {
    const cache = this.owner.cache;
    const learnt = this.learnt;
    for (let i = 0; i < learnt.length; i += 2) {
      const spec = learnt[i] as RefSpec;
      const id = learnt[i + 1] as number;
      cache.set(spec.idx, id, this.local[spec.idx]!.get(id)!);
    }
  }

  /** The resolved value, or null (then `reason` says why). */
  get(spec: RefSpec, id: number): string | null {
    const local = this.local[spec.idx]?.get(id);
    if (local !== undefined) {
      this.owner.stats.local++;
      return local;
    }
    const value = this.resolved[spec.idx]?.get(id);
    if (value === undefined) throw new Error(`reference ${cacheKey(spec, id)} was not requested before resolve()`);
    return value;
  }

  /** Why `get(spec, id)` returned null. */
  reason(spec: RefSpec, id: number): string {
    return this.reasons.get(cacheKey(spec, id)) ?? NOT_FOUND;
  }
}
