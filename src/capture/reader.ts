/**
 * BinlogReader: connection + decoder + assembler, yielding committed transactions as an async iterable.
 *
 * - Pull-based and bounded: nothing is read from the socket while the consumer does not pull (beyond the
 *   connection's high-water mark), so memory does not grow with a slow consumer.
 * - Resumable: it remembers the end of the last complete transaction and, when the connection fails, reconnects
 *   with backoff from there (by GTID state where known, else by file position). Half-read transactions are dropped
 *   and read again whole.
 * - Oversized transactions (more than `maxTxRows` row changes) are counted on the first pass and come with
 *   `rows: null` and a `readRows()` that reads them again from the binlog in chunks, on a connection of its own.
 */
import type mysql from 'mysql2/promise';
import { BinlogConnection, type RawEvent } from '../source/connection.js';
import { BinlogDecodeError, BinlogDecoder } from '../source/decoder/index.js';
import { BinlogError, PurgedPositionError, ServerError, ServerIdConflictError } from '../source/errors.js';
import { assertRequirements } from '../source/requirements.js';
import {
  connectSql,
  getServerInfo,
  gtidStateAt,
  listBinaryLogs,
  listReplicas,
  type ServerInfo,
  type SourceConnectionOptions,
} from '../source/server-info.js';
import type { BinlogEvent, TableMap } from '../source/types.js';
import { TransactionAssembler } from './assembler.js';
import { InformationSchemaColumns, peekTableMapName, type CaptureLogger } from './column-names.js';
import { parseStartSpec, resolveStart, type StartSpec } from './start-position.js';
import type { ResumePosition, RowChange, Transaction } from './types.js';

/** The report host of the bridge's replica connections in SHOW SLAVE HOSTS. */
export const REPORT_HOST = 'openmrs-event-bridge';

const TABLE_MAP_EVENT = 19;
/** Rows event type codes: v1 (MariaDB), v2 (MySQL), MariaDB compressed v1 and v2. */
const ROWS_EVENT_OPS: Record<number, RowChange['op']> = {
  23: 'insert',
  24: 'update',
  25: 'delete',
  30: 'insert',
  31: 'update',
  32: 'delete',
  166: 'insert',
  167: 'update',
  168: 'delete',
  169: 'insert',
  170: 'update',
  171: 'delete',
};

/** Options of a {@link BinlogReader}. */
export interface BinlogReaderOptions {
  source: SourceConnectionOptions;
  /** This reader's replica server id (BRIDGE_SERVER_ID for the live reader; extra readers use their own). */
  serverId: number;
  /** Resume right after this transaction end. Wins over `start`. */
  from?: ResumePosition | null;
  /** Where to start when `from` is not given (default `latest`). */
  start?: StartSpec | string;
  /** BRIDGE_MAX_TX_ROWS (default 100,000). */
  maxTxRows?: number;
  /** Rows per chunk of `Transaction.readRows()` (default min(maxTxRows, 10,000)). */
  rowChunkSize?: number;
  /** Schemas whose rows are dropped (the bridge's state database). */
  ignoreSchemas?: string[];
  /** When set, only rows of these schemas are kept. */
  includeSchemas?: string[];
  /** Source heartbeat period (default 5,000 ms). */
  heartbeatMs?: number;
  /** Dead-connection timeout (default 3 heartbeats, at least 10 s). */
  deadTimeoutMs?: number;
  /** Socket pause threshold in bytes of unread events (default 8 MiB). */
  highWaterBytes?: number;
  /** Register as the source's semi-synchronous replica (commit hold). Extra readers never do. */
  semiSync?: boolean;
  /** Reconnect backoff: first delay, cap, and attempts before giving up (default: 250 ms, 30 s, unlimited). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  /** Run the requirement check at start (default true). */
  checkRequirements?: boolean;
  /** The OpenMRS schema: checked for SELECT by the requirement check. */
  schema?: string;
  /** Check at start that no other replica uses `serverId` (default true). */
  checkServerId?: boolean;
  /** Resume by GTID state when known (default), or always by file position. */
  resumeBy?: 'gtid' | 'binlog';
  /** Server ids for the re-reads of oversized transactions (default: random ids in 4,000,000,001..4,294,967,295). */
  rowReaderServerIds?: { acquire(): number; release(id: number): void };
  logger?: CaptureLogger;
  /** Called for every heartbeat the source sends on a quiet binlog. */
  onHeartbeat?: () => void;
}

