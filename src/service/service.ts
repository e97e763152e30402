/**
 * The running bridge: state database, live reader, live hub, one consumer runner per durable pub/sub channel, the
 * checkpointer, metrics and the HTTP app. `start()` brings it up in dependency order and fails fast on a problem the
 * operator must fix; `stop()` finishes in-flight publishes, saves the checkpoint and closes everything.
 */
import { redact } from '../config/redact.js';
import mysql from 'mysql2/promise';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { AmqpPublisher } from '../channels/amqp/publisher.js';
import { MqttPublisher } from '../channels/mqtt/publisher.js';
import { cursorResumePosition, decodeCursor, InvalidCursorError as CaptureCursorError } from '../capture/index.js';
import type { BinlogReader } from '../capture/index.js';
import type { ResumePosition } from '../capture/types.js';
import type { BridgeConfig } from '../config/index.js';
import { Checkpointer } from '../delivery/checkpointer.js';
import { ConsumerRunner, type ConfirmedPosition } from '../delivery/consumer-runner.js';
import { Followers, InvalidCursorError } from '../delivery/follower.js';
import { LiveHub } from '../delivery/live-hub.js';
import { binlogDistance, compareBinlog } from '../delivery/position.js';
import { ServerIdPool } from '../delivery/server-ids.js';
import type { ChannelPublisher, EventStreamSource } from '../delivery/types.js';
import type { TransactionEvents } from '../domain/types.js';
import { mapAhead, MysqlReferenceLookup, type EventMapper } from '../domain/index.js';
import { BinlogError } from '../source/errors.js';
import { openState, type StateDb } from '../state/index.js';
import { buildApp, type PluginRegistration } from '../api/app.js';
import type { ReadinessCheck } from '../api/operations.js';
import { BridgeMetrics } from './metrics.js';
import { assertCommitHold, holdProblemsMessage } from '../delivery/commit-hold-check.js';
import type { BinlogPosition } from '../capture/types.js';
import { resolveStartPosition, sourceTimeZone, StartupConfigError } from './source-info.js';
import { listBinaryLogs } from '../source/server-info.js';
import { CaptureSource, MAP_AHEAD, openLiveReader } from './transaction-source.js';

export interface BridgeServiceOptions {
  config: BridgeConfig;
  logger?: Logger;
  /** Publishers to run instead of the ones the configuration enables (tests, benchmarks). */
  publishers?: ChannelPublisher[];
  /**
   * Modules that run inside the service (the WebSocket stream, the webhooks, the console): started in order after the
   * pipeline is up and before the app listens, stopped in reverse order before the channels close.
   */
  extensions?: BridgeExtension[];
  /** Listen for HTTP (default true). */
  http?: boolean;
}

/**
 * A module running inside the service. It gets the running service (state, metrics registry, followers, logger,
 * config) at `start`, may mount HTTP routes, and may see each live transaction before it is handed to the consumers
 * (the commit hold needs that).
 */
export interface BridgeExtension {
  readonly name: string;
  start?(service: BridgeService): Promise<void> | void;
  /** Fastify plugins to mount (called after `start`). */
  plugins?(service: BridgeService): PluginRegistration[];
  /** Each live transaction, in commit order, before the consumers get it; `ackRequested`: semi-sync wants an ACK. */
  onLiveTransaction?(events: TransactionEvents, ackRequested: boolean): void;
  /** Readiness checks to add to `/readyz`. */
  readiness?(): ReadinessCheck[];
  stop?(): Promise<void> | void;
}

/** A problem that stops the bridge (a purged binlog position, a lost requirement). */
export class FatalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FatalError';
  }
}

const RUN_LOCK = 'openmrs_event_bridge.run';
/** Bytes of binlog behind its end up to which the live reader starts at the oldest consumer position (see `liveStart`). */
const LIVE_START_MAX_BACKLOG = 4 * 1024 * 1024;

export class BridgeService {
  readonly config: BridgeConfig;
  readonly logger: Logger;
  readonly metrics = new BridgeMetrics();
  readonly hub = new LiveHub();
  readonly serverIds: ServerIdPool;
  state!: StateDb;
  /** Source connections for reference lookups and lag polls. */
  sourcePool!: mysql.Pool;
  timeZone!: string;
  captureSource!: CaptureSource;
  /** Followers for the WebSocket stream and any other non-durable reader. */
  streams!: Followers;
  app: FastifyInstance | null = null;
  readonly runners: ConsumerRunner[] = [];
  readonly publishers: ChannelPublisher[] = [];
  checkpointer!: Checkpointer;

