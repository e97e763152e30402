/**
 * One replication connection to the source. mysql2 does the handshake (auth plugins incl. caching_sha2_password,
 * TLS) and the session setup; then we take its socket over and speak the replication protocol ourselves:
 * COM_REGISTER_SLAVE, COM_BINLOG_DUMP (or MySQL's COM_BINLOG_DUMP_GTID), and the stream of raw event packets.
 *
 * Reading is pull-based: `read()` hands over the events received so far; while more than `highWaterBytes` wait
 * unread the socket is paused, so the server's dump thread blocks on TCP and memory stays bounded whatever the
 * consumer's speed. Every event's CRC32 is verified here when checksums are on.
 */
import type { Socket } from 'node:net';
import type mysql from 'mysql2/promise';
import { checkEventCrc32 } from './checksum.js';
import { BinlogConnectionError, BinlogError, ChecksumError, ProtocolError, ServerError } from './errors.js';
import { MysqlGtidSet } from './gtid.js';
import {
  buildBinlogDump,
  buildBinlogDumpGtid,
  buildRegisterSlave,
  buildSemiSyncAck,
  framePacket,
  PacketFramer,
  parseErrPacket,
  SEMI_SYNC_ACK_REQUIRED,
  SEMI_SYNC_INDICATOR,
} from './packets.js';
import { connectSql, getServerInfo, type ServerInfo, type SourceConnectionOptions } from './server-info.js';

const ROTATE_EVENT = 4;
const FORMAT_DESCRIPTION_EVENT = 15;
const HEARTBEAT_EVENT = 27;
const HEARTBEAT_V2_EVENT = 41;

/** Where and how to dump the binlog. */
export interface DumpOptions {
  /** Our replica server id: unique among the source's replicas (a second dump with the same id kills the first). */
  serverId: number;
  /**
   * Start at a binlog file position, or after a GTID state (MariaDB `@slave_connect_state`; MySQL: the executed GTID
   * set sent in COM_BINLOG_DUMP_GTID).
   */
  from: { file: string; pos: number } | { gtidState: string };
  /** Heartbeat period the source uses when it has nothing to send; 0 turns heartbeats off. Default 5,000 ms. */
  heartbeatMs?: number;
  /** With no byte for this long (socket not paused by us), the connection is declared dead. Default 3 heartbeats, >= 10 s. */
  deadTimeoutMs?: number;
  /** Pause the socket while this many bytes of events wait unread. Default 8 MiB. */
  highWaterBytes?: number;
  /** Register as a semi-synchronous replica (`@rpl_semi_sync_slave=1`) so events can ask for an ACK. */
  semiSync?: boolean;
  /** Send COM_REGISTER_SLAVE first (shows in SHOW SLAVE HOSTS). Default true. */
  register?: boolean;
  /** The host name reported in SHOW SLAVE HOSTS. Default `openmrs-event-bridge`. */
  reportHost?: string;
}

/** One binlog event as received. */
export interface RawEvent {
  /** The event bytes: 19-byte header, body, and the 4-byte checksum when checksums are on. */
  data: Buffer;
  /** Semi-sync: the source waits for an ACK of the transaction this event ends. */
  ackRequested: boolean;
}

/** Counters of one connection. */
export interface ConnectionStats {
  bytes: number;
  events: number;
  heartbeats: number;
  /** Times the socket was paused because the consumer was behind. */
  pauses: number;
  /** The most bytes of events ever waiting unread (bounded by the high-water mark plus one socket read). */
  maxQueuedBytes: number;
}

/** A replication connection in streaming mode. Open with {@link BinlogConnection.open}. */
export class BinlogConnection {
  readonly stats: ConnectionStats = { bytes: 0, events: 0, heartbeats: 0, pauses: 0, maxQueuedBytes: 0 };
  /** The binlog file events currently come from (from the last ROTATE, fake or real). */
  file = '';

