/**
 * `seedMetadata`: the metadata the clinical actions need that a fresh 2.6.4 core database lacks (a location, visit and
 * encounter types, concepts, a drug, a provider, a program with a workflow, a module table). Fixed uuids, idempotent:
 * a second call only reads the ids back.
 */
import type { Connection } from 'mysql2/promise';
import { inTransaction, insert, rows, uuid, wallClock } from './sql.js';

/** Fixed uuids of the seeded metadata (stable across runs, so tests and demos can name them). */
export const SEED_UUIDS = {
  location: 'b1d9e000-0000-4000-8000-000000000001',
  location2: 'b1d9e000-0000-4000-8000-000000000002',
  visitType: 'b1d9e000-0000-4000-8000-000000000010',
  encounterType: 'b1d9e000-0000-4000-8000-000000000011',
  identifierType: '8d79403a-c2cc-11de-8d13-0010c6dffd0f',
  attributeType: '8d8718c2-c2cc-11de-8d13-0010c6dffd0f',
  providerPerson: 'b1d9e000-0000-4000-8000-000000000020',
  provider: 'b1d9e000-0000-4000-8000-000000000021',
  drug: 'b1d9e000-0000-4000-8000-000000000030',
  program: 'b1d9e000-0000-4000-8000-000000000040',
  workflow: 'b1d9e000-0000-4000-8000-000000000041',
  stateEnrolled: 'b1d9e000-0000-4000-8000-000000000042',
  stateCompleted: 'b1d9e000-0000-4000-8000-000000000043',
  concepts: {
    weight: 'b1d9e000-0000-4000-8000-000000000101',
    height: 'b1d9e000-0000-4000-8000-000000000102',
    temperature: 'b1d9e000-0000-4000-8000-000000000103',
    vitals: 'b1d9e000-0000-4000-8000-000000000104',
    note: 'b1d9e000-0000-4000-8000-000000000105',
    malaria: 'b1d9e000-0000-4000-8000-000000000106',
    hypertension: 'b1d9e000-0000-4000-8000-000000000107',
    paracetamol: 'b1d9e000-0000-4000-8000-000000000108',
    penicillin: 'b1d9e000-0000-4000-8000-000000000109',
    severe: 'b1d9e000-0000-4000-8000-000000000110',
    rash: 'b1d9e000-0000-4000-8000-000000000111',
    hivProgram: 'b1d9e000-0000-4000-8000-000000000112',
    treatmentStatus: 'b1d9e000-0000-4000-8000-000000000113',
    onTreatment: 'b1d9e000-0000-4000-8000-000000000114',
    treatmentComplete: 'b1d9e000-0000-4000-8000-000000000115',
    cured: 'b1d9e000-0000-4000-8000-000000000116',
    tablet: 'b1d9e000-0000-4000-8000-000000000117',
    mg: 'b1d9e000-0000-4000-8000-000000000118',
    oral: 'b1d9e000-0000-4000-8000-000000000119',
    days: 'b1d9e000-0000-4000-8000-000000000120',
    malariaSmear: 'b1d9e000-0000-4000-8000-000000000121',
  },
} as const;

export type ConceptKey = keyof typeof SEED_UUIDS.concepts;

/** Ids (and uuids) of everything the actions reference. */
export interface SeedMeta {
  /** `admin`, user 1 of the core dump: the creator of everything the actions write. */
  userId: number;
  locationId: number;
  location2Id: number;
  visitTypeId: number;
  encounterTypeId: number;
  /** `Old Identification Number` (no check digit) of the core dump. */
  identifierTypeId: number;
  /** `Birthplace` of the core dump. */
  attributeTypeId: number;
  encounterRoleId: number;
  careSettingId: number;
  drugOrderTypeId: number;
  testOrderTypeId: number;
  providerId: number;
  drugId: number;
  programId: number;
  workflowId: number;
  stateEnrolledId: number;
  stateCompletedId: number;
  concepts: Record<ConceptKey, number>;
  /** The module table `moduleWrite` writes to. */
  moduleTable: string;
}

