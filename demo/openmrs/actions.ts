/**
 * The OpenMRS statement library: clinical actions written exactly as OpenMRS 2.x writes them (SEMANTICS.md section 2):
 * same tables, same row order, one transaction per service call, every UPDATE rewriting all columns (Hibernate has no
 * dynamic-update), the order-number seed bumped in `global_property`, cascades applied row by row.
 *
 * Use it against a database loaded with openmrs-2.6.4-core.sql plus {@link seedMetadata}:
 *
 * ```ts
 * const conn = await mysql.createConnection({ uri, dateStrings: true });
 * const om = new OpenmrsActions(conn, await seedMetadata(conn));
 * const p = await om.registerPatient();
 * const v = await om.startVisit(p.patientId);
 * ```
 *
 * Every action returns the ids and uuids it created or changed.
 */
import type { Connection } from 'mysql2/promise';
import { inTransaction, insert, rows, selectRow, updateFull, uuid, wallClock, type Row } from './sql.js';
import type { SeedMeta } from './seed.js';

export { seedMetadata, SEED_UUIDS, MODULE_TABLE, type SeedMeta, type ConceptKey } from './seed.js';
export { wallClock } from './sql.js';

/** Options of {@link OpenmrsActions}. */
export interface ActionsOptions {
  /** The wall-clock time OpenMRS would write (`YYYY-MM-DD HH:MM:SS` in the source zone). Default: now, UTC. */
  now?: () => string;
  /**
   * Where the `order.nextOrderNumberSeed` update goes: `separate` (core: its own REQUIRES_NEW transaction just
   * before the order's) or `same` (custom generators, modules: inside the order's transaction). Default `separate`.
   */
  orderNumberSeed?: 'separate' | 'same';
}

export interface NameInput {
  givenName: string;
  familyName: string;
  middleName?: string;
  preferred?: boolean;
}

export interface RegisterPatientInput {
  gender?: 'M' | 'F' | 'O';
  birthdate?: string;
  names?: NameInput[];
  addresses?: Array<{ address1?: string; cityVillage?: string; country?: string }>;
  attributes?: Array<{ value: string; attributeTypeId?: number }>;
  identifiers?: Array<{ identifier: string; identifierTypeId?: number }>;
}

export interface RegisteredPatient {
  patientId: number;
  patientUuid: string;
  nameIds: number[];
  nameUuids: string[];
  addressUuids: string[];
  attributeUuids: string[];
  identifierIds: number[];
  identifierUuids: string[];
}

export interface ObsRef {
  obsId: number;
  obsUuid: string;
}

export interface CreatedEncounter {
  encounterId: number;
  encounterUuid: string;
  encounterProviderUuid: string;
  /** In insert order: weight, height, the vitals group, then its members temperature and note. */
  obs: { weight: ObsRef; height: ObsRef; group: ObsRef; temperature: ObsRef; note: ObsRef };
}

export interface PlacedOrder {
  orderId: number;
  orderUuid: string;
  orderNumber: string;
  previousOrderUuid?: string;
}

let identifierSeq = Date.now() % 1_000_000;

/** Clinical actions as OpenMRS performs them. One method call = one OpenMRS service call = one transaction. */
export class OpenmrsActions {
  readonly conn: Connection;
  readonly meta: SeedMeta;
  private readonly now: () => string;
  private readonly seedMode: 'separate' | 'same';

  constructor(conn: Connection, meta: SeedMeta, options: ActionsOptions = {}) {
    this.conn = conn;
    this.meta = meta;
    this.now = options.now ?? (() => wallClock());
    this.seedMode = options.orderNumberSeed ?? 'separate';
  }

  private created(): Row {
    return { creator: this.meta.userId, date_created: this.now() };
  }

  private changed(): Row {
    return { changed_by: this.meta.userId, date_changed: this.now() };
  }

  private voided(reason: string, date = this.now()): Row {
    return { voided: 1, voided_by: this.meta.userId, date_voided: date, void_reason: reason };
  }

  private tx<T>(fn: () => Promise<T>): Promise<T> {
    return inTransaction(this.conn, fn);
  }

  // ----------------------------------------------------------------------------------------------- patients

