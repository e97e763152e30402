/**
 * Metadata aggregate: OpenMRS metadata tables (retireable), one event per row; `data.kind` names the OpenMRS class.
 */
import { z } from 'zod';
import { Changes, f, metadataAudit, shapeOf, Unresolved, type FieldSpec } from './fields.js';
import { eventType } from './envelope.js';

/** The columns every metadata table shares (absent ones read as null). */
export const MetadataCommonFields = {
  uuid: f.uuid(),
  name: f.str('name'),
  description: f.str('description'),
  ...metadataAudit,
} satisfies FieldSpec;

/** One metadata table: its OpenMRS class, primary key and the columns published in `data.properties`. */
export interface MetadataTable {
  kind: string;
  key: string;
  properties: FieldSpec;
}

const addressFields: FieldSpec = {
  address1: f.str('address1'),
  address2: f.str('address2'),
  cityVillage: f.str('city_village'),
  countyDistrict: f.str('county_district'),
  stateProvince: f.str('state_province'),
  postalCode: f.str('postal_code'),
  country: f.str('country'),
  latitude: f.str('latitude'),
  longitude: f.str('longitude'),
};

/**
 * The metadata tables of OpenMRS core, keyed by table name. Sensitive columns (`users.password`, `salt`,
 * `secret_answer`, ...) are never published.
 */
export const METADATA_TABLES: Record<string, MetadataTable> = {
  location: {
    kind: 'Location',
    key: 'location_id',
    properties: {
      ...addressFields,
      parentLocationUuid: f.ref('parent_location', 'location'),
      locationTypeUuid: f.ref('location_type_concept_id', 'concept'),
    },
  },
  concept: {
    kind: 'Concept',
    key: 'concept_id',
    properties: {
      shortName: f.str('short_name'),
      formText: f.str('form_text'),
      datatypeUuid: f.ref('datatype_id', 'concept_datatype'),
      classUuid: f.ref('class_id', 'concept_class'),
      isSet: f.bool('is_set'),
      version: f.str('version'),
    },
  },
  encounter_type: { kind: 'EncounterType', key: 'encounter_type_id', properties: {} },
  visit_type: { kind: 'VisitType', key: 'visit_type_id', properties: {} },
  encounter_role: { kind: 'EncounterRole', key: 'encounter_role_id', properties: {} },
  patient_identifier_type: {
    kind: 'PatientIdentifierType',
    key: 'patient_identifier_type_id',
    properties: {
      format: f.str('format'),
      required: f.bool('required'),
      validator: f.str('validator'),
      locationBehavior: f.str('location_behavior'),
      uniquenessBehavior: f.str('uniqueness_behavior'),
    },
  },
  person_attribute_type: {
    kind: 'PersonAttributeType',
    key: 'person_attribute_type_id',
    properties: { format: f.str('format'), searchable: f.bool('searchable'), sortWeight: f.num('sort_weight') },
  },
  provider: {
    kind: 'Provider',
    key: 'provider_id',
    properties: { personUuid: f.ref('person_id', 'person'), identifier: f.str('identifier') },
  },
  users: {
    kind: 'User',
    key: 'user_id',
    properties: {
      systemId: f.str('system_id'),
      username: f.str('username'),
      personUuid: f.ref('person_id', 'person'),
      email: f.str('email'),
    },
  },
  care_setting: {
    kind: 'CareSetting',
    key: 'care_setting_id',
    properties: { careSettingType: f.str('care_setting_type') },
  },
  order_type: {
    kind: 'OrderType',
    key: 'order_type_id',
    properties: { javaClassName: f.str('java_class_name'), parentUuid: f.ref('parent', 'order_type') },
  },
  drug: {
    kind: 'Drug',
    key: 'drug_id',
    properties: {
      conceptUuid: f.ref('concept_id', 'concept'),
      strength: f.str('strength'),
      combination: f.bool('combination'),
      dosageFormUuid: f.ref('dosage_form', 'concept'),
    },
  },
  program: { kind: 'Program', key: 'program_id', properties: { conceptUuid: f.ref('concept_id', 'concept') } },
  program_workflow: {
    kind: 'ProgramWorkflow',
    key: 'program_workflow_id',
    properties: { programUuid: f.ref('program_id', 'program'), conceptUuid: f.ref('concept_id', 'concept') },
  },
  program_workflow_state: {
    kind: 'ProgramWorkflowState',
    key: 'program_workflow_state_id',
    properties: {
      programWorkflowUuid: f.ref('program_workflow_id', 'program_workflow'),
      conceptUuid: f.ref('concept_id', 'concept'),
      initial: f.bool('initial'),
      terminal: f.bool('terminal'),
    },
  },
  concept_class: { kind: 'ConceptClass', key: 'concept_class_id', properties: {} },
  concept_datatype: { kind: 'ConceptDatatype', key: 'concept_datatype_id', properties: {} },
  concept_reference_source: { kind: 'ConceptSource', key: 'concept_source_id', properties: {} },
  concept_map_type: { kind: 'ConceptMapType', key: 'concept_map_type_id', properties: {} },
  location_tag: { kind: 'LocationTag', key: 'location_tag_id', properties: {} },
  location_attribute_type: { kind: 'LocationAttributeType', key: 'location_attribute_type_id', properties: {} },
  visit_attribute_type: { kind: 'VisitAttributeType', key: 'visit_attribute_type_id', properties: {} },
  provider_attribute_type: { kind: 'ProviderAttributeType', key: 'provider_attribute_type_id', properties: {} },
  relationship_type: { kind: 'RelationshipType', key: 'relationship_type_id', properties: {} },
  field_type: { kind: 'FieldType', key: 'field_type_id', properties: {} },
  form: { kind: 'Form', key: 'form_id', properties: { version: f.str('version'), published: f.bool('published') } },
  order_frequency: {
    kind: 'OrderFrequency',
    key: 'order_frequency_id',
    properties: { conceptUuid: f.ref('concept_id', 'concept'), frequencyPerDay: f.num('frequency_per_day') },
  },
  hl7_source: { kind: 'HL7Source', key: 'hl7_source_id', properties: {} },
};

