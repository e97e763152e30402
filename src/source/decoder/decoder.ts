/**
 * The binlog event decoder: raw event bytes in, typed `BinlogEvent` out. Stateful: it keeps the current format
 * description (checksum algorithm, post-header lengths) and the table maps seen so far, keyed by table id.
 */
import { inflateSync } from 'node:zlib';
import type { BinlogEvent, EventHeader, RowImage } from '../types.js';
import { BinlogDecodeError, readPackedInt } from './bytes.js';
import { CHECKSUM_LENGTH, ChecksumAlg, EventType, HEADER_LENGTH, ROWS_FLAG_STMT_END } from './constants.js';
import {
  defaultFormat,
  parseFormatDescription,
  parseHeader,
  parseHeartbeat,
  parseMariaGtid,
  parseMariaGtidList,
  parseMysqlGtid,
  parseQuery,
  parseRotate,
  parseXid,
  type FormatDescription,
} from './events.js';
import { compileFullImage } from './codegen.js';
import { buildPlan, presentColumns, RowReader, type DecodePlan } from './rows.js';
import { applyResolved, parseTableMap, readTableId, toTableMap, type ColumnResolver } from './table-map.js';

/** Statements that begin or end a transaction; any other QUERY event may be DDL. */
const TX_CONTROL = /^(BEGIN|COMMIT|ROLLBACK|XA |SAVEPOINT)/i;

/** Table maps kept at most; ids are reassigned when the server reopens a table, so old ones age out. */
const MAX_TABLES = 4096;

/** Options of a {@link BinlogDecoder}. */
export interface BinlogDecoderOptions {
  /**
   * Whether events carry a trailing CRC32 before the first FORMAT_DESCRIPTION is seen (true when the client
   * negotiated checksums: the server's fake ROTATE then carries one). After a FORMAT_DESCRIPTION its algorithm rules.
   */
  checksum?: boolean;
  /**
   * Column facts for a TABLE_MAP that carries no column names (binlog_row_metadata not FULL, or an old server):
   * typically from information_schema, looked up ahead by the capture layer.
   */
  resolveColumnNames?: ColumnResolver;
  /**
   * Compile a specialised decoder per table for full row images (default true). Off, every image goes through the
   * generic loop; the results are the same (the type-matrix test checks both).
   */
  compile?: boolean;
}

type RowsOp = 'insert' | 'update' | 'delete';

/**
 * Decodes one binlog event at a time.
 *
 * ```ts
 * const decoder = new BinlogDecoder({ checksum: true });
 * const event = decoder.decode(packet, 1); // one event starting at its 19-byte header
 * ```
 *
 * The checksum, when present, is excluded here, not verified: the client verifies it before decoding.
 */
export class BinlogDecoder {
  private format: FormatDescription = defaultFormat();
  private checksum: boolean;
  private readonly resolve?: ColumnResolver;
  private readonly tables = new Map<number, DecodePlan>();
  private readonly reader = new RowReader();
  private readonly compile: boolean;

  constructor(options: BinlogDecoderOptions = {}) {
    this.checksum = options.checksum ?? false;
    this.resolve = options.resolveColumnNames;
    this.compile = options.compile ?? true;
  }

  /** Forgets every table map (call after DDL when names come from information_schema, so they are looked up again). */
  invalidateTables(): void {
    this.tables.clear();
  }

  /**
   * After a statement that may be DDL, names that came from the resolver may be stale even for an unchanged table
   * id and definition (a renamed column): those tables are looked up again at their next TABLE_MAP.
   */
  private forgetResolvedTables(): void {
    for (const [id, plan] of this.tables) if (plan.table.namesFrom !== 'binlog') this.tables.delete(id);
  }

  /** The format description in force (the last FORMAT_DESCRIPTION decoded, or v4 defaults). */
  get formatDescription(): Readonly<FormatDescription> {
    return this.format;
  }

  /** Whether events currently end in a 4-byte checksum. */
  get hasChecksum(): boolean {
    return this.checksum;
  }

  /** Overrides the checksum state (e.g. after the client negotiated checksums and before any FORMAT_DESCRIPTION). */
  setChecksum(on: boolean): void {
    this.checksum = on;
  }

