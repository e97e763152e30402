/**
 * Allergy (with `allergy_reaction`), Condition, Diagnosis (`encounter_diagnosis`) and Program enrollment
 * (`patient_program` with `patient_state`) aggregates.
 */
import { z } from 'zod';
import { Changes, dataAudit, f, shapeOf, Unresolved, type FieldSpec } from './fields.js';
import { eventType } from './envelope.js';

export const AllergyFields = {
  uuid: f.uuid(),
  patientUuid: f.ref('patient_id', 'person'),
  allergenType: f.str('allergen_type', 'DRUG, FOOD, ENVIRONMENT, OTHER'),
  codedAllergenUuid: f.ref('coded_allergen', 'concept'),
  nonCodedAllergen: f.str('non_coded_allergen'),
  severityUuid: f.ref('severity_concept_id', 'concept'),
  comments: f.str('comments'),
  encounterUuid: f.ref('encounter_id', 'encounter'),
  formNamespaceAndPath: f.str('form_namespace_and_path'),
  ...dataAudit,
} satisfies FieldSpec;

export const AllergyReactionFields = {
  uuid: f.uuid(),
  reactionUuid: f.ref('reaction_concept_id', 'concept'),
  reactionNonCoded: f.str('reaction_non_coded'),
} satisfies FieldSpec;

export const ConditionFields = {
  uuid: f.uuid(),
  patientUuid: f.ref('patient_id', 'person'),
  conditionCodedUuid: f.ref('condition_coded', 'concept'),
  conditionCodedNameUuid: f.ref('condition_coded_name', 'concept_name'),
  conditionNonCoded: f.str('condition_non_coded'),
  clinicalStatus: f.str('clinical_status', 'ACTIVE, INACTIVE, RECURRENCE, RELAPSE, REMISSION, RESOLVED, HISTORY_OF'),
  verificationStatus: f.str('verification_status'),
  onsetDate: f.datetime('onset_date'),
  endDate: f.datetime('end_date'),
  additionalDetail: f.str('additional_detail'),
  previousVersionUuid: f.ref('previous_version', 'conditions'),
  encounterUuid: f.ref('encounter_id', 'encounter'),
  formNamespaceAndPath: f.str('form_namespace_and_path'),
  ...dataAudit,
} satisfies FieldSpec;

export const DiagnosisFields = {
  uuid: f.uuid(),
  patientUuid: f.ref('patient_id', 'person'),
  encounterUuid: f.ref('encounter_id', 'encounter'),
  diagnosisCodedUuid: f.ref('diagnosis_coded', 'concept'),
  diagnosisCodedNameUuid: f.ref('diagnosis_coded_name', 'concept_name'),
  diagnosisNonCoded: f.str('diagnosis_non_coded'),
  conditionUuid: f.ref('condition_id', 'conditions'),
  certainty: f.str('certainty', 'PROVISIONAL or CONFIRMED'),
  rank: f.int('dx_rank'),
  formNamespaceAndPath: f.str('form_namespace_and_path'),
  ...dataAudit,
} satisfies FieldSpec;

export const PatientProgramFields = {
  uuid: f.uuid(),
  patientUuid: f.ref('patient_id', 'person'),
  programUuid: f.ref('program_id', 'program'),
  dateEnrolled: f.datetime('date_enrolled'),
  dateCompleted: f.datetime('date_completed'),
  locationUuid: f.ref('location_id', 'location'),
  outcomeConceptUuid: f.ref('outcome_concept_id', 'concept'),
  ...dataAudit,
} satisfies FieldSpec;

export const PatientStateFields = {
  uuid: f.uuid(),
  stateUuid: f.ref('state', 'program_workflow_state'),
  startDate: f.date('start_date'),
  endDate: f.date('end_date'),
  encounterUuid: f.ref('encounter_id', 'encounter'),
  formNamespaceAndPath: f.str('form_namespace_and_path'),
  ...dataAudit,
} satisfies FieldSpec;

export const AllergyReaction = z.object(shapeOf(AllergyReactionFields)).meta({ id: 'AllergyReaction' });
export const PatientState = z.object(shapeOf(PatientStateFields)).meta({ id: 'PatientState' });

const allergyShape = {
  ...shapeOf(AllergyFields),
  reactions: z.array(AllergyReaction).describe('the `allergy_reaction` rows the transaction wrote'),
  unresolved: Unresolved.optional(),
};
export const AllergyData = z.object({ ...allergyShape, changes: Changes.optional() });
export const AllergyUpdatedData = z
  .object(shapeOf(AllergyFields))
  .partial()
  .extend({
    uuid: z.string().min(1),
    reactions: z.array(AllergyReaction),
    unresolved: Unresolved.optional(),
    changes: Changes,
  });

const conditionShape = { ...shapeOf(ConditionFields), unresolved: Unresolved.optional() };
export const ConditionData = z.object({ ...conditionShape, changes: Changes.optional() });
export const ConditionUpdatedData = z.object({
  ...conditionShape,
  changes: Changes,
  previousConditionUuid: z
    .string()
    .nullable()
    .describe('when the condition was edited by replacement: the voided condition this one replaces; else null'),
});

const diagnosisShape = { ...shapeOf(DiagnosisFields), unresolved: Unresolved.optional() };
export const DiagnosisData = z.object({ ...diagnosisShape, changes: Changes.optional() });
export const DiagnosisUpdatedData = z.object({ ...diagnosisShape, changes: Changes });