/** The module table the actions write to (shaped like idgen's log). */
export const MODULE_TABLE = 'idgen_log_entry';

const CONCEPTS: Record<ConceptKey, { name: string; datatype: number; cls: number; isSet?: boolean }> = {
  weight: { name: 'Weight (kg)', datatype: 1, cls: 1 },
  height: { name: 'Height (cm)', datatype: 1, cls: 1 },
  temperature: { name: 'Temperature (C)', datatype: 1, cls: 1 },
  vitals: { name: 'Vital signs', datatype: 4, cls: 10, isSet: true },
  note: { name: 'Clinical note', datatype: 3, cls: 7 },
  malaria: { name: 'Malaria', datatype: 4, cls: 4 },
  hypertension: { name: 'Hypertension', datatype: 4, cls: 4 },
  paracetamol: { name: 'Paracetamol', datatype: 4, cls: 3 },
  penicillin: { name: 'Penicillin', datatype: 4, cls: 3 },
  severe: { name: 'Severe', datatype: 4, cls: 11 },
  rash: { name: 'Rash', datatype: 4, cls: 12 },
  hivProgram: { name: 'HIV program', datatype: 4, cls: 11 },
  treatmentStatus: { name: 'Treatment status', datatype: 4, cls: 11 },
  onTreatment: { name: 'On treatment', datatype: 4, cls: 11 },
  treatmentComplete: { name: 'Treatment complete', datatype: 4, cls: 11 },
  cured: { name: 'Cured', datatype: 4, cls: 11 },
  tablet: { name: 'Tablet', datatype: 4, cls: 11 },
  mg: { name: 'mg', datatype: 4, cls: 11 },
  oral: { name: 'Oral', datatype: 4, cls: 11 },
  days: { name: 'Days', datatype: 4, cls: 11 },
  malariaSmear: { name: 'Malaria smear', datatype: 4, cls: 1 },
};

async function idOf(conn: Connection, table: string, pk: string, uuidValue: string): Promise<number | undefined> {
  const r = await rows(conn, `SELECT \`${pk}\` AS id FROM \`${table}\` WHERE uuid = ?`, [uuidValue]);
  return r[0] ? Number(r[0].id) : undefined;
}

async function ensure(
  conn: Connection,
  table: string,
  pk: string,
  uuidValue: string,
  row: Record<string, unknown>,
): Promise<number> {
  const existing = await idOf(conn, table, pk, uuidValue);
  if (existing !== undefined) return existing;
  return insert(conn, table, { ...row, uuid: uuidValue });
}

/**
 * Creates (once) the metadata the actions need in a database loaded with openmrs-2.6.4-core.sql, in one transaction,
 * and returns the ids. `conn` should be a mysql2/promise connection with `dateStrings: true` on that database.
 */
