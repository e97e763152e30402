import { describe, expect, it } from 'vitest';
import type { Transaction } from '../../src/capture/types.js';
import { cursorFor, decodeCursor } from '../../src/capture/cursor.js';
import { EventCursors } from '../../src/domain/event-cursors.js';
import { exampleTransaction } from '../../scripts/event-examples.js';

const TXSEQS = [
  1,
  2,
  7,
  63,
  64,
  255,
  256,
  300,
  4095,
  4096,
  65_535,
  65_536,
  70_001,
  2 ** 24 - 1,
  2 ** 24,
  2 ** 24 + 3,
  2 ** 32 - 1,
];

/** Transactions that exercise each part of the layout: positions past 4 GiB, no GTID, long and non-ASCII values. */
function transactions(): Transaction[] {
  const base = exampleTransaction([], 1);
  return [
    base,
    { ...base, start: { file: 'mysql-bin.000042', pos: 2 ** 33 + 5 } },
    { ...base, gtid: null, startGtidState: undefined },
    { ...base, startGtidState: Array.from({ length: 40 }, (_, d) => `${d}-1-${1_000_000 + d}`).join(',') },
    { ...base, start: { file: 'binlog-ü.000001', pos: 4 }, gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:23' },
    { ...base, start: { file: 'b.1', pos: 4 }, gtid: '', startGtidState: '' },
  ];
}

describe('EventCursors', () => {
  it("gives every event the cursor capture's cursorFor gives, for any txseq", () => {
    for (const tx of transactions()) {
      const cursors = new EventCursors();
      const parts = cursors.of(tx);
      for (const txseq of TXSEQS)
        expect([tx.start, txseq, parts.at(txseq)]).toEqual([tx.start, txseq, cursorFor(tx, txseq)]);
      // Past the checked transactions too (the fast path is then trusted).
      for (let i = 0; i < 70; i++) cursors.of(tx);
      expect(cursors.of(tx).at(9)).toBe(cursorFor(tx, 9));
      expect(cursors.fastPath).toBe(true);
      // decodeCursor accepts ASCII names only (binlog files and GTIDs are).
      if (/^[\x21-\x7e]+$/.test(tx.start.file))
        expect(decodeCursor(cursors.of(tx).at(70_001))).toMatchObject({ start: tx.start, txseq: 70_001 });
    }
  });

  it('uses the given encoder for every cursor when it is not cursorFor', () => {
    const tx = exampleTransaction([], 2);
    const parts = new EventCursors((t, txseq) => `${t.gtid}/${txseq}`).of(tx);
    expect([parts.at(1), parts.at(70_000)]).toEqual(['0-1-4702/1', '0-1-4702/70000']);
  });
});