  /**
   * `PatientService.savePatient` of a new patient: INSERT person, INSERT patient (same id), then the cascaded
   * person_name, person_address, person_attribute and patient_identifier rows, in one transaction.
   * Defaults: two names, one address, one attribute, two identifiers.
   */
  async registerPatient(input: RegisterPatientInput = {}): Promise<RegisteredPatient> {
    const names = input.names ?? [
      { givenName: 'Amina', familyName: 'Otieno', preferred: true },
      { givenName: 'Mina', familyName: 'Otieno' },
    ];
    const addresses = input.addresses ?? [{ address1: 'Moi Avenue 12', cityVillage: 'Nairobi', country: 'Kenya' }];
    const attributes = input.attributes ?? [{ value: 'Kisumu' }];
    const identifiers = input.identifiers ?? [
      { identifier: `BR-${++identifierSeq}` },
      { identifier: `OLD-${identifierSeq}` },
    ];
    return this.tx(async () => {
      const patientUuid = uuid();
      const patientId = await insert(this.conn, 'person', {
        gender: input.gender ?? 'F',
        birthdate: input.birthdate ?? '1990-04-12',
        birthdate_estimated: 0,
        dead: 0,
        death_date: null,
        cause_of_death: null,
        ...this.created(),
        voided: 0,
        uuid: patientUuid,
        deathdate_estimated: 0,
      });
      await insert(this.conn, 'patient', {
        patient_id: patientId,
        ...this.created(),
        voided: 0,
        allergy_status: 'Unknown',
      });
      const out: RegisteredPatient = {
        patientId,
        patientUuid,
        nameIds: [],
        nameUuids: [],
        addressUuids: [],
        attributeUuids: [],
        identifierIds: [],
        identifierUuids: [],
      };
      for (const [i, n] of names.entries()) {
        const u = uuid();
        out.nameIds.push(
          await insert(this.conn, 'person_name', {
            preferred: (n.preferred ?? i === 0) ? 1 : 0,
            person_id: patientId,
            given_name: n.givenName,
            middle_name: n.middleName ?? null,
            family_name: n.familyName,
            ...this.created(),
            voided: 0,
            uuid: u,
          }),
        );
        out.nameUuids.push(u);
      }
      for (const [i, a] of addresses.entries()) {
        const u = uuid();
        await insert(this.conn, 'person_address', {
          person_id: patientId,
          preferred: i === 0 ? 1 : 0,
          address1: a.address1 ?? null,
          city_village: a.cityVillage ?? null,
          country: a.country ?? null,
          ...this.created(),
          voided: 0,
          uuid: u,
        });
        out.addressUuids.push(u);
      }
      for (const a of attributes) {
        const u = uuid();
        await insert(this.conn, 'person_attribute', {
          person_id: patientId,
          value: a.value,
          person_attribute_type_id: a.attributeTypeId ?? this.meta.attributeTypeId,
          ...this.created(),
          voided: 0,
          uuid: u,
        });
        out.attributeUuids.push(u);
      }
      for (const [i, idf] of identifiers.entries()) {
        const u = uuid();
        out.identifierIds.push(
          await insert(this.conn, 'patient_identifier', {
            patient_id: patientId,
            identifier: idf.identifier,
            identifier_type: idf.identifierTypeId ?? this.meta.identifierTypeId,
            preferred: i === 0 ? 1 : 0,
            location_id: this.meta.locationId,
            ...this.created(),
            voided: 0,
            uuid: u,
          }),
        );
        out.identifierUuids.push(u);
      }
      return out;
    });
  }

  /** `PersonService.savePerson` of a person who is not a patient (a relative, say): person + person_name. */
  async createPerson(input: { givenName?: string; familyName?: string; gender?: 'M' | 'F' } = {}): Promise<{
    personId: number;
    personUuid: string;
    nameUuid: string;
  }> {
    return this.tx(async () => {
      const personUuid = uuid();
      const personId = await insert(this.conn, 'person', {
        gender: input.gender ?? 'M',
        birthdate: '1985-01-01',
        birthdate_estimated: 1,
        dead: 0,
        ...this.created(),
        voided: 0,
        uuid: personUuid,
        deathdate_estimated: 0,
      });
      const nameUuid = uuid();
      await insert(this.conn, 'person_name', {
        preferred: 1,
        person_id: personId,
        given_name: input.givenName ?? 'Baraka',
        family_name: input.familyName ?? 'Mwangi',
        ...this.created(),
        voided: 0,
        uuid: nameUuid,
      });
      return { personId, personUuid, nameUuid };
    });
  }

  /**
   * `savePatient` of an existing person (`insertPatientStubIfNeeded`): raw `INSERT patient (patient_id, creator,
   * voided, date_created)` with a midnight date and the default allergy_status, then Hibernate's inserts/updates: the
   * new identifier and the patient row's audit columns.
   */
  async promotePersonToPatient(
    personId: number,
    identifier = `BR-${++identifierSeq}`,
  ): Promise<{
    patientUuid: string;
    identifierUuid: string;
  }> {
    return this.tx(async () => {
      await this.conn.query('INSERT INTO patient (patient_id, creator, voided, date_created) VALUES (?, ?, 0, ?)', [
        personId,
        this.meta.userId,
        this.now().slice(0, 10) + ' 00:00:00',
      ]);
      const identifierUuid = uuid();
      await insert(this.conn, 'patient_identifier', {
        patient_id: personId,
        identifier,
        identifier_type: this.meta.identifierTypeId,
        preferred: 1,
        location_id: this.meta.locationId,
        ...this.created(),
        voided: 0,
        uuid: identifierUuid,
      });
      await updateFull(this.conn, 'patient', 'patient_id', personId, this.changed());
      const [p] = await rows(this.conn, 'SELECT uuid FROM person WHERE person_id = ?', [personId]);
      return { patientUuid: String(p.uuid), identifierUuid };
    });
  }

  /** Edits a name in place (REST/O3 `POST .../name/<uuid>`): UPDATE person_name rewriting all columns. */
  async editName(
    personNameId: number,
    changes: { givenName?: string; familyName?: string; middleName?: string },
  ): Promise<{ nameUuid: string }> {
    return this.tx(async () => {
      const row = await updateFull(this.conn, 'person_name', 'person_name_id', personNameId, {
        ...(changes.givenName !== undefined ? { given_name: changes.givenName } : {}),
        ...(changes.familyName !== undefined ? { family_name: changes.familyName } : {}),
        ...(changes.middleName !== undefined ? { middle_name: changes.middleName } : {}),
        ...this.changed(),
      });
      return { nameUuid: String(row.uuid) };
    });
  }

  /** Adds an identifier to a patient (savePatient with a new PatientIdentifier): one INSERT. */
  async addIdentifier(
    patientId: number,
    identifier = `EXT-${++identifierSeq}`,
  ): Promise<{ identifierId: number; identifierUuid: string }> {
    return this.tx(async () => {
      const identifierUuid = uuid();
      const identifierId = await insert(this.conn, 'patient_identifier', {
        patient_id: patientId,
        identifier,
        identifier_type: this.meta.identifierTypeId,
        preferred: 0,
        location_id: this.meta.locationId,
        ...this.created(),
        voided: 0,
        uuid: identifierUuid,
      });
      return { identifierId, identifierUuid };
    });
  }