export async function seedMetadata(conn: Connection): Promise<SeedMeta> {
  const now = wallClock();
  const audit = { creator: 1, date_created: now };
  return inTransaction(conn, async () => {
    const locationId = await ensure(conn, 'location', 'location_id', SEED_UUIDS.location, {
      name: 'Bridge Demo Clinic',
      description: 'Seeded by the event bridge demo',
      city_village: 'Nairobi',
      country: 'Kenya',
      ...audit,
    });
    const location2Id = await ensure(conn, 'location', 'location_id', SEED_UUIDS.location2, {
      name: 'Bridge Demo Ward',
      parent_location: locationId,
      ...audit,
    });
    const visitTypeId = await ensure(conn, 'visit_type', 'visit_type_id', SEED_UUIDS.visitType, {
      name: 'Facility Visit',
      description: 'Patient visits the clinic',
      ...audit,
    });
    const encounterTypeId = await ensure(conn, 'encounter_type', 'encounter_type_id', SEED_UUIDS.encounterType, {
      name: 'Vitals',
      description: 'Vital signs',
      ...audit,
    });
    const concepts = {} as Record<ConceptKey, number>;
    for (const [key, c] of Object.entries(CONCEPTS) as Array<[ConceptKey, (typeof CONCEPTS)[ConceptKey]]>) {
      const conceptUuid = SEED_UUIDS.concepts[key];
      let id = await idOf(conn, 'concept', 'concept_id', conceptUuid);
      if (id === undefined) {
        id = await insert(conn, 'concept', {
          retired: 0,
          short_name: '',
          description: '',
          datatype_id: c.datatype,
          class_id: c.cls,
          is_set: c.isSet ? 1 : 0,
          ...audit,
          uuid: conceptUuid,
        });
        await insert(conn, 'concept_name', {
          concept_id: id,
          name: c.name,
          locale: 'en',
          locale_preferred: 1,
          concept_name_type: 'FULLY_SPECIFIED',
          ...audit,
          uuid: uuid(),
        });
        if (c.datatype === 1) await insert(conn, 'concept_numeric', { concept_id: id, allow_decimal: 1 });
      }
      concepts[key] = id;
    }
    const providerPersonId = await ensure(conn, 'person', 'person_id', SEED_UUIDS.providerPerson, {
      gender: 'F',
      ...audit,
    });
    const providerId = await ensure(conn, 'provider', 'provider_id', SEED_UUIDS.provider, {
      person_id: providerPersonId,
      identifier: 'PRV-1',
      name: 'Dr. Demo',
      ...audit,
    });
    const drugId = await ensure(conn, 'drug', 'drug_id', SEED_UUIDS.drug, {
      concept_id: concepts.paracetamol,
      name: 'Paracetamol 500mg tablet',
      combination: 0,
      dosage_form: concepts.tablet,
      strength: '500mg',
      ...audit,
    });
    const programId = await ensure(conn, 'program', 'program_id', SEED_UUIDS.program, {
      concept_id: concepts.hivProgram,
      outcomes_concept_id: concepts.cured,
      name: 'HIV Care',
      description: 'HIV care and treatment',
      retired: 0,
      ...audit,
    });
    const workflowId = await ensure(conn, 'program_workflow', 'program_workflow_id', SEED_UUIDS.workflow, {
      program_id: programId,
      concept_id: concepts.treatmentStatus,
      retired: 0,
      ...audit,
    });
    const stateEnrolledId = await ensure(
      conn,
      'program_workflow_state',
      'program_workflow_state_id',
      SEED_UUIDS.stateEnrolled,
      {
        program_workflow_id: workflowId,
        concept_id: concepts.onTreatment,
        initial: 1,
        terminal: 0,
        retired: 0,
        ...audit,
      },
    );
    const stateCompletedId = await ensure(
      conn,
      'program_workflow_state',
      'program_workflow_state_id',
      SEED_UUIDS.stateCompleted,
      {
        program_workflow_id: workflowId,
        concept_id: concepts.treatmentComplete,
        initial: 0,
        terminal: 1,
        retired: 0,
        ...audit,
      },
    );
    await conn.query(
      `CREATE TABLE IF NOT EXISTS \`${MODULE_TABLE}\` (
        id int(11) NOT NULL AUTO_INCREMENT,
        source int(11) NOT NULL,
        identifier varchar(50) NOT NULL,
        date_generated datetime NOT NULL,
        generated_by int(11) NOT NULL,
        comment varchar(255) DEFAULT NULL,
        PRIMARY KEY (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
    );
    return {
      userId: 1,
      locationId,
      location2Id,
      visitTypeId,
      encounterTypeId,
      identifierTypeId: 2,
      attributeTypeId: 2,
      encounterRoleId: 1,
      careSettingId: 1,
      drugOrderTypeId: 2,
      testOrderTypeId: 3,
      providerId,
      drugId,
      programId,
      workflowId,
      stateEnrolledId,
      stateCompletedId,
      concepts,
      moduleTable: MODULE_TABLE,
    };
  });
}