/** Counters of a reader. */
export interface ReaderStats {
  transactions: number;
  rows: number;
  heartbeats: number;
  reconnects: number;
  /** Bytes received over all connections. */
  bytes: number;
  /** Socket pauses because the consumer was behind (backpressure), over all connections. */
  pauses: number;
  /** The most bytes of raw events ever waiting unread on one connection. */
  maxQueuedBytes: number;
}

/** Reads committed transactions from the source's binlog. Iterate it once with `for await`. */
export class BinlogReader implements AsyncIterable<Transaction> {
  readonly stats: ReaderStats = { transactions: 0, rows: 0, heartbeats: 0, reconnects: 0, bytes: 0, pauses: 0, maxQueuedBytes: 0 };
  private readonly o: BinlogReaderOptions;
  private readonly maxTxRows: number;
  private server: ServerInfo | null = null;
  private names: InformationSchemaColumns | null = null;
  private resume: ResumePosition | null = null;
  private startGtid: string | undefined;
  private conn: BinlogConnection | null = null;
  private closed = false;
  private started: Promise<void> | null = null;
  private iterating = false;
  private wakeSleep: (() => void) | null = null;

  constructor(options: BinlogReaderOptions) {
    this.o = options;
    this.maxTxRows = options.maxTxRows ?? 100_000;
    if (!Number.isInteger(options.serverId) || options.serverId < 1 || options.serverId > 0xffffffff) {
      throw new RangeError(`serverId must be an integer in 1..4294967295, got ${options.serverId}`);
    }
  }

  /** The end of the last transaction read (where a new reader would resume), or the start before the first. */
  get position(): ResumePosition | null {
    return this.resume;
  }

  /** The source server (after `start()`). */
  get serverInfo(): ServerInfo | null {
    return this.server;
  }

  /**
   * Checks the source (requirements, server id) and resolves the start position. Called by the first iteration
   * if not before; call it yourself to fail fast at start.
   */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  /** Stops reading: a pending iteration ends (returns), the connection closes. */
  close(): void {
    this.closed = true;
    this.conn?.close();
    this.wakeSleep?.();
    void this.names?.close();
  }

  /** Semi-sync ACK of everything up to `file`:`pos` (a transaction's `end.binlog`). No-op when not connected. */
  sendSemiSyncAck(file: string, pos: number): void {
    const c = this.conn;
    if (c && c.semiSync) c.sendSemiSyncAck(file, pos);
  }

  /** Whether the live connection is registered as a semi-sync replica (the source has semi-sync enabled). */
  get semiSyncActive(): boolean {
    return this.conn?.semiSync ?? false;
  }

  [Symbol.asyncIterator](): AsyncIterator<Transaction> {
    if (this.iterating) throw new Error('a BinlogReader can be iterated only once');
    this.iterating = true;
    return this.run();
  }

  private async doStart(): Promise<void> {
    const sql = await connectSql(this.o.source);
    try {
      let fallback = false;
      if (this.o.checkRequirements ?? true) {
        const report = await assertRequirements(sql, { schema: this.o.schema });
        this.server = report.server;
        fallback = report.columnNames === 'information_schema';
        for (const note of report.notes) this.o.logger?.warn({ server: report.server.version }, note);
      } else {
        this.server = await getServerInfo(sql);
        const [v] = await sql.query<any[]>("SHOW GLOBAL VARIABLES LIKE 'binlog_row_metadata'");
        fallback = v.length === 0 || String(v[0].Value).toUpperCase() !== 'FULL';
      }
      if (fallback) this.names = new InformationSchemaColumns(this.o.source, this.o.logger);
      if (this.o.checkServerId ?? true) await this.checkServerId(sql);
      if (this.o.from) {
        this.resume = { binlog: { ...this.o.from.binlog }, ...(this.o.from.gtidState !== undefined ? { gtidState: this.o.from.gtidState } : {}) };
      } else {
        const spec = typeof this.o.start === 'string' ? parseStartSpec(this.o.start) : (this.o.start ?? { kind: 'latest' });
        const r = await resolveStart(sql, this.server.flavor, spec);
        this.resume = r.position;
        this.startGtid = r.gtidState;
      }
    } finally {
      await sql.end().catch(() => sql.destroy());
    }
  }

