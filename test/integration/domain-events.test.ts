/**
 * Domain events end to end: the statements OpenMRS issues (demo/openmrs) against the real 2.6.4 core schema in a
 * throwaway MariaDB, read back from the binlog by the capture engine, mapped by the EventMapper.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CountingMetrics,
  EventMapper,
  MysqlReferenceLookup,
  type BridgeEvent,
  type TransactionEvents,
} from '../../src/domain/index.js';
import { BinlogTap, startOpenmrs, type OpenmrsDb } from '../support/openmrs.js';
import { validateEvent } from '../support/validate-event.js';
import { OpenmrsActions } from '../../demo/openmrs/actions.js';

let db: OpenmrsDb;
let tap: BinlogTap;
let mapper: EventMapper;
const metrics = new CountingMetrics();
let validated = 0;

/** Runs an action, maps the transactions it committed, validates every event. */
async function run<T>(fn: () => Promise<T>): Promise<{ result: T; txs: TransactionEvents[]; events: BridgeEvent[] }> {
  const { result, txs } = await tap.capture(fn);
  const mapped: TransactionEvents[] = [];
  for (const tx of txs) mapped.push(await mapper.map(tx));
  const events = mapped.flatMap((t) => t.events);
  for (const e of events) {
    validateEvent(e);
    validated++;
  }
  return { result, txs: mapped, events };
}

const types = (events: BridgeEvent[]) => events.map((e) => e.type);

beforeAll(async () => {
  db = await startOpenmrs({ actions: { orderNumberSeed: 'same' } });
  tap = await BinlogTap.open(db.server, { schemas: [db.schema] });
  mapper = new EventMapper({
    site: 'clinic-a',
    schema: db.schema,
    timeZone: 'UTC',
    lookup: new MysqlReferenceLookup(db.pool, db.schema),
    metrics,
  });
});

afterAll(async () => {
  tap?.close();
  await db?.stop();
});

