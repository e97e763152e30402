/**
 * The event catalog (CONTRACT section 5): every event type's zod schema, its routing parts and the union of all.
 */
import { z } from 'zod';
import type { EventTypeInfo, OpenmrsAction } from './envelope.js';
import * as patient from './patient.js';
import * as encounter from './encounter.js';
import * as order from './order.js';
import * as clinical from './clinical.js';
import * as metadata from './metadata.js';
import { RowChanged } from './row.js';

export * from './fields.js';
export * from './envelope.js';
export * from './patient.js';
export * from './encounter.js';
export * from './order.js';
export * from './clinical.js';
export * from './metadata.js';
export * from './row.js';

type Def = [schema: z.ZodType, aggregate: string, action: string];

/** Catalog order: the order of CONTRACT section 5. */
const DEFS: Record<string, Def> = {
  PatientCreated: [patient.PatientCreated, 'patient', 'created'],
  PatientUpdated: [patient.PatientUpdated, 'patient', 'updated'],
  PatientVoided: [patient.PatientVoided, 'patient', 'voided'],
  PatientUnvoided: [patient.PatientUnvoided, 'patient', 'unvoided'],
  PatientDied: [patient.PatientDied, 'patient', 'died'],
  PatientMerged: [patient.PatientMerged, 'patient', 'merged'],
  PatientPurged: [patient.PatientPurged, 'patient', 'purged'],
  VisitStarted: [encounter.VisitStarted, 'visit', 'started'],
  VisitUpdated: [encounter.VisitUpdated, 'visit', 'updated'],
  VisitEnded: [encounter.VisitEnded, 'visit', 'ended'],
  VisitVoided: [encounter.VisitVoided, 'visit', 'voided'],
  VisitUnvoided: [encounter.VisitUnvoided, 'visit', 'unvoided'],
  EncounterCreated: [encounter.EncounterCreated, 'encounter', 'created'],
  EncounterUpdated: [encounter.EncounterUpdated, 'encounter', 'updated'],
  EncounterVoided: [encounter.EncounterVoided, 'encounter', 'voided'],
  EncounterUnvoided: [encounter.EncounterUnvoided, 'encounter', 'unvoided'],
  ObsCreated: [encounter.ObsCreated, 'obs', 'created'],
  ObsAmended: [encounter.ObsAmended, 'obs', 'amended'],
  ObsVoided: [encounter.ObsVoided, 'obs', 'voided'],
  ObsUnvoided: [encounter.ObsUnvoided, 'obs', 'unvoided'],
  OrderPlaced: [order.OrderPlaced, 'order', 'placed'],
  OrderUpdated: [order.OrderUpdated, 'order', 'updated'],
  OrderRevised: [order.OrderRevised, 'order', 'revised'],
  OrderDiscontinued: [order.OrderDiscontinued, 'order', 'discontinued'],
  OrderVoided: [order.OrderVoided, 'order', 'voided'],
  OrderUnvoided: [order.OrderUnvoided, 'order', 'unvoided'],
  AllergyRecorded: [clinical.AllergyRecorded, 'allergy', 'recorded'],
  AllergyUpdated: [clinical.AllergyUpdated, 'allergy', 'updated'],
  AllergyVoided: [clinical.AllergyVoided, 'allergy', 'voided'],
  AllergyUnvoided: [clinical.AllergyUnvoided, 'allergy', 'unvoided'],
  ConditionRecorded: [clinical.ConditionRecorded, 'condition', 'recorded'],
  ConditionUpdated: [clinical.ConditionUpdated, 'condition', 'updated'],
  ConditionVoided: [clinical.ConditionVoided, 'condition', 'voided'],
  ConditionUnvoided: [clinical.ConditionUnvoided, 'condition', 'unvoided'],
  DiagnosisRecorded: [clinical.DiagnosisRecorded, 'diagnosis', 'recorded'],
  DiagnosisUpdated: [clinical.DiagnosisUpdated, 'diagnosis', 'updated'],
  DiagnosisVoided: [clinical.DiagnosisVoided, 'diagnosis', 'voided'],
  DiagnosisUnvoided: [clinical.DiagnosisUnvoided, 'diagnosis', 'unvoided'],
  ProgramEnrollmentCreated: [clinical.ProgramEnrollmentCreated, 'program-enrollment', 'created'],
  ProgramEnrollmentUpdated: [clinical.ProgramEnrollmentUpdated, 'program-enrollment', 'updated'],
  ProgramEnrollmentCompleted: [clinical.ProgramEnrollmentCompleted, 'program-enrollment', 'completed'],
  ProgramEnrollmentVoided: [clinical.ProgramEnrollmentVoided, 'program-enrollment', 'voided'],
  ProgramEnrollmentUnvoided: [clinical.ProgramEnrollmentUnvoided, 'program-enrollment', 'unvoided'],
  MetadataCreated: [metadata.MetadataCreated, 'metadata', 'created'],
  MetadataUpdated: [metadata.MetadataUpdated, 'metadata', 'updated'],
  MetadataRetired: [metadata.MetadataRetired, 'metadata', 'retired'],
  MetadataUnretired: [metadata.MetadataUnretired, 'metadata', 'unretired'],
  MetadataPurged: [metadata.MetadataPurged, 'metadata', 'purged'],
  RowChanged: [RowChanged, 'row', '*'],
};