  private async checkServerId(sql: mysql.Connection): Promise<void> {
    const id = this.o.serverId;
    if (this.server && id === this.server.serverId) {
      throw new ServerIdConflictError(
        `BRIDGE_SERVER_ID ${id} is the source's own server_id; choose another id (unique among the source's replicas)`,
      );
    }
    const replicas = await listReplicas(sql);
    if (replicas === null) {
      // Not a misconfiguration: the contract's grants do not include this privilege.
      this.o.logger?.info(
        { serverId: id },
        'cannot list the source replicas (SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN on MariaDB >= 10.5.2): server id uniqueness not checked',
      );
      return;
    }
    const same = replicas.filter((r) => r.serverId === id);
    const foreign = same.filter((r) => !r.host.startsWith(REPORT_HOST));
    if (foreign.length > 0) {
      throw new ServerIdConflictError(
        `BRIDGE_SERVER_ID ${id} is already used by the replica ${foreign[0].host}:${foreign[0].port} of the source ` +
          '(SHOW SLAVE HOSTS); a second dump with the same id would make the server disconnect it. Set BRIDGE_SERVER_ID ' +
          'to an id no replica uses',
      );
    }
    if (same.length > 0) {
      this.o.logger?.warn({ serverId: id }, 'a bridge connection with this server id is still registered (a previous run?); the server replaces it');
    }
  }

  private dumpFrom(): { file: string; pos: number } | { gtidState: string } {
    const r = this.resume;
    if (r) {
      if ((this.o.resumeBy ?? 'gtid') === 'gtid' && r.gtidState) return { gtidState: r.gtidState };
      return { file: r.binlog.file, pos: r.binlog.pos };
    }
    if (this.startGtid !== undefined) return { gtidState: this.startGtid };
    throw new Error('BinlogReader: no start position');
  }

  private newDecoder(conn: BinlogConnection): BinlogDecoder {
    const names = this.names;
    return new BinlogDecoder({
      checksum: conn.checksumEnabled,
      resolveColumnNames: names ? (schema, table) => names.get(schema, table) : undefined,
    });
  }

  private newAssembler(decoder: BinlogDecoder): TransactionAssembler {
    const r = this.resume;
    return new TransactionAssembler({
      flavor: this.server!.flavor,
      file: r?.binlog.file,
      gtidState: r ? r.gtidState : this.startGtid,
      maxTxRows: this.maxTxRows,
      ignoreSchemas: this.o.ignoreSchemas,
      includeSchemas: this.o.includeSchemas,
      // With names from information_schema, a DDL may change them: look them up again for the next TABLE_MAPs.
      onDdl: this.names
        ? () => {
            this.names!.clear();
            decoder.invalidateTables();
          }
        : undefined,
    });
  }

  /** Decodes one raw event, looking column names up first when the binlog carries none. */
  private async decode(decoder: BinlogDecoder, raw: RawEvent): Promise<BinlogEvent> {
    if (this.names && raw.data[4] === TABLE_MAP_EVENT) {
      const { schema, table } = peekTableMapName(raw.data, decoder.formatDescription.postHeaderLengths[TABLE_MAP_EVENT] || 8);
      await this.names.load(schema, table);
      const ev = decoder.decode(raw.data);
      if (ev.kind === 'table_map' && ev.table.namesFrom !== 'information_schema' && ev.table.namesFrom !== 'binlog') {
        this.o.logger?.warn(
          { schema, table, columns: ev.table.columns.length },
          'the table definition in information_schema no longer matches the binlog (changed since); columns are named by position (@1, @2, ...)',
        );
      }
      return ev;
    }
    return decoder.decode(raw.data);
  }

