/**
 * A patient registration with obs in one transaction, as an OpenMRS registration form saves it (patient plus a
 * registration encounter with its obs), built from the statement library's own statements.
 */
import type { Connection } from 'mysql2/promise';
import { OpenmrsActions, type SeedMeta } from '../../demo/openmrs/actions.js';

/** Registers `n`-th patient with an encounter of 5 obs in ONE transaction; returns the patient uuid. */
export async function registerWithObs(conn: Connection, meta: SeedMeta): Promise<{ patientUuid: string }> {
  // The library wraps each action in its own transaction; run both inside one by making its BEGIN/COMMIT no-ops.
  const inner = Object.create(conn, {
    beginTransaction: { value: async () => undefined },
    commit: { value: async () => undefined },
    rollback: { value: async () => undefined },
  }) as Connection;
  const om = new OpenmrsActions(inner, meta);
  await conn.beginTransaction();
  try {
    const p = await om.registerPatient();
    await om.createEncounter(p.patientId, null);
    await conn.commit();
    return { patientUuid: p.patientUuid };
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  }
}
