/**
 * The confirm callbacks of one AMQP confirm channel, by delivery tag: the channel numbers its publishes 1, 2, ... and
 * the broker settles them with `basic.ack` / `basic.nack`, one tag or, with `multiple`, every tag up to it.
 *
 * amqplib keeps the same bookkeeping, but splices its array of callbacks on every ack: with a window of 1,000 messages
 * and RabbitMQ acknowledging about five at a time, that was about a twentieth of the bridge's busy time in
 * `bench:e2e`'s AMQP phase. Here settled slots are cleared in place and the array is compacted now and then.
 */

/** Called once with null (acked) or an error (nacked, channel closed). */
export type ConfirmCallback = (err: Error | null) => void;

/** Slots settled at the front before the array is compacted (when they are also half of it). */
const COMPACT_AFTER = 4096;

export class ConfirmTags {
  private callbacks: Array<ConfirmCallback | null> = [];
  /** Index of the oldest unsettled slot, and its delivery tag. */
  private first = 0;
  private firstTag = 1;

  /** Messages published and not yet settled (slots between the oldest unsettled one and the newest). */
  get pending(): number {
    return this.callbacks.length - this.first;
  }

  /** Registers the callback of the next message published on the channel (the next delivery tag). */
  push(callback: ConfirmCallback): void {
    this.callbacks.push(callback);
  }

  /**
   * Settles `tag` (or, with `multiple`, every tag up to it) with `err` (null: acked). Tags not published or already
   * settled are ignored. Callbacks may publish again (push) while this runs.
   */
  settle(tag: number, multiple: boolean, err: Error | null): void {
    const offset = tag - this.firstTag;
    if (offset < 0 || this.first + offset >= this.callbacks.length) return;
    const callbacks = this.callbacks;
    const last = this.first + offset;
    for (let i = multiple ? this.first : last; i <= last; i++) {
      const callback = callbacks[i];
      callbacks[i] = null;
      callback?.(err);
    }
    while (this.first < callbacks.length && callbacks[this.first] === null) {
      this.first++;
      this.firstTag++;
    }
    if (this.first === callbacks.length) {
      callbacks.length = 0;
      this.first = 0;
    } else if (this.first > COMPACT_AFTER && this.first * 2 > callbacks.length) {
      this.callbacks = callbacks.slice(this.first);
      this.first = 0;
    }
  }

  /** Fails every unsettled callback (the channel closed: their confirms will never come). */
  failAll(err: Error): void {
    const callbacks = this.callbacks;
    this.callbacks = [];
    this.firstTag += callbacks.length - this.first;
    for (let i = this.first; i < callbacks.length; i++) callbacks[i]?.(err);
    this.first = 0;
  }
}