describe('patients', () => {
  it('registering a patient (2 names, address, attribute, 2 identifiers) is one PatientCreated holding all of them', async () => {
    const { result: p, txs, events } = await run(() => db.om.registerPatient());
    expect(txs).toHaveLength(1);
    expect(events).toHaveLength(1);
    const [e] = events;
    expect(e).toMatchObject({
      type: 'PatientCreated',
      subject: p.patientUuid,
      patientuuid: p.patientUuid,
      openmrsclass: 'org.openmrs.Patient',
      openmrsaction: 'CREATED',
      txseq: 1,
      txsize: 1,
      txid: txs[0].txid,
      id: `clinic-a:${txs[0].txid}:1`,
      source: 'openmrs://clinic-a',
    });
    const d = e.data as any;
    expect(d.person).toMatchObject({ uuid: p.patientUuid, gender: 'F', birthdate: '1990-04-12', dead: false });
    expect(d.patient).toMatchObject({
      allergyStatus: 'Unknown',
      voided: false,
      creatorUuid: '82f18b44-6814-11e8-923f-e9a88dcb533f',
    });
    expect(d.names.map((n: any) => [n.uuid, n.givenName, n.preferred])).toEqual([
      [p.nameUuids[0], 'Amina', true],
      [p.nameUuids[1], 'Mina', false],
    ]);
    expect(d.addresses.map((a: any) => a.uuid)).toEqual(p.addressUuids);
    expect(d.attributes.map((a: any) => [a.uuid, a.attributeTypeUuid])).toEqual([
      [p.attributeUuids[0], '8d8718c2-c2cc-11de-8d13-0010c6dffd0f'],
    ]);
    expect(d.identifiers.map((i: any) => [i.uuid, i.identifierTypeUuid, i.locationUuid])).toEqual([
      [p.identifierUuids[0], '8d79403a-c2cc-11de-8d13-0010c6dffd0f', 'b1d9e000-0000-4000-8000-000000000001'],
      [p.identifierUuids[1], '8d79403a-c2cc-11de-8d13-0010c6dffd0f', 'b1d9e000-0000-4000-8000-000000000001'],
    ]);
    expect(d.changes).toBeUndefined();
  });

  it('promoting an existing person is one PatientCreated (a person alone is not a patient: RowChanged)', async () => {
    const { result: person, events: personEvents } = await run(() => db.om.createPerson());
    expect(personEvents.map((e) => [e.type, e.data.table, e.data.error])).toEqual([
      ['RowChanged', 'person', undefined],
      ['RowChanged', 'person_name', undefined],
    ]);
    const { result, events } = await run(() => db.om.promotePersonToPatient(person.personId));
    expect(types(events)).toEqual(['PatientCreated']);
    expect(events[0].subject).toBe(person.personUuid);
    expect((events[0].data as any).identifiers.map((i: any) => i.uuid)).toEqual([result.identifierUuid]);
    expect((events[0].data as any).person).toBeUndefined();
  });

  it('editing a name and adding an identifier are PatientUpdated with changes; marking dead is PatientDied', async () => {
    const { result: p } = await run(() => db.om.registerPatient());
    const { events: edit } = await run(() => db.om.editName(p.nameIds[0], { familyName: 'Odhiambo' }));
    expect(types(edit)).toEqual(['PatientUpdated']);
    expect(edit[0].subject).toBe(p.patientUuid);
    const changes = edit[0].data.changes as Record<string, { from: unknown; to: unknown }>;
    expect(changes[`names.${p.nameUuids[0]}.familyName`]).toEqual({ from: 'Otieno', to: 'Odhiambo' });
    expect(Object.keys(changes).sort()).toEqual(
      [
        `names.${p.nameUuids[0]}.familyName`,
        `names.${p.nameUuids[0]}.changedByUuid`,
        `names.${p.nameUuids[0]}.dateChanged`,
      ].sort(),
    );
    const { result: idf, events: add } = await run(() => db.om.addIdentifier(p.patientId, 'EXT-42'));
    expect(types(add)).toEqual(['PatientUpdated']);
    expect(add[0].data.changes).toEqual({
      [`identifiers.${idf.identifierUuid}`]: {
        from: null,
        to: expect.objectContaining({ uuid: idf.identifierUuid, identifier: 'EXT-42' }),
      },
    });
    const { events: touch } = await run(() => db.om.touchPerson(p.patientId));
    expect(touch).toEqual([]);
    const { events: dead } = await run(() => db.om.markDead(p.patientId, { deathDate: '2026-11-28 06:30:00' }));
    expect(types(dead)).toEqual(['PatientDied']);
    expect(dead[0]).toMatchObject({ openmrsaction: 'UPDATED', patientuuid: p.patientUuid });
    expect((dead[0].data as any).person).toMatchObject({
      dead: true,
      deathDate: '2026-11-28T06:30:00Z',
      causeOfDeathUuid: 'b1d9e000-0000-4000-8000-000000000106',
    });
    expect((dead[0].data.changes as any)['person.dead']).toEqual({ from: false, to: true });
  });
});

