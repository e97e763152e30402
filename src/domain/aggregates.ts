/**
 * Per-aggregate event rules: which events a unit (the rows of one aggregate instance in one transaction) makes,
 * following what OpenMRS writes (SEMANTICS.md section 2). Each builder returns the unit's drafts in order, `[]` when
 * the unit changed nothing that matters, or RAW when its rows go out as RowChanged. A builder that throws sends the
 * unit's rows out as RowChanged with `data.error`.
 */
import { METADATA_TABLES, MetadataCommonFields } from './catalog/metadata.js';
import { compile, convertBySpec, convertRow, diffInto, uuidRef, type ConvertContext } from './convert.js';
import { refSpec, type RefSpec } from './references.js';
import { AGGREGATE_CLASS, TABLE_ROLES } from './tables.js';
import { flip, rootNet, type NetChange, type Unit } from './units.js';
import { draftEvent, type Draft } from './draft.js';

export type { Draft };

/** Returned by a builder whose rows are not an aggregate after all (e.g. a person who is not a patient). */
export const RAW = Symbol('raw');
export type BuildResult = Draft[] | typeof RAW;

type Changes = Record<string, { from: unknown; to: unknown }>;

/** Extra references a unit needs beyond its rows' fields. */
export const IS_PATIENT: RefSpec = refSpec('patient', 'patient_id', 'patient_id');
export const ORDER_TYPE_CLASS: RefSpec = refSpec('order_type', 'order_type_id', 'java_class_name');

/** The RefSpec of a unit's own uuid when its root row is not in the transaction. */
export function unitUuidRef(unit: Unit): RefSpec {
  if (unit.agg === 'patient') return uuidRef('person', 'person_id');
  const role = TABLE_ROLES[unit.table];
  return uuidRef(unit.table, role.key);
}

function convert(net: NetChange, ctx: ConvertContext, path: string, image: 'after' | 'before' = 'after') {
  if (image === 'after') return convertBySpec(net.role.fields, net.after ?? net.before!, ctx, path);
  // Before-images only feed `changes`: their unresolved references are not the payload's.
  return convertBySpec(net.role.fields, net.before ?? net.after!, { ...ctx, unresolved: [] }, path);
}

function ownUuid(unit: Unit, ctx: ConvertContext): string {
  const uuid = ctx.refs.get(unitUuidRef(unit), unit.id);
  if (!uuid) throw new Error(`${unit.table} ${unit.id}: its uuid is not in this transaction and not in the source`);
  return uuid;
}

function draft(
  type: string,
  openmrsclass: string,
  openmrsaction: string,
  data: Record<string, unknown>,
  patientuuid: unknown,
): Draft {
  return draftEvent(type, data.uuid as string | undefined, openmrsclass, openmrsaction, data, patientuuid);
}

function finish(data: Record<string, unknown>, ctx: ConvertContext, changes?: Changes): Record<string, unknown> {
  if (changes) data.changes = changes;
  if (ctx.unresolved.length) data.unresolved = ctx.unresolved.splice(0);
  return data;
}

/**
 * Root row plus child rows: converts everything, fills child collections, and collects `changes`.
 * `collections` are array parts (names, providers, ...); `subrows` single-object parts (drugOrder, ...).
 */