  /** `PersonService.savePerson` after `setDead(true)`: UPDATE person (dead, death_date, cause_of_death). */
  async markDead(personId: number, options: { deathDate?: string; causeConceptId?: number } = {}): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'person', 'person_id', personId, {
        dead: 1,
        death_date: options.deathDate ?? this.now(),
        cause_of_death: options.causeConceptId ?? this.meta.concepts.malaria,
        ...this.changed(),
      });
    });
  }

  /** An update that only touches the audit columns (a save of an unchanged person): must produce no event. */
  async touchPerson(personId: number): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'person', 'person_id', personId, this.changed());
    });
  }

  /**
   * `PatientService.voidPatient`: patient and person rows voided, names, addresses, attributes, identifiers voided,
   * every non-voided encounter voided with its obs and orders (PatientDataVoidHandler), then the patient's remaining
   * orders; all with the patient's date_voided, in one transaction. Returns the uuids voided per table.
   */
  async voidPatient(patientId: number, reason = 'Duplicate record'): Promise<Record<string, string[]>> {
    return this.tx(async () => {
      const date = this.now();
      const voided: Record<string, string[]> = {};
      const note = (table: string, u: unknown) => (voided[table] ??= []).push(String(u));
      const v = this.voided(reason, date);
      await updateFull(this.conn, 'patient', 'patient_id', patientId, v);
      const person = await updateFull(this.conn, 'person', 'person_id', patientId, v);
      note('person', person.uuid);
      for (const [table, pk, col] of [
        ['person_name', 'person_name_id', 'person_id'],
        ['person_address', 'person_address_id', 'person_id'],
        ['person_attribute', 'person_attribute_id', 'person_id'],
        ['patient_identifier', 'patient_identifier_id', 'patient_id'],
      ] as const) {
        for (const r of await rows(this.conn, `SELECT ${pk} AS id FROM ${table} WHERE ${col} = ? AND voided = 0`, [
          patientId,
        ])) {
          const row = await updateFull(this.conn, table, pk, Number(r.id), v);
          note(table, row.uuid);
        }
      }
      for (const e of await rows(
        this.conn,
        'SELECT encounter_id AS id FROM encounter WHERE patient_id = ? AND voided = 0',
        [patientId],
      )) {
        for (const [table, u] of await this.voidEncounterRows(Number(e.id), reason, date)) note(table, u);
      }
      for (const o of await rows(this.conn, 'SELECT order_id AS id FROM orders WHERE patient_id = ? AND voided = 0', [
        patientId,
      ])) {
        const row = await updateFull(this.conn, 'orders', 'order_id', Number(o.id), v);
        note('orders', row.uuid);
      }
      return voided;
    });
  }

  /** voidEncounter's rows: top-level obs (members first by recursion), all orders, then the encounter. */
  private async voidEncounterRows(
    encounterId: number,
    reason: string,
    date: string,
  ): Promise<Array<[string, unknown]>> {
    const out: Array<[string, unknown]> = [];
    const v = this.voided(reason, date);
    const obs = await rows(
      this.conn,
      'SELECT obs_id, obs_group_id FROM obs WHERE encounter_id = ? AND voided = 0 ORDER BY obs_group_id IS NOT NULL, obs_id',
      [encounterId],
    );
    for (const o of obs) {
      const row = await updateFull(this.conn, 'obs', 'obs_id', Number(o.obs_id), v);
      out.push(['obs', row.uuid]);
    }
    for (const o of await rows(this.conn, 'SELECT order_id FROM orders WHERE encounter_id = ? AND voided = 0', [
      encounterId,
    ])) {
      const row = await updateFull(this.conn, 'orders', 'order_id', Number(o.order_id), v);
      out.push(['orders', row.uuid]);
    }
    const enc = await updateFull(this.conn, 'encounter', 'encounter_id', encounterId, v);
    out.push(['encounter', enc.uuid]);
    return out;
  }

  /** `EncounterService.voidEncounter`: its obs and orders, then the encounter row (encounter_provider untouched). */
  async voidEncounter(encounterId: number, reason = 'Entered in error'): Promise<Array<[string, string]>> {
    return this.tx(async () =>
      (await this.voidEncounterRows(encounterId, reason, this.now())).map(([t, u]) => [t, String(u)]),
    );
  }

  /**
   * `PatientService.mergePatients(preferred, notPreferred)`: moves visits, encounters (their obs are voided and
   * re-created for the winner, their orders' patient_id updated), program enrolments; copies identifiers
   * (preferred=0), names and addresses onto the winner as new rows; voids the loser (patient, person, names,
   * identifiers, ...) with reason `Merged with patient #<winner>`; saves the winner; finally INSERT person_merge_log.
   */
  async mergePatients(
    winnerId: number,
    loserId: number,
  ): Promise<{ mergeLogUuid: string; movedOrderUuids: string[]; amendedObs: Array<{ from: string; to: string }> }> {
    return this.tx(async () => {
      const movedOrderUuids: string[] = [];
      const amendedObs: Array<{ from: string; to: string }> = [];
      for (const v of await rows(this.conn, 'SELECT visit_id FROM visit WHERE patient_id = ? AND voided = 0', [
        loserId,
      ])) {
        await updateFull(this.conn, 'visit', 'visit_id', Number(v.visit_id), {
          patient_id: winnerId,
          ...this.changed(),
        });
      }
      for (const e of await rows(this.conn, 'SELECT encounter_id FROM encounter WHERE patient_id = ? AND voided = 0', [
        loserId,
      ])) {
        const encounterId = Number(e.encounter_id);
        await updateFull(this.conn, 'encounter', 'encounter_id', encounterId, {
          patient_id: winnerId,
          ...this.changed(),
        });
        // Each obs gets the new person: saveObs makes a new version (group members re-pointed to the new group).
        const newIds = new Map<number, number>();
        for (const o of await rows(
          this.conn,
          'SELECT obs_id, obs_group_id FROM obs WHERE encounter_id = ? AND voided = 0 ORDER BY obs_id',
          [encounterId],
        )) {
          const group = o.obs_group_id == null ? null : (newIds.get(Number(o.obs_group_id)) ?? Number(o.obs_group_id));
          const amended = await this.amendObsRows(
            Number(o.obs_id),
            { person_id: winnerId, obs_group_id: group },
            `Merged from patient #${loserId}`,
          );
          newIds.set(Number(o.obs_id), amended.obsId);
          amendedObs.push({ from: amended.previousObsUuid, to: amended.obsUuid });
        }
        for (const o of await rows(this.conn, 'SELECT order_id FROM orders WHERE encounter_id = ?', [encounterId])) {
          const row = await updateFull(this.conn, 'orders', 'order_id', Number(o.order_id), { patient_id: winnerId });
          movedOrderUuids.push(String(row.uuid));
        }
      }
      for (const pp of await rows(
        this.conn,
        'SELECT patient_program_id FROM patient_program WHERE patient_id = ? AND voided = 0',
        [loserId],
      )) {
        await updateFull(this.conn, 'patient_program', 'patient_program_id', Number(pp.patient_program_id), {
          patient_id: winnerId,
          ...this.changed(),
        });
      }
      // Copies onto the winner: identifiers (never preferred), names, addresses.
      for (const r of await rows(this.conn, 'SELECT * FROM patient_identifier WHERE patient_id = ? AND voided = 0', [
        loserId,
      ])) {
        await insert(this.conn, 'patient_identifier', {
          patient_id: winnerId,
          identifier: r.identifier,
          identifier_type: r.identifier_type,
          preferred: 0,
          location_id: r.location_id,
          ...this.created(),
          voided: 0,
          uuid: uuid(),
        });
      }
      for (const r of await rows(this.conn, 'SELECT * FROM person_name WHERE person_id = ? AND voided = 0', [
        loserId,
      ])) {
        await insert(this.conn, 'person_name', {
          preferred: 0,
          person_id: winnerId,
          given_name: r.given_name,
          family_name: r.family_name,
          ...this.created(),
          voided: 0,
          uuid: uuid(),
        });
      }
      const reason = `Merged with patient #${winnerId}`;
      const v = this.voided(reason);
      await updateFull(this.conn, 'patient', 'patient_id', loserId, v);
      await updateFull(this.conn, 'person', 'person_id', loserId, v);
      for (const [table, pk, col] of [
        ['person_name', 'person_name_id', 'person_id'],
        ['patient_identifier', 'patient_identifier_id', 'patient_id'],
        ['person_address', 'person_address_id', 'person_id'],
      ] as const) {
        for (const r of await rows(this.conn, `SELECT ${pk} AS id FROM ${table} WHERE ${col} = ? AND voided = 0`, [
          loserId,
        ])) {
          await updateFull(this.conn, table, pk, Number(r.id), v);
        }
      }
      await updateFull(this.conn, 'person', 'person_id', winnerId, this.changed());
      const [w] = await rows(this.conn, 'SELECT uuid FROM person WHERE person_id = ?', [winnerId]);
      const [l] = await rows(this.conn, 'SELECT uuid FROM person WHERE person_id = ?', [loserId]);
      const mergeLogUuid = uuid();
      await insert(this.conn, 'person_merge_log', {
        winner_person_id: winnerId,
        loser_person_id: loserId,
        ...this.created(),
        merged_data: JSON.stringify({ winner: w.uuid, loser: l.uuid, movedOrders: movedOrderUuids.length }),
        uuid: mergeLogUuid,
        voided: 0,
      });
      return { mergeLogUuid, movedOrderUuids, amendedObs };
    });
  }

  // ------------------------------------------------------------------------------------ visits, encounters, obs

  /** `VisitService.saveVisit` of a new visit: INSERT visit (date_stopped NULL unless `stopped` is given). */
  async startVisit(
    patientId: number,
    options: { started?: string; stopped?: string } = {},
  ): Promise<{ visitId: number; visitUuid: string }> {
    return this.tx(async () => {
      const visitUuid = uuid();
      const visitId = await insert(this.conn, 'visit', {
        patient_id: patientId,
        visit_type_id: this.meta.visitTypeId,
        date_started: options.started ?? this.now(),
        date_stopped: options.stopped ?? null,
        location_id: this.meta.locationId,
        ...this.created(),
        voided: 0,
        uuid: visitUuid,
      });
      return { visitId, visitUuid };
    });
  }

  /** `VisitService.endVisit`: UPDATE visit SET date_stopped (NULL to a value), all columns rewritten. */
  async endVisit(visitId: number, stopped?: string): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'visit', 'visit_id', visitId, {
        date_stopped: stopped ?? this.now(),
        ...this.changed(),
      });
    });
  }

  /**
   * `EncounterService.saveEncounter` of a new encounter with obs: INSERT encounter, encounter_provider, then the obs:
   * weight, height, a vitals group, then the group's members (temperature, note) pointing at it via obs_group_id.
   */
  async createEncounter(
    patientId: number,
    visitId: number | null,
    values: { weight?: number; height?: number; temperature?: number; note?: string } = {},
  ): Promise<CreatedEncounter> {
    return this.tx(async () => {
      const when = this.now();
      const encounterUuid = uuid();
      const encounterId = await insert(this.conn, 'encounter', {
        encounter_type: this.meta.encounterTypeId,
        patient_id: patientId,
        location_id: this.meta.locationId,
        encounter_datetime: when,
        ...this.created(),
        voided: 0,
        visit_id: visitId,
        uuid: encounterUuid,
      });
      const encounterProviderUuid = uuid();
      await insert(this.conn, 'encounter_provider', {
        encounter_id: encounterId,
        provider_id: this.meta.providerId,
        encounter_role_id: this.meta.encounterRoleId,
        ...this.created(),
        voided: 0,
        uuid: encounterProviderUuid,
      });
      const c = this.meta.concepts;
      const obs = async (concept: number, value: Row, group: number | null = null): Promise<ObsRef> => {
        const obsUuid = uuid();
        const obsId = await insert(this.conn, 'obs', {
          person_id: patientId,
          concept_id: concept,
          encounter_id: encounterId,
          obs_datetime: when,
          location_id: this.meta.locationId,
          obs_group_id: group,
          ...value,
          ...this.created(),
          voided: 0,
          uuid: obsUuid,
          status: 'FINAL',
        });
        return { obsId, obsUuid };
      };
      const weight = await obs(c.weight, { value_numeric: values.weight ?? 61.5 });
      const height = await obs(c.height, { value_numeric: values.height ?? 168 });
      const group = await obs(c.vitals, {});
      const temperature = await obs(c.temperature, { value_numeric: values.temperature ?? 37.2 }, group.obsId);
      const note = await obs(c.note, { value_text: values.note ?? 'Feels well' }, group.obsId);
      return { encounterId, encounterUuid, encounterProviderUuid, obs: { weight, height, group, temperature, note } };
    });
  }

  /** saveExistingObs: INSERT the new version (previous_version = old, status AMENDED), then void the old row. */
  private async amendObsRows(
    obsId: number,
    changes: Row,
    reason: string,
  ): Promise<{ obsId: number; obsUuid: string; previousObsUuid: string }> {
    const old = await selectRow(this.conn, 'obs', 'obs_id', obsId);
    const obsUuid = uuid();
    const copy: Row = {
      ...old,
      ...changes,
      ...this.created(),
      uuid: obsUuid,
      previous_version: obsId,
      voided: 0,
      voided_by: null,
      date_voided: null,
      void_reason: null,
    };
    if (old.status === 'FINAL') copy.status = 'AMENDED';
    delete copy.obs_id;
    const newId = await insert(this.conn, 'obs', copy);
    await updateFull(this.conn, 'obs', 'obs_id', obsId, this.voided(reason));
    return { obsId: newId, obsUuid, previousObsUuid: String(old.uuid) };
  }

  /** `ObsService.saveObs(existing, changeMessage)`: the obs edit pattern (insert new version + void old). */
  async editObs(
    obsId: number,
    value: { valueNumeric?: number; valueText?: string },
    reason = 'Replaced with a new one because it was changed',
  ): Promise<{ obsId: number; obsUuid: string; previousObsUuid: string }> {
    return this.tx(() =>
      this.amendObsRows(
        obsId,
        {
          ...(value.valueNumeric !== undefined ? { value_numeric: value.valueNumeric } : {}),
          ...(value.valueText !== undefined ? { value_text: value.valueText } : {}),
        },
        reason,
      ),
    );
  }

  /** `ObsService.voidObs`: UPDATE obs voided (and its group members first, by recursion). */
  async voidObs(obsId: number, reason = 'Entered in error'): Promise<{ voidedUuids: string[] }> {
    return this.tx(async () => {
      const voidedUuids: string[] = [];
      const v = this.voided(reason);
      for (const m of await rows(this.conn, 'SELECT obs_id FROM obs WHERE obs_group_id = ? AND voided = 0', [obsId])) {
        voidedUuids.push(String((await updateFull(this.conn, 'obs', 'obs_id', Number(m.obs_id), v)).uuid));
      }
      voidedUuids.unshift(String((await updateFull(this.conn, 'obs', 'obs_id', obsId, v)).uuid));
      return { voidedUuids };
    });
  }

  // ------------------------------------------------------------------------------------------------ orders

  /** `getNextOrderNumberSeedSequenceValue`: SELECT ... FOR UPDATE and bump `order.nextOrderNumberSeed`. */
  private async nextOrderNumber(): Promise<string> {
    const bump = async () => {
      const [gp] = await rows(
        this.conn,
        "SELECT property_value FROM global_property WHERE property = 'order.nextOrderNumberSeed' FOR UPDATE",
      );
      const seed = Number(gp.property_value);
      await updateFull(this.conn, 'global_property', 'property', 'order.nextOrderNumberSeed', {
        property_value: String(seed + 1),
      });
      return `ORD-${seed}`;
    };
    return this.seedMode === 'separate' ? inTransaction(this.conn, bump) : bump();
  }

  private async insertOrder(order: Row, drug: Row | null, test: Row | null): Promise<PlacedOrder> {
    const orderUuid = uuid();
    const orderId = await insert(this.conn, 'orders', { ...order, uuid: orderUuid });
    if (drug) await insert(this.conn, 'drug_order', { order_id: orderId, ...drug });
    if (test) await insert(this.conn, 'test_order', { order_id: orderId, ...test });
    return { orderId, orderUuid, orderNumber: String(order.order_number) };
  }

  private async withOrderNumber<T>(fn: (orderNumber: string) => Promise<T>): Promise<T> {
    if (this.seedMode === 'separate') {
      const orderNumber = await this.nextOrderNumber();
      return this.tx(() => fn(orderNumber));
    }
    return this.tx(async () => fn(await this.nextOrderNumber()));
  }

  private drugDetails(dose: number): Row {
    const c = this.meta.concepts;
    return {
      drug_inventory_id: this.meta.drugId,
      dose,
      as_needed: 0,
      dosing_type: 'org.openmrs.SimpleDosingInstructions',
      quantity: 20,
      num_refills: 0,
      duration: 5,
      duration_units: c.days,
      quantity_units: c.tablet,
      route: c.oral,
      dose_units: c.mg,
      dispense_as_written: 0,
    };
  }

  /** `OrderService.saveOrder` of a NEW drug order: INSERT orders + INSERT drug_order (plus the seed bump). */
  async placeDrugOrder(patientId: number, encounterId: number, options: { dose?: number } = {}): Promise<PlacedOrder> {
    return this.withOrderNumber((orderNumber) =>
      this.insertOrder(
        {
          order_type_id: this.meta.drugOrderTypeId,
          concept_id: this.meta.concepts.paracetamol,
          orderer: this.meta.providerId,
          encounter_id: encounterId,
          instructions: 'After meals',
          date_activated: this.now(),
          ...this.created(),
          voided: 0,
          patient_id: patientId,
          urgency: 'ROUTINE',
          order_number: orderNumber,
          order_action: 'NEW',
          care_setting: this.meta.careSettingId,
        },
        this.drugDetails(options.dose ?? 500),
        null,
      ),
    );
  }

  /** `OrderService.saveOrder` of a NEW test order: INSERT orders + INSERT test_order. */
  async placeTestOrder(patientId: number, encounterId: number): Promise<PlacedOrder> {
    return this.withOrderNumber((orderNumber) =>
      this.insertOrder(
        {
          order_type_id: this.meta.testOrderTypeId,
          concept_id: this.meta.concepts.malariaSmear,
          orderer: this.meta.providerId,
          encounter_id: encounterId,
          date_activated: this.now(),
          ...this.created(),
          voided: 0,
          patient_id: patientId,
          urgency: 'STAT',
          order_number: orderNumber,
          order_action: 'NEW',
          care_setting: this.meta.careSettingId,
        },
        null,
        { specimen_source: null, clinical_history: 'Fever for 3 days' },
      ),
    );
  }

  /** REVISE / DISCONTINUE: UPDATE previous order's date_stopped (a second before), INSERT the new order + subtype row. */
  private async chainOrder(
    previousOrderId: number,
    action: 'REVISE' | 'DISCONTINUE',
    dose?: number,
  ): Promise<PlacedOrder> {
    return this.withOrderNumber(async (orderNumber) => {
      const prev = await selectRow(this.conn, 'orders', 'order_id', previousOrderId);
      const activated = this.now();
      const momentBefore = wallClock(new Date(Date.parse(activated.replace(' ', 'T') + 'Z') - 1000));
      await updateFull(this.conn, 'orders', 'order_id', previousOrderId, { date_stopped: momentBefore });
      const [drugRow] = await rows(this.conn, 'SELECT * FROM drug_order WHERE order_id = ?', [previousOrderId]);
      const [testRow] = await rows(this.conn, 'SELECT * FROM test_order WHERE order_id = ?', [previousOrderId]);
      const order: Row = {
        order_type_id: prev.order_type_id,
        concept_id: prev.concept_id,
        orderer: prev.orderer,
        encounter_id: prev.encounter_id,
        instructions: action === 'REVISE' ? 'Revised: after meals, with water' : null,
        date_activated: activated,
        auto_expire_date: action === 'DISCONTINUE' ? activated : null,
        order_reason_non_coded: action === 'DISCONTINUE' ? 'Symptoms resolved' : null,
        ...this.created(),
        voided: 0,
        patient_id: prev.patient_id,
        urgency: prev.urgency,
        order_number: orderNumber,
        previous_order_id: previousOrderId,
        order_action: action,
        care_setting: prev.care_setting,
      };
      let drug: Row | null = null;
      if (drugRow) {
        // cloneForDiscontinuing copies only the drug; a revision carries full details.
        drug =
          action === 'REVISE'
            ? this.drugDetails(dose ?? Number(drugRow.dose) * 2)
            : {
                drug_inventory_id: drugRow.drug_inventory_id,
                drug_non_coded: drugRow.drug_non_coded,
                dispense_as_written: 0,
              };
      }
      const test = testRow ? { specimen_source: testRow.specimen_source } : null;
      const placed = await this.insertOrder(order, drug, test);
      return { ...placed, previousOrderUuid: String(prev.uuid) };
    });
  }

  /** `saveOrder` with a REVISE order for `previousOrderId`. */
  reviseOrder(previousOrderId: number, options: { dose?: number } = {}): Promise<PlacedOrder> {
    return this.chainOrder(previousOrderId, 'REVISE', options.dose);
  }

  /** `OrderService.discontinueOrder`: stop the order, INSERT the DISCONTINUE order (with its drug_order row). */
  discontinueOrder(previousOrderId: number): Promise<PlacedOrder> {
    return this.chainOrder(previousOrderId, 'DISCONTINUE');
  }

  /** `OrderService.updateOrderFulfillerStatus`: UPDATE orders fulfiller_status/comment in place. */
  async setFulfillerStatus(orderId: number, status: string, comment?: string): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'orders', 'order_id', orderId, {
        fulfiller_status: status,
        fulfiller_comment: comment ?? null,
      });
    });
  }

  /** `OrderService.voidOrder`: UPDATE orders voided; voiding a REVISE/DISCONTINUE resets the previous date_stopped. */
  async voidOrder(orderId: number, reason = 'Entered in error'): Promise<void> {
    await this.tx(async () => {
      const row = await updateFull(this.conn, 'orders', 'order_id', orderId, this.voided(reason));
      if ((row.order_action === 'DISCONTINUE' || row.order_action === 'REVISE') && row.previous_order_id) {
        await updateFull(this.conn, 'orders', 'order_id', Number(row.previous_order_id), { date_stopped: null });
      }
    });
  }

  // ------------------------------------------------------------------- allergies, conditions, diagnoses, programs

  /** `PatientService.saveAllergy` of a new allergy: INSERT allergy + allergy_reaction. */
  async recordAllergy(patientId: number): Promise<{ allergyId: number; allergyUuid: string; reactionUuid: string }> {
    return this.tx(async () => {
      const allergyUuid = uuid();
      const c = this.meta.concepts;
      const allergyId = await insert(this.conn, 'allergy', {
        patient_id: patientId,
        severity_concept_id: c.severe,
        coded_allergen: c.penicillin,
        allergen_type: 'DRUG',
        comments: 'Hives within an hour',
        ...this.created(),
        voided: 0,
        uuid: allergyUuid,
      });
      const reactionUuid = uuid();
      await insert(this.conn, 'allergy_reaction', {
        allergy_id: allergyId,
        reaction_concept_id: c.rash,
        uuid: reactionUuid,
      });
      return { allergyId, allergyUuid, reactionUuid };
    });
  }

  /** `saveAllergy` of an existing allergy: UPDATE allergy in place. */
  async updateAllergy(allergyId: number, changes: { comments?: string; severityConceptId?: number }): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'allergy', 'allergy_id', allergyId, {
        ...(changes.comments !== undefined ? { comments: changes.comments } : {}),
        ...(changes.severityConceptId !== undefined ? { severity_concept_id: changes.severityConceptId } : {}),
        ...this.changed(),
      });
    });
  }

  /** `PatientService.voidAllergy`. */
  async voidAllergy(allergyId: number, reason = 'Not allergic'): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'allergy', 'allergy_id', allergyId, this.voided(reason));
    });
  }

  /** `ConditionService.saveCondition` of a new condition: INSERT conditions. */
  async recordCondition(
    patientId: number,
    options: { clinicalStatus?: string } = {},
  ): Promise<{ conditionId: number; conditionUuid: string }> {
    return this.tx(async () => {
      const conditionUuid = uuid();
      const conditionId = await insert(this.conn, 'conditions', {
        condition_coded: this.meta.concepts.hypertension,
        clinical_status: options.clinicalStatus ?? 'ACTIVE',
        verification_status: 'PROVISIONAL',
        onset_date: this.now(),
        ...this.created(),
        voided: 0,
        uuid: conditionUuid,
        patient_id: patientId,
      });
      return { conditionId, conditionUuid };
    });
  }

  /**
   * `saveCondition` of an edited condition: void the old row (reason `Condition replaced by <newUuid>`) and INSERT the
   * new one with previous_version (ConditionServiceImpl L105-141).
   */
  async editCondition(
    conditionId: number,
    changes: { clinicalStatus?: string; verificationStatus?: string; endDate?: string },
  ): Promise<{ conditionId: number; conditionUuid: string; previousConditionUuid: string }> {
    return this.tx(async () => {
      const old = await selectRow(this.conn, 'conditions', 'condition_id', conditionId);
      const conditionUuid = uuid();
      await updateFull(
        this.conn,
        'conditions',
        'condition_id',
        conditionId,
        this.voided(`Condition replaced by ${conditionUuid}`),
      );
      const copy: Row = {
        ...old,
        ...(changes.clinicalStatus !== undefined ? { clinical_status: changes.clinicalStatus } : {}),
        ...(changes.verificationStatus !== undefined ? { verification_status: changes.verificationStatus } : {}),
        ...(changes.endDate !== undefined ? { end_date: changes.endDate } : {}),
        ...this.created(),
        changed_by: null,
        date_changed: null,
        previous_version: conditionId,
        uuid: conditionUuid,
      };
      delete copy.condition_id;
      const newId = await insert(this.conn, 'conditions', copy);
      return { conditionId: newId, conditionUuid, previousConditionUuid: String(old.uuid) };
    });
  }

  /** `ConditionService.voidCondition` (removing a condition). */
  async voidCondition(conditionId: number, reason = 'Condition removed'): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'conditions', 'condition_id', conditionId, this.voided(reason));
    });
  }

  /** `DiagnosisService.save` of a new encounter diagnosis: INSERT encounter_diagnosis. */
  async recordDiagnosis(
    encounterId: number,
    options: { certainty?: 'PROVISIONAL' | 'CONFIRMED'; rank?: number } = {},
  ): Promise<{ diagnosisId: number; diagnosisUuid: string }> {
    return this.tx(async () => {
      const [enc] = await rows(this.conn, 'SELECT patient_id FROM encounter WHERE encounter_id = ?', [encounterId]);
      const diagnosisUuid = uuid();
      const diagnosisId = await insert(this.conn, 'encounter_diagnosis', {
        diagnosis_coded: this.meta.concepts.malaria,
        encounter_id: encounterId,
        patient_id: enc.patient_id,
        certainty: options.certainty ?? 'PROVISIONAL',
        dx_rank: options.rank ?? 1,
        uuid: diagnosisUuid,
        ...this.created(),
        voided: 0,
      });
      return { diagnosisId, diagnosisUuid };
    });
  }

  /** `DiagnosisService.save` of an existing diagnosis: UPDATE encounter_diagnosis in place. */
  async updateDiagnosis(
    diagnosisId: number,
    changes: { certainty?: 'PROVISIONAL' | 'CONFIRMED'; rank?: number },
  ): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'encounter_diagnosis', 'diagnosis_id', diagnosisId, {
        ...(changes.certainty ? { certainty: changes.certainty } : {}),
        ...(changes.rank !== undefined ? { dx_rank: changes.rank } : {}),
        ...this.changed(),
      });
    });
  }

  /** `DiagnosisService.voidDiagnosis`. */
  async voidDiagnosis(diagnosisId: number, reason = 'Entered in error'): Promise<void> {
    await this.tx(async () => {
      await updateFull(this.conn, 'encounter_diagnosis', 'diagnosis_id', diagnosisId, this.voided(reason));
    });
  }

  /** `ProgramWorkflowService.savePatientProgram` of a new enrolment: INSERT patient_program + initial patient_state. */
  async enrollInProgram(
    patientId: number,
  ): Promise<{ patientProgramId: number; patientProgramUuid: string; stateUuid: string }> {
    return this.tx(async () => {
      const patientProgramUuid = uuid();
      const enrolled = this.now();
      const patientProgramId = await insert(this.conn, 'patient_program', {
        patient_id: patientId,
        program_id: this.meta.programId,
        date_enrolled: enrolled,
        location_id: this.meta.locationId,
        ...this.created(),
        voided: 0,
        uuid: patientProgramUuid,
      });
      const stateUuid = uuid();
      await insert(this.conn, 'patient_state', {
        patient_program_id: patientProgramId,
        state: this.meta.stateEnrolledId,
        start_date: enrolled.slice(0, 10),
        ...this.created(),
        voided: 0,
        uuid: stateUuid,
      });
      return { patientProgramId, patientProgramUuid, stateUuid };
    });
  }

  /**
   * Completing an enrolment (transition to a terminal state, then `savePatientProgram`): UPDATE the current
   * patient_state end_date, INSERT the terminal state, UPDATE patient_program date_completed + outcome.
   */
  async completeProgram(patientProgramId: number): Promise<{ stateUuid: string }> {
    return this.tx(async () => {
      const today = this.now().slice(0, 10);
      for (const s of await rows(
        this.conn,
        'SELECT patient_state_id FROM patient_state WHERE patient_program_id = ? AND end_date IS NULL AND voided = 0',
        [patientProgramId],
      )) {
        await updateFull(this.conn, 'patient_state', 'patient_state_id', Number(s.patient_state_id), {
          end_date: today,
          ...this.changed(),
        });
      }
      const stateUuid = uuid();
      await insert(this.conn, 'patient_state', {
        patient_program_id: patientProgramId,
        state: this.meta.stateCompletedId,
        start_date: today,
        ...this.created(),
        voided: 0,
        uuid: stateUuid,
      });
      await updateFull(this.conn, 'patient_program', 'patient_program_id', patientProgramId, {
        date_completed: this.now(),
        outcome_concept_id: this.meta.concepts.cured,
        ...this.changed(),
      });
      return { stateUuid };
    });
  }

  // ------------------------------------------------------------------------------------------------ metadata

  /** `retire*` of a metadata row (location, concept, encounter_type, ...): UPDATE retired/retired_by/... */
  async retire(table: string, pk: string, id: number, reason = 'No longer used'): Promise<{ uuid: string }> {
    return this.tx(async () => {
      const row = await updateFull(this.conn, table, pk, id, {
        retired: 1,
        retired_by: this.meta.userId,
        date_retired: this.now(),
        retire_reason: reason,
        ...this.changed(),
      });
      return { uuid: String(row.uuid) };
    });
  }

  /** `unretire*`: resets the four retire columns. */
  async unretire(table: string, pk: string, id: number): Promise<{ uuid: string }> {
    return this.tx(async () => {
      const row = await updateFull(this.conn, table, pk, id, {
        retired: 0,
        retired_by: null,
        date_retired: null,
        retire_reason: null,
        ...this.changed(),
      });
      return { uuid: String(row.uuid) };
    });
  }

  retireLocation(locationId: number, reason?: string) {
    return this.retire('location', 'location_id', locationId, reason);
  }
  unretireLocation(locationId: number) {
    return this.unretire('location', 'location_id', locationId);
  }
  retireConcept(conceptId: number, reason?: string) {
    return this.retire('concept', 'concept_id', conceptId, reason);
  }
  unretireConcept(conceptId: number) {
    return this.unretire('concept', 'concept_id', conceptId);
  }

  /** `LocationService.saveLocation` of a new location: INSERT location. */
  async createLocation(name: string): Promise<{ locationId: number; locationUuid: string }> {
    return this.tx(async () => {
      const locationUuid = uuid();
      const locationId = await insert(this.conn, 'location', {
        name,
        parent_location: this.meta.locationId,
        ...this.created(),
        retired: 0,
        uuid: locationUuid,
      });
      return { locationId, locationUuid };
    });
  }

  /** A module writing its own table (idgen logging a generated identifier): one INSERT into a non-core table. */
  async moduleWrite(identifier = `GEN-${++identifierSeq}`): Promise<{ id: number }> {
    return this.tx(async () => ({
      id: await insert(this.conn, this.meta.moduleTable, {
        source: 1,
        identifier,
        date_generated: this.now(),
        generated_by: this.meta.userId,
        comment: 'generated by the demo',
      }),
    }));
  }
}
