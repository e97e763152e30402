/**
 * Which source table belongs to which aggregate (CONTRACT section 5, Scope), which column keys the aggregate, and which
 * tables are noise. Everything else is RowChanged.
 */
import type { FieldSpec } from './catalog/fields.js';
import {
  PersonFields,
  PatientRowFields,
  PersonNameFields,
  PersonAddressFields,
  PersonAttributeFields,
  PatientIdentifierFields,
  PersonMergeLogFields,
} from './catalog/patient.js';
import { VisitFields, EncounterFields, EncounterProviderFields, ObsFields } from './catalog/encounter.js';
import { OrderFields, DrugOrderFields, ServiceOrderFields } from './catalog/order.js';
import {
  AllergyFields,
  AllergyReactionFields,
  ConditionFields,
  DiagnosisFields,
  PatientProgramFields,
  PatientStateFields,
} from './catalog/clinical.js';
import { METADATA_TABLES, MetadataCommonFields } from './catalog/metadata.js';

export type AggregateKind =
  'patient' | 'visit' | 'encounter' | 'obs' | 'order' | 'allergy' | 'condition' | 'diagnosis' | 'program' | 'metadata';

/** A table's place in an aggregate. */
export interface TableRole {
  agg: AggregateKind;
  /** Column whose value identifies the aggregate instance (the root's id). */
  key: string;
  /** The table's own primary key (to recognise the same row twice in a transaction). */
  pk: string;
  /** Which part of the aggregate the rows are: `root` or a child collection / subrow name. */
  part: string;
  fields: FieldSpec;
  /** The aggregate's root table (`person` for patients, the table itself for metadata). */
  root: string;
  /** A small number per root table: units are keyed `unitIdx * 2^32 + id`. */
  unitIdx: number;
}

const ROOT_TABLES: Record<string, string> = {
  patient: 'person',
  visit: 'visit',
  encounter: 'encounter',
  obs: 'obs',
  order: 'orders',
  allergy: 'allergy',
  condition: 'conditions',
  diagnosis: 'encounter_diagnosis',
  program: 'patient_program',
};
const unitIndex = new Map<string, number>();
const unitIdxOf = (root: string): number => {
  let i = unitIndex.get(root);
  if (i === undefined) unitIndex.set(root, (i = unitIndex.size + 1));
  return i;
};

const r = (agg: AggregateKind, key: string, pk: string, part: string, fields: FieldSpec, table?: string): TableRole => {
  const root = agg === 'metadata' ? table! : ROOT_TABLES[agg];
  return { agg, key, pk, part, fields, root, unitIdx: unitIdxOf(root) };
};

/** Aggregate tables of OpenMRS core. */
export const TABLE_ROLES: Record<string, TableRole> = {
  person: r('patient', 'person_id', 'person_id', 'person', PersonFields),
  patient: r('patient', 'patient_id', 'patient_id', 'patient', PatientRowFields),
  person_name: r('patient', 'person_id', 'person_name_id', 'names', PersonNameFields),
  person_address: r('patient', 'person_id', 'person_address_id', 'addresses', PersonAddressFields),
  person_attribute: r('patient', 'person_id', 'person_attribute_id', 'attributes', PersonAttributeFields),
  patient_identifier: r('patient', 'patient_id', 'patient_identifier_id', 'identifiers', PatientIdentifierFields),
  person_merge_log: r('patient', 'winner_person_id', 'person_merge_log_id', 'mergeLog', PersonMergeLogFields),
  visit: r('visit', 'visit_id', 'visit_id', 'root', VisitFields),
  encounter: r('encounter', 'encounter_id', 'encounter_id', 'root', EncounterFields),
  encounter_provider: r('encounter', 'encounter_id', 'encounter_provider_id', 'providers', EncounterProviderFields),
  obs: r('obs', 'obs_id', 'obs_id', 'root', ObsFields),
  orders: r('order', 'order_id', 'order_id', 'root', OrderFields),
  drug_order: r('order', 'order_id', 'order_id', 'drugOrder', DrugOrderFields),
  test_order: r('order', 'order_id', 'order_id', 'testOrder', ServiceOrderFields),
  referral_order: r('order', 'order_id', 'order_id', 'referralOrder', ServiceOrderFields),
  allergy: r('allergy', 'allergy_id', 'allergy_id', 'root', AllergyFields),
  allergy_reaction: r('allergy', 'allergy_id', 'allergy_reaction_id', 'reactions', AllergyReactionFields),
  conditions: r('condition', 'condition_id', 'condition_id', 'root', ConditionFields),
  encounter_diagnosis: r('diagnosis', 'diagnosis_id', 'diagnosis_id', 'root', DiagnosisFields),
  patient_program: r('program', 'patient_program_id', 'patient_program_id', 'root', PatientProgramFields),
  patient_state: r('program', 'patient_program_id', 'patient_state_id', 'states', PatientStateFields),
};