function assemble(
  unit: Unit,
  ctx: ConvertContext,
  collections: readonly string[],
  subrows: readonly string[] = [],
): { root: NetChange | undefined; data: Record<string, unknown>; changes: Changes; meaningful: boolean } {
  const root = rootNet(unit);
  const changes: Changes = {};
  let meaningful = false;
  const data: Record<string, unknown> = root ? convert(root, ctx, '') : { uuid: ownUuid(unit, ctx) };
  if (root?.op === 'update') meaningful = diffInto(convert(root, ctx, '', 'before'), data, '', changes);
  const rootInserted = root?.op === 'insert';
  for (const c of collections) data[c] = [];
  for (const net of unit.nets) {
    const part = net.role.part;
    if (net === root || part === 'root') continue;
    if (subrows.includes(part)) {
      const obj = convert(net, ctx, `${part}.`);
      data[part] = obj;
      if (net.op === 'update')
        meaningful = diffInto(convert(net, ctx, `${part}.`, 'before'), obj, `${part}.`, changes) || meaningful;
      else if (root?.op !== 'insert') {
        changes[part] = net.op === 'insert' ? { from: null, to: obj } : { from: obj, to: null };
        meaningful = true;
      }
      continue;
    }
    const obj = convert(net, ctx, `${part}.`);
    (data[part] as unknown[]).push(obj);
    if (net.op === 'update') {
      const key = `${part}.${String(obj.uuid)}`;
      meaningful = diffInto(convert(net, ctx, `${key}.`, 'before'), obj, `${key}.`, changes) || meaningful;
    } else {
      // Builders drop `changes` when the root is inserted (a Created event): skip building them then.
      if (!rootInserted)
        changes[`${part}.${String(obj.uuid)}`] =
          net.op === 'insert' ? { from: null, to: obj } : { from: obj, to: null };
      meaningful = true;
    }
  }
  return { root, data, changes, meaningful };
}

function voidVerb(net: NetChange | undefined, prefix: string): string | null {
  const v = flip(net, 'voided');
  return v === 'on' ? `${prefix}Voided` : v === 'off' ? `${prefix}Unvoided` : null;
}

const ACTION: Record<string, string> = {
  Voided: 'VOIDED',
  Unvoided: 'UNVOIDED',
  Retired: 'RETIRED',
  Unretired: 'UNRETIRED',
  Purged: 'PURGED',
  Created: 'CREATED',
  Recorded: 'CREATED',
  Placed: 'CREATED',
  Started: 'CREATED',
  Amended: 'CREATED',
  Revised: 'CREATED',
  Discontinued: 'CREATED',
};

const actions = new Map<string, string>();

/** The Event-module action of a type name (CONTRACT section 5). */
export function actionOf(type: string): string {
  let a = actions.get(type);
  if (a === undefined) actions.set(type, (a = ACTION[/[A-Z][a-z]+$/.exec(type)![0]] ?? 'UPDATED'));
  return a;
}

// ---------------------------------------------------------------------------------------------------------------

/** Patient: person + patient + names/addresses/attributes/identifiers (+ person_merge_log for merges). */
export function buildPatient(unit: Unit, ctx: ConvertContext, isPatient: boolean): BuildResult {
  let personNet: NetChange | undefined;
  let patientNet: NetChange | undefined;
  let mergeNet: NetChange | undefined;
  for (const n of unit.nets) {
    if (n.table === 'person') personNet = n;
    else if (n.table === 'patient') patientNet = n;
    else if (n.table === 'person_merge_log') mergeNet = n;
  }
  if (!patientNet && !mergeNet && !isPatient) return RAW;
  const uuid = personNet ? String((personNet.after ?? personNet.before!).uuid) : ownUuid(unit, ctx);
  const data: Record<string, unknown> = { uuid, names: [], addresses: [], attributes: [], identifiers: [] };
  const changes: Changes = {};
  let meaningful = false;
  let mergeLog: Record<string, unknown> | undefined;
  for (const net of unit.nets) {
    const part = net.role.part;
    if (part === 'person' || part === 'patient') {
      const obj = convert(net, ctx, `${part}.`);
      data[part] = obj;
      if (net.op === 'update')
        meaningful = diffInto(convert(net, ctx, `${part}.`, 'before'), obj, `${part}.`, changes) || meaningful;
      else if (net.op === 'insert' && part === 'person' && patientNet?.op !== 'insert') {
        changes.person = { from: null, to: obj };
        meaningful = true;
      }
    } else if (part === 'mergeLog') {
      mergeLog = convert(net, ctx, 'mergeLog.');
    } else {
      const obj = convert(net, ctx, `${part}.`);
      (data[part] as unknown[]).push(obj);
      const key = `${part}.${String(obj.uuid)}`;
      if (net.op === 'update')
        meaningful = diffInto(convert(net, ctx, `${key}.`, 'before'), obj, `${key}.`, changes) || meaningful;
      else {
        changes[key] = net.op === 'insert' ? { from: null, to: obj } : { from: obj, to: null };
        meaningful = true;
      }
    }
  }
  const cls = AGGREGATE_CLASS.patient;
  let type: string | null;
  if (patientNet?.op === 'insert') type = 'PatientCreated';
  else if (patientNet?.op === 'delete' || personNet?.op === 'delete') type = 'PatientPurged';
  else if (mergeNet?.op === 'insert' && mergeLog) type = 'PatientMerged';
  else type = voidVerb(patientNet, 'Patient') ?? voidVerb(personNet, 'Patient');
  if (!type && flip(personNet, 'dead') === 'on') type = 'PatientDied';
  if (!type && meaningful) type = 'PatientUpdated';
  if (!type) return [];
  if (type === 'PatientMerged') {
    data.winnerUuid = uuid;
    data.loserUuid = mergeLog!.loserUuid ?? null;
    data.mergeLog = mergeLog;
  }
  finish(data, ctx, type === 'PatientCreated' ? undefined : changes);
  return [draft(type, cls, actionOf(type), data, uuid)];
}