  /**
   * Decodes the event that starts at `offset` in `buf` (its 19-byte header) and spans `length` bytes (default: the
   * event size in its header). The result does not keep references to `buf` except in `Buffer` column values, which
   * are copies: the caller may reuse `buf`.
   */
  decode(buf: Buffer, offset = 0, length?: number): BinlogEvent {
    if (buf.length - offset < HEADER_LENGTH) {
      throw new BinlogDecodeError(`event shorter than its header (${buf.length - offset} bytes)`);
    }
    const header = parseHeader(buf, offset);
    const size = length ?? header.eventSize;
    if (size < HEADER_LENGTH || offset + size > buf.length) {
      throw new BinlogDecodeError(
        `event of type ${header.typeCode} claims ${size} bytes, ${buf.length - offset} available`,
        header.typeCode,
      );
    }
    const start = offset + this.format.headerLength;
    const type = header.typeCode;

    if (type === EventType.FORMAT_DESCRIPTION) {
      // The FORMAT_DESCRIPTION carries its own algorithm byte and checksum, whatever the state says.
      const fd = parseFormatDescription(buf, offset + HEADER_LENGTH, offset + size);
      this.format = fd;
      this.checksum = fd.checksumAlg === ChecksumAlg.CRC32;
      return {
        kind: 'format',
        header,
        serverVersion: fd.serverVersion,
        checksum: this.checksum,
        checksumAlg: fd.checksumAlg,
        binlogVersion: fd.binlogVersion,
      };
    }

    const end = offset + size - (this.checksum ? CHECKSUM_LENGTH : 0);
    if (end < start) throw new BinlogDecodeError(`event of type ${type} shorter than its header`, type);
    return this.decodeBody(buf, header, type, start, end);
  }

  private decodeBody(buf: Buffer, header: EventHeader, type: number, start: number, end: number): BinlogEvent {
    const post = this.format.postHeaderLengths[type];
    switch (type) {
      case EventType.ROTATE: {
        const r = parseRotate(buf, start, end, post || 8);
        return { kind: 'rotate', header, file: r.file, position: r.position };
      }
      case EventType.QUERY: {
        const q = parseQuery(buf, start, end, post || 13);
        if (this.resolve && !TX_CONTROL.test(q.query)) this.forgetResolvedTables();
        return {
          kind: 'query',
          header,
          schema: q.schema,
          query: q.query,
          threadId: q.threadId,
          errorCode: q.errorCode,
        };
      }
      case EventType.XID:
        return { kind: 'xid', header, xid: parseXid(buf, start + post, end) };
      case EventType.MARIADB_GTID: {
        const g = parseMariaGtid(buf, start, end, header.serverId);
        return {
          kind: 'gtid',
          header,
          gtid: g.gtid,
          standalone: g.standalone,
          flavor: 'mariadb',
          flags: g.flags,
          commitId: g.commitId,
        };
      }
      case EventType.MARIADB_GTID_LIST:
        return { kind: 'gtid_list', header, gtids: parseMariaGtidList(buf, start, end) };
      case EventType.GTID: {
        const g = parseMysqlGtid(buf, start, end);
        return {
          kind: 'gtid',
          header,
          gtid: g.gtid,
          standalone: false,
          flavor: 'mysql',
          flags: g.flags,
          commitMicros: g.originalCommitMicros,
          transactionLength: g.transactionLength,
        };
      }
      case EventType.TABLE_MAP:
        return { kind: 'table_map', header, table: this.tableMap(buf, start, end, post || 8).table };
      case EventType.WRITE_ROWS_V1:
      case EventType.WRITE_ROWS_V2:
        return this.rows(buf, header, start, end, post, 'insert', type === EventType.WRITE_ROWS_V2);
      case EventType.UPDATE_ROWS_V1:
      case EventType.UPDATE_ROWS_V2:
        return this.rows(buf, header, start, end, post, 'update', type === EventType.UPDATE_ROWS_V2);
      case EventType.DELETE_ROWS_V1:
      case EventType.DELETE_ROWS_V2:
        return this.rows(buf, header, start, end, post, 'delete', type === EventType.DELETE_ROWS_V2);
      case EventType.WRITE_ROWS_COMPRESSED_V1:
      case EventType.WRITE_ROWS_COMPRESSED:
        return this.compressedRows(buf, header, start, end, post, 'insert', type === EventType.WRITE_ROWS_COMPRESSED);
      case EventType.UPDATE_ROWS_COMPRESSED_V1:
      case EventType.UPDATE_ROWS_COMPRESSED:
        return this.compressedRows(buf, header, start, end, post, 'update', type === EventType.UPDATE_ROWS_COMPRESSED);
      case EventType.DELETE_ROWS_COMPRESSED_V1:
      case EventType.DELETE_ROWS_COMPRESSED:
        return this.compressedRows(buf, header, start, end, post, 'delete', type === EventType.DELETE_ROWS_COMPRESSED);
      case EventType.QUERY_COMPRESSED: {
        const q = parseQuery(buf, start, end, post || 13);
        const query = uncompress(buf, q.queryStart, end).toString('utf8');
        return { kind: 'query', header, schema: q.schema, query, threadId: q.threadId, errorCode: q.errorCode };
      }
      case EventType.PARTIAL_UPDATE_ROWS:
        // Skipping it would lose row changes silently: stop with the fix instead.
        throw new BinlogDecodeError(
          'PARTIAL_UPDATE_ROWS_EVENT (MySQL binlog_row_value_options=PARTIAL_JSON) is not supported: ' +
            "SET GLOBAL binlog_row_value_options = ''",
          type,
        );
      case EventType.TRANSACTION_PAYLOAD:
        throw new BinlogDecodeError(
          'TRANSACTION_PAYLOAD_EVENT (MySQL binlog_transaction_compression=ON, zstd) is not supported: ' +
            'SET GLOBAL binlog_transaction_compression = OFF',
          type,
        );
      case EventType.GTID_TAGGED:
        throw new BinlogDecodeError(
          'tagged GTIDs (MySQL 8.3+ GTID_TAGGED_LOG_EVENT) are not supported: commit without a GTID tag',
          type,
        );
      case EventType.ANNOTATE_ROWS:
        return { kind: 'annotate_rows', header, query: buf.utf8Slice(start, end) };
      case EventType.HEARTBEAT:
      case EventType.HEARTBEAT_V2: {
        const h = parseHeartbeat(buf, start, end, type, header.nextPosition);
        return { kind: 'heartbeat', header, file: h.file, position: h.position };
      }
      default:
        return { kind: 'other', header };
    }
  }