  private async *run(): AsyncGenerator<Transaction> {
    await this.start();
    let attempt = 0;
    while (!this.closed) {
      let conn: BinlogConnection | null = null;
      try {
        conn = await BinlogConnection.open(this.o.source, {
          serverId: this.o.serverId,
          from: this.dumpFrom(),
          heartbeatMs: this.o.heartbeatMs,
          deadTimeoutMs: this.o.deadTimeoutMs,
          highWaterBytes: this.o.highWaterBytes,
          semiSync: this.o.semiSync,
          reportHost: REPORT_HOST,
        });
        if (this.closed) return;
        this.conn = conn;
        const decoder = this.newDecoder(conn);
        const assembler = this.newAssembler(decoder);
        /** Table maps by id, to name the table of a rows event that fails to decode. */
        const tables = new Map<number, TableMap>();
        let bytesSeen = 0;
        let pausesSeen = 0;
        for (;;) {
          const batch = await conn.read();
          this.stats.bytes += conn.stats.bytes - bytesSeen;
          bytesSeen = conn.stats.bytes;
          this.stats.pauses += conn.stats.pauses - pausesSeen;
          pausesSeen = conn.stats.pauses;
          if (conn.stats.maxQueuedBytes > this.stats.maxQueuedBytes) this.stats.maxQueuedBytes = conn.stats.maxQueuedBytes;
          if (batch === null) return; // closed by us
          attempt = 0;
          for (let i = 0; i < batch.length; i++) {
            const raw = batch[i];
            let ev: BinlogEvent;
            try {
              ev = this.names ? await this.decode(decoder, raw) : decoder.decode(raw.data);
            } catch (err) {
              if (!this.undecodableRows(err, raw, tables, assembler)) throw err;
              continue;
            }
            if (ev.kind === 'table_map') tables.set(ev.table.tableId, ev.table);
            else if (ev.kind === 'gtid') tables.clear(); // TABLE_MAPs come again in every transaction
            if (ev.kind === 'heartbeat') {
              this.stats.heartbeats++;
              this.o.onHeartbeat?.();
              continue;
            }
            const tx = assembler.push(ev, raw.ackRequested);
            if (!assembler.inTransaction && assembler.position) this.resume = assembler.position;
            if (tx) {
              if (tx.rows === null) {
                const snapshot = tx;
                tx.readRows = () => this.rereadRows(snapshot);
              }
              this.stats.transactions++;
              this.stats.rows += tx.rowCount;
              yield tx;
              if (this.closed) return;
            }
          }
        }
      } catch (err) {
        conn?.close();
        this.conn = null;
        if (this.closed) return;
        if (err instanceof ServerError && err.fatal) throw await this.explainServerError(err);
        if (!(err instanceof BinlogError) || err.fatal) throw err;
        attempt++;
        const max = this.o.reconnect?.maxAttempts;
        if (max !== undefined && attempt > max) throw err;
        const delay = this.backoff(attempt);
        this.stats.reconnects++;
        this.o.logger?.warn(
          { err: err.message, attempt, delayMs: delay, resume: this.resume },
          'binlog connection lost; reconnecting from the last complete transaction',
        );
        await this.sleep(delay);
      } finally {
        if (this.conn === conn) this.conn = null;
        conn?.close();
      }
    }
  }

  /**
   * A rows event whose TABLE_MAP we have but whose rows fail to decode (checksum verified, so a decoder gap, not line
   * noise) becomes one RowChange with `error`: the stream goes on and the row is delivered (CONTRACT section 8).
   * Returns false for anything else, which then stops the stream.
   */
  private undecodableRows(err: unknown, raw: RawEvent, tables: Map<number, TableMap>, assembler: TransactionAssembler): boolean {
    if (!(err instanceof BinlogDecodeError) || !assembler.inTransaction) return false;
    const op = ROWS_EVENT_OPS[raw.data[4]];
    if (!op || raw.data.length < 25) return false;
    const table = tables.get(raw.data.readUIntLE(19, 6));
    if (!table) return false;
    this.o.logger?.error(
      { schema: table.schema, table: table.table, op, err: err.message, file: assembler.file, pos: raw.data.readUInt32LE(13) },
      'a binlog rows event could not be decoded; delivered as a row change with an error',
    );
    assembler.pushUndecodable(table.schema, table.table, op, `undecodable binlog rows event: ${err.message}`);
    return true;
  }