  private readonly framer = new PacketFramer();
  private queue: RawEvent[] = [];
  private queuedBytes = 0;
  private paused = false;
  private error: BinlogError | null = null;
  private ended = false;
  private closed = false;
  private waiter: (() => void) | null = null;
  private replyWaiter: ((payload: Buffer) => void) | null = null;
  private streaming = false;
  private lastActivity = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private checksum: boolean;

  private constructor(
    private readonly sql: mysql.Connection,
    private readonly socket: Socket,
    /** The source server. */
    readonly info: ServerInfo,
    /** Whether events carry a CRC32 (negotiated; each FORMAT_DESCRIPTION confirms it for its file). */
    checksum: boolean,
    /** Whether the source sends the semi-sync header (we registered as semi-sync and the source has it enabled). */
    readonly semiSync: boolean,
    private readonly highWaterBytes: number,
    private readonly deadTimeoutMs: number,
  ) {
    this.checksum = checksum;
  }

  /** Whether events currently carry a checksum. */
  get checksumEnabled(): boolean {
    return this.checksum;
  }

  /**
   * Connects, sets the session up for replication, registers and starts the dump. Resolves once the dump command is
   * sent; errors of the dump itself (a purged position, say) surface from the first `read()`.
   */
  static async open(source: SourceConnectionOptions, dump: DumpOptions): Promise<BinlogConnection> {
    let sql: mysql.Connection;
    try {
      sql = await connectSql(source);
    } catch (err) {
      throw classifyConnectError(err);
    }
    let conn: BinlogConnection | undefined;
    try {
      const info = await getServerInfo(sql);
      const [cs] = await sql.query<any[]>('SELECT @@global.binlog_checksum AS cs');
      const checksum = String(cs[0].cs).toUpperCase() === 'CRC32';
      // Both names: MySQL 8.0.26+ reads @source_binlog_checksum, older servers and MariaDB @master_binlog_checksum.
      await sql.query(
        'SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum',
      );
      const heartbeatMs = dump.heartbeatMs ?? 5_000;
      if (heartbeatMs > 0) {
        const ns = BigInt(Math.round(heartbeatMs)) * 1_000_000n;
        await sql.query(`SET @master_heartbeat_period = ${ns}, @source_heartbeat_period = ${ns}`);
      }
      const byGtid = 'gtidState' in dump.from;
      if (info.flavor === 'mariadb') {
        // 4 = MARIA_SLAVE_CAPABILITY_GTID: real GTID events, no fake BEGIN queries.
        await sql.query('SET @mariadb_slave_capability = 4');
        if (byGtid) {
          await sql.query(
            'SET @slave_connect_state = ?, @slave_gtid_strict_mode = 0, @slave_gtid_ignore_duplicates = 0',
            [(dump.from as { gtidState: string }).gtidState],
          );
        }
      }
      let semiSync = false;
      if (dump.semiSync) {
        const [vars] = await sql.query<any[]>(
          "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('rpl_semi_sync_master_enabled', 'rpl_semi_sync_source_enabled')",
        );
        semiSync = vars.some((v) => String(v.Value).toUpperCase() === 'ON');
        if (semiSync) await sql.query('SET @rpl_semi_sync_slave = 1, @rpl_semi_sync_replica = 1');
      }

      const core = (sql as any).connection;
      const socket: Socket = core.stream;
      // Semi-sync ACKs are tiny writes the source waits for: never let Nagle hold one back behind the previous one.
      if (semiSync) socket.setNoDelay(true);
      const heartbeatDead = heartbeatMs > 0 ? heartbeatMs * 3 : 60_000;
      conn = new BinlogConnection(
        sql,
        socket,
        info,
        checksum,
        semiSync,
        dump.highWaterBytes ?? 8 * 1024 * 1024,
        dump.deadTimeoutMs ?? Math.max(10_000, heartbeatDead),
      );
      conn.takeOver(core);
      // From here the dead-connection timer also bounds the wait for the server's answers.
      conn.startTimer();

      if (dump.register ?? true) {
        const reply = await conn.command(
          buildRegisterSlave({ serverId: dump.serverId, host: dump.reportHost ?? 'openmrs-event-bridge' }),
        );
        if (reply[0] === 0xff) throw serverError(parseErrPacket(reply));
      }
      conn.streaming = true;
      if (info.flavor === 'mysql' && byGtid) {
        const set = MysqlGtidSet.parse((dump.from as { gtidState: string }).gtidState);
        conn.write(buildBinlogDumpGtid({ serverId: dump.serverId, gtidSetEncoded: set.encode() }));
      } else {
        const f = 'file' in dump.from ? dump.from : { file: '', pos: 4 };
        // Flags 0: blocking dump, and no ANNOTATE_ROWS (flag 2): they would roughly double the bytes on the wire.
        conn.write(buildBinlogDump({ serverId: dump.serverId, file: f.file, position: f.pos, flags: 0 }));
      }
      return conn;
    } catch (err) {
      conn?.close();
      (sql as any).connection?.stream?.destroy();
      sql.destroy();
      throw classifyConnectError(err);
    }
  }