describe('visits, encounters, obs', () => {
  it('start visit, encounter with 5 obs (group members after the group), edit one, void another, end visit', async () => {
    const { result: p } = await run(() => db.om.registerPatient());
    const { result: v, events: started } = await run(() => db.om.startVisit(p.patientId));
    expect(started.map((e) => [e.type, e.subject, e.patientuuid])).toEqual([
      ['VisitStarted', v.visitUuid, p.patientUuid],
    ]);

    const { result: enc, events: created } = await run(() => db.om.createEncounter(p.patientId, v.visitId));
    const o = enc.obs;
    expect(created.map((e) => [e.type, e.subject, e.txseq, e.txsize])).toEqual([
      ['EncounterCreated', enc.encounterUuid, 1, 6],
      ['ObsCreated', o.weight.obsUuid, 2, 6],
      ['ObsCreated', o.height.obsUuid, 3, 6],
      ['ObsCreated', o.group.obsUuid, 4, 6],
      ['ObsCreated', o.temperature.obsUuid, 5, 6],
      ['ObsCreated', o.note.obsUuid, 6, 6],
    ]);
    expect(created[0].data).toMatchObject({
      visitUuid: v.visitUuid,
      patientUuid: p.patientUuid,
      encounterTypeUuid: 'b1d9e000-0000-4000-8000-000000000011',
    });
    expect((created[0].data as any).providers.map((x: any) => [x.uuid, x.providerUuid])).toEqual([
      [enc.encounterProviderUuid, 'b1d9e000-0000-4000-8000-000000000021'],
    ]);
    expect(created[4].data).toMatchObject({
      obsGroupUuid: o.group.obsUuid,
      encounterUuid: enc.encounterUuid,
      valueNumeric: 37.2,
      conceptUuid: 'b1d9e000-0000-4000-8000-000000000103',
    });
    expect(new Set(created.slice(1).map((e) => e.patientuuid))).toEqual(new Set([p.patientUuid]));

    const { result: amended, events: edit } = await run(() => db.om.editObs(o.weight.obsId, { valueNumeric: 63 }));
    expect(edit.map((e) => [e.type, e.subject, e.openmrsaction])).toEqual([['ObsAmended', amended.obsUuid, 'CREATED']]);
    expect(edit[0].data).toMatchObject({
      previousObsUuid: o.weight.obsUuid,
      previousVersionUuid: o.weight.obsUuid,
      valueNumeric: 63,
      status: 'AMENDED',
    });
    expect((edit[0].data as any).previousObs).toMatchObject({
      uuid: o.weight.obsUuid,
      voided: true,
      voidReason: 'Replaced with a new one because it was changed',
    });

    const { events: voided } = await run(() => db.om.voidObs(o.height.obsId));
    expect(voided.map((e) => [e.type, e.subject])).toEqual([['ObsVoided', o.height.obsUuid]]);
    expect((voided[0].data.changes as any).voided).toEqual({ from: false, to: true });

    const { events: ended } = await run(() => db.om.endVisit(v.visitId, '2026-11-29 17:00:00'));
    expect(ended.map((e) => [e.type, e.subject, e.openmrsaction])).toEqual([['VisitEnded', v.visitUuid, 'UPDATED']]);
    expect(ended[0].data).toMatchObject({ dateStopped: '2026-11-29T17:00:00Z' });
    expect((ended[0].data.changes as any).dateStopped).toEqual({ from: null, to: '2026-11-29T17:00:00Z' });
  });

  it('a visit entered retrospectively (inserted with both dates) is VisitStarted + VisitEnded', async () => {
    const { result: p } = await run(() => db.om.registerPatient());
    const { events } = await run(() =>
      db.om.startVisit(p.patientId, { started: '2026-11-01 08:00:00', stopped: '2026-11-01 09:00:00' }),
    );
    expect(events.map((e) => [e.type, e.txseq, e.txsize])).toEqual([
      ['VisitStarted', 1, 2],
      ['VisitEnded', 2, 2],
    ]);
  });
});