const programShape = {
  ...shapeOf(PatientProgramFields),
  states: z.array(PatientState).describe('the `patient_state` rows the transaction wrote'),
  unresolved: Unresolved.optional(),
};
export const ProgramEnrollmentData = z.object({ ...programShape, changes: Changes.optional() });
export const ProgramEnrollmentUpdatedData = z
  .object(shapeOf(PatientProgramFields))
  .partial()
  .extend({
    uuid: z.string().min(1),
    states: z.array(PatientState),
    unresolved: Unresolved.optional(),
    changes: Changes,
  });

const allergyCls = ['org.openmrs.Allergy'] as const;
export const AllergyRecorded = eventType('AllergyRecorded', AllergyData, {
  action: 'CREATED',
  classes: allergyCls,
  description: 'An allergy was recorded (with its reactions).',
});
export const AllergyUpdated = eventType('AllergyUpdated', AllergyUpdatedData, {
  action: 'UPDATED',
  classes: allergyCls,
  description: 'An allergy or its reactions changed.',
});
export const AllergyVoided = eventType('AllergyVoided', AllergyData, {
  action: 'VOIDED',
  classes: allergyCls,
  description: 'An allergy was voided.',
});
export const AllergyUnvoided = eventType('AllergyUnvoided', AllergyData, {
  action: 'UNVOIDED',
  classes: allergyCls,
  description: 'A voided allergy was restored.',
});

const condCls = ['org.openmrs.Condition'] as const;
export const ConditionRecorded = eventType('ConditionRecorded', ConditionData, {
  action: 'CREATED',
  classes: condCls,
  description: 'A condition was recorded.',
});
export const ConditionUpdated = eventType('ConditionUpdated', ConditionUpdatedData, {
  action: 'UPDATED',
  classes: condCls,
  description:
    'A condition changed: in place, or by replacement (new condition, the subject, with `previous_version` plus a void of the old one).',
});
export const ConditionVoided = eventType('ConditionVoided', ConditionData, {
  action: 'VOIDED',
  classes: condCls,
  description: 'A condition was voided (removed).',
});
export const ConditionUnvoided = eventType('ConditionUnvoided', ConditionData, {
  action: 'UNVOIDED',
  classes: condCls,
  description: 'A voided condition was restored.',
});

const dxCls = ['org.openmrs.Diagnosis'] as const;
export const DiagnosisRecorded = eventType('DiagnosisRecorded', DiagnosisData, {
  action: 'CREATED',
  classes: dxCls,
  description: 'An encounter diagnosis was recorded.',
});
export const DiagnosisUpdated = eventType('DiagnosisUpdated', DiagnosisUpdatedData, {
  action: 'UPDATED',
  classes: dxCls,
  description: 'An encounter diagnosis changed (certainty, rank, ...).',
});
export const DiagnosisVoided = eventType('DiagnosisVoided', DiagnosisData, {
  action: 'VOIDED',
  classes: dxCls,
  description: 'An encounter diagnosis was voided.',
});
export const DiagnosisUnvoided = eventType('DiagnosisUnvoided', DiagnosisData, {
  action: 'UNVOIDED',
  classes: dxCls,
  description: 'A voided encounter diagnosis was restored.',
});

const progCls = ['org.openmrs.PatientProgram'] as const;
export const ProgramEnrollmentCreated = eventType('ProgramEnrollmentCreated', ProgramEnrollmentData, {
  action: 'CREATED',
  classes: progCls,
  description: 'A patient was enrolled in a program (with initial states).',
});
export const ProgramEnrollmentUpdated = eventType('ProgramEnrollmentUpdated', ProgramEnrollmentUpdatedData, {
  action: 'UPDATED',
  classes: progCls,
  description: 'An enrollment or its states changed (state transitions included).',
});
export const ProgramEnrollmentCompleted = eventType('ProgramEnrollmentCompleted', ProgramEnrollmentData, {
  action: 'UPDATED',
  classes: progCls,
  description: '`date_completed` went from NULL to a value.',
});
export const ProgramEnrollmentVoided = eventType('ProgramEnrollmentVoided', ProgramEnrollmentData, {
  action: 'VOIDED',
  classes: progCls,
  description: 'An enrollment was voided.',
});
export const ProgramEnrollmentUnvoided = eventType('ProgramEnrollmentUnvoided', ProgramEnrollmentData, {
  action: 'UNVOIDED',
  classes: progCls,
  description: 'A voided enrollment was restored.',
});

export type AllergyRecorded = z.infer<typeof AllergyRecorded>;
export type AllergyUpdated = z.infer<typeof AllergyUpdated>;
export type AllergyVoided = z.infer<typeof AllergyVoided>;
export type AllergyUnvoided = z.infer<typeof AllergyUnvoided>;
export type ConditionRecorded = z.infer<typeof ConditionRecorded>;
export type ConditionUpdated = z.infer<typeof ConditionUpdated>;
export type ConditionVoided = z.infer<typeof ConditionVoided>;
export type ConditionUnvoided = z.infer<typeof ConditionUnvoided>;
export type DiagnosisRecorded = z.infer<typeof DiagnosisRecorded>;
export type DiagnosisUpdated = z.infer<typeof DiagnosisUpdated>;
export type DiagnosisVoided = z.infer<typeof DiagnosisVoided>;
export type DiagnosisUnvoided = z.infer<typeof DiagnosisUnvoided>;
export type ProgramEnrollmentCreated = z.infer<typeof ProgramEnrollmentCreated>;
export type ProgramEnrollmentUpdated = z.infer<typeof ProgramEnrollmentUpdated>;
export type ProgramEnrollmentCompleted = z.infer<typeof ProgramEnrollmentCompleted>;
export type ProgramEnrollmentVoided = z.infer<typeof ProgramEnrollmentVoided>;
export type ProgramEnrollmentUnvoided = z.infer<typeof ProgramEnrollmentUnvoided>;
