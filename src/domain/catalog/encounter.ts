/**
 * Visit, Encounter (with `encounter_provider` folded in) and Obs aggregates.
 */
import { z } from 'zod';
import { Changes, dataAudit, f, shapeOf, Unresolved, type FieldSpec } from './fields.js';
import { eventType } from './envelope.js';

export const VisitFields = {
  uuid: f.uuid(),
  patientUuid: f.ref('patient_id', 'person'),
  visitTypeUuid: f.ref('visit_type_id', 'visit_type'),
  dateStarted: f.datetime('date_started'),
  dateStopped: f.datetime('date_stopped'),
  indicationConceptUuid: f.ref('indication_concept_id', 'concept'),
  locationUuid: f.ref('location_id', 'location'),
  ...dataAudit,
} satisfies FieldSpec;

export const EncounterFields = {
  uuid: f.uuid(),
  encounterTypeUuid: f.ref('encounter_type', 'encounter_type'),
  patientUuid: f.ref('patient_id', 'person'),
  locationUuid: f.ref('location_id', 'location'),
  formUuid: f.ref('form_id', 'form'),
  encounterDatetime: f.datetime('encounter_datetime'),
  visitUuid: f.ref('visit_id', 'visit'),
  ...dataAudit,
} satisfies FieldSpec;

export const EncounterProviderFields = {
  uuid: f.uuid(),
  providerUuid: f.ref('provider_id', 'provider'),
  encounterRoleUuid: f.ref('encounter_role_id', 'encounter_role'),
  ...dataAudit,
} satisfies FieldSpec;

export const ObsFields = {
  uuid: f.uuid(),
  personUuid: f.ref('person_id', 'person'),
  conceptUuid: f.ref('concept_id', 'concept'),
  encounterUuid: f.ref('encounter_id', 'encounter'),
  orderUuid: f.ref('order_id', 'orders'),
  obsDatetime: f.datetime('obs_datetime'),
  locationUuid: f.ref('location_id', 'location'),
  obsGroupUuid: f.ref('obs_group_id', 'obs'),
  accessionNumber: f.str('accession_number'),
  valueGroupId: f.int('value_group_id'),
  valueCodedUuid: f.ref('value_coded', 'concept'),
  valueCodedNameUuid: f.ref('value_coded_name_id', 'concept_name'),
  valueDrugUuid: f.ref('value_drug', 'drug'),
  valueDatetime: f.datetime('value_datetime'),
  valueNumeric: f.num('value_numeric'),
  valueModifier: f.str('value_modifier'),
  valueText: f.str('value_text'),
  valueComplex: f.str('value_complex'),
  comments: f.str('comments'),
  previousVersionUuid: f.ref('previous_version', 'obs'),
  formNamespaceAndPath: f.str('form_namespace_and_path'),
  status: f.str('status', 'PRELIMINARY, FINAL or AMENDED'),
  interpretation: f.str('interpretation'),
  ...dataAudit,
} satisfies FieldSpec;

export const Visit = z.object(shapeOf(VisitFields)).meta({ id: 'Visit' });
export const EncounterProvider = z.object(shapeOf(EncounterProviderFields)).meta({ id: 'EncounterProvider' });
export const Obs = z.object(shapeOf(ObsFields)).meta({ id: 'Obs' });

export const VisitData = z.object({ ...Visit.shape, changes: Changes.optional(), unresolved: Unresolved.optional() });
export const VisitUpdatedData = VisitData.extend({ changes: Changes });

const encounterShape = {
  ...shapeOf(EncounterFields),
  uuid: z.string().min(1),
  providers: z.array(EncounterProvider).describe('the `encounter_provider` rows the transaction wrote'),
  unresolved: Unresolved.optional(),
};
/** Encounter payload. On events where the transaction did not write the `encounter` row, only `uuid`, `providers`, `changes` are certain. */
export const EncounterData = z.object({ ...encounterShape, changes: Changes.optional() });
export const EncounterUpdatedData = z
  .object(shapeOf(EncounterFields))
  .partial()
  .extend({
    uuid: z.string().min(1),
    providers: z.array(EncounterProvider),
    unresolved: Unresolved.optional(),
    changes: Changes,
  });