  /** TABLE_MAP: reuses the cached plan when the table id and definition bytes are unchanged. */
  private tableMap(buf: Buffer, start: number, end: number, post: number): DecodePlan {
    const tableId = readTableId(buf, start, post);
    const cached = this.tables.get(tableId);
    const defStart = start + post;
    if (cached && cached.definition.length === end - defStart) {
      if (buf.compare(cached.definition, 0, cached.definition.length, defStart, end) === 0) return cached;
    }
    const parsed = parseTableMap(buf, start, end, post, this.format.mariadb);
    const namesFrom = parsed.hasNames
      ? 'binlog'
      : applyResolved(parsed, this.resolve?.(parsed.schema, parsed.table, parsed.columns.length));
    const plan = buildPlan(toTableMap(parsed, namesFrom), parsed.definition);
    if (this.compile) plan.full = compileFullImage(plan);
    this.tables.delete(tableId);
    this.tables.set(tableId, plan);
    if (this.tables.size > MAX_TABLES) this.tables.delete(this.tables.keys().next().value!);
    return plan;
  }

  /**
   * Rows events: table id (6), flags (2), for v2 an extra-data block (its 2-byte length counts itself), then the
   * column count, the columns-present bitmap(s) (two for UPDATE: before and after image), then the images.
   */
  private rows(
    buf: Buffer,
    header: EventHeader,
    start: number,
    end: number,
    post: number,
    op: RowsOp,
    v2: boolean,
  ): BinlogEvent {
    const { plan, flags, bodyAt } = this.rowsHead(buf, header, start, post, v2);
    return this.rowsBody(buf, header, bodyAt, end, plan, op, flags);
  }

  /**
   * The post-header of a rows event, plain or compressed: table id (6), flags (2), for v2 an extra-data block whose
   * 2-byte length counts itself. Returns the table's plan, the flags and where the column count starts.
   */
  private rowsHead(
    buf: Buffer,
    header: EventHeader,
    start: number,
    post: number,
    v2: boolean,
  ): { plan: DecodePlan; flags: number; bodyAt: number } {
    const postLength = post || (v2 ? 10 : 8);
    const tableId = readTableId(buf, start, postLength);
    const plan = this.tables.get(tableId);
    if (!plan) {
      throw new BinlogDecodeError(`rows event for table id ${tableId} without a preceding TABLE_MAP`, header.typeCode);
    }
    const flagsAt = start + (postLength === 6 ? 4 : 6);
    const flags = buf[flagsAt] | (buf[flagsAt + 1] << 8);
    let p = start + postLength;
    if (postLength >= 10) p += (buf[start + 8] | (buf[start + 9] << 8)) - 2;
    return { plan, flags, bodyAt: p };
  }

