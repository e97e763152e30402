import { describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/capture/types.js';
import { cursorFor, decodeCursor } from '../../src/capture/cursor.js';
import {
  CountingMetrics,
  EventMapper,
  routeOf,
  routingKey,
  mqttTopic,
  SourceClock,
  type ReferenceLookup,
} from '../../src/domain/index.js';
import { blockRanges, ReferenceResolver, refSpec } from '../../src/domain/references.js';
import { routeNames } from '../../src/domain/routing.js';
import {
  exampleEvents,
  exampleTransaction,
  exampleTransactions,
  fakeLookup,
  fakeUuid,
} from '../../scripts/event-examples.js';
import { validateEvent } from '../support/validate-event.js';

const mapper = (over: Partial<ConstructorParameters<typeof EventMapper>[0]> = {}) =>
  new EventMapper({ site: 'clinic-a', schema: 'openmrs', timeZone: 'Africa/Nairobi', lookup: fakeLookup, ...over });

const scenario = (name: string): RowChange[] => exampleTransactions().find((s) => s.name === name)!.rows;

describe('mapper on OpenMRS-shaped transactions', () => {
  it('maps every scenario to the expected event types, each valid (zod, JSON Schema, CloudEvents SDK)', async () => {
    const got = (await exampleEvents()).map((s) => [s.name, s.events.map((e) => e.type)]);
    expect(Object.fromEntries(got)).toMatchObject({
      'register a patient': ['PatientCreated'],
      'edit a name': ['PatientUpdated'],
      'mark dead': ['PatientDied'],
      'void a patient': ['PatientVoided'],
      'merge two patients': ['PatientMerged', 'PatientVoided'],
      'purge a patient': ['PatientPurged'],
      'void an encounter': ['ObsVoided', 'EncounterVoided'],
      'edit an obs': ['ObsAmended'],
      'place a drug order': ['OrderPlaced'],
      'revise an order': ['OrderRevised'],
      'discontinue an order': ['OrderDiscontinued'],
      'edit a condition': ['ConditionUpdated'],
      'complete a program': ['ProgramEnrollmentCompleted'],
      'retire a location': ['MetadataRetired'],
      'a module table row': ['RowChanged'],
    });
    for (const s of await exampleEvents()) for (const e of s.events) validateEvent(e);
  });

  it('counts events per type, a run of one type at a time, over transactions of mixed types', async () => {
    const metrics = new CountingMetrics();
    const m = mapper({ metrics });
    const expected = new Map<string, number>();
    for (const [i, s] of exampleTransactions().entries())
      for (const e of (await m.map(exampleTransaction(s.rows, i + 1))).events)
        expected.set(e.type, (expected.get(e.type) ?? 0) + 1);
    expect(expected.get('ObsCreated')).toBeGreaterThan(1); // two in a row in 'create an encounter with obs'
    expect(Object.fromEntries(metrics.events)).toEqual(Object.fromEntries(expected));
  });

  it('numbers events: id <site>:<txid>:<txseq>, txseq/txsize, commit time, a cursor that locates the event', async () => {
    const tx = exampleTransaction(scenario('create an encounter with obs'), 7);
    const { events, txid } = await mapper().map(tx);
    expect(txid).toBe('0-1-4707');
    expect(events.map((e) => [e.id, e.txseq, e.txsize])).toEqual([
      ['clinic-a:0-1-4707:1', 1, 3],
      ['clinic-a:0-1-4707:2', 2, 3],
      ['clinic-a:0-1-4707:3', 3, 3],
    ]);
    expect(events[0].time).toBe(new Date(tx.commitTime * 1000).toISOString().replace('.000', ''));
    expect(decodeCursor(events[2].cursor)).toMatchObject({ start: tx.start, txseq: 3, txid: '0-1-4707' });
    expect(events.map((e) => e.cursor)).toEqual([1, 2, 3].map((i) => cursorFor(tx, i)));
    // References are uuids: the encounter's patient, visit, and the provider row folded in.
    const enc = events[0];
    expect(enc).toMatchObject({
      type: 'EncounterCreated',
      subject: fakeUuid('encounter', 30),
      patientuuid: fakeUuid('person', 10),
    });
    expect(enc.data).toMatchObject({ visitUuid: fakeUuid('visit', 20), encounterDatetime: '2026-11-29T10:15:02Z' });
    expect((enc.data.providers as unknown[]).length).toBe(1);
    expect(events[1].data.encounterUuid).toBe(fakeUuid('encounter', 30));
  });

  it('obs edit is one ObsAmended naming both obs; discontinue names the previous order and folds its stop', async () => {
    const [amended] = (await mapper().map(exampleTransaction(scenario('edit an obs'), 1))).events;
    expect(amended).toMatchObject({ type: 'ObsAmended', subject: fakeUuid('obs', 42), openmrsaction: 'CREATED' });
    expect(amended.data).toMatchObject({ previousObsUuid: fakeUuid('obs', 40), status: 'AMENDED', valueNumeric: 62.1 });
    const [dc] = (await mapper().map(exampleTransaction(scenario('discontinue an order'), 2))).events;
    expect(dc).toMatchObject({
      type: 'OrderDiscontinued',
      subject: fakeUuid('orders', 52),
      openmrsclass: 'org.openmrs.DrugOrder',
    });
    expect(dc.data.previousOrderUuid).toBe(fakeUuid('orders', 51));
    expect(dc.data.changes).toEqual({ 'previousOrder.dateStopped': { from: null, to: '2026-11-29T10:40:09Z' } });
  });

  it('Updated events carry changes; an update of only changed_by/date_changed makes nothing', async () => {
    const [upd] = (await mapper().map(exampleTransaction(scenario('edit a name'), 1))).events;
    expect(upd.data.changes).toEqual({
      [`names.${fakeUuid('person_name', 11)}.givenName`]: { from: 'Amina', to: 'Aminah' },
      [`names.${fakeUuid('person_name', 11)}.changedByUuid`]: { from: null, to: fakeUuid('users', 1) },
      [`names.${fakeUuid('person_name', 11)}.dateChanged`]: { from: null, to: '2026-11-29T10:40:10Z' },
    });
    const person = scenario('register a patient')[0].after!;
    const touch: RowChange[] = [
      {
        schema: 'openmrs',
        table: 'person',
        op: 'update',
        before: person,
        after: { ...person, changed_by: 1, date_changed: '2026-11-29 14:00:00' },
      },
    ];
    const metrics = new CountingMetrics();
    expect((await mapper({ metrics }).map(exampleTransaction(touch, 1))).events).toEqual([]);
    expect(metrics.dispositions.get('unchanged')).toBe(1);
  });

  it('noise tables and other schemas produce nothing; module tables produce RowChanged', async () => {
    const metrics = new CountingMetrics();
    const rows: RowChange[] = [
      {
        schema: 'openmrs',
        table: 'global_property',
        op: 'update',
        before: { property: 'x', property_value: '1' },
        after: { property: 'x', property_value: '2' },
      },
      {
        schema: 'openmrs',
        table: 'scheduler_task_config',
        op: 'update',
        before: { task_config_id: 1, started: 0 },
        after: { task_config_id: 1, started: 1 },
      },
      { schema: 'openmrs_event_bridge', table: 'positions', op: 'insert', before: null, after: { id: 1 } },
      { schema: 'other', table: 'obs', op: 'insert', before: null, after: { obs_id: 1 } },
      {
        schema: 'openmrs',
        table: 'idgen_log_entry',
        op: 'update',
        before: { id: 1, comment: null, raw: Buffer.from([1, 2]) },
        after: { id: 1, comment: 'x', raw: Buffer.from([1, 2]) },
      },
    ];
    const { events } = await mapper({ metrics }).map(exampleTransaction(rows, 1));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'RowChanged',
      openmrsaction: 'UPDATED',
      openmrsclass: 'org.openmrs.Row',
      txsize: 1,
    });
    expect(events[0].data).toEqual({
      table: 'idgen_log_entry',
      op: 'update',
      before: { id: 1, comment: null, raw: { base64: 'AQI=' } },
      after: { id: 1, comment: 'x', raw: { base64: 'AQI=' } },
      changed: ['comment'],
    });
    expect(routingKey('clinic-a', events[0])).toBe('clinic-a.row.updated');
    expect(metrics.dispositions.get('noise')).toBe(2);
    validateEvent(events[0]);
  });

  it('a row that cannot be mapped is delivered as RowChanged with data.error and counted', async () => {
    const metrics = new CountingMetrics();
    const bad: RowChange[] = [
      {
        schema: 'openmrs',
        table: 'visit',
        op: 'insert',
        before: null,
        after: { visit_id: 5, patient_id: 10, date_started: 'not a date', uuid: 'v-5' },
      },
      {
        schema: 'openmrs',
        table: 'allergy',
        op: 'insert',
        before: null,
        after: { allergy_id: 6, patient_id: 10, uuid: null },
      },
    ];
    const { events } = await mapper({ metrics }).map(exampleTransaction(bad, 1));
    expect(events.map((e) => [e.type, e.data.table, typeof e.data.error])).toEqual([
      ['RowChanged', 'visit', 'string'],
      ['RowChanged', 'allergy', 'string'],
    ]);
    expect(String(events[0].data.error)).toMatch(/DATETIME/);
    expect(String(events[1].data.error)).toMatch(/uuid/);
    expect(Object.fromEntries(metrics.errors)).toEqual({ visit: 1, allergy: 1 });
    for (const e of events) validateEvent(e);
  });

  it("a unit that fails goes out as RowChanged at each of its rows, between the other units' events", async () => {
    const metrics = new CountingMetrics();
    const [person, patient, name] = scenario('register a patient');
    const visit = scenario('start a visit')[0];
    const broken = { ...person, after: { ...person.after!, uuid: null } };
    const { events } = await mapper({ metrics }).map(exampleTransaction([broken, visit, patient, name], 1));
    expect(events.map((e) => [e.type, e.data.table ?? null, e.txseq])).toEqual([
      ['RowChanged', 'person', 1],
      ['VisitStarted', null, 2],
      ['RowChanged', 'patient', 3],
      ['RowChanged', 'person_name', 4],
    ]);
    expect(Object.fromEntries(metrics.dispositions)).toEqual({ row: 3, event: 1 });

    // An obs edit: the new obs's row makes the event, the void of the old one is folded into it.
    const folded = new CountingMetrics();
    await mapper({ metrics: folded }).map(exampleTransaction(scenario('edit an obs'), 1));
    expect(Object.fromEntries(folded.dispositions)).toEqual({ event: 1, folded: 1 });
  });

  it("a transaction waiting for lookups has already taught the cache its own rows' uuids", async () => {
    const asked: string[] = [];
    const lookup: ReferenceLookup = {
      async lookup(table, key, value, ids) {
        asked.push(table);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return fakeLookup.lookup(table, key, value, ids);
      },
    };
    const m = mapper({ lookup });
    const [encounter, , obs] = scenario('create an encounter with obs');
    // The encounter's patient, location, ... are not known yet: it waits. The next transaction, mapped meanwhile
    // (read-ahead), names that encounter: it must not ask the source for it.
    const first = m.map(exampleTransaction([encounter], 1));
    // More encounters meanwhile: eight ids later the resolver's memo slot of encounter 30 holds another one.
    const others = [31, 32, 33, 34, 35, 36, 37, 38].map((id, k) =>
      m.map(
        exampleTransaction(
          [{ ...encounter, after: { ...encounter.after!, encounter_id: id, uuid: fakeUuid('encounter', id) } }],
          2 + k,
        ),
      ),
    );
    const second = m.map(exampleTransaction([obs], 20));
    const [a, b] = await Promise.all([first, second, ...others]);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked).not.toContain('encounter');
    expect(b.events[0].data.encounterUuid).toBe(a.events[0].subject);
  });

  it('references: same transaction first, then the LRU, then one batched query per table; purged ones are null with a reason', async () => {
    const calls: Array<[string, number[]]> = [];
    const lookup: ReferenceLookup = {
      async lookup(table, key, value, ids) {
        calls.push([`${table}.${value}`, [...ids]]);
        const found = await fakeLookup.lookup(table, key, value, ids);
        if (table === 'location') found.delete(1); // purged
        return found;
      },
    };
    const m = mapper({ lookup });
    const { events } = await m.map(exampleTransaction(scenario('create an encounter with obs'), 1));
    // The encounter is in the transaction: obs reference it without a query; one query per referenced table.
    expect(calls.find(([t]) => t === 'encounter.uuid')).toBeUndefined();
    expect(calls.every(([t], i) => calls.findIndex(([u]) => u === t) === i)).toBe(true);
    expect(events[0].data.locationUuid).toBeNull();
    expect(events[0].data.unresolved).toEqual([
      { field: 'locationUuid', table: 'location', id: 1, reason: expect.stringMatching(/purged/) },
    ]);
    const before = calls.length;
    await m.map(exampleTransaction(scenario('start a visit'), 2));
    // visit_type, person, users cached now; only the (missing) location is asked again.
    expect(calls.slice(before).map(([t]) => t)).toEqual(['visit_type.uuid', 'location.uuid']);
    for (const e of events) validateEvent(e);
  });

  it('units of one transaction that miss the same reference are all built again once it is resolved', async () => {
    // A cold cache: the encounter and every obs reference the same patient, concept and location, none of them in
    // the transaction; each unit must get the values, not only the first one that asked.
    const { events } = await mapper().map(exampleTransaction(scenario('create an encounter with obs'), 1));
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const e of events) {
      expect(e.data.unresolved).toBeUndefined();
      expect(e.patientuuid).toEqual(expect.any(String));
    }
    const obs = events.filter((e) => e.type === 'ObsCreated');
    expect(obs.length).toBeGreaterThanOrEqual(2);
    expect(new Set(obs.map((e) => e.data.personUuid)).size).toBe(1);
    expect(obs.every((e) => typeof e.data.conceptUuid === 'string' && typeof e.data.locationUuid === 'string')).toBe(
      true,
    );
  });

  it('lookups by blocks: the rows next to an id asked go to the cache; a query over too many blocks asks for its ids alone', async () => {
    expect(blockRanges([5, 70, 130, 1], 64)).toEqual([[0, 191]]);
    expect(blockRanges([300, 5], 64)).toEqual([
      [0, 63],
      [256, 319],
    ]);
    const person = refSpec('person', 'person_id');
    const calls: Array<[string, number[]]> = [];
    const source = (id: number) => (id % 10 === 3 ? undefined : `uuid-${id}`); // some ids were purged
    const answer = (wanted: number[]) =>
      new Map(wanted.flatMap((id) => (source(id) === undefined ? [] : [[id, source(id)!] as [number, string]])));
    const lookup: ReferenceLookup = {
      async lookup(_table, _key, _value, ids) {
        calls.push(['ids', [...ids]]);
        return answer([...ids]);
      },
      async lookupBlocks(_table, _key, _value, ids, block) {
        calls.push(['blocks', [...ids]]);
        return answer(
          blockRanges(ids, block).flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, k) => lo + k)),
        );
      },
    };
    const resolver = new ReferenceResolver(lookup);
    const found = await resolver.fetch(person, [70]);
    expect(found.get(70)).toBe('uuid-70');
    expect(calls).toEqual([['blocks', [70]]]);
    // The neighbours are kept aside, not in the cache (the id asked is cached by the batch that asked); a purged
    // neighbour is not kept. One that is read moves to the cache.
    expect(resolver.cache.size).toBe(0);
    expect(resolver.prefetched.size).toBe(57);
    expect([resolver.cached(person, 64), resolver.cached(person, 127), resolver.cached(person, 128)]).toEqual([
      'uuid-64',
      'uuid-127',
      undefined,
    ]);
    expect(resolver.cached(person, 73)).toBeUndefined();
    expect(resolver.cache.size).toBe(2);
    // A later transaction referencing a neighbour finds it without a query.
    const batch = resolver.batch();
    expect(batch.get(person, 71)).toBe('uuid-71');
    expect(batch.needsQuery).toBe(false);
    const wide = Array.from({ length: 65 }, (_, k) => 1000 + k * 64);
    await resolver.fetch(person, wide);
    expect(calls[1]).toEqual(['ids', wide]);

    // Lookups over scattered ids bring many neighbours; they cannot push out what the cache holds.
    const small = new ReferenceResolver(lookup, 100);
    small.cache.set(person.idx, 5, 'in-use');
    for (let k = 1; k <= 10; k++) await small.fetch(person, [k * 6400]);
    expect(small.prefetched.size).toBeLessThanOrEqual(25);
    expect(small.cached(person, 5)).toBe('in-use');
  });

  it('lookups: one query per table on the wire; ids asked meanwhile go in the next one, an id on the wire is not asked again', async () => {
    const person = refSpec('person', 'person_id');
    const sent: number[][] = [];
    const answers: Array<() => void> = [];
    // A lookup that answers only when told, so that the test decides what is on the wire when.
    const lookup: ReferenceLookup = {
      lookup(_table, _key, _value, ids) {
        sent.push([...ids]);
        return new Promise((resolve) => answers.push(() => resolve(new Map(ids.map((id) => [id, `uuid-${id}`])))));
      },
    };
    const resolver = new ReferenceResolver(lookup);
    const first = resolver.fetch(person, [1, 2]);
    const sameTurn = resolver.fetch(person, [2, 3]);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([[1, 2, 3]]); // one query for what was asked in the same turn
    const mixed = resolver.fetch(person, [3, 4]); // 3 is on the wire, 4 is not
    const later = resolver.fetch(person, [5]);
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(1); // nothing more while the first query is on the wire
    answers[0]();
    expect((await first).get(1)).toBe('uuid-1');
    expect((await sameTurn).get(3)).toBe('uuid-3');
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([
      [1, 2, 3],
      [4, 5],
    ]); // the next query, without 3
    answers[1]();
    const both = await mixed;
    expect([both.get(3), both.get(4)]).toEqual(['uuid-3', 'uuid-4']);
    expect((await later).get(5)).toBe('uuid-5');
    expect(resolver.stats.queries).toBe(2);

    // A lookup that throws instead of rejecting fails the transactions that asked, not the process.
    const throwing = new ReferenceResolver({
      lookup() {
        throw new Error('no connection');
      },
    });
    await expect(throwing.fetch(person, [9])).rejects.toThrow('no connection');
  });

  it('a person who is not a patient is RowChanged, without error', async () => {
    const lookup: ReferenceLookup = {
      async lookup(table, key, value, ids) {
        return table === 'patient' ? new Map() : fakeLookup.lookup(table, key, value, ids);
      },
    };
    const person = scenario('register a patient')[0].after!;
    const rows: RowChange[] = [
      { schema: 'openmrs', table: 'person', op: 'update', before: person, after: { ...person, gender: 'M' } },
    ];
    const { events } = await mapper({ lookup }).map(exampleTransaction(rows, 1));
    expect(events.map((e) => [e.type, e.data.error])).toEqual([['RowChanged', undefined]]);
  });

  it('converts column values: NULL and absent columns give null, numeric strings numbers, binary text a string', async () => {
    const rows = scenario('create an encounter with obs');
    const o = rows.find((r) => r.table === 'obs')!.after!;
    const { comments: _absent, ...withoutComments } = o;
    const changed: RowChange = {
      ...rows[0],
      table: 'obs',
      after: {
        ...withoutComments,
        concept_id: String(o.concept_id), // a reference as a numeric string
        value_numeric: '61.5',
        value_text: Buffer.from('über', 'utf8'),
        value_coded: null,
        order_id: undefined as unknown as null,
        date_voided: null,
      },
    };
    const [obs] = (await mapper().map(exampleTransaction([changed], 1))).events;
    expect(obs.type).toBe('ObsCreated');
    const expected = (await mapper().map(exampleTransaction([{ ...rows[0], table: 'obs', after: o }], 1))).events[0];
    expect(obs.data).toMatchObject({
      conceptUuid: (expected.data as Record<string, unknown>).conceptUuid,
      valueNumeric: 61.5,
      valueText: 'über',
      valueCodedUuid: null,
      orderUuid: null,
      comments: null,
      dateVoided: null,
    });
    expect((obs.data as Record<string, unknown>).conceptUuid).toEqual(expect.any(String));
    validateEvent(obs);
  });

  it('a visit inserted already stopped is VisitStarted + VisitEnded', async () => {
    const v = scenario('start a visit')[0].after!;
    const { events } = await mapper().map(
      exampleTransaction(
        [{ ...scenario('start a visit')[0], after: { ...v, date_stopped: '2026-11-29 15:00:00' } }],
        1,
      ),
    );
    expect(events.map((e) => [e.type, e.txseq, e.subject])).toEqual([
      ['VisitStarted', 1, v.uuid],
      ['VisitEnded', 2, v.uuid],
    ]);
  });
});

