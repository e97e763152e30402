/**
 * Makes the RefApp demo database ready for the statement library's `seedMetadata`. The RefApp already has some of
 * the metadata the library seeds, under unique names (the `Vitals` encounter type, the `Facility Visit` visit type):
 * the seed would fail on the name, so those rows get the library's fixed uuids and the seed reuses them. Runs before
 * the bridge starts, so it produces no events.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { SEED_UUIDS } from './openmrs/actions.js';

const ADOPT: Array<{ table: string; name: string; uuid: string }> = [
  { table: 'encounter_type', name: 'Vitals', uuid: SEED_UUIDS.encounterType },
  { table: 'visit_type', name: 'Facility Visit', uuid: SEED_UUIDS.visitType },
];

/** Gives existing same-named metadata rows the seed's uuids. Idempotent. */
export async function adoptRefappMetadata(conn: Connection): Promise<void> {
  for (const { table, name, uuid } of ADOPT) {
    const [taken] = await conn.query<RowDataPacket[]>(`SELECT 1 FROM \`${table}\` WHERE uuid = ?`, [uuid]);
    if (taken.length > 0) continue;
    await conn.query(`UPDATE \`${table}\` SET uuid = ? WHERE name = ?`, [uuid, name]);
  }
}
