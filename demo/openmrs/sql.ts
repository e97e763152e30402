/**
 * Small SQL helpers that write the way Hibernate does: explicit column lists on INSERT, and UPDATEs that rewrite every
 * mapped column of the row (core has no dynamic-update), so the binlog's before/after images look like OpenMRS's.
 */
import { randomUUID } from 'node:crypto';
import type { Connection, RowDataPacket, ResultSetHeader } from 'mysql2/promise';

export type Row = Record<string, unknown>;

/** A fresh uuid, as BaseOpenmrsObject generates them. */
export const uuid = (): string => randomUUID();

/** `YYYY-MM-DD HH:MM:SS` of a Date, as wall-clock time in UTC (the throwaway servers run in UTC). */
export function wallClock(date: Date = new Date()): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** INSERT one row; returns the auto-increment id (or 0). */
export async function insert(conn: Connection, table: string, row: Row): Promise<number> {
  const cols = Object.keys(row);
  const [res] = await conn.query<ResultSetHeader>(
    `INSERT INTO \`${table}\` (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES (?)`,
    [cols.map((c) => row[c])],
  );
  return res.insertId;
}

/** The current row (locked FOR UPDATE), or throws when missing. */
export async function selectRow(conn: Connection, table: string, pk: string, id: number | string): Promise<Row> {
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT * FROM \`${table}\` WHERE \`${pk}\` = ? FOR UPDATE`, [id]);
  if (!rows[0]) throw new Error(`${table} ${pk}=${id} not found`);
  return rows[0] as Row;
}

/** Hibernate-style UPDATE: reads the row, applies `changes`, writes every column back. Returns the new row. */
export async function updateFull(
  conn: Connection,
  table: string,
  pk: string,
  id: number | string,
  changes: Row,
): Promise<Row> {
  const row = { ...(await selectRow(conn, table, pk, id)), ...changes };
  const cols = Object.keys(row).filter((c) => c !== pk);
  await conn.query(`UPDATE \`${table}\` SET ${cols.map((c) => `\`${c}\` = ?`).join(', ')} WHERE \`${pk}\` = ?`, [
    ...cols.map((c) => row[c]),
    id,
  ]);
  return row;
}

/** Runs `fn` in one transaction (one OpenMRS service call = one binlog transaction). */
export async function inTransaction<T>(conn: Connection, fn: () => Promise<T>): Promise<T> {
  await conn.beginTransaction();
  try {
    const out = await fn();
    await conn.commit();
    return out;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  }
}

/** Rows of a query. */
export async function rows(conn: Connection, sql: string, params: unknown[] = []): Promise<Row[]> {
  const [r] = await conn.query<RowDataPacket[]>(sql, params);
  return r as Row[];
}
