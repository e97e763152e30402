/**
 * Example events for docs/events: synthetic transactions shaped like OpenMRS's writes (SEMANTICS.md), mapped by the
 * real EventMapper with a deterministic in-memory reference lookup. One transaction per scenario; together they cover
 * every catalog type. Used by scripts/generate-events.ts and the mapper's unit tests.
 */
import type { RowChange, Transaction } from '../src/capture/types.js';
import type { RowImage } from '../src/source/types.js';
import { EventMapper } from '../src/domain/mapper.js';
import type { ReferenceLookup } from '../src/domain/references.js';
import type { BridgeEvent } from '../src/domain/types.js';

/** A deterministic uuid for (table, id): what the in-memory "source" holds. */
export function fakeUuid(table: string, id: number): string {
  let h = 0;
  for (const c of table) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${h.toString(16).padStart(8, '0')}-0000-4000-8000-${id.toString(16).padStart(12, '0')}`;
}

/** A lookup answering every id with {@link fakeUuid} (and `org.openmrs.DrugOrder` for order type 2). */
export const fakeLookup: ReferenceLookup = {
  async lookup(table, key, value, ids) {
    const out = new Map<number, string>();
    for (const id of ids) {
      if (value === 'uuid') out.set(id, fakeUuid(table === 'patient' ? 'person' : table, id));
      else if (table === 'order_type' && value === 'java_class_name')
        out.set(id, id === 2 ? 'org.openmrs.DrugOrder' : id === 3 ? 'org.openmrs.TestOrder' : 'org.openmrs.Order');
      else if (table === 'patient') out.set(id, String(id));
    }
    return out;
  },
};

const S = 'openmrs';
const T0 = '2026-11-29 13:15:02';
const T1 = '2026-11-29 13:40:10';
const audit = {
  creator: 1,
  date_created: T0,
  changed_by: null,
  date_changed: null,
  voided: 0,
  voided_by: null,
  date_voided: null,
  void_reason: null,
};
const metaAudit = {
  creator: 1,
  date_created: T0,
  changed_by: null,
  date_changed: null,
  retired: 0,
  retired_by: null,
  date_retired: null,
  retire_reason: null,
};

const ins = (table: string, after: RowImage): RowChange => ({ schema: S, table, op: 'insert', before: null, after });
const upd = (table: string, before: RowImage, changes: RowImage): RowChange => ({
  schema: S,
  table,
  op: 'update',
  before,
  after: { ...before, ...changes },
});
const del = (table: string, before: RowImage): RowChange => ({ schema: S, table, op: 'delete', before, after: null });
const voidIt = (reason: string): RowImage => ({
  voided: 1,
  voided_by: 1,
  date_voided: T1,
  void_reason: reason,
  changed_by: 1,
  date_changed: T1,
});
const unvoid: RowImage = {
  voided: 0,
  voided_by: null,
  date_voided: null,
  void_reason: null,
  changed_by: 1,
  date_changed: T1,
};

const person = (id: number): RowImage => ({
  person_id: id,
  gender: 'F',
  birthdate: '1990-04-12',
  birthdate_estimated: 0,
  dead: 0,
  death_date: null,
  cause_of_death: null,
  ...audit,
  uuid: fakeUuid('person', id),
  deathdate_estimated: 0,
  birthtime: null,
  cause_of_death_non_coded: null,
});
const patient = (id: number): RowImage => ({ patient_id: id, ...audit, allergy_status: 'Unknown' });
const name = (id: number, personId: number, given: string, preferred = 1): RowImage => ({
  person_name_id: id,
  preferred,
  person_id: personId,
  given_name: given,
  family_name: 'Otieno',
  ...audit,
  uuid: fakeUuid('person_name', id),
});
const visit = (id: number, patientId: number): RowImage => ({
  visit_id: id,
  patient_id: patientId,
  visit_type_id: 1,
  date_started: T0,
  date_stopped: null,
  indication_concept_id: null,
  location_id: 1,
  ...audit,
  uuid: fakeUuid('visit', id),
});
const encounter = (id: number, patientId: number, visitId: number): RowImage => ({
  encounter_id: id,
  encounter_type: 1,
  patient_id: patientId,
  location_id: 1,
  form_id: null,
  encounter_datetime: T0,
  ...audit,
  visit_id: visitId,
  uuid: fakeUuid('encounter', id),
});
const obs = (id: number, patientId: number, encounterId: number, value: number, extra: RowImage = {}): RowImage => ({
  obs_id: id,
  person_id: patientId,
  concept_id: 5089,
  encounter_id: encounterId,
  order_id: null,
  obs_datetime: T0,
  location_id: 1,
  obs_group_id: null,
  value_numeric: value,
  ...audit,
  uuid: fakeUuid('obs', id),
  previous_version: null,
  status: 'FINAL',
  interpretation: null,
  ...extra,
});
const order = (
  id: number,
  patientId: number,
  encounterId: number,
  action: string,
  previous: number | null = null,
): RowImage => ({
  order_id: id,
  order_type_id: 2,
  concept_id: 71617,
  orderer: 1,
  encounter_id: encounterId,
  instructions: null,
  date_activated: action === 'NEW' ? T0 : T1,
  auto_expire_date: action === 'DISCONTINUE' ? T1 : null,
  date_stopped: null,
  creator: 1,
  date_created: action === 'NEW' ? T0 : T1,
  voided: 0,
  voided_by: null,
  date_voided: null,
  void_reason: null,
  patient_id: patientId,
  accession_number: null,
  uuid: fakeUuid('orders', id),
  urgency: 'ROUTINE',
  order_number: `ORD-${id}`,
  previous_order_id: previous,
  order_action: action,
  care_setting: 1,
  fulfiller_status: null,
});
const drugOrder = (id: number): RowImage => ({
  order_id: id,
  drug_inventory_id: 3,
  dose: 500,
  dose_units: 51,
  route: 160240,
  frequency: 1,
  as_needed: 0,
  quantity: 20,
  duration: 5,
  duration_units: 1072,
  dispense_as_written: 0,
});
const allergy = (id: number, patientId: number): RowImage => ({
  allergy_id: id,
  patient_id: patientId,
  severity_concept_id: 1500,
  coded_allergen: 70116,
  allergen_type: 'DRUG',
  comments: 'Hives',
  ...audit,
  uuid: fakeUuid('allergy', id),
  encounter_id: null,
});
const condition = (id: number, patientId: number, previous: number | null = null): RowImage => ({
  condition_id: id,
  previous_version: previous,
  condition_coded: 117399,
  clinical_status: 'ACTIVE',
  verification_status: 'PROVISIONAL',
  onset_date: T0,
  ...audit,
  uuid: fakeUuid('conditions', id),
  patient_id: patientId,
  end_date: null,
  encounter_id: null,
});
const diagnosis = (id: number, patientId: number, encounterId: number): RowImage => ({
  diagnosis_id: id,
  diagnosis_coded: 116128,
  encounter_id: encounterId,
  patient_id: patientId,
  certainty: 'PROVISIONAL',
  dx_rank: 1,
  uuid: fakeUuid('encounter_diagnosis', id),
  ...audit,
});
const program = (id: number, patientId: number): RowImage => ({
  patient_program_id: id,
  patient_id: patientId,
  program_id: 1,
  date_enrolled: T0,
  date_completed: null,
  location_id: 1,
  outcome_concept_id: null,
  ...audit,
  uuid: fakeUuid('patient_program', id),
});
const location = (id: number): RowImage => ({
  location_id: id,
  name: 'Outpatient Clinic',
  description: 'Ground floor',
  city_village: 'Nairobi',
  country: 'Kenya',
  ...metaAudit,
  parent_location: 1,
  uuid: fakeUuid('location', id),
});

/** The scenarios: name -> the rows of one transaction. */
export function exampleTransactions(): Array<{ name: string; rows: RowChange[] }> {
  const p = person(10);
  const v = visit(20, 10);
  const e = encounter(30, 10, 20);
  const o1 = obs(40, 10, 30, 61.5);
  const o2 = obs(41, 10, 30, 168);
  const ord = order(50, 10, 30, 'NEW');
  const a = allergy(60, 10);
  const c = condition(70, 10);
  const dx = diagnosis(80, 10, 30);
  const pp = program(90, 10);
  const loc = location(100);
  const n1 = name(11, 10, 'Amina');
  return [
    {
      name: 'register a patient',
      rows: [
        ins('person', p),
        ins('patient', patient(10)),
        ins('person_name', n1),
        ins('person_address', {
          person_address_id: 12,
          person_id: 10,
          preferred: 1,
          address1: 'Moi Avenue 12',
          city_village: 'Nairobi',
          country: 'Kenya',
          ...audit,
          uuid: fakeUuid('person_address', 12),
        }),
        ins('person_attribute', {
          person_attribute_id: 13,
          person_id: 10,
          value: 'Kisumu',
          person_attribute_type_id: 2,
          ...audit,
          uuid: fakeUuid('person_attribute', 13),
        }),
        ins('patient_identifier', {
          patient_identifier_id: 14,
          patient_id: 10,
          identifier: '10000X',
          identifier_type: 2,
          preferred: 1,
          location_id: 1,
          ...audit,
          uuid: fakeUuid('patient_identifier', 14),
        }),
      ],
    },
    { name: 'edit a name', rows: [upd('person_name', n1, { given_name: 'Aminah', changed_by: 1, date_changed: T1 })] },
    {
      name: 'mark dead',
      rows: [upd('person', p, { dead: 1, death_date: T1, cause_of_death: 5622, changed_by: 1, date_changed: T1 })],
    },
    {
      name: 'void a patient',
      rows: [
        upd('patient', patient(10), voidIt('Duplicate')),
        upd('person', p, voidIt('Duplicate')),
        upd('person_name', n1, voidIt('Duplicate')),
      ],
    },
    {
      name: 'unvoid a patient',
      rows: [
        upd('patient', { ...patient(10), ...voidIt('Duplicate') }, unvoid),
        upd('person', { ...p, ...voidIt('Duplicate') }, unvoid),
      ],
    },
    {
      name: 'merge two patients',
      rows: [
        ins('person_name', name(15, 10, 'Mina', 0)),
        upd('patient', patient(16), voidIt('Merged with patient #10')),
        upd('person', person(16), voidIt('Merged with patient #10')),
        upd('person', p, { changed_by: 1, date_changed: T1 }),
        ins('person_merge_log', {
          person_merge_log_id: 1,
          winner_person_id: 10,
          loser_person_id: 16,
          creator: 1,
          date_created: T1,
          merged_data: 'Merged patient #16 into #10',
          uuid: fakeUuid('person_merge_log', 1),
          voided: 0,
        }),
      ],
    },
    {
      name: 'purge a patient',
      rows: [del('person_name', name(18, 17, 'Test')), del('patient', patient(17)), del('person', person(17))],
    },
    { name: 'start a visit', rows: [ins('visit', v)] },
    { name: 'move a visit', rows: [upd('visit', v, { location_id: 2, changed_by: 1, date_changed: T1 })] },
    { name: 'end a visit', rows: [upd('visit', v, { date_stopped: T1, changed_by: 1, date_changed: T1 })] },
    { name: 'void a visit', rows: [upd('visit', v, voidIt('Entered in error'))] },
    { name: 'unvoid a visit', rows: [upd('visit', { ...v, ...voidIt('Entered in error') }, unvoid)] },
    {
      name: 'create an encounter with obs',
      rows: [
        ins('encounter', e),
        ins('encounter_provider', {
          encounter_provider_id: 31,
          encounter_id: 30,
          provider_id: 1,
          encounter_role_id: 1,
          ...audit,
          uuid: fakeUuid('encounter_provider', 31),
        }),
        ins('obs', o1),
        ins('obs', o2),
      ],
    },
    {
      name: 'edit an encounter',
      rows: [upd('encounter', e, { encounter_datetime: T1, changed_by: 1, date_changed: T1 })],
    },
    {
      name: 'void an encounter',
      rows: [upd('obs', o2, voidIt('Entered in error')), upd('encounter', e, voidIt('Entered in error'))],
    },
    { name: 'unvoid an encounter', rows: [upd('encounter', { ...e, ...voidIt('Entered in error') }, unvoid)] },
    {
      name: 'edit an obs',
      rows: [
        ins('obs', obs(42, 10, 30, 62.1, { previous_version: 40, status: 'AMENDED', date_created: T1 })),
        upd('obs', o1, voidIt('Replaced with a new one because it was changed')),
      ],
    },
    { name: 'unvoid an obs', rows: [upd('obs', { ...o2, ...voidIt('Entered in error') }, unvoid)] },
    {
      name: 'place a drug order',
      rows: [
        upd(
          'global_property',
          { property: 'order.nextOrderNumberSeed', property_value: '50', uuid: 'gp' },
          { property_value: '51' },
        ),
        ins('orders', ord),
        ins('drug_order', drugOrder(50)),
      ],
    },
    { name: 'set a fulfiller status', rows: [upd('orders', ord, { fulfiller_status: 'RECEIVED' })] },
    {
      name: 'revise an order',
      rows: [
        upd('orders', ord, { date_stopped: '2026-11-29 13:40:09' }),
        ins('orders', order(51, 10, 30, 'REVISE', 50)),
        ins('drug_order', { ...drugOrder(51), dose: 1000 }),
      ],
    },
    {
      name: 'discontinue an order',
      rows: [
        upd('orders', order(51, 10, 30, 'REVISE', 50), { date_stopped: '2026-11-29 13:40:09' }),
        ins('orders', order(52, 10, 30, 'DISCONTINUE', 51)),
        ins('drug_order', { order_id: 52, drug_inventory_id: 3, dispense_as_written: 0 }),
      ],
    },
    { name: 'void an order', rows: [upd('orders', ord, voidIt('Entered in error'))] },
    { name: 'unvoid an order', rows: [upd('orders', { ...ord, ...voidIt('Entered in error') }, unvoid)] },
    {
      name: 'record an allergy',
      rows: [
        ins('allergy', a),
        ins('allergy_reaction', {
          allergy_reaction_id: 61,
          allergy_id: 60,
          reaction_concept_id: 512,
          uuid: fakeUuid('allergy_reaction', 61),
        }),
      ],
    },
    {
      name: 'update an allergy',
      rows: [upd('allergy', a, { comments: 'Hives and swelling', changed_by: 1, date_changed: T1 })],
    },
    { name: 'void an allergy', rows: [upd('allergy', a, voidIt('Not allergic'))] },
    { name: 'unvoid an allergy', rows: [upd('allergy', { ...a, ...voidIt('Not allergic') }, unvoid)] },
    { name: 'record a condition', rows: [ins('conditions', c)] },
    {
      name: 'edit a condition',
      rows: [
        upd('conditions', c, voidIt(`Condition replaced by ${fakeUuid('conditions', 71)}`)),
        ins('conditions', { ...condition(71, 10, 70), clinical_status: 'INACTIVE', date_created: T1 }),
      ],
    },
    { name: 'void a condition', rows: [upd('conditions', condition(71, 10, 70), voidIt('Condition removed'))] },
    {
      name: 'unvoid a condition',
      rows: [upd('conditions', { ...condition(71, 10, 70), ...voidIt('Condition removed') }, unvoid)],
    },
    { name: 'record a diagnosis', rows: [ins('encounter_diagnosis', dx)] },
    {
      name: 'confirm a diagnosis',
      rows: [upd('encounter_diagnosis', dx, { certainty: 'CONFIRMED', changed_by: 1, date_changed: T1 })],
    },
    { name: 'void a diagnosis', rows: [upd('encounter_diagnosis', dx, voidIt('Entered in error'))] },
    {
      name: 'unvoid a diagnosis',
      rows: [upd('encounter_diagnosis', { ...dx, ...voidIt('Entered in error') }, unvoid)],
    },
    {
      name: 'enrol in a program',
      rows: [
        ins('patient_program', pp),
        ins('patient_state', {
          patient_state_id: 91,
          patient_program_id: 90,
          state: 1,
          start_date: '2026-11-29',
          end_date: null,
          ...audit,
          uuid: fakeUuid('patient_state', 91),
        }),
      ],
    },
    {
      name: 'change program location',
      rows: [upd('patient_program', pp, { location_id: 2, changed_by: 1, date_changed: T1 })],
    },
    {
      name: 'complete a program',
      rows: [
        upd('patient_program', pp, { date_completed: T1, outcome_concept_id: 1068, changed_by: 1, date_changed: T1 }),
      ],
    },
    { name: 'void an enrolment', rows: [upd('patient_program', pp, voidIt('Entered in error'))] },
    { name: 'unvoid an enrolment', rows: [upd('patient_program', { ...pp, ...voidIt('Entered in error') }, unvoid)] },
    { name: 'create a location', rows: [ins('location', loc)] },
    {
      name: 'rename a location',
      rows: [upd('location', loc, { name: 'Outpatient Clinic A', changed_by: 1, date_changed: T1 })],
    },
    {
      name: 'retire a location',
      rows: [
        upd('location', loc, {
          retired: 1,
          retired_by: 1,
          date_retired: T1,
          retire_reason: 'Closed',
          changed_by: 1,
          date_changed: T1,
        }),
      ],
    },
    {
      name: 'unretire a location',
      rows: [
        upd(
          'location',
          { ...loc, retired: 1, retired_by: 1, date_retired: T1, retire_reason: 'Closed' },
          { retired: 0, retired_by: null, date_retired: null, retire_reason: null },
        ),
      ],
    },
    { name: 'purge a location', rows: [del('location', loc)] },
    {
      name: 'a module table row',
      rows: [
        ins('idgen_log_entry', {
          id: 1,
          source: 1,
          identifier: '10001Y',
          date_generated: T0,
          generated_by: 1,
          comment: null,
        }),
      ],
    },
  ];
}

/** A Transaction around example rows (fixed GTID, commit time and positions, so the output is deterministic). */
export function exampleTransaction(rows: RowChange[], seq: number): Transaction {
  return {
    kind: 'dml',
    gtid: `0-1-${4700 + seq}`,
    commitTime: Date.UTC(2026, 10, 29, 10, 15, 2) / 1000 + seq,
    start: { file: 'mysql-bin.000042', pos: 1000 + seq * 1000 },
    end: { binlog: { file: 'mysql-bin.000042', pos: 1999 + seq * 1000 }, gtidState: `0-1-${4700 + seq}` },
    rowCount: rows.length,
    rows,
  };
}

/** Maps every example scenario; returns the events by scenario, in order. */
export async function exampleEvents(): Promise<Array<{ name: string; events: BridgeEvent[] }>> {
  const mapper = new EventMapper({ site: 'clinic-a', schema: S, timeZone: 'Africa/Nairobi', lookup: fakeLookup });
  const out: Array<{ name: string; events: BridgeEvent[] }> = [];
  const scenarios = exampleTransactions();
  for (let i = 0; i < scenarios.length; i++) {
    const { events } = await mapper.map(exampleTransaction(scenarios[i].rows, i + 1));
    out.push({ name: scenarios[i].name, events });
  }
  return out;
}