function info(type: string, [schema, aggregate, action]: Def): EventTypeInfo {
  const shape = (schema as z.ZodObject).shape as Record<string, z.ZodType>;
  const actionSchema = shape.openmrsaction;
  const classSchema = shape.openmrsclass;
  const fixedAction = actionSchema instanceof z.ZodLiteral ? (actionSchema.value as OpenmrsAction) : null;
  const classes =
    classSchema instanceof z.ZodLiteral
      ? [String(classSchema.value)]
      : classSchema instanceof z.ZodEnum
        ? (classSchema.options as string[])
        : ['org.openmrs.*'];
  const meta = z.globalRegistry.get(schema);
  return {
    type,
    aggregate,
    action,
    openmrsaction: fixedAction,
    classes,
    description: String(meta?.description ?? ''),
    schema,
    data: shape.data,
  };
}

/** Every catalog type, in catalog order. */
export const EVENT_TYPES: readonly EventTypeInfo[] = Object.entries(DEFS).map(([type, def]) => info(type, def));

const BY_TYPE = new Map(EVENT_TYPES.map((t) => [t.type, t]));

/** The catalog entry of a type name, or undefined for a name not in the catalog. */
export function eventTypeInfo(type: string): EventTypeInfo | undefined {
  return BY_TYPE.get(type);
}

/** The names of all catalog types. */
export const EVENT_TYPE_NAMES: readonly string[] = EVENT_TYPES.map((t) => t.type);

/** Any catalog event, discriminated by `type`. */
export const OpenmrsEvent = z.discriminatedUnion('type', [
  patient.PatientCreated,
  patient.PatientUpdated,
  patient.PatientVoided,
  patient.PatientUnvoided,
  patient.PatientDied,
  patient.PatientMerged,
  patient.PatientPurged,
  encounter.VisitStarted,
  encounter.VisitUpdated,
  encounter.VisitEnded,
  encounter.VisitVoided,
  encounter.VisitUnvoided,
  encounter.EncounterCreated,
  encounter.EncounterUpdated,
  encounter.EncounterVoided,
  encounter.EncounterUnvoided,
  encounter.ObsCreated,
  encounter.ObsAmended,
  encounter.ObsVoided,
  encounter.ObsUnvoided,
  order.OrderPlaced,
  order.OrderUpdated,
  order.OrderRevised,
  order.OrderDiscontinued,
  order.OrderVoided,
  order.OrderUnvoided,
  clinical.AllergyRecorded,
  clinical.AllergyUpdated,
  clinical.AllergyVoided,
  clinical.AllergyUnvoided,
  clinical.ConditionRecorded,
  clinical.ConditionUpdated,
  clinical.ConditionVoided,
  clinical.ConditionUnvoided,
  clinical.DiagnosisRecorded,
  clinical.DiagnosisUpdated,
  clinical.DiagnosisVoided,
  clinical.DiagnosisUnvoided,
  clinical.ProgramEnrollmentCreated,
  clinical.ProgramEnrollmentUpdated,
  clinical.ProgramEnrollmentCompleted,
  clinical.ProgramEnrollmentVoided,
  clinical.ProgramEnrollmentUnvoided,
  metadata.MetadataCreated,
  metadata.MetadataUpdated,
  metadata.MetadataRetired,
  metadata.MetadataUnretired,
  metadata.MetadataPurged,
  RowChanged,
]);
/** Any catalog event. */
export type OpenmrsEvent = z.infer<typeof OpenmrsEvent>;
