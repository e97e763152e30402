/**
 * The small interfaces between `delivery` (positions, guarantee levels, retries) and `channels` (amqp, mqtt, ...).
 */
import type { ResumePosition } from '../capture/types.js';
import type { BridgeEvent, TransactionEvents } from '../domain/types.js';

/**
 * A durable pub/sub channel (AMQP, MQTT). `delivery` owns ordering and positions; a publisher only sends and confirms.
 */
export interface ChannelPublisher {
  /** `amqp` or `mqtt`: the `channel` label in metrics and the consumer name of its position. */
  readonly name: string;
  /** Connects (and declares what it needs). Rejects with a clear error when the broker cannot be reached. */
  start(): Promise<void>;
  /**
   * Sends the events in order and resolves once the broker confirmed every one of them (publisher confirm, PUBACK).
   * Called again before earlier calls resolve, so that many messages are in flight; rejects when any of them was not
   * confirmed (nack, connection lost), after which `delivery` re-sends from its last confirmed position.
   */
  publish(events: readonly BridgeEvent[]): Promise<void>;
  /** True while connected and able to publish. */
  readonly ready: boolean;
  /** Finishes in-flight publishes (waits for their confirms) and disconnects. */
  close(): Promise<void>;
}

/**
 * Opens readers of committed transactions, already mapped to events. The service wires the capture `BinlogReader` and
 * the domain mapper into one of these; `delivery` uses it for the live reader, catch-up readers and WebSocket replays.
 */
export interface TransactionSource {
  /**
   * Reads from `from` (the end of the last transaction the caller already has) onwards, forever, until `signal` aborts.
   * Each reader registers with its own `serverId`. Pull-based: the reader stops reading the socket while the caller
   * does not pull, so memory stays bounded.
   */
  open(from: ResumePosition, options: { serverId: number; signal: AbortSignal }): AsyncIterable<TransactionEvents>;
}

/**
 * Events for one follower (a durable consumer, a WebSocket client): replayed from the binlog from a position, then
 * live, with no gap and no duplicate at the seam. Never holds more than a bounded number of transactions in memory: a
 * follower that pulls too slowly drops the live feed and reads the binlog again from where it was.
 */
export interface EventStreamSource {
  /**
   * Follows from right after `after` (a cursor of `BridgeEvent.cursor`; the first transaction is trimmed to the events
   * after that one) or, when `after` is null or omitted, from the next live transaction. Ends when `signal` aborts.
   * Throws `InvalidCursorError` (from the first `next()`) when the cursor cannot be decoded.
   */
  follow(options: { after?: string | null; signal: AbortSignal }): AsyncIterable<TransactionEvents>;
}

/** Channel counters of CONTRACT section 6 (`openmrs_bridge_channel_*{channel}`), for channels outside `delivery`. */
export interface ChannelMetrics {
  published(channel: string, events: number): void;
  failed(channel: string, events: number): void;
  /** Adds `delta` (may be negative) to the in-flight gauge. */
  inflight(channel: string, delta: number): void;
}

/** Options the service passes to the WebSocket stream plugin (`/v1/stream`) when it registers it on the app. */
export interface StreamPluginOptions {
  source: EventStreamSource;
  metrics: ChannelMetrics;
  /** Per-client cap of bytes buffered in the socket before the client is closed with 1008. */
  maxBufferedBytes?: number;
  /** Ping interval in ms; a peer that misses one pong is terminated. */
  heartbeatMs?: number;
}
