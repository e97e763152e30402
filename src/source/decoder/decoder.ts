/**
 * The binlog event decoder: raw event bytes in, typed `BinlogEvent` out. Stateful: it keeps the current format
 * description (checksum algorithm, post-header lengths) and the table maps seen so far, keyed by table id.
 */
import type { BinlogEvent, EventHeader } from '../types.js';
import { BinlogDecodeError } from './bytes.js';
import { CHECKSUM_LENGTH, ChecksumAlg, EventType, HEADER_LENGTH } from './constants.js';
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

/** Options of a {@link BinlogDecoder}. */
export interface BinlogDecoderOptions {
  /**
   * Whether events carry a trailing CRC32 before the first FORMAT_DESCRIPTION is seen (true when the client
   * negotiated checksums: the server's fake ROTATE then carries one). After a FORMAT_DESCRIPTION its algorithm rules.
   */
  checksum?: boolean;
}

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

  constructor(options: BinlogDecoderOptions = {}) {
    this.checksum = options.checksum ?? false;
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
}
