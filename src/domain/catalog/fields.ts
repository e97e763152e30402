/**
 * Field specs: one declaration per payload field that says both which source column it comes from (and how to convert
 * it) and what its zod schema is. The catalog builds its schemas from these, the mapper converts rows with them, so the
 * published schema and the produced payload cannot drift apart.
 */
import { z } from 'zod';

/** How a column value becomes a payload value. */
export type FieldKind = 'uuid' | 'string' | 'int' | 'number' | 'bool' | 'datetime' | 'date' | 'time' | 'ref';

/**
 * Targets of `ref` fields: an integer id column of the source becomes the uuid of the referenced row.
 * `patient_id`/`person_id` both point at `person` (a patient's uuid is `person.uuid`); order subtypes use `orders`.
 */
export const REF_TARGETS = {
  person: { table: 'person', key: 'person_id' },
  users: { table: 'users', key: 'user_id' },
  concept: { table: 'concept', key: 'concept_id' },
  concept_name: { table: 'concept_name', key: 'concept_name_id' },
  location: { table: 'location', key: 'location_id' },
  encounter: { table: 'encounter', key: 'encounter_id' },
  encounter_type: { table: 'encounter_type', key: 'encounter_type_id' },
  encounter_role: { table: 'encounter_role', key: 'encounter_role_id' },
  visit: { table: 'visit', key: 'visit_id' },
  visit_type: { table: 'visit_type', key: 'visit_type_id' },
  obs: { table: 'obs', key: 'obs_id' },
  orders: { table: 'orders', key: 'order_id' },
  order_type: { table: 'order_type', key: 'order_type_id' },
  order_group: { table: 'order_group', key: 'order_group_id' },
  order_frequency: { table: 'order_frequency', key: 'order_frequency_id' },
  care_setting: { table: 'care_setting', key: 'care_setting_id' },
  provider: { table: 'provider', key: 'provider_id' },
  drug: { table: 'drug', key: 'drug_id' },
  form: { table: 'form', key: 'form_id' },
  patient_identifier_type: { table: 'patient_identifier_type', key: 'patient_identifier_type_id' },
  person_attribute_type: { table: 'person_attribute_type', key: 'person_attribute_type_id' },
  patient_program: { table: 'patient_program', key: 'patient_program_id' },
  program: { table: 'program', key: 'program_id' },
  program_workflow: { table: 'program_workflow', key: 'program_workflow_id' },
  program_workflow_state: { table: 'program_workflow_state', key: 'program_workflow_state_id' },
  conditions: { table: 'conditions', key: 'condition_id' },
  allergy: { table: 'allergy', key: 'allergy_id' },
  concept_class: { table: 'concept_class', key: 'concept_class_id' },
  concept_datatype: { table: 'concept_datatype', key: 'concept_datatype_id' },
} as const;

export type RefTarget = keyof typeof REF_TARGETS;

/** One payload field: its source column, conversion and schema. */
export interface Field<S extends z.ZodType = z.ZodType> {
  readonly column: string;
  readonly kind: FieldKind;
  readonly ref?: RefTarget;
  readonly schema: S;
}

/** A payload object spec: payload field name -> field. */
export type FieldSpec = Record<string, Field>;

function field<S extends z.ZodType>(column: string, kind: FieldKind, schema: S, ref?: RefTarget): Field<S> {
  return { column, kind, schema, ref };
}

const uuidString = () => z.string().min(1);

/** Field constructors. Every column may be absent in older schemas: it then reads as null (false for flags). */
export const f = {
  /** The row's own uuid (required: a row without one cannot be mapped). */
  uuid: (column = 'uuid') => field(column, 'uuid', uuidString().describe('uuid of this row')),
  str: (column: string, description?: string) =>
    field(column, 'string', description ? z.string().nullable().describe(description) : z.string().nullable()),
  int: (column: string) => field(column, 'int', z.number().int().nullable()),
  num: (column: string) => field(column, 'number', z.number().nullable()),
  bool: (column: string) => field(column, 'bool', z.boolean()),
  /** A zoneless DATETIME of the source, converted to UTC with BRIDGE_SOURCE_TIMEZONE. */
  datetime: (column: string) =>
    field(
      column,
      'datetime',
      z.iso.datetime().nullable().describe('ISO-8601 UTC, converted from the source time zone'),
    ),
  date: (column: string) => field(column, 'date', z.iso.date().nullable()),
  time: (column: string) => field(column, 'time', z.string().nullable()),
  /** An integer id of another row, published as that row's uuid (null when unset or not resolvable). */
  ref: (column: string, target: RefTarget) =>
    field(
      column,
      'ref',
      uuidString().nullable().describe(`uuid of the referenced ${REF_TARGETS[target].table} row`),
      target,
    ),
};

/** The zod shape of a field spec. */
export type ShapeOf<T extends FieldSpec> = { [K in keyof T]: T[K]['schema'] };

/** Builds the zod shape of a field spec (to spread into `z.object`). */
export function shapeOf<T extends FieldSpec>(spec: T): ShapeOf<T> {
  const out: Record<string, z.ZodType> = {};
  for (const key of Object.keys(spec)) out[key] = spec[key].schema;
  return out as ShapeOf<T>;
}

/** Audit columns of OpenMRS data tables (`OpenmrsData`). */
export const dataAudit = {
  creatorUuid: f.ref('creator', 'users'),
  dateCreated: f.datetime('date_created'),
  changedByUuid: f.ref('changed_by', 'users'),
  dateChanged: f.datetime('date_changed'),
  voided: f.bool('voided'),
  voidedByUuid: f.ref('voided_by', 'users'),
  dateVoided: f.datetime('date_voided'),
  voidReason: f.str('void_reason'),
} satisfies FieldSpec;

/** Audit columns of OpenMRS metadata tables (`OpenmrsMetadata`). */
export const metadataAudit = {
  creatorUuid: f.ref('creator', 'users'),
  dateCreated: f.datetime('date_created'),
  changedByUuid: f.ref('changed_by', 'users'),
  dateChanged: f.datetime('date_changed'),
  retired: f.bool('retired'),
  retiredByUuid: f.ref('retired_by', 'users'),
  dateRetired: f.datetime('date_retired'),
  retireReason: f.str('retire_reason'),
} satisfies FieldSpec;

/** `{field: {from, to}}` for every field an update changed (CONTRACT section 5). */
export const Changes = z
  .record(z.string(), z.object({ from: z.unknown(), to: z.unknown() }))
  .describe(
    'Every field that changed, as {from, to}. Keys are payload field names; rows of child collections are keyed ' +
      '`<collection>.<uuid>` (added: from null, removed: to null) or `<collection>.<uuid>.<field>` (changed).',
  );
export type Changes = z.infer<typeof Changes>;

/** A reference that could not be turned into a uuid (the referenced row was purged, or the lookup failed). */
export const Unresolved = z
  .array(
    z.object({
      field: z.string().describe('payload path of the reference, e.g. `encounterUuid` or `names.<uuid>.creatorUuid`'),
      table: z.string(),
      id: z.number().int(),
      reason: z.string(),
    }),
  )
  .describe('References published as null because the referenced row could not be found (purged) or looked up');
export type Unresolved = z.infer<typeof Unresolved>;