describe('routing and time', () => {
  it('routes types to kebab-case aggregate and action', () => {
    expect(routeOf({ type: 'ProgramEnrollmentCompleted' })).toEqual({
      aggregate: 'program-enrollment',
      action: 'completed',
    });
    expect(routeOf({ type: 'ObsVoided' })).toEqual({ aggregate: 'obs', action: 'voided' });
    expect(routeOf({ type: 'RowChanged', data: { op: 'delete' } })).toEqual({ aggregate: 'row', action: 'deleted' });
    expect(mqttTopic('openmrs', 'clinic-a', { type: 'MetadataRetired' })).toBe('openmrs/clinic-a/metadata/retired');
    expect(routingKey('clinic-a', { type: 'PatientCreated' })).toBe('clinic-a.patient.created');
  });

  it('caches route names per type and per RowChanged op, the same as routeOf gives', () => {
    let built = 0;
    const keyOf = routeNames((event) => {
      built++;
      return routingKey('clinic-a', event);
    });
    const events = [
      { type: 'ObsVoided' },
      { type: 'RowChanged', data: { op: 'insert' } },
      { type: 'RowChanged', data: { op: 'delete' } },
      { type: 'ObsVoided' },
      { type: 'RowChanged', data: { op: 'insert' } },
      { type: 'SomethingNewHappened' },
    ];
    for (let round = 0; round < 3; round++) {
      for (const event of events) expect(keyOf(event)).toBe(routingKey('clinic-a', event));
    }
    expect(built).toBe(4);
    // A RowChanged op routeOf refuses is refused every time, not cached.
    expect(() => keyOf({ type: 'RowChanged', data: { op: 'merge' } })).toThrow(/unknown op/);
    expect(() => keyOf({ type: 'RowChanged', data: { op: 'merge' } })).toThrow(/unknown op/);
  });

  it('converts source DATETIMEs to UTC across DST', () => {
    const ny = new SourceClock('America/New_York');
    expect(ny.toUtc('2026-07-01 12:00:00')).toBe('2026-07-01T16:00:00Z');
    expect(ny.toUtc('2026-12-01 12:00:00')).toBe('2026-12-01T17:00:00Z');
    expect(ny.toUtc('2026-11-01 01:30:00')).toBe('2026-11-01T05:30:00Z'); // repeated hour: first occurrence
    expect(ny.toUtc('2026-03-08 03:30:00')).toBe('2026-03-08T07:30:00Z');
    expect(new SourceClock('Africa/Nairobi').toUtc('2026-11-29 13:15:02')).toBe('2026-11-29T10:15:02Z');
    expect(new SourceClock('+05:30').toUtc('2026-11-29 13:15:02.250000')).toBe('2026-11-29T07:45:02.250Z');
    expect(new SourceClock('UTC').toUtc('0000-00-00 00:00:00')).toBeNull();
    expect(() => new SourceClock('Mars/Olympus')).toThrow();
  });

  it('converts repeated DATETIMEs the same, in any order, and still refuses what is not one', () => {
    const clock = new SourceClock('Africa/Nairobi');
    const values = ['2026-11-29 13:15:02', '2026-11-29 13:15:03', '2026-11-29 13:15:02', '2026-01-01 00:00:00'];
    const once = values.map((v) => new SourceClock('Africa/Nairobi').toUtc(v));
    for (let round = 0; round < 3; round++) expect(values.map((v) => clock.toUtc(v))).toEqual(once);
    expect(once).toEqual([
      '2026-11-29T10:15:02Z',
      '2026-11-29T10:15:03Z',
      '2026-11-29T10:15:02Z',
      '2025-12-31T21:00:00Z',
    ]);
    expect(clock.toUtc('0000-00-00 00:00:00')).toBeNull();
    expect(() => clock.toUtc('')).toThrow(/not a DATETIME/);
    expect(() => clock.toUtc('yesterday')).toThrow(/not a DATETIME/);
  });
});