  private live: { reader: BinlogReader; mapper: EventMapper } | null = null;
  private liveLoop: Promise<void> | null = null;
  private liveStop = new AbortController();
  private lastRead: { commitTime: number; end: ResumePosition } | null = null;
  private liveError: string | null = null;
  private sourceEnd: { file: string; pos: number } | null = null;
  private lagTimer: NodeJS.Timeout | null = null;
  private lastLagPoll = 0;
  private lagBytes: number | null = null;
  private runLock: mysql.Connection | null = null;
  private stopped = false;
  private readonly startedExtensions: BridgeExtension[] = [];
  private fatalResolve!: (err: FatalError) => void;
  /** Resolves when the bridge hits a problem it cannot recover from; the CLI then stops it and exits. */
  readonly fatal: Promise<FatalError>;

  constructor(private readonly options: BridgeServiceOptions) {
    this.config = options.config;
    this.logger = options.logger ?? pino({ level: this.config.logLevel, name: 'openmrs-event-bridge' });
    this.serverIds = new ServerIdPool(this.config.serverId);
    this.fatal = new Promise((resolve) => (this.fatalResolve = resolve));
  }

  /** Starts everything; throws `StartupConfigError` / `RequirementsError` / `ConfigError` for the operator. */
  async start(): Promise<void> {
    const { config, logger } = this;
    logger.info({ site: config.site, serverId: config.serverId, source: redact(config.source.url) }, 'starting');

    this.sourcePool = mysql.createPool({
      uri: config.source.url,
      connectionLimit: 4,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      enableKeepAlive: true,
    });
    const sql = await this.sourcePool.getConnection();
    let liveFrom: ResumePosition;
    try {
      this.timeZone = await sourceTimeZone(sql as unknown as mysql.Connection, config.sourceTimezone);
      const sameServer = config.state.host === config.source.host && config.state.port === config.source.port;
      if (config.commitHold === 'semi-sync') {
        // Before the state is opened: its writes on the source need sql_log_bin=0 (else they wait for our own ACK).
        const { facts, problems } = await assertCommitHold(sql, config.state, sameServer);
        if (problems.length) throw new StartupConfigError('BRIDGE_COMMIT_HOLD', holdProblemsMessage(problems));
        logger.info({ semiSync: facts }, 'commit hold: the bridge registers as the semi-sync replica');
        if (facts.clients)
          logger.warn(
            { clients: facts.clients },
            'commit hold: other semi-sync replicas are connected; any of them can release a COMMIT before the hooks ran',
          );
      }
      this.state = await openState(config.state, { skipBinlog: config.commitHold === 'semi-sync' && sameServer });
      await this.acquireRunLock();

      const lookup = new MysqlReferenceLookup(this.sourcePool, config.source.database);
      const sourceOptions = { config, timeZone: this.timeZone, lookup, logger };
      this.captureSource = new CaptureSource(sourceOptions);

      this.publishers.push(...(this.options.publishers ?? this.configuredPublishers()));
      const starts = new Map<string, ConfirmedPosition>();
      for (const publisher of this.publishers) {
        starts.set(publisher.name, await this.startingPosition(publisher.name, sql as any));
      }
      liveFrom = await this.liveStart(
        sql as any,
        [...starts.values()].map((s) => s.position),
      );

      this.live = openLiveReader(
        { ...sourceOptions, metrics: this.liveMetrics(), semiSync: config.commitHold === 'semi-sync' },
        liveFrom,
      );
      await this.live.reader.start();
      this.hub.start(liveFrom.binlog);
      this.streams = this.followers('stream');
      this.liveLoop = this.runLive(liveFrom);

      this.checkpointer = new Checkpointer(
        this.state.positions,
        100,
        (err) => logger.error({ err }, 'cannot save consumer positions; retrying'),
        (saved) => {
          for (const p of saved)
            if (p.commitTime !== null) this.metrics.checkpointTime.set({ consumer: p.consumer }, p.commitTime);
        },
      );
      for (const publisher of this.publishers) {
        const runner = new ConsumerRunner({
          name: publisher.name,
          publisher,
          feed: this.followers(publisher.name),
          start: starts.get(publisher.name)!,
          logger: logger.child({ consumer: publisher.name }),
          isFatal,
          onFatal: (err) => this.fatalResolve(new FatalError(`${publisher.name}: ${err.message}`, { cause: err })),
        });
        this.runners.push(runner);
        this.checkpointer.add(runner);
        runner.start();
      }
      this.checkpointer.start();
      this.lagTimer = setInterval(() => void this.pollLag(), 1000);
      this.lagTimer.unref();
      await this.pollLag();
    } finally {
      sql.release();
    }

    const extensions = this.options.extensions ?? [];
    for (const extension of extensions) {
      await extension.start?.(this);
      this.startedExtensions.push(extension);
    }
    if (this.options.http !== false) {
      const plugins = extensions.flatMap((e) => e.plugins?.(this) ?? []);
      this.app = await buildApp({
        logger,
        auth: { adminToken: config.adminToken, subscribeTokens: config.subscribeTokens },
        operations: { readiness: () => this.readiness(), metrics: () => this.metrics.text() },
        plugins,
      });
      await this.app.listen({ host: config.http.host, port: config.http.port });
    }
    logger.info(
      {
        site: config.site,
        liveFrom,
        consumers: this.runners.map((r) => ({ name: r.name, from: r.confirmed.position })),
        http: this.address,
      },
      'started',
    );
  }

