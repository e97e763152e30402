/**
 * Compares decoded row images with `SELECT` snapshots. Each difference in representation between what mysql2 returns
 * and what the decoder returns is normalised here, explicitly, and nowhere else.
 */
import type { RowImage } from '../../src/source/types.js';

/** How one decoded value is brought to the form mysql2 returns (dateStrings, bigNumberStrings). */
export function normalizeDecoded(table: string, column: string, value: unknown, selected: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  // GEOMETRY: the snapshot holds HEX(col); the decoder returns the bytes (SRID + WKB).
  if (table === 'types' && (column === 'g' || column === 'pt')) return (value as Buffer).toString('hex').toUpperCase();
  // JSON: on MariaDB the column is text and mysql2 parses it into an object; compare the parsed forms.
  if (typeof value === 'string' && selected !== null && typeof selected === 'object' && !Buffer.isBuffer(selected)) {
    return JSON.stringify(JSON.parse(value)) === JSON.stringify(selected) ? selected : value;
  }
  // bigNumberStrings: mysql2 returns BIGINT as a string; the decoder a number when it is a safe integer.
  if (typeof value === 'number' && typeof selected === 'string' && /^-?\d+$/.test(selected)) return String(value);
  // FLOAT: the server prints a single with 6 significant digits; the decoder gives the shortest exact form.
  if (table === 'types' && (column === 'f' || column === 'fu') && typeof value === 'number') {
    return Number(value.toPrecision(6));
  }
  return value;
}

/** Differences between a decoded image and the selected row, as readable strings (empty when equal). */
export function diffRow(table: string, decoded: RowImage, selected: Record<string, unknown>): string[] {
  const diffs: string[] = [];
  const keys = new Set([...Object.keys(decoded), ...Object.keys(selected)]);
  for (const k of keys) {
    if (!(k in decoded)) {
      diffs.push(`${table}.${k}: missing in decoded image`);
      continue;
    }
    if (!(k in selected)) {
      diffs.push(`${table}.${k}: not in SELECT`);
      continue;
    }
    const want = selected[k];
    const got = normalizeDecoded(table, k, decoded[k], want);
    const equal = Buffer.isBuffer(got) && Buffer.isBuffer(want) ? got.equals(want) : got === want;
    if (!equal)
      diffs.push(`${table}.${k}: decoded ${show(decoded[k])} (normalised ${show(got)}), SELECT ${show(want)}`);
  }
  return diffs;
}

function show(v: unknown): string {
  if (Buffer.isBuffer(v)) return `<${v.toString('hex')}>`;
  const s = JSON.stringify(v);
  return s && s.length > 80 ? s.slice(0, 80) + '...' : String(s);
}
