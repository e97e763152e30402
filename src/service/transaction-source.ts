/**
 * The capture engine and the domain mapper as one `TransactionSource`: a `BinlogReader` at a position, each
 * transaction mapped to its events. The live reader counts rows, transactions and events in the metrics; catch-up and
 * replay readers (which read the same transactions again) count nothing.
 */
import { BinlogReader } from '../capture/index.js';
import type { ResumePosition } from '../capture/types.js';
import type { BridgeConfig } from '../config/index.js';
import { EventMapper, mapAhead, type MappingMetrics, type ReferenceLookup } from '../domain/index.js';
import type { TransactionEvents } from '../domain/types.js';
import type { TransactionSource } from '../delivery/types.js';
import type { Logger } from 'pino';

export interface CaptureSourceOptions {
  config: BridgeConfig;
  timeZone: string;
  lookup: ReferenceLookup;
  logger: Logger;
}

/**
 * Transactions mapped concurrently by a reader: with a cold cache their reference lookups share queries instead of
 * each waiting for a round trip (see domain/map-ahead.ts).
 */
export const MAP_AHEAD = 64;

/** Reader settings shared by every reader of the bridge. */
function readerOptions(config: BridgeConfig) {
  return {
    source: { url: config.source.url },
    maxTxRows: config.maxTxRows,
    ignoreSchemas: config.ignoreSchemas,
    includeSchemas: [config.source.database],
    schema: config.source.database,
  };
}

/** Catch-up and replay readers: no requirement check (the live reader did it), no metrics. */
export class CaptureSource implements TransactionSource {
  private readonly mapper: EventMapper;

  constructor(private readonly options: CaptureSourceOptions) {
    // One mapper for every extra reader: it only holds the uuid cache, and uuids never change.
    this.mapper = new EventMapper({
      site: options.config.site,
      schema: options.config.source.database,
      timeZone: options.timeZone,
      lookup: options.lookup,
      cacheSize: 20_000,
    });
  }

  open(from: ResumePosition, options: { serverId: number; signal: AbortSignal }): AsyncIterable<TransactionEvents> {
    const { config, logger } = this.options;
    const mapper = this.mapper;
    return {
      async *[Symbol.asyncIterator]() {
        const reader = new BinlogReader({
          ...readerOptions(config),
          serverId: options.serverId,
          from,
          checkRequirements: false,
          checkServerId: false,
          logger: logger.child({ reader: 'catch-up', serverId: options.serverId }),
        });
        const close = () => reader.close();
        options.signal.addEventListener('abort', close, { once: true });
        try {
          if (options.signal.aborted) return;
          for await (const { events } of mapAhead(reader, (tx) => mapper.mapNow(tx), MAP_AHEAD)) {
            yield events;
            if (options.signal.aborted) return;
          }
        } finally {
          options.signal.removeEventListener('abort', close);
          reader.close();
        }
      },
    };
  }
}

/** What the live reader reports besides the transactions. */
export interface LiveReaderEvents {
  /** Each transaction read, before mapping (rows, commit time). */
  onTransaction?: (tx: { commitTime: number; end: ResumePosition }) => void;
}

/** The live reader: registers with BRIDGE_SERVER_ID, checks the source's requirements, counts metrics. */
export function openLiveReader(
  options: CaptureSourceOptions & { metrics: MappingMetrics & { transactions: { inc(): void } }; semiSync?: boolean },
  from: ResumePosition,
): { reader: BinlogReader; mapper: EventMapper } {
  const { config, logger } = options;
  const reader = new BinlogReader({
    ...readerOptions(config),
    serverId: config.serverId,
    from,
    checkRequirements: true,
    checkServerId: true,
    semiSync: options.semiSync,
    logger: logger.child({ reader: 'live' }),
  });
  const mapper = new EventMapper({
    site: config.site,
    schema: config.source.database,
    timeZone: options.timeZone,
    lookup: options.lookup,
    metrics: options.metrics,
  });
  return { reader, mapper };
}
