/**
 * The reference cache: a bounded map from (group, id) to a value with approximate LRU eviction, built for the hot
 * path. Two generations: hits in the young one cost one probe; hits in the old one are copied to the young one; when
 * the young generation is full it becomes the old one and the previous old one is dropped. Memory stays below
 * `capacity` entries, and a hit neither deletes nor re-inserts anything.
 *
 * Each generation is an open-addressing table of fixed size (keys in a Float64Array, values in an array beside it),
 * allocated once: it never rehashes while it fills. The ids of eight consecutive rows share one cache line of keys
 * and one of values, because OpenMRS ids are auto-increment and the rows a transaction writes or references sit
 * together: learning a run of new encounters costs a cache miss per eight of them instead of one or two each, at a
 * time when the binlog stream has pushed everything else out of the CPU caches.
 */

/** Groups per table (a RefSpec's `idx` must stay below this). */
const GROUPS = 1024;
/** Ids beyond this (and non-integers) are not cached: a key `id * GROUPS + group` must stay an exact double. */
const MAX_ID = 2 ** 42;

class Generation<V> {
  readonly keys: Float64Array;
  readonly values: Array<V | undefined>;
  readonly mask: number;
  readonly shift: number;
  size = 0;

  constructor(bits: number) {
    const slots = 2 ** bits;
    // NaN marks an empty slot: no key equals it.
    this.keys = new Float64Array(slots).fill(NaN);
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
    this.shift = 32 - bits;
  }

  /** The slot holding `key`, or the empty slot where it would go (linear probing from its home). */
  slotOf(key: number, group: number, id: number): number {
    // Home: a multiplicative hash of the run of eight ids and the group picks an aligned group of eight slots; the
    // id's low bits pick the slot in it.
    const run = Math.imul(((id / 8) | 0) ^ Math.imul(group, 0x3c6ef372), 0x9e3779b1) >>> this.shift;
    const keys = this.keys;
    const mask = this.mask;
    let i = ((run & ~7) | (id & 7)) & mask;
    for (let k = keys[i]; k === k && k !== key; k = keys[i]) i = (i + 1) & mask;
    return i;
  }
}

/** A bounded two-generation cache keyed by a small group number (a RefSpec's `idx`) and an integer row id. */
export class GroupedLru<V> {
  private young: Generation<V>;
  private old: Generation<V>;
  private readonly half: number;
  private readonly bits: number;

  constructor(readonly capacity: number) {
    if (!(capacity > 1)) throw new RangeError('cache capacity must be at least 2');
    this.half = Math.floor(capacity / 2);
    // At most half full: short probe runs. At least 8 slots, one aligned run.
    let bits = 3;
    while (2 ** bits < this.half * 2) bits++;
    this.bits = bits;
    this.young = new Generation(bits);
    this.old = new Generation(bits);
  }

  /** Entries held (both generations; at most `capacity`). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The value (refreshed as recently used), or undefined. */
  get(group: number, id: number): V | undefined {
    if (!cacheable(group, id)) return undefined;
    const key = id * GROUPS + group;
    const young = this.young;
    const y = young.slotOf(key, group, id);
    if (young.keys[y] === key) return young.values[y];
    const old = this.old;
    const o = old.slotOf(key, group, id);
    if (old.keys[o] !== key) return undefined;
    const value = old.values[o]!;
    this.set(group, id, value);
    return value;
  }

  set(group: number, id: number, value: V): void {
    if (!cacheable(group, id)) return;
    const key = id * GROUPS + group;
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Generation(this.bits);
    }
    const young = this.young;
    const i = young.slotOf(key, group, id);
    if (young.keys[i] !== key) {
      young.keys[i] = key;
      young.size++;
    }
    young.values[i] = value;
  }

  clear(): void {
    this.young = new Generation(this.bits);
    this.old = new Generation(this.bits);
  }
}

function cacheable(group: number, id: number): boolean {
  return group >= 0 && group < GROUPS && Number.isInteger(group) && Number.isInteger(id) && Math.abs(id) < MAX_ID;
}