  /** Decodes the images; any failure (e.g. a read beyond the buffer) becomes a BinlogDecodeError naming the table. */
  private rowsBody(
    buf: Buffer,
    header: EventHeader,
    p: number,
    end: number,
    plan: DecodePlan,
    op: RowsOp,
    flags: number,
  ): BinlogEvent {
    try {
      return this.rowsImages(buf, header, p, end, plan, op, flags);
    } catch (err) {
      if (err instanceof BinlogDecodeError) throw err;
      throw new BinlogDecodeError(
        `rows event for ${plan.table.schema}.${plan.table.table}: ${(err as Error).message}`,
        header.typeCode,
      );
    }
  }

  private rowsImages(
    buf: Buffer,
    header: EventHeader,
    p: number,
    end: number,
    plan: DecodePlan,
    op: RowsOp,
    flags: number,
  ): BinlogEvent {
    const c = { pos: p };
    const n = readPackedInt(buf, c);
    p = c.pos;
    if (n > plan.n) {
      throw new BinlogDecodeError(
        `rows event for ${plan.table.schema}.${plan.table.table} has ${n} columns, its TABLE_MAP ${plan.n}`,
        header.typeCode,
      );
    }
    const bitmapBytes = (n + 7) >> 3;
    const before = presentColumns(buf, p, n, plan);
    p += bitmapBytes;
    const after = op === 'update' ? presentColumns(buf, p, n, plan) : before;
    if (op === 'update') p += bitmapBytes;
    const rows: Array<{ before: RowImage | null; after: RowImage | null }> = [];
    const reader = this.reader;
    reader.pos = p;
    const mb = before.length;
    const ma = after.length;
    const full = plan.full;
    if (full && before === plan.all && after === plan.all) {
      // The common case: full images, through the compiled decoder.
      while (reader.pos < end) {
        if (op === 'insert') rows.push({ before: null, after: full(buf, reader.pos, end, reader) });
        else if (op === 'delete') rows.push({ before: full(buf, reader.pos, end, reader), after: null });
        else {
          const b = full(buf, reader.pos, end, reader);
          rows.push({ before: b, after: full(buf, reader.pos, end, reader) });
        }
      }
      return { kind: 'rows', header, op, table: plan.table, rows, statementEnd: (flags & ROWS_FLAG_STMT_END) !== 0 };
    }
    while (reader.pos < end) {
      if (op === 'insert') {
        rows.push({ before: null, after: reader.image(buf, end, plan, before, mb) });
      } else if (op === 'delete') {
        rows.push({ before: reader.image(buf, end, plan, before, mb), after: null });
      } else {
        const b = reader.image(buf, end, plan, before, mb);
        rows.push({ before: b, after: reader.image(buf, end, plan, after, ma) });
      }
    }
    return { kind: 'rows', header, op, table: plan.table, rows, statementEnd: (flags & ROWS_FLAG_STMT_END) !== 0 };
  }

  /**
   * MariaDB compressed rows events (log_bin_compress): the layout of the plain event, with everything after the
   * columns-present bitmaps compressed (see {@link uncompress}).
   */
  private compressedRows(
    buf: Buffer,
    header: EventHeader,
    start: number,
    end: number,
    post: number,
    op: RowsOp,
    v2: boolean,
  ): BinlogEvent {
    const { plan, flags, bodyAt: p } = this.rowsHead(buf, header, start, post, v2);
    const c = { pos: p };
    const n = readPackedInt(buf, c);
    const bitmaps = ((n + 7) >> 3) * (op === 'update' ? 2 : 1);
    const dataAt = c.pos + bitmaps;
    const rowsData = uncompress(buf, dataAt, end);
    const plain = Buffer.concat([buf.subarray(p, dataAt), rowsData]);
    return this.rowsBody(plain, header, 0, plain.length, plan, op, flags);
  }
}

/**
 * MariaDB binlog compression (binlog_buf_compress): one byte 0x80 | n, the uncompressed length in n big-endian
 * bytes, then a zlib stream.
 */
function uncompress(buf: Buffer, start: number, end: number): Buffer {
  const h = buf[start];
  const lengthBytes = h & 0x07;
  if ((h & 0x80) === 0 || lengthBytes === 0 || lengthBytes > 4) {
    throw new BinlogDecodeError(`bad compressed-event header byte 0x${h.toString(16)}`);
  }
  let expected = 0;
  for (let i = 1; i <= lengthBytes; i++) expected = expected * 256 + buf[start + i];
  const out = inflateSync(buf.subarray(start + 1 + lengthBytes, end));
  if (out.length !== expected) {
    throw new BinlogDecodeError(`compressed event inflates to ${out.length} bytes, header says ${expected}`);
  }
  return out;
}
