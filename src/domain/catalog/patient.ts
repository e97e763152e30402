/**
 * Patient aggregate: `person` + `patient` with `person_name`, `person_address`, `person_attribute` and
 * `patient_identifier` folded in (CONTRACT section 5). A patient's uuid is `person.uuid`.
 */
import { z } from 'zod';
import { Changes, dataAudit, f, shapeOf, Unresolved, type FieldSpec } from './fields.js';
import { eventType } from './envelope.js';

export const PersonFields = {
  uuid: f.uuid(),
  gender: f.str('gender'),
  birthdate: f.date('birthdate'),
  birthdateEstimated: f.bool('birthdate_estimated'),
  birthtime: f.time('birthtime'),
  dead: f.bool('dead'),
  deathDate: f.datetime('death_date'),
  deathdateEstimated: f.bool('deathdate_estimated'),
  causeOfDeathUuid: f.ref('cause_of_death', 'concept'),
  causeOfDeathNonCoded: f.str('cause_of_death_non_coded'),
  ...dataAudit,
} satisfies FieldSpec;

export const PatientRowFields = {
  allergyStatus: f.str('allergy_status'),
  ...dataAudit,
} satisfies FieldSpec;

export const PersonNameFields = {
  uuid: f.uuid(),
  preferred: f.bool('preferred'),
  prefix: f.str('prefix'),
  givenName: f.str('given_name'),
  middleName: f.str('middle_name'),
  familyNamePrefix: f.str('family_name_prefix'),
  familyName: f.str('family_name'),
  familyName2: f.str('family_name2'),
  familyNameSuffix: f.str('family_name_suffix'),
  degree: f.str('degree'),
  ...dataAudit,
} satisfies FieldSpec;

export const PersonAddressFields = {
  uuid: f.uuid(),
  preferred: f.bool('preferred'),
  address1: f.str('address1'),
  address2: f.str('address2'),
  address3: f.str('address3'),
  address4: f.str('address4'),
  address5: f.str('address5'),
  address6: f.str('address6'),
  address7: f.str('address7'),
  address8: f.str('address8'),
  address9: f.str('address9'),
  address10: f.str('address10'),
  address11: f.str('address11'),
  address12: f.str('address12'),
  address13: f.str('address13'),
  address14: f.str('address14'),
  address15: f.str('address15'),
  cityVillage: f.str('city_village'),
  countyDistrict: f.str('county_district'),
  stateProvince: f.str('state_province'),
  postalCode: f.str('postal_code'),
  country: f.str('country'),
  latitude: f.str('latitude'),
  longitude: f.str('longitude'),
  startDate: f.datetime('start_date'),
  endDate: f.datetime('end_date'),
  ...dataAudit,
} satisfies FieldSpec;

export const PersonAttributeFields = {
  uuid: f.uuid(),
  attributeTypeUuid: f.ref('person_attribute_type_id', 'person_attribute_type'),
  value: f.str('value'),
  ...dataAudit,
} satisfies FieldSpec;

export const PatientIdentifierFields = {
  uuid: f.uuid(),
  identifier: f.str('identifier'),
  identifierTypeUuid: f.ref('identifier_type', 'patient_identifier_type'),
  preferred: f.bool('preferred'),
  locationUuid: f.ref('location_id', 'location'),
  patientProgramUuid: f.ref('patient_program_id', 'patient_program'),
  ...dataAudit,
} satisfies FieldSpec;

export const PersonMergeLogFields = {
  uuid: f.uuid(),
  winnerUuid: f.ref('winner_person_id', 'person'),
  loserUuid: f.ref('loser_person_id', 'person'),
  mergedData: f.str('merged_data', 'the serialized merge summary OpenMRS logs'),
  creatorUuid: f.ref('creator', 'users'),
  dateCreated: f.datetime('date_created'),
} satisfies FieldSpec;