export const MetadataData = z.object({
  kind: z.string().describe('the OpenMRS class, simple name: Location, Concept, EncounterType, ...'),
  table: z.string().describe('the source table'),
  ...shapeOf(MetadataCommonFields),
  properties: z.record(z.string(), z.unknown()).describe('kind-specific fields (references as uuids)'),
  changes: Changes.optional(),
  unresolved: Unresolved.optional(),
});
export const MetadataUpdatedData = MetadataData.extend({ changes: Changes });

const cls = [...new Set(Object.values(METADATA_TABLES).map((t) => `org.openmrs.${t.kind}`))] as unknown as readonly [
  string,
  ...string[],
];

export const MetadataCreated = eventType('MetadataCreated', MetadataData, {
  action: 'CREATED',
  classes: cls,
  description: 'A metadata row (location, concept, encounter type, ...) was created.',
});
export const MetadataUpdated = eventType('MetadataUpdated', MetadataUpdatedData, {
  action: 'UPDATED',
  classes: cls,
  description: 'A metadata row changed (other than retiring/unretiring).',
});
export const MetadataRetired = eventType('MetadataRetired', MetadataData, {
  action: 'RETIRED',
  classes: cls,
  description: 'A metadata row was retired (`retired` 0 to 1).',
});
export const MetadataUnretired = eventType('MetadataUnretired', MetadataData, {
  action: 'UNRETIRED',
  classes: cls,
  description: 'A retired metadata row was restored.',
});
export const MetadataPurged = eventType('MetadataPurged', MetadataData, {
  action: 'PURGED',
  classes: cls,
  description: 'A metadata row was deleted.',
});

export type MetadataCreated = z.infer<typeof MetadataCreated>;
export type MetadataUpdated = z.infer<typeof MetadataUpdated>;
export type MetadataRetired = z.infer<typeof MetadataRetired>;
export type MetadataUnretired = z.infer<typeof MetadataUnretired>;
export type MetadataPurged = z.infer<typeof MetadataPurged>;