  /** Commit hold: the semi-sync ACK of everything up to `position` on the live reader's connection. */
  sendSemiSyncAck(position: BinlogPosition): void {
    this.live?.reader.sendSemiSyncAck(position.file, position.pos);
  }

  /** `http://host:port` of the API once listening. */
  get address(): string | null {
    const addr = this.app?.server.address();
    if (!addr || typeof addr === 'string') return null;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${host}:${addr.port}`;
  }

  /** The follower source for WebSocket streams (`after` cursor replay, then live). */
  get eventStream(): EventStreamSource {
    return this.streams;
  }

  /** Followers whose catch-up/live switches are logged and exported under `consumer`. */
  followers(consumer: string): Followers {
    return new Followers({
      hub: this.hub,
      source: this.captureSource,
      serverIds: this.serverIds,
      decodeCursor: (cursor) => {
        try {
          const data = decodeCursor(cursor);
          return { from: cursorResumePosition(data), txseq: data.txseq };
        } catch (err) {
          if (err instanceof CaptureCursorError) throw new InvalidCursorError(err.message);
          throw err;
        }
      },
      onMode: (mode, from) => {
        if (consumer === 'stream') return;
        this.metrics.consumerCatchingUp.set({ consumer }, mode === 'catch-up' ? 1 : 0);
        this.logger.info(
          { consumer, mode, from },
          mode === 'catch-up' ? 'catching up from the binlog' : 'on the live feed',
        );
      },
    });
  }

  /** Stops gracefully: in-flight publishes finish, positions are saved, connections close. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const { logger } = this;
    logger.info('stopping');
    if (this.lagTimer) clearInterval(this.lagTimer);
    await this.app?.close().catch((err) => logger.warn({ err }, 'closing the HTTP server'));
    for (const extension of this.startedExtensions.reverse()) {
      await Promise.resolve(extension.stop?.()).catch((err) =>
        logger.warn({ err, extension: extension.name }, 'stopping'),
      );
    }
    await Promise.all(this.runners.map((r) => r.stop(10_000)));
    await this.checkpointer?.stop().catch((err) => logger.error({ err }, 'final checkpoint failed'));
    await Promise.all(
      this.publishers.map((p) => p.close().catch((err) => logger.warn({ err, channel: p.name }, 'closing channel'))),
    );
    this.liveStop.abort();
    this.live?.reader.close();
    await this.liveLoop?.catch(() => undefined);
    if (this.runLock) await this.runLock.end().catch(() => undefined);
    await this.state?.close().catch(() => undefined);
    await this.sourcePool?.end().catch(() => undefined);
    logger.info(
      {
        positions: this.runners.map((r) => ({
          consumer: r.name,
          txid: r.confirmed.txid,
          position: r.confirmed.position,
        })),
      },
      'stopped',
    );
  }

  /** The readiness checks of `/readyz`. */
  readiness(): ReadinessCheck[] {
    const fresh = Date.now() - this.lastLagPoll < 5000;
    const checks: ReadinessCheck[] = [
      {
        name: 'source',
        ok: fresh && this.liveError === null,
        detail: {
          lastRead: this.lastRead?.end ?? null,
          serverEnd: this.sourceEnd,
          lagBytes: this.lagBytes,
          error: this.liveError ?? (fresh ? null : 'no answer from the source in the last 5 s'),
        },
      },
      {
        name: 'state',
        ok: (this.checkpointer?.failures ?? 0) === 0,
        detail: { failedWrites: this.checkpointer?.failures ?? 0 },
      },
    ];
    for (const extension of this.startedExtensions) checks.push(...(extension.readiness?.() ?? []));
    for (const runner of this.runners) {
      const status = runner.status;
      checks.push({
        name: `channel:${runner.name}`,
        ok: status.ready,
        detail: { ...status, position: runner.confirmed.position, txid: runner.confirmed.txid },
      });
    }
    return checks;
  }

  private configuredPublishers(): ChannelPublisher[] {
    const { config, logger, metrics } = this;
    const list: ChannelPublisher[] = [];
    if (config.amqp) {
      list.push(
        new AmqpPublisher({
          url: config.amqp.url,
          exchange: config.amqp.exchange,
          site: config.site,
          metrics,
          logger: logger.child({ channel: 'amqp' }),
        }),
      );
    }
    if (config.mqtt) {
      list.push(
        new MqttPublisher({
          url: config.mqtt.url,
          prefix: config.mqtt.topicPrefix,
          site: config.site,
          metrics,
          logger: logger.child({ channel: 'mqtt' }),
        }),
      );
    }
    return list;
  }

  /** The stored position of a consumer, or BRIDGE_START resolved now and saved at once (so a restart keeps it). */
  private async startingPosition(consumer: string, sql: mysql.Connection): Promise<ConfirmedPosition> {
    const stored = await this.state.positions.get(consumer);
    if (stored) return { position: stored.position, txid: stored.txid, commitTime: stored.commitTime };
    let position: ResumePosition;
    try {
      position = await resolveStartPosition(sql, this.config.start);
    } catch (err) {
      throw new StartupConfigError('BRIDGE_START', (err as Error).message);
    }
    const start = { position, txid: null, commitTime: null };
    await this.state.positions.save([{ consumer, ...start }]);
    this.logger.info({ consumer, start: this.config.start, position }, 'no stored position: starting at BRIDGE_START');
    return start;
  }

  /**
   * Where the live reader starts: at the oldest consumer position when that is near the end of the binlog, so that at
   * start every consumer can take the live feed without a catch-up reader. A longer backlog is read once, by each
   * consumer's own catch-up reader, and the live reader starts at the end: started at the backlog, it would map it
   * faster than any channel publishes, overflow their live buffers (then they catch up on their own anyway) and so map
   * the whole backlog a second time for nobody, taking the CPU the channels need. With no durable consumer: the end.
   */
  private async liveStart(sql: mysql.Connection, positions: ResumePosition[]): Promise<ResumePosition> {
    const end = await resolveStartPosition(sql, { kind: 'latest' });
    const oldest = [...positions].sort((a, b) => compareBinlog(a.binlog, b.binlog))[0];
    if (!oldest) return end;
    const files = (await listBinaryLogs(sql)).map((f) => ({ name: f.file, size: f.size }));
    // A GTID-only position (no file yet) counts as the whole binlog.
    const backlog = oldest.binlog.file ? binlogDistance(files, oldest.binlog, end.binlog) : Infinity;
    if (backlog <= LIVE_START_MAX_BACKLOG) return oldest;
    this.logger.info(
      { backlogBytes: backlog, liveFrom: end },
      'consumers are far behind: they catch up on their own readers',
    );
    return end;
  }

  /** One bridge per state database: a named lock held on a connection of its own for the life of the process. */
  private async acquireRunLock(): Promise<void> {
    const { state } = this.config;
    this.runLock = await mysql.createConnection({
      host: state.host,
      port: state.port,
      user: state.user,
      password: state.password,
      database: state.database,
      enableKeepAlive: true,
    });
    this.runLock.on('error', (err) => this.logger.warn({ err }, 'run lock connection lost'));
    const [rows] = await this.runLock.query<any[]>('SELECT GET_LOCK(?, 10) AS ok', [`${RUN_LOCK}:${state.database}`]);
    if (Number(rows[0].ok) !== 1) {
      await this.runLock.end();
      this.runLock = null;
      throw new FatalError(
        `another bridge is running with the state database ${state.database} (it holds the lock ${RUN_LOCK}); stop it first`,
      );
    }
  }

  private liveMetrics() {
    const metrics = this.metrics;
    return {
      transactions: metrics.transactions,
      row: metrics.row.bind(metrics),
      mappingError: metrics.mappingError.bind(metrics),
      produced: metrics.produced.bind(metrics),
    };
  }

  /** Reads the live binlog into the hub; reopens the reader after an error, stops the bridge on a fatal one. */
  private async runLive(from: ResumePosition): Promise<void> {
    let position = from;
    let delay = 250;
    while (!this.liveStop.signal.aborted) {
      try {
        const { reader, mapper } = this.live!;
        for await (const { tx, events } of mapAhead(reader, (t) => mapper.mapNow(t), MAP_AHEAD)) {
          this.metrics.transactions.inc();
          this.lastRead = { commitTime: tx.commitTime, end: tx.end };
          position = tx.end;
          this.liveError = null;
          delay = 250;
          for (const extension of this.startedExtensions)
            extension.onLiveTransaction?.(events, tx.ackRequested ?? false);
          this.hub.dispatch(events);
        }
        if (this.liveStop.signal.aborted) return;
        throw new Error('the live binlog reader ended');
      } catch (err) {
        if (this.liveStop.signal.aborted) return;
        const error = err as Error;
        this.liveError = error.message;
        if (isFatal(error)) {
          this.logger.fatal({ err: error }, 'live binlog reader stopped');
          this.fatalResolve(new FatalError(error.message, { cause: error }));
          return;
        }
        this.logger.error({ err: error, resumeAt: position, retryInMs: delay }, 'live binlog reader failed; reopening');
        // A mapping that failed (a lookup while the source is down) leaves the reader open, maybe reading ahead: close
        // it, so that its connection does not linger beside the new one with the same server id.
        this.live?.reader.close();
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(30_000, delay * 2);
        if (this.liveStop.signal.aborted) return;
        this.live = openLiveReader(
          {
            config: this.config,
            timeZone: this.timeZone,
            lookup: new MysqlReferenceLookup(this.sourcePool, this.config.source.database),
            logger: this.logger,
            metrics: this.liveMetrics(),
            semiSync: this.config.commitHold === 'semi-sync',
          },
          position,
        );
      }
    }
  }

  /** Capture lag (seconds and bytes behind the server's binlog end) and each consumer's checkpoint lag. */
  private async pollLag(): Promise<void> {
    try {
      const [logs] = await this.sourcePool.query<any[]>('SHOW BINARY LOGS');
      const files = logs.map((r) => ({ name: String(r.Log_name), size: Number(r.File_size) }));
      const last = files[files.length - 1];
      if (!last) return;
      const end = { file: last.name, pos: last.size };
      this.sourceEnd = end;
      // The reader's own position also moves over transactions it skips (other schemas, the bridge's own state).
      const candidates = [this.hub.frontier, this.live?.reader.position?.binlog].filter(
        (p): p is { file: string; pos: number } => Boolean(p?.file),
      );
      const read = candidates.sort(compareBinlog).pop() ?? end;
      const bytes = binlogDistance(files, read, end);
      this.metrics.lagBytes.set(bytes);
      this.lagBytes = bytes;
      const commit = this.lastRead?.commitTime;
      this.metrics.lagSeconds.set(bytes > 0 && commit ? Math.max(0, Date.now() / 1000 - commit) : 0);
      // A consumer's lag: what it has not confirmed of what the live reader dispatched, plus the capture lag.
      const frontier = this.hub.frontier ?? read;
      for (const runner of this.runners) {
        const position = runner.confirmed.position.binlog;
        const behind = position.file ? binlogDistance(files, position, frontier) : 0;
        this.metrics.checkpointLagBytes.set({ consumer: runner.name }, behind + bytes);
      }
      this.lastLagPoll = Date.now();
    } catch (err) {
      this.logger.warn({ err }, 'cannot read the source binlog end');
    }
  }
}

/** Errors the bridge cannot recover from by retrying. */
function isFatal(err: Error): boolean {
  return err instanceof BinlogError && err.fatal;
}
