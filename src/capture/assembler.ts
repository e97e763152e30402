/**
 * The transaction assembler: decoded binlog events in, committed transactions out.
 *
 * A transaction is GTID (MariaDB 162 / MySQL 33) [BEGIN] TABLE_MAP/ROWS ... XID or COMMIT. A MariaDB GTID flagged
 * standalone, or a MySQL GTID followed by a statement other than BEGIN, is a DDL transaction of that one statement.
 * Positions are taken only at transaction ends, so a reader resuming from `position` never sees half a transaction.
 */
import { MariaDbGtidState, MysqlGtidSet } from '../source/gtid.js';
import type { BinlogEvent } from '../source/types.js';
import type { BinlogPosition, ResumePosition, RowChange, Transaction } from './types.js';

/** Options of a {@link TransactionAssembler}. */
export interface AssemblerOptions {
  flavor: 'mariadb' | 'mysql';
  /** The binlog file the stream starts in (the first ROTATE confirms it). */
  file?: string;
  /** The GTID state before the first event; omit when unknown (then positions carry no GTID state). */
  gtidState?: string;
  /** Above this many row changes a transaction keeps none (rows = null) and only counts. */
  maxTxRows: number;
  /** Rows of these schemas are dropped; a transaction left with none is skipped. */
  ignoreSchemas?: Iterable<string>;
  /** When set, only rows of these schemas are kept. */
  includeSchemas?: Iterable<string>;
  /** Called for each DDL statement, before its transaction is returned (to refresh column-name caches). */
  onDdl?: (schema: string, query: string) => void;
}

interface OpenTx {
  gtid: string | null;
  start: BinlogPosition;
  startGtidState: string | undefined;
  /** MariaDB standalone GTID: the next statement is the whole transaction. */
  standalone: boolean;
  /** BEGIN seen (MySQL) or implied (MariaDB non-standalone GTID). */
  begun: boolean;
  rows: RowChange[] | null;
  rowCount: number;
  /** Rows dropped by the schema filter. */
  filtered: number;
}

const BEGIN_RE = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const COMMIT_RE = /^\s*(COMMIT|ROLLBACK)\s*$/i;
const IN_TX_STATEMENT_RE = /^\s*(SAVEPOINT|ROLLBACK\s+TO|RELEASE\s+SAVEPOINT|XA\s)/i;

/** Turns decoded events into {@link Transaction}s. Feed every event in order with {@link push}. */
export class TransactionAssembler {
  /** The binlog file of the events being pushed. */
  file: string;
  private readonly opts: AssemblerOptions;
  private gtid: MariaDbGtidState | MysqlGtidSet | null;
  private tx: OpenTx | null = null;
  private last: ResumePosition | null = null;
  private readonly ignore: Set<string>;
  private readonly include: Set<string> | null;

  constructor(options: AssemblerOptions) {
    this.opts = options;
    this.file = options.file ?? '';
    this.ignore = new Set(options.ignoreSchemas ?? []);
    this.include = options.includeSchemas ? new Set(options.includeSchemas) : null;
    if (options.gtidState === undefined) this.gtid = null;
    else
      this.gtid =
        options.flavor === 'mariadb' ? MariaDbGtidState.parse(options.gtidState) : MysqlGtidSet.parse(options.gtidState);
  }

  /** The end of the last complete transaction pushed (skipped ones included), or null before the first. */
  get position(): ResumePosition | null {
    return this.last;
  }

  /** True while inside a transaction. */
  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /** The GTID state now (after the last complete transaction), if known. */
  get gtidState(): string | undefined {
    return this.gtid?.toString();
  }

  /**
   * Pushes the next event. Returns the transaction it completes, if any (transactions left without rows by the
   * schema filter are not returned, unless the source asked for a semi-sync ACK of them).
   */
  push(ev: BinlogEvent, ackRequested = false): Transaction | null {
    switch (ev.kind) {
      case 'rotate':
        this.file = ev.file;
        return null;
      case 'gtid_list':
        // The state at the start of a file; only fills domains we know nothing about.
        if (this.gtid instanceof MariaDbGtidState) this.gtid.fillFrom(ev.gtids);
        return null;
      case 'gtid':
        this.open(ev.gtid, this.eventStart(ev.header), ev.standalone, ev.flavor === 'mariadb' && !ev.standalone);
        return null;
      case 'query':
        return this.query(ev, ackRequested);
      case 'rows':
        this.rows(ev);
        return null;
      case 'xid':
        return this.tx ? this.close(ev.header.timestamp, ev.header.nextPosition, ackRequested) : null;
      default:
        return null;
    }
  }

