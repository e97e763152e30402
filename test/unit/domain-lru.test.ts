import { describe, expect, it } from 'vitest';
import { GroupedLru } from '../../src/domain/lru.js';

describe('GroupedLru (the reference cache)', () => {
  it('keeps values per group and id; the same id in two groups are two entries', () => {
    const c = new GroupedLru<string>(1_000);
    c.set(1, 42, 'a');
    c.set(2, 42, 'b');
    c.set(1, 43, 'c');
    c.set(1, 42, 'a2'); // replaced, not added
    expect([c.get(1, 42), c.get(2, 42), c.get(1, 43), c.get(3, 42), c.get(1, 44)]).toEqual([
      'a2',
      'b',
      'c',
      undefined,
      undefined,
    ]);
    expect(c.size).toBe(3);
  });

  it('runs of consecutive ids, scattered ids, negative and large ids all come back (probing past collisions)', () => {
    const c = new GroupedLru<number>(200_000);
    const ids: Array<[number, number]> = [];
    for (let i = 0; i < 20_000; i++) ids.push([3, 1_000_000 + i]); // a run, like new encounters
    for (let i = 0; i < 20_000; i++) ids.push([5, (i * 7919) % 1_000_003]); // scattered, like patients
    for (let i = 0; i < 1_000; i++) ids.push([7, -i], [8, 2 ** 40 + i * 8], [9, i * 2 ** 20]); // same low bits
    ids.forEach(([g, id], n) => c.set(g, id, n));
    expect(ids.every(([g, id], n) => c.get(g, id) === n)).toBe(true);
    expect(c.size).toBe(ids.length);
  });

  it('stays within its capacity: the oldest generation goes, what was used since moved to the young one', () => {
    const c = new GroupedLru<number>(1_000); // generations of 500
    c.set(1, 7, 7);
    for (let id = 1_000; id < 1_499; id++) c.set(2, id, id); // young full: 500 entries with id 7
    for (let id = 2_000; id < 2_400; id++) c.set(2, id, id); // the first generation is old now
    expect(c.get(1, 7)).toBe(7); // an old hit moves to the young generation
    for (let id = 3_000; id < 3_200; id++) c.set(2, id, id); // young full again: the first generation is dropped
    expect(c.size).toBeLessThanOrEqual(1_000);
    expect(c.get(1, 7)).toBe(7);
    expect(c.get(2, 1_000)).toBeUndefined();
    expect(c.get(2, 2_000)).toBe(2_000);
    for (let id = 0; id < 5_000; id++) c.set(4, id, id);
    expect(c.size).toBeLessThanOrEqual(1_000);
    expect(c.get(4, 4_999)).toBe(4_999);
  });

  it('ignores what it cannot key: fractional or huge ids, negative or too large groups', () => {
    const c = new GroupedLru<string>(100);
    c.set(1, 1.5, 'x');
    c.set(1, 2 ** 50, 'x');
    c.set(-1, 1, 'x');
    c.set(5_000, 1, 'x');
    expect([c.get(1, 1.5), c.get(1, 2 ** 50), c.get(-1, 1), c.get(5_000, 1), c.size]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      0,
    ]);
    c.set(1, 1, 'y');
    c.clear();
    expect([c.get(1, 1), c.size]).toEqual([undefined, 0]);
  });
});