/** Visit: start (insert; also ended when inserted with date_stopped), end (date_stopped NULL to value), void. */
export function buildVisit(unit: Unit, ctx: ConvertContext): BuildResult {
  const { root, data, changes, meaningful } = assemble(unit, ctx, []);
  if (!root || root.op === 'delete') return RAW;
  const cls = AGGREGATE_CLASS.visit;
  const patient = data.patientUuid;
  if (root.op === 'insert') {
    finish(data, ctx);
    const out = [draft('VisitStarted', cls, 'CREATED', data, patient)];
    if (data.dateStopped != null) out.push(draft('VisitEnded', cls, 'UPDATED', data, patient));
    return out;
  }
  let type = voidVerb(root, 'Visit');
  if (!type && root.before!.date_stopped == null && root.after!.date_stopped != null) type = 'VisitEnded';
  if (!type && meaningful) type = 'VisitUpdated';
  if (!type) return [];
  return [draft(type, cls, actionOf(type), finish(data, ctx, changes), patient)];
}

/** Encounter with its encounter_provider rows. */
export function buildEncounter(unit: Unit, ctx: ConvertContext): BuildResult {
  const { root, data, changes, meaningful } = assemble(unit, ctx, ['providers']);
  if (root?.op === 'delete') return RAW;
  const cls = AGGREGATE_CLASS.encounter;
  const type =
    root?.op === 'insert'
      ? 'EncounterCreated'
      : (voidVerb(root, 'Encounter') ?? (meaningful ? 'EncounterUpdated' : null));
  if (!type) return [];
  finish(data, ctx, type === 'EncounterCreated' ? undefined : changes);
  return [draft(type, cls, actionOf(type), data, data.patientUuid)];
}

/** Obs: created, amended (insert with previous_version + void of the old one), voided, unvoided. */
export function buildObs(unit: Unit, ctx: ConvertContext): BuildResult {
  const root = rootNet(unit);
  if (!root || root.op === 'delete') return RAW;
  const cls = AGGREGATE_CLASS.obs;
  const data = convert(root, ctx, '');
  if (root.op === 'insert') {
    const prev = unit.previous && rootNet(unit.previous);
    if (prev) {
      data.previousObs = convert(prev, ctx, 'previousObs.');
      data.previousObsUuid = (data.previousObs as Record<string, unknown>).uuid;
      return [draft('ObsAmended', cls, 'CREATED', finish(data, ctx), data.personUuid)];
    }
    return [draft('ObsCreated', cls, 'CREATED', finish(data, ctx), data.personUuid)];
  }
  const changes: Changes = {};
  const meaningful = diffInto(convert(root, ctx, '', 'before'), data, '', changes);
  const type = voidVerb(root, 'Obs');
  // Obs are immutable: an in-place change other than (un)voiding (a merge moving a voided obs) has no catalog verb.
  if (!type) return meaningful ? RAW : [];
  return [draft(type, cls, actionOf(type), finish(data, ctx, changes), data.personUuid)];
}

