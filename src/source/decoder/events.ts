/**
 * Parsers for the control events: header, FORMAT_DESCRIPTION, ROTATE, QUERY, XID, GTIDs, HEARTBEAT, ANNOTATE_ROWS.
 * Each parser gets the event's body as `buf[start, end)`: after the common header, before the checksum.
 */
import type { EventHeader } from '../types.js';
import { BinlogDecodeError, readPackedInt, readUInt64LE, readUIntLE } from './bytes.js';
import { ChecksumAlg, EventType, HEADER_LENGTH, MariaGtidFlag } from './constants.js';

/** What a FORMAT_DESCRIPTION event tells about the events that follow it. */
export interface FormatDescription {
  binlogVersion: number;
  serverVersion: string;
  createTimestamp: number;
  headerLength: number;
  /** Post-header length per event type, indexed by type code (index 0 unused). */
  postHeaderLengths: Uint8Array;
  /** 0 = off, 1 = CRC32, 255 = undefined (server too old to know checksums). */
  checksumAlg: number;
  /** MariaDB server (the version string says so). */
  mariadb: boolean;
}

/** The post-header lengths a v4 server uses when it does not tell (before the first FORMAT_DESCRIPTION). */
export function defaultFormat(): FormatDescription {
  const post = new Uint8Array(256);
  post[EventType.QUERY] = 13;
  post[EventType.ROTATE] = 8;
  post[EventType.TABLE_MAP] = 8;
  post[EventType.WRITE_ROWS_V1] = 8;
  post[EventType.UPDATE_ROWS_V1] = 8;
  post[EventType.DELETE_ROWS_V1] = 8;
  post[EventType.WRITE_ROWS_V2] = 10;
  post[EventType.UPDATE_ROWS_V2] = 10;
  post[EventType.DELETE_ROWS_V2] = 10;
  post[EventType.GTID] = 42;
  post[EventType.ANONYMOUS_GTID] = 42;
  post[EventType.MARIADB_GTID] = 19;
  post[EventType.MARIADB_GTID_LIST] = 4;
  post[EventType.QUERY_COMPRESSED] = 13;
  for (let t = EventType.WRITE_ROWS_COMPRESSED_V1; t <= EventType.DELETE_ROWS_COMPRESSED_V1; t++) post[t] = 8;
  for (let t = EventType.WRITE_ROWS_COMPRESSED; t <= EventType.DELETE_ROWS_COMPRESSED; t++) post[t] = 10;
  return {
    binlogVersion: 4,
    serverVersion: '',
    createTimestamp: 0,
    headerLength: HEADER_LENGTH,
    postHeaderLengths: post,
    checksumAlg: ChecksumAlg.UNDEF,
    mariadb: false,
  };
}

/** Parses the 19-byte v4 common header at `offset`. */
export function parseHeader(buf: Buffer, offset: number): EventHeader {
  return {
    timestamp: readUIntLE(buf, offset, 4),
    typeCode: buf[offset + 4],
    serverId: readUIntLE(buf, offset + 5, 4),
    eventSize: readUIntLE(buf, offset + 9, 4),
    nextPosition: readUIntLE(buf, offset + 13, 4),
    flags: buf[offset + 17] | (buf[offset + 18] << 8),
  };
}

/**
 * Whether a server of this version writes the checksum algorithm byte (and a checksum) at the end of its
 * FORMAT_DESCRIPTION: MySQL >= 5.6.1, MariaDB >= 5.3.
 */
function versionHasChecksum(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const v = Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]);
  if (/mariadb/i.test(version)) return v >= 50300;
  return v >= 50601;
}

/**
 * FORMAT_DESCRIPTION body: binlog version (2), server version (50, NUL padded), create timestamp (4),
 * header length (1), post-header lengths (one per event type), and on servers that know checksums the checksum
 * algorithm (1) followed by the event's own 4-byte checksum, which `end` must still include.
 */
