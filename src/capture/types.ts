/**
 * Public types of the `capture` module: committed transactions and positions, what `domain` consumes.
 */
import type { RowImage } from '../source/types.js';

/** A place in the binlog: a file and a byte offset. */
export interface BinlogPosition {
  file: string;
  pos: number;
}

/**
 * Where a reader resumes: right after a committed transaction.
 * `gtidState` is the server's GTID state after that transaction (MariaDB: comma list of `domain-server-seq`, one per
 * domain; MySQL: the executed GTID set), used to resume by GTID; `binlog` is used when the server has no GTIDs.
 */
export interface ResumePosition {
  binlog: BinlogPosition;
  gtidState?: string;
}

/** One row change of a committed transaction, columns keyed by name. */
export interface RowChange {
  schema: string;
  table: string;
  op: 'insert' | 'update' | 'delete';
  /** The row before the change (update, delete), else null. */
  before: RowImage | null;
  /** The row after the change (insert, update), else null. */
  after: RowImage | null;
  /**
   * Set when the binlog rows event could not be decoded (CONTRACT section 8: never lost, never silent): the images
   * are then empty objects and this says why. One such RowChange stands for the whole undecodable rows event.
   */
  error?: string;
}

/** A committed transaction as read from the binlog. Rolled-back transactions never reach the binlog. */
export interface Transaction {
  kind: 'dml' | 'ddl';
  /** MariaDB `domain-server-seq` or MySQL `uuid:n`; `null` only on servers without GTIDs. */
  gtid: string | null;
  /** Commit time from the binlog event header, unix seconds (UTC). */
  commitTime: number;
  /** Where this transaction starts (its GTID event). */
  start: BinlogPosition;
  /** The GTID state right before this transaction (with `start`, where to resume to read it again). */
  startGtidState?: string;
  /** Resume here to get the next transaction. */
  end: ResumePosition;
  /** Number of row changes. */
  rowCount: number;
  /**
   * The row changes in binlog order. `null` for a transaction with more than `BRIDGE_MAX_TX_ROWS` rows: then read
   * them in bounded chunks with `readRows`, as often as needed (each call reads the binlog again).
   */
  rows: RowChange[] | null;
  /** For an oversized transaction: re-reads its rows from the binlog in order, in chunks. */
  readRows?: () => AsyncIterable<RowChange[]>;
  /** For `ddl`: the statement and its default schema. */
  ddl?: { schema: string; query: string };
  /**
   * Semi-sync (reader opened with `semiSync`): the source waits for an ACK of this transaction. Acknowledge with
   * `BinlogReader.sendSemiSyncAck(tx.end.binlog.file, tx.end.binlog.pos)`; ACKs are cumulative in binlog order.
   */
  ackRequested?: boolean;
}