  /**
   * Records a rows event the decoder could not decode as one RowChange carrying `error` (empty images), so the row is
   * delivered and counted instead of lost or stopping the stream.
   */
  pushUndecodable(schema: string, table: string, op: RowChange['op'], error: string): void {
    const tx = this.tx;
    if (!tx) return;
    if (this.ignore.has(schema) || (this.include && !this.include.has(schema))) {
      tx.filtered++;
      return;
    }
    tx.rowCount++;
    if (tx.rows && tx.rowCount > this.opts.maxTxRows) tx.rows = null;
    tx.rows?.push({ schema, table, op, before: op === 'insert' ? null : {}, after: op === 'delete' ? null : {}, error });
  }

  private eventStart(h: { nextPosition: number; eventSize: number }): BinlogPosition {
    return { file: this.file, pos: h.nextPosition - h.eventSize };
  }

  private open(gtid: string | null, start: BinlogPosition, standalone: boolean, begun: boolean): void {
    // A transaction still open here lost its end (a reconnect mid-transaction restarts at a boundary): drop it.
    this.tx = {
      gtid,
      start,
      startGtidState: this.gtid?.toString(),
      standalone,
      begun,
      rows: [],
      rowCount: 0,
      filtered: 0,
    };
  }

  private query(ev: Extract<BinlogEvent, { kind: 'query' }>, ackRequested: boolean): Transaction | null {
    const q = ev.query;
    if (BEGIN_RE.test(q)) {
      if (!this.tx) this.open(null, this.eventStart(ev.header), false, true);
      else this.tx.begun = true;
      return null;
    }
    if (this.tx && this.tx.begun && !this.tx.standalone) {
      if (COMMIT_RE.test(q)) return this.close(ev.header.timestamp, ev.header.nextPosition, ackRequested);
      // Savepoints and the like inside a row-based transaction carry no data.
      if (IN_TX_STATEMENT_RE.test(q)) return null;
      return null;
    }
    // A statement outside BEGIN..COMMIT: DDL (or another standalone statement), a transaction of its own.
    if (!this.tx) this.open(null, this.eventStart(ev.header), true, false);
    this.opts.onDdl?.(ev.schema, q);
    const tx = this.tx!;
    tx.rows = [];
    return this.close(ev.header.timestamp, ev.header.nextPosition, ackRequested, { schema: ev.schema, query: q });
  }

  private rows(ev: Extract<BinlogEvent, { kind: 'rows' }>): void {
    const tx = this.tx;
    if (!tx) return; // rows outside a transaction cannot happen in a well-formed binlog
    const schema = ev.table.schema;
    if (this.ignore.has(schema) || (this.include && !this.include.has(schema))) {
      tx.filtered += ev.rows.length;
      return;
    }
    const table = ev.table.table;
    const op = ev.op;
    const n = ev.rows.length;
    tx.rowCount += n;
    if (tx.rows && tx.rowCount > this.opts.maxTxRows) tx.rows = null; // count only from here on
    const out = tx.rows;
    if (!out) return;
    for (let i = 0; i < n; i++) {
      const r = ev.rows[i];
      out.push({ schema, table, op, before: r.before, after: r.after });
    }
  }

  private close(
    timestamp: number,
    nextPosition: number,
    ackRequested: boolean,
    ddl?: { schema: string; query: string },
  ): Transaction | null {
    const tx = this.tx!;
    this.tx = null;
    if (tx.gtid && this.gtid) this.gtid.add(tx.gtid);
    const end: ResumePosition = { binlog: { file: this.file, pos: nextPosition } };
    if (this.gtid) end.gtidState = this.gtid.toString();
    this.last = end;
    const skip = ddl
      ? this.ignore.has(ddl.schema)
      : tx.rowCount === 0 && tx.filtered > 0;
    if (skip && !ackRequested) return null;
    const out: Transaction = {
      kind: ddl ? 'ddl' : 'dml',
      gtid: tx.gtid,
      commitTime: timestamp,
      start: tx.start,
      end,
      rowCount: tx.rowCount,
      rows: tx.rows,
    };
    if (tx.startGtidState !== undefined) out.startGtidState = tx.startGtidState;
    if (ddl) out.ddl = ddl;
    if (ackRequested) out.ackRequested = true;
    return out;
  }
}
