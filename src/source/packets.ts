/**
 * MySQL client/server packets the binlog client sends and reads itself once mysql2 has done the handshake:
 * framing (3-byte length, 1-byte sequence id, 16 MiB continuation), the replication commands and the ERR packet.
 * Sources: the MySQL/MariaDB client-server protocol documentation (COM_REGISTER_SLAVE, COM_BINLOG_DUMP,
 * COM_BINLOG_DUMP_GTID, semi-sync ACK).
 */
import { ServerError } from './errors.js';

export const COM_BINLOG_DUMP = 0x12;
export const COM_REGISTER_SLAVE = 0x15;
export const COM_BINLOG_DUMP_GTID = 0x1e;
/** Semi-sync: the magic byte before each event and the first byte of an ACK packet. */
export const SEMI_SYNC_INDICATOR = 0xef;
/** Semi-sync flag byte: the source waits for an ACK of this event. */
export const SEMI_SYNC_ACK_REQUIRED = 0x01;

/** MariaDB only: ask for ANNOTATE_ROWS events (never set by the bridge: they double the bytes on the wire). */
export const BINLOG_SEND_ANNOTATE_ROWS_EVENT = 0x02;
/** MySQL COM_BINLOG_DUMP_GTID: the GTID set in the packet says where to start. */
export const BINLOG_THROUGH_GTID = 0x04;

const MAX_PAYLOAD = 0xffffff;

/** Frames `payload` as one or more protocol packets starting at sequence id `seq`. */
export function framePacket(payload: Buffer, seq = 0): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  let s = seq;
  // A payload of exactly n*16MiB ends with an empty packet, per the protocol.
  for (;;) {
    const len = Math.min(MAX_PAYLOAD, payload.length - offset);
    const header = Buffer.allocUnsafe(4);
    header.writeUIntLE(len, 0, 3);
    header[3] = s & 0xff;
    parts.push(header, payload.subarray(offset, offset + len));
    offset += len;
    s++;
    if (len < MAX_PAYLOAD) break;
  }
  return Buffer.concat(parts);
}

function lengthPrefixed(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 255) throw new RangeError(`string too long for a 1-byte length: ${s}`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/** COM_REGISTER_SLAVE: announces the replica (shown by SHOW SLAVE HOSTS). */
export function buildRegisterSlave(opts: {
  serverId: number;
  host: string;
  user?: string;
  password?: string;
  port?: number;
}): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = COM_REGISTER_SLAVE;
  head.writeUInt32LE(opts.serverId >>> 0, 1);
  const tail = Buffer.alloc(10);
  tail.writeUInt16LE(opts.port ?? 0, 0);
  // replication rank (4, unused) and master id (4, 0: the server fills it in) stay 0.
  return Buffer.concat([
    head,
    lengthPrefixed(opts.host),
    lengthPrefixed(opts.user ?? ''),
    lengthPrefixed(opts.password ?? ''),
    tail,
  ]);
}

/** COM_BINLOG_DUMP: stream from `file`:`position` (file empty with MariaDB GTID registration). */
export function buildBinlogDump(opts: { serverId: number; file: string; position: number; flags?: number }): Buffer {
  const name = Buffer.from(opts.file, 'utf8');
  const b = Buffer.allocUnsafe(11 + name.length);
  b[0] = COM_BINLOG_DUMP;
  // The position field is 4 bytes; files larger than 4 GiB need COM_BINLOG_DUMP_GTID (MySQL) or GTID resume (MariaDB).
  b.writeUInt32LE(opts.position >>> 0, 1);
  b.writeUInt16LE(opts.flags ?? 0, 5);
  b.writeUInt32LE(opts.serverId >>> 0, 7);
  name.copy(b, 11);
  return b;
}

/**
 * COM_BINLOG_DUMP_GTID (MySQL 5.6+): flags(2) server_id(4) name_len(4) name pos(8) data_size(4) data, where data is
 * the encoded GTID set the replica has already executed (see `encodeMysqlGtidSet`).
 */
