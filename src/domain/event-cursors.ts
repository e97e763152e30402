/**
 * The cursors of a transaction's events, built fast: capture's `cursorFor` encodes each cursor on its own (a buffer,
 * base64url of some 60 bytes); here the cursor of a transaction is encoded once and an event's cursor only swaps the
 * base64url groups that hold its txseq.
 */
import type { Transaction } from '../capture/types.js';
import { cursorFor } from '../capture/cursor.js';

/** Builds the cursors of each transaction's events with `encode`, fast when `encode` is capture's `cursorFor`. */
export class EventCursors {
  constructor(private readonly encode: (tx: Transaction, txseq: number) => string = cursorFor) {}

  /** Transactions whose fast-built cursors are still compared with capture's `cursorFor` (then trusted). */
  private checksLeft = 64;
  private fast = true;
  private readonly scratch = Buffer.alloc(CURSOR_SCRATCH);

  /** False once a fast-built cursor differed from `cursorFor` (every cursor is then encoded by it). */
  get fastPath(): boolean {
    return this.fast && this.encode === cursorFor;
  }

  /**
   * Cursors of one transaction's events. The default cursor (capture's layout v1, see cursor.ts) is built once per
   * transaction in a reused buffer and split around the base64url group that holds the txseq bytes, so an event's
   * cursor is that group re-encoded between a fixed head and tail. The first transactions are checked against
   * `cursorFor`; on any difference every cursor is encoded by `cursorFor` from then on.
   */
  of(tx: Transaction): CursorParts {
    if (this.encode !== cursorFor || !this.fast) return new CursorParts(tx, '', '', -1, 0, this.encode);
    const full = this.encodeFirst(tx);
    if (full === null) return new CursorParts(tx, '', '', -1, 0, cursorFor);
    const b = this.scratch;
    const parts = new CursorParts(tx, full.slice(0, 12), full.slice(20), b[13], b[14], cursorFor);
    if (this.checksLeft > 0) {
      this.checksLeft--;
      const ok = CHECKED_TXSEQS.every((txseq) => parts.at(txseq) === cursorFor(tx, txseq));
      if (!ok) {
        this.fast = false;
        return new CursorParts(tx, '', '', -1, 0, cursorFor);
      }
    }
    return parts;
  }

  /** The cursor of event 1 of `tx` (layout v1), or null when it does not fit the scratch buffer. */
  private encodeFirst(tx: Transaction): string | null {
    const b = this.scratch;
    const pos = tx.start.pos;
    if (!Number.isSafeInteger(pos) || pos < 0) return null;
    b[0] = 1;
    b.writeUInt32LE(pos % TWO_32, 1);
    b.writeUInt32LE(Math.floor(pos / TWO_32), 5);
    b.writeUInt32LE(1, 9);
    let o = 13;
    const file = tx.start.file;
    const txid = tx.gtid ?? '';
    const state = tx.startGtidState ?? '';
    // Lengths in UTF-8 bytes; the scratch buffer is large enough for any value that fits (255 + 255 + state).
    if (file.length > 255 || txid.length > 255 || 16 + file.length * 3 + txid.length * 3 + state.length * 3 > b.length)
      return null;
    const fileLen = writeUtf8(b, file, o + 1);
    if (fileLen > 255) return null;
    b[o] = fileLen;
    o += 1 + fileLen;
    const txidLen = writeUtf8(b, txid, o + 1);
    if (txidLen > 255) return null;
    b[o] = txidLen;
    o += 1 + txidLen;
    o += writeUtf8(b, state, o);
    if (o < CURSOR_GROUP_END) return null;
    return b.toString('base64url', 0, o);
  }
}

/** The txseqs whose fast cursors are compared with `cursorFor` in the first transactions: each path of `at`. */
const CHECKED_TXSEQS = [1, 7, 300, 65_535, 65_536, 2 ** 24 + 3];
const TWO_32 = 2 ** 32;

/**
 * Where capture's cursor layout (v1) keeps the txseq: bytes 9-12, after the version byte and the 8-byte start
 * position. In base64url they fall in the 3-byte groups of bytes 9-14 (characters 12-19).
 */
const CURSOR_GROUP_END = 15;
const CURSOR_SCRATCH = 16 * 1024;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The two base64url characters of every 12-bit value. */
const B64URL_PAIRS = Array.from({ length: 4096 }, (_, v) => B64URL[v >>> 6] + B64URL[v & 63]);

/** Writes `s` as UTF-8 at `o`, returns the bytes written: short ASCII strings (file, GTIDs) byte by byte in JS. */
function writeUtf8(b: Buffer, s: string, o: number): number {
  const n = s.length;
  if (n > 64) return b.write(s, o, 'utf8');
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return b.write(s, o, 'utf8');
    b[o + i] = c;
  }
  return n;
}

/** The cursors of one transaction's events (see `EventCursors.of`). */
export class CursorParts {
  /** The second group of bytes 9-14 and the tail, for txseq below 2^24 (its fourth byte 0). */
  private readonly yTail: string;

  constructor(
    private readonly tx: Transaction,
    private readonly head: string,
    private readonly tail: string,
    /** Bytes 13 and 14 of the encoded cursor (after the txseq), or -1 to encode every cursor with `encode`. */
    private readonly b13: number,
    private readonly b14: number,
    private readonly encode: (tx: Transaction, txseq: number) => string,
  ) {
    this.yTail = b13 < 0 ? '' : yGroup(0, b13, b14) + tail;
  }

  /** The cursor of event `txseq`. */
  at(txseq: number): string {
    if (this.b13 < 0) return this.encode(this.tx, txseq);
    // Bytes 9-14: txseq (LE) then b13, b14; as two 24-bit base64url groups, the first one cached per txseq.
    if (txseq < TXSEQ_GROUPS.length) return this.head + (TXSEQ_GROUPS[txseq] ??= xGroup(txseq)) + this.yTail;
    return this.head + xGroup(txseq) + yGroup(txseq >>> 24, this.b13, this.b14) + this.tail;
  }
}

/** The base64url group of cursor bytes 9-11: the txseq's three low bytes. */
function xGroup(txseq: number): string {
  const x = ((txseq & 0xff) << 16) | (((txseq >>> 8) & 0xff) << 8) | ((txseq >>> 16) & 0xff);
  return B64URL_PAIRS[x >>> 12] + B64URL_PAIRS[x & 4095];
}

/** The base64url group of cursor bytes 12-14: the txseq's high byte, then bytes 13 and 14. */
function yGroup(high: number, b13: number, b14: number): string {
  const y = (high << 16) | (b13 << 8) | b14;
  return B64URL_PAIRS[y >>> 12] + B64URL_PAIRS[y & 4095];
}

/** xGroup of the txseqs of all but huge transactions, made on first use. */
const TXSEQ_GROUPS: Array<string | undefined> = new Array<string | undefined>(65_536).fill(undefined);