describe('orders', () => {
  it('place, revise, discontinue: OrderPlaced, OrderRevised, OrderDiscontinued; the order-number seed makes nothing', async () => {
    const { result: p } = await run(() => db.om.registerPatient());
    const { result: v } = await run(() => db.om.startVisit(p.patientId));
    const { result: enc } = await run(() => db.om.createEncounter(p.patientId, v.visitId));
    const { result: placed, txs, events } = await run(() => db.om.placeDrugOrder(p.patientId, enc.encounterId));
    // The seed update is inside the order's transaction here (orderNumberSeed: 'same'), and is dropped.
    expect(txs).toHaveLength(1);
    expect(events.map((e) => [e.type, e.subject, e.openmrsclass, e.txsize])).toEqual([
      ['OrderPlaced', placed.orderUuid, 'org.openmrs.DrugOrder', 1],
    ]);
    expect(events[0].data).toMatchObject({
      orderNumber: placed.orderNumber,
      orderAction: 'NEW',
      encounterUuid: enc.encounterUuid,
      patientUuid: p.patientUuid,
    });
    expect((events[0].data as any).drugOrder).toMatchObject({
      drugUuid: 'b1d9e000-0000-4000-8000-000000000030',
      dose: 500,
    });

    const { result: revised, events: rev } = await run(() => db.om.reviseOrder(placed.orderId, { dose: 1000 }));
    expect(rev.map((e) => [e.type, e.subject, e.openmrsaction])).toEqual([
      ['OrderRevised', revised.orderUuid, 'CREATED'],
    ]);
    expect(rev[0].data).toMatchObject({ previousOrderUuid: placed.orderUuid, orderAction: 'REVISE' });
    expect((rev[0].data as any).drugOrder.dose).toBe(1000);
    expect((rev[0].data as any).previousOrder).toMatchObject({ uuid: placed.orderUuid });
    expect((rev[0].data as any).previousOrder.dateStopped).not.toBeNull();

    const { result: dc, events: disc } = await run(() => db.om.discontinueOrder(revised.orderId));
    expect(disc.map((e) => [e.type, e.subject, e.openmrsclass])).toEqual([
      ['OrderDiscontinued', dc.orderUuid, 'org.openmrs.DrugOrder'],
    ]);
    expect(disc[0].data).toMatchObject({ previousOrderUuid: revised.orderUuid, orderAction: 'DISCONTINUE' });

    // In core the seed bump commits on its own just before: that transaction makes no event at all.
    const separate = new OpenmrsActions(db.conn, db.meta, { orderNumberSeed: 'separate' });
    const { txs: two, events: test } = await run(() => separate.placeTestOrder(p.patientId, enc.encounterId));
    expect(two.map((t) => t.events.length)).toEqual([0, 1]);
    expect(test.map((e) => [e.type, e.openmrsclass])).toEqual([['OrderPlaced', 'org.openmrs.TestOrder']]);

    const { events: fs } = await run(() => db.om.setFulfillerStatus(placed.orderId, 'RECEIVED'));
    expect(fs.map((e) => e.type)).toEqual(['OrderUpdated']);
    expect(fs[0].openmrsclass).toBe('org.openmrs.DrugOrder');
    expect((fs[0].data.changes as any).fulfillerStatus).toEqual({ from: null, to: 'RECEIVED' });

    // Voiding the DISCONTINUE order resets the previous order's date_stopped: OrderVoided + OrderUpdated.
    const { events: undo } = await run(() => db.om.voidOrder(dc.orderId));
    expect(undo.map((e) => [e.type, e.subject])).toEqual([
      ['OrderVoided', dc.orderUuid],
      ['OrderUpdated', revised.orderUuid],
    ]);
    expect((undo[1].data.changes as any).dateStopped.to).toBeNull();
  });
});