  /**
   * The events received since the last call, in order; waits when there are none. Returns null once the
   * connection was closed by `close()`; throws the error that ended the stream (after the events before it).
   */
  async read(): Promise<RawEvent[] | null> {
    for (;;) {
      if (this.queue.length > 0) {
        const q = this.queue;
        this.queue = [];
        this.queuedBytes = 0;
        if (this.paused && !this.closed) {
          this.paused = false;
          this.lastActivity = Date.now();
          this.socket.resume();
        }
        return q;
      }
      if (this.error) throw this.error;
      if (this.ended || this.closed) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /**
   * Semi-sync ACK: tells the source that everything up to `file`:`position` (the end of a transaction) is received.
   * Sequence id 0, no reply.
   */
  sendSemiSyncAck(file: string, position: number): void {
    if (!this.semiSync) throw new Error('sendSemiSyncAck: this connection is not registered as a semi-sync replica');
    this.write(buildSemiSyncAck(file, position));
  }

  /** Closes the socket; a pending `read()` returns null. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.socket.destroy();
    this.sql.destroy();
    this.wake();
  }

  private takeOver(core: any): void {
    // mysql2 keeps a 'data' listener feeding its own parser; from here on the bytes are ours.
    this.socket.removeAllListeners('data');
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('close', () => this.fail(new BinlogConnectionError('the source closed the replication connection')));
    this.socket.on('error', (err) => this.fail(new BinlogConnectionError(`replication connection: ${err.message}`, { cause: err })));
    // mysql2 re-emits socket errors on the connection; we already handle them above.
    core.on('error', () => {});
  }

  private write(payload: Buffer): void {
    this.socket.write(framePacket(payload, 0));
  }

  private command(payload: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.replyWaiter = resolve;
      this.waiter = () => {
        if (this.error) reject(this.error);
      };
      this.write(payload);
    });
  }

  private startTimer(): void {
    this.lastActivity = Date.now();
    const every = Math.max(100, Math.min(1_000, this.deadTimeoutMs / 4));
    this.timer = setInterval(() => {
      if (this.paused || this.closed || this.error) return;
      const idle = Date.now() - this.lastActivity;
      if (idle > this.deadTimeoutMs) {
        this.fail(
          new BinlogConnectionError(
            `no event or heartbeat from the source for ${idle} ms (dead-connection timeout ${this.deadTimeoutMs} ms)`,
          ),
        );
        this.socket.destroy();
      }
    }, every);
    this.timer.unref();
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    this.stats.bytes += chunk.length;
    this.framer.push(chunk, this.onPacket);
    if (!this.paused && this.queuedBytes > this.highWaterBytes && !this.closed) {
      this.paused = true;
      this.stats.pauses++;
      this.socket.pause();
    }
  }

  private readonly onPacket = (buf: Buffer, begin: number, end: number): void => {
    if (this.error || this.closed) return;
    if (!this.streaming) {
      const w = this.replyWaiter;
      this.replyWaiter = null;
      w?.(buf.subarray(begin, end));
      return;
    }
    const first = buf[begin];
    if (first === 0xff) {
      // 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG): position not found, purged, or a corrupt binlog: retrying gives
      // the same answer, as for missing privileges. Killed or shutting down is worth a reconnect.
      this.fail(serverError(parseErrPacket(buf.subarray(begin, end))));
      return;
    }
    if (first === 0xfe && end - begin < 9) {
      this.ended = true; // EOF: only with BINLOG_DUMP_NON_BLOCK, which we do not use; treat as a closed stream.
      this.fail(new BinlogConnectionError('the source ended the binlog dump'));
      return;
    }
    if (first !== 0x00) {
      this.fail(new ProtocolError(`unexpected packet in the binlog stream (first byte 0x${first.toString(16)})`));
      return;
    }
    let start = begin + 1;
    let ackRequested = false;
    if (this.semiSync) {
      if (buf[begin + 1] !== SEMI_SYNC_INDICATOR) {
        this.fail(new ProtocolError('semi-sync replica: event packet without the 0xEF semi-sync header'));
        return;
      }
      ackRequested = (buf[begin + 2] & SEMI_SYNC_ACK_REQUIRED) !== 0;
      start = begin + 3;
    }
    // The one slice per event: the event's own bytes, still in the socket's chunk.
    const data = buf.subarray(start, end);
    if (data.length < 19) {
      this.fail(new ProtocolError(`binlog event of ${data.length} bytes is shorter than its header`));
      return;
    }
    const type = data[4];
    if (type === FORMAT_DESCRIPTION_EVENT) {
      // The FORMAT_DESCRIPTION of each file says whether that file's events carry checksums: algorithm byte, then
      // the 4 checksum bytes, at the end of the event.
      const alg = data[data.length - 5];
      this.checksum = alg === 1;
    }
    if (this.checksum) {
      const bad = checkEventCrc32(data);
      if (bad) {
        const next = data.readUInt32LE(13);
        const size = data.readUInt32LE(9);
        this.fail(new ChecksumError(this.file || '(unknown file)', next > 0 ? next - size : 0, bad.expected, bad.actual));
        this.socket.destroy();
        return;
      }
    }
    if (type === ROTATE_EVENT) {
      this.file = data.toString('utf8', 27, data.length - (this.checksum ? 4 : 0));
    } else if (type === HEARTBEAT_EVENT || type === HEARTBEAT_V2_EVENT) {
      this.stats.heartbeats++;
    }
    this.stats.events++;
    this.queue.push({ data, ackRequested });
    this.queuedBytes += data.length;
    if (this.queuedBytes > this.stats.maxQueuedBytes) this.stats.maxQueuedBytes = this.queuedBytes;
    this.wake();
  };

  private fail(err: BinlogError): void {
    if (this.closed) return;
    if (!this.error) this.error = err;
    if (this.timer) clearInterval(this.timer);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/** Network-level failures and server restarts: worth a reconnect. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);
/** ER_CON_COUNT_ERROR, ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED, ER_QUERY_INTERRUPTED, ER_NORMAL_SHUTDOWN, ... */
const RETRYABLE_ERRNOS = new Set([1040, 1053, 1077, 1078, 1079, 1152, 1317, 1927, 2002, 2003, 2006, 2013]);

/**
 * Maps an error from connecting or setting up to the binlog client's classes: a connection failure (retried) or the
 * original error (fatal: bad credentials, missing privilege, ...).
 */
function classifyConnectError(err: unknown): unknown {
  if (err instanceof BinlogError) return err;
  const e = err as { code?: string; errno?: number; message?: string };
  if ((e?.code && RETRYABLE_CODES.has(e.code)) || (e?.errno !== undefined && RETRYABLE_ERRNOS.has(e.errno))) {
    return new BinlogConnectionError(`cannot reach the source: ${e.message ?? String(err)}`, { cause: err });
  }
  return err;
}

/** An ERR from the server, fatal unless it is one of the transient ones (killed, shutdown, too many connections). */
function serverError(e: ServerError): ServerError {
  return new ServerError(e.code, e.sqlState, e.serverMessage, !RETRYABLE_ERRNOS.has(e.code));
}
