/**
 * A bounded cache with approximate LRU eviction, built for the hot path: two generations of plain Maps. Hits in the
 * young generation cost one lookup; hits in the old one are promoted; when the young generation is full it becomes
 * the old one and the previous old one is dropped. No per-hit delete/re-insert (which churns a large Map's hash
 * table), and memory stays below `capacity` entries.
 */
export class Lru<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(readonly capacity: number) {
    if (!(capacity > 1)) throw new RangeError('cache capacity must be at least 2');
    this.half = Math.floor(capacity / 2);
  }

  /** Entries held (both generations; at most `capacity`). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The value (refreshed as recently used), or undefined. */
  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.promote(key, o);
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.has(key)) this.young.set(key, value);
    else this.promote(key, value);
  }

  private promote(key: K, value: V): void {
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}

/**
 * The same two-generation cache for keys made of a small group number and an integer id (a RefSpec's `idx` and a row
 * id): one Map per group and generation, so keys stay small integers (no boxed doubles, cheap hashing).
 */
export class GroupedLru<V> {
  private young: Array<Map<number, V> | undefined> = [];
  private old: Array<Map<number, V> | undefined> = [];
  private youngSize = 0;
  private oldSize = 0;
  private readonly half: number;

  constructor(readonly capacity: number) {
    if (!(capacity > 1)) throw new RangeError('cache capacity must be at least 2');
    this.half = Math.floor(capacity / 2);
  }

  /** Entries held (both generations; at most `capacity`). */
  get size(): number {
    return this.youngSize + this.oldSize;
  }

  /** The value (refreshed as recently used), or undefined. */
  get(group: number, id: number): V | undefined {
    const v = this.young[group]?.get(id);
    if (v !== undefined) return v;
    const o = this.old[group]?.get(id);
    if (o !== undefined) this.promote(group, id, o);
    return o;
  }

  set(group: number, id: number, value: V): void {
    this.promote(group, id, value);
  }

  /** Sets in the young generation; one hash operation, the size change says whether the id was new there. */
  private promote(group: number, id: number, value: V): void {
    if (this.youngSize >= this.half) {
      this.old = this.young;
      this.oldSize = this.youngSize;
      this.young = [];
      this.youngSize = 0;
    }
    let m = this.young[group];
    if (m === undefined) this.young[group] = m = new Map();
    const size = m.size;
    m.set(id, value);
    this.youngSize += m.size - size;
  }

  clear(): void {
    this.young = [];
    this.old = [];
    this.youngSize = this.oldSize = 0;
  }
}
