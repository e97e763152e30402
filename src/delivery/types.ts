/**
 * The small interfaces between `delivery` (positions, guarantee levels, retries) and `channels` (amqp, mqtt, ...).
 */
import type { BridgeEvent } from '../domain/types.js';

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
