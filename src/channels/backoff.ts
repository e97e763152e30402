/**
 * Reconnect delays: exponential from a minimum to a maximum, with up to 20% jitter so that several bridges (or
 * channels) that lost the same broker do not come back in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** The delay before the next attempt; each call doubles the base delay up to the maximum. */
  next(): number {
    const delay = this.peek();
    this.attempt++;
    return Math.round(delay * (1 + Math.random() * 0.2));
  }

  /** The base delay of the next attempt, without jitter. */
  peek(): number {
    return Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
  }

  /** After a success: start again from the minimum. */
  reset(): void {
    this.attempt = 0;
  }
}