export const ObsData = z.object({ ...Obs.shape, changes: Changes.optional(), unresolved: Unresolved.optional() });
export const ObsAmendedData = ObsData.extend({
  previousObsUuid: z.string().min(1).describe('the obs this one replaces (voided in the same transaction)'),
  previousObs: Obs.describe('the replaced obs after it was voided'),
});

const visitCls = ['org.openmrs.Visit'] as const;
export const VisitStarted = eventType('VisitStarted', VisitData, {
  action: 'CREATED',
  classes: visitCls,
  description: 'A visit was created.',
});
export const VisitUpdated = eventType('VisitUpdated', VisitUpdatedData, {
  action: 'UPDATED',
  classes: visitCls,
  description: 'A visit changed (other than ending, voiding, unvoiding; re-opening is an update).',
});
export const VisitEnded = eventType('VisitEnded', VisitData, {
  action: 'UPDATED',
  classes: visitCls,
  description: '`date_stopped` went from NULL to a value, or the visit was inserted already stopped.',
});
export const VisitVoided = eventType('VisitVoided', VisitData, {
  action: 'VOIDED',
  classes: visitCls,
  description: 'A visit was voided.',
});
export const VisitUnvoided = eventType('VisitUnvoided', VisitData, {
  action: 'UNVOIDED',
  classes: visitCls,
  description: 'A voided visit was restored.',
});

const encCls = ['org.openmrs.Encounter'] as const;
export const EncounterCreated = eventType('EncounterCreated', EncounterData, {
  action: 'CREATED',
  classes: encCls,
  description: 'An encounter was created (with its providers).',
});
export const EncounterUpdated = eventType('EncounterUpdated', EncounterUpdatedData, {
  action: 'UPDATED',
  classes: encCls,
  description: 'An encounter or its providers changed.',
});
export const EncounterVoided = eventType('EncounterVoided', EncounterData, {
  action: 'VOIDED',
  classes: encCls,
  description: 'An encounter was voided.',
});
export const EncounterUnvoided = eventType('EncounterUnvoided', EncounterData, {
  action: 'UNVOIDED',
  classes: encCls,
  description: 'A voided encounter was restored.',
});

const obsCls = ['org.openmrs.Obs'] as const;
export const ObsCreated = eventType('ObsCreated', ObsData, {
  action: 'CREATED',
  classes: obsCls,
  description: 'An observation was recorded.',
});
export const ObsAmended = eventType('ObsAmended', ObsAmendedData, {
  action: 'CREATED',
  classes: obsCls,
  description: 'An observation was edited: the new obs (subject) replaces `previousObsUuid`, which was voided.',
});
export const ObsVoided = eventType('ObsVoided', ObsData, {
  action: 'VOIDED',
  classes: obsCls,
  description: 'An observation was voided.',
});
export const ObsUnvoided = eventType('ObsUnvoided', ObsData, {
  action: 'UNVOIDED',
  classes: obsCls,
  description: 'A voided observation was restored.',
});

export type VisitStarted = z.infer<typeof VisitStarted>;
export type VisitUpdated = z.infer<typeof VisitUpdated>;
export type VisitEnded = z.infer<typeof VisitEnded>;
export type VisitVoided = z.infer<typeof VisitVoided>;
export type VisitUnvoided = z.infer<typeof VisitUnvoided>;
export type EncounterCreated = z.infer<typeof EncounterCreated>;
export type EncounterUpdated = z.infer<typeof EncounterUpdated>;
export type EncounterVoided = z.infer<typeof EncounterVoided>;
export type EncounterUnvoided = z.infer<typeof EncounterUnvoided>;
export type ObsCreated = z.infer<typeof ObsCreated>;
export type ObsAmended = z.infer<typeof ObsAmended>;
export type ObsVoided = z.infer<typeof ObsVoided>;
export type ObsUnvoided = z.infer<typeof ObsUnvoided>;