describe('cascades and merges', () => {
  it('voiding a patient: PatientVoided plus one voided event per cascaded encounter, obs and order', async () => {
    const { result: p } = await run(() => db.om.registerPatient());
    const { result: v } = await run(() => db.om.startVisit(p.patientId));
    const { result: e1 } = await run(() => db.om.createEncounter(p.patientId, v.visitId));
    const { result: e2 } = await run(() => db.om.createEncounter(p.patientId, v.visitId));
    const { result: o1 } = await run(() => db.om.placeDrugOrder(p.patientId, e1.encounterId));
    // A second reader that holds at most 5 rows of a transaction in memory: the cascade is oversized there.
    const smallTap = await BinlogTap.open(db.server, { schemas: [db.schema], maxTxRows: 5 });
    const { result: voided, txs, events } = await run(() => db.om.voidPatient(p.patientId, 'Duplicate record'));
    const oversized = (await smallTap.drain()).filter((t) => t.kind === 'dml');
    smallTap.close();
    expect(oversized).toHaveLength(1);
    expect(oversized[0].rows).toBeNull();
    // Mapped from rows read again from the binlog: the same events.
    expect((await mapper.map(oversized[0])).events).toEqual(events);
    expect(txs).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'PatientVoided', subject: p.patientUuid, openmrsaction: 'VOIDED' });
    const byType = (t: string) =>
      events
        .filter((e) => e.type === t)
        .map((e) => e.subject)
        .sort();
    expect(byType('PatientVoided')).toEqual([p.patientUuid]);
    expect(byType('EncounterVoided')).toEqual([e1.encounterUuid, e2.encounterUuid].sort());
    expect(byType('ObsVoided')).toEqual(
      [...Object.values(e1.obs), ...Object.values(e2.obs)].map((o) => o.obsUuid).sort(),
    );
    expect(byType('OrderVoided')).toEqual([o1.orderUuid]);
    expect(events).toHaveLength(1 + 2 + 10 + 1);
    expect(events.every((e) => e.patientuuid === p.patientUuid && e.txsize === 14)).toBe(true);
    expect(events.map((e) => e.txseq)).toEqual(events.map((_, i) => i + 1));
    // Names, identifiers, ... are folded into PatientVoided.
    const d = events[0].data as any;
    expect(d.names.map((n: any) => n.uuid).sort()).toEqual([...voided.person_name].sort());
    expect(d.identifiers.every((i: any) => i.voided)).toBe(true);
    expect(d.patient).toMatchObject({ voided: true, voidReason: 'Duplicate record' });
  });

  it('merging two patients: PatientMerged naming winner and loser, with the moved rows events', async () => {
    const { result: winner } = await run(() => db.om.registerPatient());
    const { result: loser } = await run(() =>
      db.om.registerPatient({ names: [{ givenName: 'Amy', familyName: 'Otieno' }] }),
    );
    const { result: v } = await run(() => db.om.startVisit(loser.patientId));
    const { result: enc } = await run(() => db.om.createEncounter(loser.patientId, v.visitId));
    const { result: ord } = await run(() => db.om.placeDrugOrder(loser.patientId, enc.encounterId));
    const { result: merge, events } = await run(() => db.om.mergePatients(winner.patientId, loser.patientId));
    const merged = events.filter((e) => e.type === 'PatientMerged');
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({
      subject: winner.patientUuid,
      patientuuid: winner.patientUuid,
      openmrsaction: 'UPDATED',
    });
    expect(merged[0].data).toMatchObject({
      winnerUuid: winner.patientUuid,
      loserUuid: loser.patientUuid,
      mergeLog: { uuid: merge.mergeLogUuid },
    });
    expect((merged[0].data as any).names.map((n: any) => n.givenName)).toEqual(['Amy']);
    expect(events.filter((e) => e.type === 'PatientVoided').map((e) => e.subject)).toEqual([loser.patientUuid]);
    expect(events.filter((e) => e.type === 'VisitUpdated').map((e) => [e.subject, e.patientuuid])).toEqual([
      [v.visitUuid, winner.patientUuid],
    ]);
    expect(events.filter((e) => e.type === 'EncounterUpdated').map((e) => e.subject)).toEqual([enc.encounterUuid]);
    const moved = events.filter((e) => e.type === 'OrderUpdated');
    expect(moved.map((e) => [e.subject, e.patientuuid])).toEqual([[ord.orderUuid, winner.patientUuid]]);
    expect((moved[0].data.changes as any).patientUuid).toEqual({ from: loser.patientUuid, to: winner.patientUuid });
    const amended = events.filter((e) => e.type === 'ObsAmended');
    expect(amended.map((e) => [e.data.previousObsUuid, e.subject])).toEqual(
      merge.amendedObs.map((a) => [a.from, a.to]),
    );
    expect(amended.every((e) => e.patientuuid === winner.patientUuid)).toBe(true);
    expect(new Set(types(events))).toEqual(
      new Set(['VisitUpdated', 'EncounterUpdated', 'ObsAmended', 'OrderUpdated', 'PatientMerged', 'PatientVoided']),
    );
  });
});