export function parseFormatDescription(buf: Buffer, start: number, end: number): FormatDescription {
  if (end - start < 57) throw new BinlogDecodeError('FORMAT_DESCRIPTION event too short', EventType.FORMAT_DESCRIPTION);
  const binlogVersion = buf[start] | (buf[start + 1] << 8);
  let versionEnd = start + 2;
  while (versionEnd < start + 52 && buf[versionEnd] !== 0) versionEnd++;
  const serverVersion = buf.latin1Slice(start + 2, versionEnd);
  const createTimestamp = readUIntLE(buf, start + 52, 4);
  const headerLength = buf[start + 56];
  let postEnd = end;
  let checksumAlg: number = ChecksumAlg.UNDEF;
  if (versionHasChecksum(serverVersion)) {
    checksumAlg = buf[end - 5];
    postEnd = end - 5;
  }
  const postHeaderLengths = new Uint8Array(256);
  // post_header_len[i] describes event type i + 1.
  for (let i = start + 57, t = 1; i < postEnd && t < 256; i++, t++) postHeaderLengths[t] = buf[i];
  return {
    binlogVersion,
    serverVersion,
    createTimestamp,
    headerLength,
    postHeaderLengths,
    checksumAlg,
    mariadb: /mariadb/i.test(serverVersion),
  };
}

/** ROTATE: position (8) then the next file name. */
export function parseRotate(buf: Buffer, start: number, end: number, postHeader: number) {
  const position = postHeader >= 8 ? Number(buf.readBigUInt64LE(start)) : 4;
  return { position, file: buf.latin1Slice(start + postHeader, end) };
}

/**
 * QUERY: thread id (4), exec time (4), schema length (1), error code (2), status vars length (2), status vars,
 * schema, NUL, statement.
 */
export function parseQuery(buf: Buffer, start: number, end: number, postHeader: number) {
  const threadId = readUIntLE(buf, start, 4);
  const execTime = readUIntLE(buf, start + 4, 4);
  const schemaLength = buf[start + 8];
  const errorCode = buf[start + 9] | (buf[start + 10] << 8);
  const statusLength = postHeader >= 13 ? buf[start + 11] | (buf[start + 12] << 8) : 0;
  const schemaStart = start + postHeader + statusLength;
  const queryStart = schemaStart + schemaLength + 1;
  if (queryStart > end) throw new BinlogDecodeError('QUERY event truncated', EventType.QUERY);
  return {
    threadId,
    execTime,
    errorCode,
    schema: buf.utf8Slice(schemaStart, schemaStart + schemaLength),
    queryStart,
    query: buf.utf8Slice(queryStart, end),
  };
}

/** XID: the 8-byte transaction id of an InnoDB commit. */
export function parseXid(buf: Buffer, start: number, end: number): bigint {
  if (end - start < 8) throw new BinlogDecodeError('XID event truncated', EventType.XID);
  return buf.readBigUInt64LE(start);
}

/** MariaDB GTID: sequence number (8), domain id (4), flags2 (1), then a commit id (8) if flags2 says so. */
export function parseMariaGtid(buf: Buffer, start: number, end: number, serverId: number) {
  if (end - start < 13) throw new BinlogDecodeError('GTID event truncated', EventType.MARIADB_GTID);
  // Sequence numbers and commit ids stay far below 2^53 in practice: no BigInt on this once-per-transaction path.
  const seq = String(readUInt64LE(buf, start));
  const domain = readUIntLE(buf, start + 8, 4);
  const flags = buf[start + 12];
  let commitId: string | undefined;
  if (flags & MariaGtidFlag.GROUP_COMMIT_ID && end - start >= 21) commitId = String(readUInt64LE(buf, start + 13));
  return {
    gtid: `${domain}-${serverId}-${seq}`,
    domainId: domain,
    sequence: seq,
    flags,
    standalone: (flags & MariaGtidFlag.STANDALONE) !== 0,
    commitId,
  };
}

