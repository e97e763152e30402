/**
 * The event cursor (CloudEvents `cursor` attribute, CONTRACT section 4): an opaque base64url string locating one event
 * in the binlog: where its transaction starts, the GTID state just before that transaction (to resume by GTID), the
 * transaction's id (to check on resume that the binlog still holds the same transaction) and the event's txseq.
 *
 * Binary layout (before base64url): version (1) = 1 | start pos (8, LE) | txseq (4, LE) | file length (1) | file |
 * txid length (1) | txid | GTID state (rest, UTF-8). Compact, and any change of layout bumps the version byte.
 */
import type { BinlogPosition, ResumePosition, Transaction } from './types.js';

/** What a cursor holds. */
export interface CursorData {
  /** Where the event's transaction starts (its GTID event). */
  start: BinlogPosition;
  /** The GTID state right before the transaction (absent on servers without GTIDs or when unknown). */
  gtidStateBefore?: string;
  /** The transaction's GTID, when it has one. */
  txid?: string | null;
  /** The event's 1-based place in its transaction. */
  txseq: number;
}

/** A cursor that cannot be decoded. The message says why; APIs map it to 400. */
export class InvalidCursorError extends Error {
  constructor(reason: string) {
    super(`invalid cursor: ${reason}`);
    this.name = 'InvalidCursorError';
  }
}

const VERSION = 1;

/** Encodes a cursor. */
export function encodeCursor(c: CursorData): string {
  const file = Buffer.from(c.start.file, 'utf8');
  const txid = Buffer.from(c.txid ?? '', 'utf8');
  const state = Buffer.from(c.gtidStateBefore ?? '', 'utf8');
  if (file.length > 255 || txid.length > 255) throw new RangeError('cursor: file name or txid too long');
  if (!Number.isInteger(c.txseq) || c.txseq < 0 || c.txseq > 0xffffffff) throw new RangeError('cursor: bad txseq');
  const b = Buffer.allocUnsafe(1 + 8 + 4 + 1 + file.length + 1 + txid.length + state.length);
  let o = 0;
  b[o++] = VERSION;
  b.writeBigUInt64LE(BigInt(c.start.pos), o);
  o += 8;
  b.writeUInt32LE(c.txseq, o);
  o += 4;
  b[o++] = file.length;
  file.copy(b, o);
  o += file.length;
  b[o++] = txid.length;
  txid.copy(b, o);
  o += txid.length;
  state.copy(b, o);
  return b.toString('base64url');
}

/** Decodes a cursor; throws {@link InvalidCursorError} on anything that is not one. */
export function decodeCursor(cursor: string): CursorData {
  if (typeof cursor !== 'string' || cursor.length === 0) throw new InvalidCursorError('empty');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError('not a base64url string');
  const b = Buffer.from(cursor, 'base64url');
  if (b.length < 15) throw new InvalidCursorError('too short');
  if (b[0] !== VERSION) throw new InvalidCursorError(`unknown cursor version ${b[0]}`);
  let o = 1;
  const pos = b.readBigUInt64LE(o);
  o += 8;
  if (pos > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidCursorError('position out of range');
  const txseq = b.readUInt32LE(o);
  o += 4;
  const fileLen = b[o++];
  if (o + fileLen + 1 > b.length) throw new InvalidCursorError('truncated');
  const file = b.toString('utf8', o, o + fileLen);
  o += fileLen;
  const txidLen = b[o++];
  if (o + txidLen > b.length) throw new InvalidCursorError('truncated');
  const txid = b.toString('utf8', o, o + txidLen);
  o += txidLen;
  const state = b.toString('utf8', o);
  if (file === '' || !/^[\x21-\x7e]+$/.test(file)) throw new InvalidCursorError('bad binlog file name');
  if (!/^[\x21-\x7e]*$/.test(txid)) throw new InvalidCursorError('bad transaction id');
  if (!/^[0-9A-Za-z:,-]*$/.test(state)) throw new InvalidCursorError('bad GTID state');
  if (Number(pos) < 4) throw new InvalidCursorError('position before the start of a binlog file');
  // Re-encoding must give the same string: rejects trailing garbage and non-canonical base64.
  const data: CursorData = {
    start: { file, pos: Number(pos) },
    txseq,
    ...(txid ? { txid } : {}),
    ...(state ? { gtidStateBefore: state } : {}),
  };
  if (encodeCursor(data) !== cursor) throw new InvalidCursorError('not canonical');
  return data;
}

/** The cursor of the `txseq`-th event of `tx`. */
export function cursorFor(tx: Transaction, txseq: number): string {
  return encodeCursor({ start: tx.start, gtidStateBefore: tx.startGtidState, txid: tx.gtid, txseq });
}

/** Where a reader starts to re-read the cursor's transaction (the caller skips events up to `txseq`). */
export function cursorResumePosition(c: CursorData): ResumePosition {
  return { binlog: { ...c.start }, ...(c.gtidStateBefore ? { gtidState: c.gtidStateBefore } : {}) };
}
