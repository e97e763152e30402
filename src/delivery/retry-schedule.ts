/**
 * When to try a failed webhook delivery again (BRIDGE_WEBHOOK_RETRY_SCHEDULE, BRIDGE_WEBHOOK_RETRY_WINDOW, parsed by
 * `config`).
 */

/** Parsed retry policy. */
export interface RetryPolicy {
  /** Delays between attempts, ms; after the last, the last repeats. */
  delaysMs: readonly number[];
  /** A delivery first attempted longer ago than this is exhausted, ms. */
  windowMs: number;
  /** Fraction of a delay added at random (0.1 = up to 10%), so hooks that failed together do not retry together. */
  jitter: number;
}

/** The contract's defaults. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  delaysMs: [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000],
  windowMs: 24 * 3_600_000,
  jitter: 0.1,
};

/**
 * The delay before attempt `failures + 1`, given that `failures` attempts failed so far (1 = the first retry).
 * `random` is injectable so tests can check the jitter bounds.
 */
export function retryDelay(policy: RetryPolicy, failures: number, random: () => number = Math.random): number {
  const { delaysMs } = policy;
  const base = delaysMs[Math.min(Math.max(failures, 1), delaysMs.length) - 1];
  return Math.round(base * (1 + policy.jitter * random()));
}

/**
 * When to attempt next after a failure, or `null` when the delivery is exhausted (the next attempt would fall
 * outside the window). `retryAfterMs` from a 429/503 replaces the computed delay (not shortened below it).
 */
export function nextAttemptAt(
  policy: RetryPolicy,
  firstAttemptAt: number,
  failures: number,
  now: number,
  retryAfterMs?: number,
  random?: () => number,
): number | null {
  const delay = retryAfterMs !== undefined ? retryAfterMs : retryDelay(policy, failures, random);
  const at = now + delay;
  if (at - firstAttemptAt > policy.windowMs) return null;
  return at;
}