export const Person = z.object(shapeOf(PersonFields)).meta({ id: 'Person' });
export const PatientRow = z.object(shapeOf(PatientRowFields)).meta({ id: 'PatientRow' });
export const PersonName = z.object(shapeOf(PersonNameFields)).meta({ id: 'PersonName' });
export const PersonAddress = z.object(shapeOf(PersonAddressFields)).meta({ id: 'PersonAddress' });
export const PersonAttribute = z.object(shapeOf(PersonAttributeFields)).meta({ id: 'PersonAttribute' });
export const PatientIdentifier = z.object(shapeOf(PatientIdentifierFields)).meta({ id: 'PatientIdentifier' });

const patientShape = {
  uuid: z.string().min(1).describe("the patient's uuid (person.uuid)"),
  person: Person.optional().describe('the `person` row, when the transaction wrote it'),
  patient: PatientRow.optional().describe('the `patient` row, when the transaction wrote it'),
  names: z.array(PersonName).describe('the `person_name` rows the transaction wrote'),
  addresses: z.array(PersonAddress).describe('the `person_address` rows the transaction wrote'),
  attributes: z.array(PersonAttribute).describe('the `person_attribute` rows the transaction wrote'),
  identifiers: z.array(PatientIdentifier).describe('the `patient_identifier` rows the transaction wrote'),
  unresolved: Unresolved.optional(),
};

/** Payload of Patient events: the rows of the patient the transaction wrote (all of them for PatientCreated). */
export const PatientData = z.object({ ...patientShape, changes: Changes.optional() });
export const PatientUpdatedData = z.object({ ...patientShape, changes: Changes });
export const PatientMergedData = z.object({
  ...patientShape,
  changes: Changes.optional(),
  winnerUuid: z.string().min(1).describe('the preferred patient, who keeps the data'),
  loserUuid: z.string().nullable().describe('the merged-away patient (voided by the merge)'),
  mergeLog: z.object(shapeOf(PersonMergeLogFields)).describe('the `person_merge_log` row'),
});

const cls = ['org.openmrs.Patient'] as const;
export const PatientCreated = eventType('PatientCreated', PatientData, {
  action: 'CREATED',
  classes: cls,
  description:
    'A patient was registered (person, patient, names, addresses, attributes, identifiers) or an existing person became a patient.',
});
export const PatientUpdated = eventType('PatientUpdated', PatientUpdatedData, {
  action: 'UPDATED',
  classes: cls,
  description: "A patient's person, patient, name, address, attribute or identifier rows changed.",
});
export const PatientVoided = eventType('PatientVoided', PatientData, {
  action: 'VOIDED',
  classes: cls,
  description: 'A patient was voided (with names, identifiers, ... in the same transaction).',
});
export const PatientUnvoided = eventType('PatientUnvoided', PatientData, {
  action: 'UNVOIDED',
  classes: cls,
  description: 'A voided patient was restored.',
});
export const PatientDied = eventType('PatientDied', PatientData, {
  action: 'UPDATED',
  classes: cls,
  description: 'A patient was marked dead (`person.dead` 0 to 1).',
});
export const PatientMerged = eventType('PatientMerged', PatientMergedData, {
  action: 'UPDATED',
  classes: cls,
  description: 'Two patients were merged (a `person_merge_log` row): subject is the preferred (winning) patient.',
});
export const PatientPurged = eventType('PatientPurged', PatientData, {
  action: 'PURGED',
  classes: cls,
  description: 'A patient was deleted from the database.',
});

export type PatientCreated = z.infer<typeof PatientCreated>;
export type PatientUpdated = z.infer<typeof PatientUpdated>;
export type PatientVoided = z.infer<typeof PatientVoided>;
export type PatientUnvoided = z.infer<typeof PatientUnvoided>;
export type PatientDied = z.infer<typeof PatientDied>;
export type PatientMerged = z.infer<typeof PatientMerged>;
export type PatientPurged = z.infer<typeof PatientPurged>;
