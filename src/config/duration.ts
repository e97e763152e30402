/** Durations in configuration: `250ms`, `15s`, `2m`, `1h`, `1d`, or a bare number of milliseconds. */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/** Parses a duration to milliseconds; returns `null` when the text is not one. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * UNITS[match[2] ?? 'ms'];
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/** Formats milliseconds the way the configuration writes them (`1h`, `2m`, `15s`, `250ms`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNITS[unit] && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