/** MariaDB GTID_LIST: count (low 28 bits of 4 bytes), then (domain 4, server 4, sequence 8) per entry. */
export function parseMariaGtidList(buf: Buffer, start: number, end: number): string[] {
  const count = readUIntLE(buf, start, 4) & 0x0fffffff;
  if (end - start < 4 + count * 16)
    throw new BinlogDecodeError('GTID_LIST event truncated', EventType.MARIADB_GTID_LIST);
  const gtids: string[] = [];
  for (let i = 0, p = start + 4; i < count; i++, p += 16) {
    gtids.push(`${readUIntLE(buf, p, 4)}-${readUIntLE(buf, p + 4, 4)}-${buf.readBigUInt64LE(p + 8)}`);
  }
  return gtids;
}

function uuidAt(buf: Buffer, p: number): string {
  const h = buf.toString('hex', p, p + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Reads a 7-byte little-endian microsecond timestamp; bit 55 is a flag the caller handles. */
function read56(buf: Buffer, p: number): number {
  return readUIntLE(buf, p, 4) + (buf[p + 4] | (buf[p + 5] << 8) | ((buf[p + 6] & 0x7f) << 16)) * 0x100000000;
}

/**
 * MySQL GTID (and ANONYMOUS_GTID): flags (1), source uuid (16), gno (8), logical clock type (1), last_committed (8),
 * sequence_number (8), then (8.0.1+) immediate commit timestamp (7, bit 55 = original timestamp follows),
 * original commit timestamp (7), transaction length (packed), server versions.
 */
export function parseMysqlGtid(buf: Buffer, start: number, end: number) {
  if (end - start < 25) throw new BinlogDecodeError('GTID event truncated', EventType.GTID);
  const flags = buf[start];
  const uuid = uuidAt(buf, start + 1);
  const gno = buf.readBigInt64LE(start + 17);
  let p = start + 25;
  let lastCommitted: number | undefined;
  let sequenceNumber: number | undefined;
  if (p + 17 <= end && buf[p] === 2) {
    lastCommitted = Number(buf.readBigInt64LE(p + 1));
    sequenceNumber = Number(buf.readBigInt64LE(p + 9));
    p += 17;
  }
  let immediateCommitMicros: number | undefined;
  let originalCommitMicros: number | undefined;
  let transactionLength: number | undefined;
  if (p + 7 <= end) {
    immediateCommitMicros = read56(buf, p);
    const hasOriginal = (buf[p + 6] & 0x80) !== 0;
    p += 7;
    originalCommitMicros = immediateCommitMicros;
    if (hasOriginal && p + 7 <= end) {
      originalCommitMicros = read56(buf, p);
      p += 7;
    }
    if (p < end) {
      const cursor = { pos: p };
      transactionLength = readPackedInt(buf, cursor);
    }
  }
  return {
    gtid: `${uuid}:${gno}`,
    flags,
    lastCommitted,
    sequenceNumber,
    immediateCommitMicros,
    originalCommitMicros,
    transactionLength,
  };
}

/**
 * HEARTBEAT (27): the body is the current binlog file name; the header's next position is the position.
 * HEARTBEAT_V2 (41, MySQL 8.0.26+, 64-bit positions): fields of (type, length, value), type and length as packed
 * integers: 0 = end mark, 1 = file name, 2 = position (itself a packed integer); unknown fields are skipped.
 */
export function parseHeartbeat(buf: Buffer, start: number, end: number, typeCode: number, headerPosition: number) {
  if (typeCode !== EventType.HEARTBEAT_V2) return { file: buf.latin1Slice(start, end), position: headerPosition };
  let file = '';
  let position = headerPosition;
  const cursor = { pos: start };
  while (cursor.pos < end) {
    const type = readPackedInt(buf, cursor);
    if (type === 0) break;
    const length = readPackedInt(buf, cursor);
    if (type === 1) file = buf.latin1Slice(cursor.pos, cursor.pos + length);
    else if (type === 2) position = readPackedInt(buf, { pos: cursor.pos });
    cursor.pos += length;
  }
  return { file, position };
}