const ORDER_SUBROWS = ['drugOrder', 'testOrder', 'referralOrder'] as const;
const ORDER_CLASSES: Record<string, string> = {
  drugOrder: 'org.openmrs.DrugOrder',
  testOrder: 'org.openmrs.TestOrder',
  referralOrder: 'org.openmrs.ReferralOrder',
};
const KNOWN_ORDER_CLASSES = new Set(['org.openmrs.Order', ...Object.values(ORDER_CLASSES)]);

/** Orders with their drug_order/test_order/referral_order row; revise/discontinue fold the stop of the previous order. */
export function buildOrder(unit: Unit, ctx: ConvertContext): BuildResult {
  const { root, data, changes, meaningful } = assemble(unit, ctx, [], ORDER_SUBROWS);
  if (!root || root.op === 'delete') return RAW;
  let cls = 'org.openmrs.Order';
  for (const s of ORDER_SUBROWS) if (data[s]) cls = ORDER_CLASSES[s];
  if (cls === 'org.openmrs.Order') {
    const typeId = (root.after ?? root.before!).order_type_id;
    const javaClass = typeof typeId === 'number' ? ctx.refs.get(ORDER_TYPE_CLASS, typeId) : null;
    if (javaClass && KNOWN_ORDER_CLASSES.has(javaClass)) cls = javaClass;
  }
  const patient = data.patientUuid;
  if (root.op === 'insert') {
    const action = String(root.after!.order_action ?? 'NEW').toUpperCase();
    let type = 'OrderPlaced';
    if ((action === 'REVISE' || action === 'DISCONTINUE') && data.previousOrderUuid) {
      type = action === 'REVISE' ? 'OrderRevised' : 'OrderDiscontinued';
      const prev = unit.previous && rootNet(unit.previous);
      if (prev) {
        const previousOrder = convert(prev, ctx, 'previousOrder.');
        data.previousOrder = previousOrder;
        const pc: Changes = {};
        diffInto(convert(prev, ctx, 'previousOrder.', 'before'), previousOrder, 'previousOrder.', pc);
        return [draft(type, cls, 'CREATED', finish(data, ctx, pc), patient)];
      }
    }
    return [draft(type, cls, 'CREATED', finish(data, ctx), patient)];
  }
  const type = voidVerb(root, 'Order') ?? (meaningful ? 'OrderUpdated' : null);
  if (!type) return [];
  return [draft(type, cls, actionOf(type), finish(data, ctx, changes), patient)];
}

/** Allergy with its allergy_reaction rows. */
export function buildAllergy(unit: Unit, ctx: ConvertContext): BuildResult {
  const { root, data, changes, meaningful } = assemble(unit, ctx, ['reactions']);
  if (root?.op === 'delete') return RAW;
  const cls = AGGREGATE_CLASS.allergy;
  const type =
    root?.op === 'insert' ? 'AllergyRecorded' : (voidVerb(root, 'Allergy') ?? (meaningful ? 'AllergyUpdated' : null));
  if (!type) return [];
  finish(data, ctx, type === 'AllergyRecorded' ? undefined : changes);
  return [draft(type, cls, actionOf(type), data, data.patientUuid)];
}

/** Conditions are versioned like obs: an edit is a new row with previous_version plus a void of the old row. */
export function buildCondition(unit: Unit, ctx: ConvertContext): BuildResult {
  const root = rootNet(unit);
  if (!root || root.op === 'delete') return RAW;
  const cls = AGGREGATE_CLASS.condition;
  const data = convert(root, ctx, '');
  if (root.op === 'insert') {
    const prev = unit.previous && rootNet(unit.previous);
    if (prev) {
      const old = convert(prev, ctx, 'previousCondition.', 'before');
      const changes: Changes = {};
      diffInto(old, data, '', changes, REPLACEMENT_SKIP);
      data.previousConditionUuid = old.uuid;
      return [draft('ConditionUpdated', cls, 'UPDATED', finish(data, ctx, changes), data.patientUuid)];
    }
    return [draft('ConditionRecorded', cls, 'CREATED', finish(data, ctx), data.patientUuid)];
  }
  const changes: Changes = {};
  const meaningful = diffInto(convert(root, ctx, '', 'before'), data, '', changes);
  const type = voidVerb(root, 'Condition') ?? (meaningful ? 'ConditionUpdated' : null);
  if (!type) return [];
  if (type === 'ConditionUpdated') data.previousConditionUuid = null;
  return [draft(type, cls, actionOf(type), finish(data, ctx, changes), data.patientUuid)];
}