for (const [table, m] of Object.entries(METADATA_TABLES)) {
  TABLE_ROLES[table] = r('metadata', m.key, m.key, 'root', { ...MetadataCommonFields, ...m.properties }, table);
}

/** Tables that never produce anything (CONTRACT section 5): settings churn, scheduler, Liquibase. */
export const NOISE_TABLES: ReadonlySet<string> = new Set([
  'global_property',
  'scheduler_task_config',
  'scheduler_task_config_property',
  'liquibasechangelog',
  'liquibasechangeloglock',
]);

/** The OpenMRS class of an aggregate's root table (Event-module naming). */
export const AGGREGATE_CLASS: Record<Exclude<AggregateKind, 'metadata' | 'order'>, string> = {
  patient: 'org.openmrs.Patient',
  visit: 'org.openmrs.Visit',
  encounter: 'org.openmrs.Encounter',
  obs: 'org.openmrs.Obs',
  allergy: 'org.openmrs.Allergy',
  condition: 'org.openmrs.Condition',
  diagnosis: 'org.openmrs.Diagnosis',
  program: 'org.openmrs.PatientProgram',
};

const SPECIAL_CLASS: Record<string, string> = {
  users: 'User',
  orders: 'Order',
  conditions: 'Condition',
  encounter_diagnosis: 'Diagnosis',
  person_name: 'PersonName',
  obs: 'Obs',
};

/** Tables of OpenMRS core 2.x not covered by an aggregate: RowChanged names them with their OpenMRS class. */
const CORE_TABLES = new Set(
  (
    'clob_datatype_storage cohort cohort_member concept_answer concept_attribute concept_attribute_type concept_complex ' +
    'concept_description concept_name concept_name_tag concept_name_tag_map concept_numeric concept_proposal ' +
    'concept_proposal_tag_map concept_reference_map concept_reference_term concept_reference_term_map concept_set ' +
    'concept_state_conversion concept_stop_word diagnosis_attribute diagnosis_attribute_type drug_ingredient ' +
    'drug_reference_map field field_answer form_field form_resource hl7_in_archive hl7_in_error hl7_in_queue ' +
    'location_attribute location_tag_map medication_dispense note notification_alert notification_alert_recipient ' +
    'notification_template order_attribute order_attribute_type order_group order_group_attribute ' +
    'order_group_attribute_type order_set order_set_attribute order_set_attribute_type order_set_member ' +
    'order_type_class_map patient_program_attribute privilege program_attribute_type provider_attribute relationship ' +
    'report_object report_schema_xml role role_privilege role_role serialized_object user_property user_role ' +
    'visit_attribute'
  ).split(' '),
);

/** `org.openmrs.<Class>` of a table: the core class when the table is core, `org.openmrs.Row` for module tables. */
export function tableClass(table: string): string {
  const special = SPECIAL_CLASS[table];
  if (special) return `org.openmrs.${special}`;
  if (!CORE_TABLES.has(table) && !TABLE_ROLES[table]) return 'org.openmrs.Row';
  return 'org.openmrs.' + table.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