describe('allergies, conditions, diagnoses, programs, metadata, raw rows', () => {
  it('allergy recorded, updated, voided', async () => {
    const { result: p } = await run(() => db.om.registerPatient());
    const { result: a, events: rec } = await run(() => db.om.recordAllergy(p.patientId));
    expect(rec.map((e) => [e.type, e.subject, e.patientuuid])).toEqual([
      ['AllergyRecorded', a.allergyUuid, p.patientUuid],
    ]);
    expect((rec[0].data as any).reactions.map((r: any) => r.uuid)).toEqual([a.reactionUuid]);
    const { events: upd } = await run(() => db.om.updateAllergy(a.allergyId, { comments: 'Anaphylaxis' }));
    expect(types(upd)).toEqual(['AllergyUpdated']);
    expect((upd[0].data.changes as any).comments).toEqual({ from: 'Hives within an hour', to: 'Anaphylaxis' });
    const { events: voided } = await run(() => db.om.voidAllergy(a.allergyId));
    expect(types(voided)).toEqual(['AllergyVoided']);
  });

  it('conditions: recorded, void-and-replace is ConditionUpdated naming the replaced one, voided', async () => {
    const { result: p } = await run(() => db.om.registerPatient());
    const { result: c, events: rec } = await run(() => db.om.recordCondition(p.patientId));
    expect(rec.map((e) => [e.type, e.subject])).toEqual([['ConditionRecorded', c.conditionUuid]]);
    const { result: c2, events: edit } = await run(() =>
      db.om.editCondition(c.conditionId, { clinicalStatus: 'INACTIVE' }),
    );
    expect(edit.map((e) => [e.type, e.subject, e.openmrsaction])).toEqual([
      ['ConditionUpdated', c2.conditionUuid, 'UPDATED'],
    ]);
    expect(edit[0].data).toMatchObject({ previousConditionUuid: c.conditionUuid, clinicalStatus: 'INACTIVE' });
    expect(edit[0].data.changes).toEqual({ clinicalStatus: { from: 'ACTIVE', to: 'INACTIVE' } });
    const { events: voided } = await run(() => db.om.voidCondition(c2.conditionId));
    expect(voided.map((e) => [e.type, e.subject])).toEqual([['ConditionVoided', c2.conditionUuid]]);
  });

  it('diagnoses recorded and updated; program enrolment and completion', async () => {
    const { result: p } = await run(() => db.om.registerPatient());
    const { result: v } = await run(() => db.om.startVisit(p.patientId));
    const { result: enc } = await run(() => db.om.createEncounter(p.patientId, v.visitId));
    const { result: dx, events: rec } = await run(() => db.om.recordDiagnosis(enc.encounterId));
    expect(rec.map((e) => [e.type, e.subject, e.patientuuid])).toEqual([
      ['DiagnosisRecorded', dx.diagnosisUuid, p.patientUuid],
    ]);
    expect(rec[0].data).toMatchObject({ encounterUuid: enc.encounterUuid, certainty: 'PROVISIONAL', rank: 1 });
    const { events: upd } = await run(() => db.om.updateDiagnosis(dx.diagnosisId, { certainty: 'CONFIRMED' }));
    expect(types(upd)).toEqual(['DiagnosisUpdated']);
    expect((upd[0].data.changes as any).certainty).toEqual({ from: 'PROVISIONAL', to: 'CONFIRMED' });

    const { result: pp, events: enrol } = await run(() => db.om.enrollInProgram(p.patientId));
    expect(enrol.map((e) => [e.type, e.subject])).toEqual([['ProgramEnrollmentCreated', pp.patientProgramUuid]]);
    expect((enrol[0].data as any).states.map((s: any) => [s.uuid, s.stateUuid])).toEqual([
      [pp.stateUuid, 'b1d9e000-0000-4000-8000-000000000042'],
    ]);
    const { result: done, events: complete } = await run(() => db.om.completeProgram(pp.patientProgramId));
    expect(complete.map((e) => [e.type, e.subject, e.openmrsaction])).toEqual([
      ['ProgramEnrollmentCompleted', pp.patientProgramUuid, 'UPDATED'],
    ]);
    expect((complete[0].data as any).states.map((s: any) => s.uuid)).toEqual([pp.stateUuid, done.stateUuid]);
    expect((complete[0].data as any).outcomeConceptUuid).toBe('b1d9e000-0000-4000-8000-000000000116');
  });

  it('retire and unretire a location and a concept: MetadataRetired, MetadataUnretired with data.kind', async () => {
    const { events: r1 } = await run(() => db.om.retireLocation(db.meta.location2Id, 'Ward closed'));
    expect(r1.map((e) => [e.type, e.subject, e.openmrsclass, e.openmrsaction, e.data.kind])).toEqual([
      ['MetadataRetired', 'b1d9e000-0000-4000-8000-000000000002', 'org.openmrs.Location', 'RETIRED', 'Location'],
    ]);
    expect(r1[0].data).toMatchObject({
      retired: true,
      retireReason: 'Ward closed',
      properties: { parentLocationUuid: 'b1d9e000-0000-4000-8000-000000000001' },
    });
    const { events: u1 } = await run(() => db.om.unretireLocation(db.meta.location2Id));
    expect(u1.map((e) => [e.type, e.data.kind, e.openmrsaction])).toEqual([
      ['MetadataUnretired', 'Location', 'UNRETIRED'],
    ]);
    const { events: r2 } = await run(() => db.om.retireConcept(db.meta.concepts.rash));
    expect(r2.map((e) => [e.type, e.subject, e.data.kind])).toEqual([
      ['MetadataRetired', 'b1d9e000-0000-4000-8000-000000000111', 'Concept'],
    ]);
    const { events: u2 } = await run(() => db.om.unretireConcept(db.meta.concepts.rash));
    expect(u2.map((e) => [e.type, e.openmrsclass])).toEqual([['MetadataUnretired', 'org.openmrs.Concept']]);
  });

  it('a module table change is RowChanged; a row that cannot be mapped is RowChanged with data.error, counted', async () => {
    const { result: m, events } = await run(() => db.om.moduleWrite('GEN-77'));
    expect(events.map((e) => [e.type, e.openmrsaction, e.data.table, e.data.op])).toEqual([
      ['RowChanged', 'CREATED', 'idgen_log_entry', 'insert'],
    ]);
    expect(events[0].data.after).toMatchObject({ id: m.id, identifier: 'GEN-77' });
    const { result: p } = await run(() => db.om.registerPatient());
    const before = metrics.errors.get('allergy') ?? 0;
    // allergy.uuid is nullable in the real schema; a row without one cannot be an Allergy event.
    const { events: bad } = await run(async () => {
      await db.conn.query(
        "INSERT INTO allergy (patient_id, coded_allergen, allergen_type, creator, date_created, voided, uuid) VALUES (?, ?, 'DRUG', 1, NOW(), 0, NULL)",
        [p.patientId, db.meta.concepts.penicillin],
      );
    });
    expect(bad.map((e) => [e.type, e.data.table, e.openmrsclass])).toEqual([
      ['RowChanged', 'allergy', 'org.openmrs.Allergy'],
    ]);
    expect(String(bad[0].data.error)).toMatch(/uuid/);
    expect(metrics.errors.get('allergy')).toBe(before + 1);
  });

  it('a lookup by blocks brings the rows next to the ids asked, with the uuids the source holds', async () => {
    const [rows] = await db.conn.query('SELECT person_id, uuid FROM person ORDER BY person_id');
    const all = new Map((rows as Array<{ person_id: number; uuid: string }>).map((r) => [r.person_id, r.uuid]));
    const ids = [...all.keys()];
    expect(ids.length).toBeGreaterThan(5);
    const asked = ids[Math.floor(ids.length / 2)];
    const found = await new MysqlReferenceLookup(db.pool, db.schema).lookupBlocks(
      'person',
      'person_id',
      'uuid',
      [asked, 1_000_000],
      64,
    );
    const block = Math.floor(asked / 64) * 64;
    const expected = ids.filter((id) => id >= block && id < block + 64);
    expect([...found.keys()].sort((a, b) => a - b)).toEqual(expected);
    for (const [id, uuid] of found) expect(uuid).toBe(all.get(id));
  });

  it('validated every event it produced', () => {
    expect(validated).toBeGreaterThan(60);
    expect([...metrics.events.keys()].length).toBeGreaterThan(25);
  });
});