/** Fields that always differ between a replaced row and its replacement and say nothing about the change. */
const REPLACEMENT_SKIP = new Set([
  'uuid',
  'previousVersionUuid',
  'creatorUuid',
  'dateCreated',
  'changedByUuid',
  'dateChanged',
]);

/** encounter_diagnosis, updated in place. */
export function buildDiagnosis(unit: Unit, ctx: ConvertContext): BuildResult {
  const { root, data, changes, meaningful } = assemble(unit, ctx, []);
  if (!root || root.op === 'delete') return RAW;
  const cls = AGGREGATE_CLASS.diagnosis;
  const type =
    root.op === 'insert'
      ? 'DiagnosisRecorded'
      : (voidVerb(root, 'Diagnosis') ?? (meaningful ? 'DiagnosisUpdated' : null));
  if (!type) return [];
  finish(data, ctx, root.op === 'insert' ? undefined : changes);
  return [draft(type, cls, actionOf(type), data, data.patientUuid)];
}

/** patient_program with its patient_state rows; completion is date_completed NULL to value. */
export function buildProgram(unit: Unit, ctx: ConvertContext): BuildResult {
  const { root, data, changes, meaningful } = assemble(unit, ctx, ['states']);
  if (root?.op === 'delete') return RAW;
  const cls = AGGREGATE_CLASS.program;
  let type: string | null;
  if (root?.op === 'insert') type = 'ProgramEnrollmentCreated';
  else {
    type = voidVerb(root, 'ProgramEnrollment');
    if (!type && root && root.before!.date_completed == null && root.after!.date_completed != null)
      type = 'ProgramEnrollmentCompleted';
    if (!type && meaningful) type = 'ProgramEnrollmentUpdated';
  }
  if (!type) return [];
  finish(data, ctx, type === 'ProgramEnrollmentCreated' ? undefined : changes);
  return [draft(type, cls, actionOf(type), data, data.patientUuid)];
}

/** Metadata tables: created, updated, retired, unretired, purged. */
export function buildMetadata(unit: Unit, ctx: ConvertContext): BuildResult {
  const root = unit.nets[0];
  const meta = METADATA_TABLES[unit.table];
  const common = compile(MetadataCommonFields);
  const props = compile(meta.properties);
  const img = root.after ?? root.before!;
  const data: Record<string, unknown> = { kind: meta.kind, table: unit.table, ...convertRow(common, img, ctx, '') };
  data.properties = convertRow(props, img, ctx, 'properties.');
  const cls = `org.openmrs.${meta.kind}`;
  let type: string | null;
  const changes: Changes = {};
  if (root.op === 'insert') type = 'MetadataCreated';
  else if (root.op === 'delete') type = 'MetadataPurged';
  else {
    const scratch = { ...ctx, unresolved: [] };
    let meaningful = diffInto(convertRow(common, root.before!, scratch, ''), data, '', changes, METADATA_SKIP);
    const beforeProps = convertRow(props, root.before!, scratch, 'properties.');
    meaningful =
      diffInto(beforeProps, data.properties as Record<string, unknown>, 'properties.', changes) || meaningful;
    const r = flip(root, 'retired');
    type = r === 'on' ? 'MetadataRetired' : r === 'off' ? 'MetadataUnretired' : meaningful ? 'MetadataUpdated' : null;
  }
  if (!type) return [];
  finish(data, ctx, root.op === 'update' ? changes : undefined);
  return [draft(type, cls, actionOf(type), data, undefined)];
}

const METADATA_SKIP = new Set(['kind', 'table', 'properties']);