export function buildBinlogDumpGtid(opts: {
  serverId: number;
  file?: string;
  position?: number;
  gtidSetEncoded: Buffer;
  flags?: number;
}): Buffer {
  const name = Buffer.from(opts.file ?? '', 'utf8');
  const b = Buffer.allocUnsafe(1 + 2 + 4 + 4 + name.length + 8 + 4 + opts.gtidSetEncoded.length);
  let o = 0;
  b[o++] = COM_BINLOG_DUMP_GTID;
  b.writeUInt16LE((opts.flags ?? 0) | BINLOG_THROUGH_GTID, o);
  o += 2;
  b.writeUInt32LE(opts.serverId >>> 0, o);
  o += 4;
  b.writeUInt32LE(name.length, o);
  o += 4;
  name.copy(b, o);
  o += name.length;
  b.writeBigUInt64LE(BigInt(opts.position ?? 4), o);
  o += 8;
  b.writeUInt32LE(opts.gtidSetEncoded.length, o);
  o += 4;
  opts.gtidSetEncoded.copy(b, o);
  return b;
}

/** The semi-sync ACK: 0xEF, the 8-byte binlog position, the file name. Sent with sequence id 0; the source does not reply. */
export function buildSemiSyncAck(file: string, position: number): Buffer {
  const name = Buffer.from(file, 'utf8');
  const b = Buffer.allocUnsafe(9 + name.length);
  b[0] = SEMI_SYNC_INDICATOR;
  b.writeBigUInt64LE(BigInt(position), 1);
  name.copy(b, 9);
  return b;
}

/** Parses an ERR packet payload (first byte 0xFF). */
export function parseErrPacket(payload: Buffer): ServerError {
  const code = payload.readUInt16LE(1);
  let sqlState = 'HY000';
  let msgStart = 3;
  if (payload[3] === 0x23 /* '#' */) {
    sqlState = payload.toString('latin1', 4, 9);
    msgStart = 9;
  }
  return new ServerError(code, sqlState, payload.toString('utf8', msgStart));
}

/**
 * Splits a byte stream into packet payloads. Keeps references to the socket's chunks and hands out ranges of them,
 * so a packet that lies inside one chunk is neither copied nor sliced here; only packets spanning chunks (or over
 * 16 MiB) are concatenated.
 */
export class PacketFramer {
  private chunks: Buffer[] = [];
  /** Read offset into chunks[0]. */
  private head = 0;
  private buffered = 0;
  /** Parts of a payload longer than 16 MiB, waiting for its last packet. */
  private pending: Buffer[] | null = null;

  /** Bytes held that do not yet form a complete packet. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds a chunk and calls `onPacket(buf, start, end, seq)` for every complete payload, which is `buf[start, end)`
   * (valid until the callback returns only if the caller copies; the bytes themselves are never reused).
   */
  push(chunk: Buffer, onPacket: (buf: Buffer, start: number, end: number, seq: number) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      const c = this.chunks[0];
      const h = this.head;
      let len: number;
      let seq: number;
      if (c.length - h >= 4) {
        len = c[h] | (c[h + 1] << 8) | (c[h + 2] << 16);
        seq = c[h + 3];
      } else {
        const hb = this.peek(4);
        len = hb[0] | (hb[1] << 8) | (hb[2] << 16);
        seq = hb[3];
      }
      const total = 4 + len;
      if (this.buffered < total) return;
      let buf: Buffer;
      let start: number;
      if (c.length - h >= total) {
        // The common case: the whole packet is in the first chunk.
        buf = c;
        start = h + 4;
        this.head = h + total;
        this.buffered -= total;
        if (this.head === c.length) {
          this.chunks.shift();
          this.head = 0;
        }
      } else {
        const whole = this.take(total);
        buf = whole;
        start = 4;
      }
      if (len === MAX_PAYLOAD) {
        (this.pending ??= []).push(buf.subarray(start, start + len));
        continue;
      }
      if (this.pending) {
        this.pending.push(buf.subarray(start, start + len));
        const joined = Buffer.concat(this.pending);
        this.pending = null;
        onPacket(joined, 0, joined.length, seq);
      } else {
        onPacket(buf, start, start + len, seq);
      }
    }
  }

  /** A copy of the next n buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    let first = true;
    for (const chunk of this.chunks) {
      for (let i = first ? this.head : 0; i < chunk.length && o < n; i++) out[o++] = chunk[i];
      first = false;
      if (o === n) break;
    }
    return out;
  }

  /** Removes the next n bytes (n <= buffered), spanning chunks, as one new buffer. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length - this.head, n - o);
      c.copy(out, o, this.head, this.head + k);
      o += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }
}
