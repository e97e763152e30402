/**
 * Room to reserve for a string about to be written as UTF-8 into an encode buffer, without a pass over it when it is
 * short: at most 3 bytes per UTF-16 unit. A long string is measured instead, so that a 50 MB event does not reserve
 * 150 MB.
 */

/** Strings longer than this are measured exactly instead of counted at 3 bytes per UTF-16 unit. */
const MEASURE_OVER = 64 * 1024;

/** An upper bound of `Buffer.byteLength(s, 'utf8')`, exact for strings over 64 Ki units. */
export function utf8Bound(s: string): number {
  return s.length > MEASURE_OVER ? Buffer.byteLength(s, 'utf8') : s.length * 3;
}