  /** Waits `ms`, or less when the reader is closed meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleep = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleep = done;
    });
  }

  private backoff(attempt: number): number {
    const initial = this.o.reconnect?.initialDelayMs ?? 250;
    const cap = this.o.reconnect?.maxDelayMs ?? 30_000;
    const base = Math.min(cap, initial * 2 ** Math.min(attempt - 1, 20));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** Turns the server's "position not found" (1236) into the purged-position error of CONTRACT section 8. */
  private async explainServerError(err: ServerError): Promise<Error> {
    if (err.code !== 1236) return err;
    const r = this.resume;
    const asked = r
      ? `${r.binlog.file}:${r.binlog.pos}${r.gtidState ? ` (GTID state ${r.gtidState})` : ''}`
      : `GTID ${this.startGtid}`;
    let oldest = 'unknown';
    let purged = /purged|could not find|not in the master|first log file name/i.test(err.serverMessage);
    try {
      const sql = await connectSql(this.o.source);
      try {
        const logs = await listBinaryLogs(sql);
        if (logs.length > 0) {
          const g = this.server?.flavor === 'mariadb' ? await gtidStateAt(sql, logs[0].file, 4).catch(() => undefined) : undefined;
          oldest = `${logs[0].file}:4${g ? ` (GTID state ${g})` : ''}`;
          if (r && !logs.some((l) => l.file === r.binlog.file)) purged = true;
        }
      } finally {
        await sql.end().catch(() => sql.destroy());
      }
    } catch {
      // keep the server's own message
    }
    if (!purged) return err;
    return new PurgedPositionError(
      `the binlog position ${asked} is no longer on the source: it was purged. The oldest binlog still on the ` +
        `server starts at ${oldest}; the transactions between the two are lost to the bridge (server said: ` +
        `${err.serverMessage}). To restart: BRIDGE_START=earliest (from the oldest binlog kept) or BRIDGE_START=latest ` +
        '(from now), and `openmrs-event-bridge reset-positions --start earliest` (or latest) to replace the stored ' +
        'positions; then raise binlog_expire_logs_seconds (expire_logs_days) so the binlog outlives outages',
    );
  }

  /** The second pass over an oversized transaction: its rows in order, in chunks, on a connection of its own. */
  private async *rereadRows(tx: Transaction): AsyncGenerator<RowChange[]> {
    const ids = this.o.rowReaderServerIds;
    const serverId = ids ? ids.acquire() : 4_000_000_001 + Math.floor(Math.random() * 294_967_294);
    const chunkSize = this.o.rowChunkSize ?? Math.min(this.maxTxRows, 10_000);
    const ignore = new Set(this.o.ignoreSchemas ?? []);
    const include = this.o.includeSchemas ? new Set(this.o.includeSchemas) : null;
    let conn: BinlogConnection | null = null;
    try {
      conn = await BinlogConnection.open(this.o.source, {
        serverId,
        from: { file: tx.start.file, pos: tx.start.pos },
        heartbeatMs: this.o.heartbeatMs,
        deadTimeoutMs: this.o.deadTimeoutMs,
        highWaterBytes: this.o.highWaterBytes,
        reportHost: `${REPORT_HOST}-reread`,
      });
      const decoder = this.newDecoder(conn);
      let inside = false;
      let chunk: RowChange[] = [];
      let count = 0;
      for (;;) {
        const batch = await conn.read();
        if (batch === null) throw new Error('re-read of an oversized transaction: connection closed');
        for (const raw of batch) {
          const ev = this.names ? await this.decode(decoder, raw) : decoder.decode(raw.data);
          if (!inside) {
            const isStart = ev.kind === 'gtid' || (ev.kind === 'query' && /^\s*BEGIN\b/i.test(ev.query));
            if (isStart && ev.header.nextPosition - ev.header.eventSize === tx.start.pos) {
              if (ev.kind === 'gtid' && tx.gtid && ev.gtid !== tx.gtid) {
                throw new Error(`re-read of transaction ${tx.gtid}: the binlog holds ${ev.gtid} at ${tx.start.file}:${tx.start.pos}`);
              }
              inside = true;
            }
            continue;
          }
          if (ev.kind === 'rows') {
            const schema = ev.table.schema;
            if (ignore.has(schema) || (include && !include.has(schema))) continue;
            for (const r of ev.rows) {
              chunk.push({ schema, table: ev.table.table, op: ev.op, before: r.before, after: r.after });
              count++;
              if (chunk.length >= chunkSize) {
                yield chunk;
                chunk = [];
              }
            }
          } else if (ev.kind === 'xid' || (ev.kind === 'query' && /^\s*(COMMIT|ROLLBACK)\s*$/i.test(ev.query))) {
            if (chunk.length > 0) yield chunk;
            if (count !== tx.rowCount) {
              throw new Error(`re-read of transaction ${tx.gtid ?? tx.start.pos}: ${count} rows, the first pass counted ${tx.rowCount}`);
            }
            return;
          } else if (ev.kind === 'gtid') {
            throw new Error(`re-read of transaction ${tx.gtid ?? tx.start.pos}: its end was not found`);
          }
        }
      }
    } finally {
      conn?.close();
      ids?.release(serverId);
    }
  }
}
