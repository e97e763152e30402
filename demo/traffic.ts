/**
 * The demo's traffic generator: realistic OpenMRS activity at a human pace, written through the OpenMRS statement
 * library (demo/openmrs/), so every transaction has the rows, order and shape OpenMRS itself writes. A small model of
 * the clinic (patients, open visits, encounters, active orders) picks each next action among those that make sense:
 * registrations, visits started and ended, encounters with obs, obs edits, orders placed, revised and discontinued,
 * allergies, conditions, diagnoses, program enrolments, and an occasional void.
 */
import mysql from 'mysql2/promise';
import type { MariaDbServer } from '../test/support/mariadb.js';
import { OpenmrsActions, seedMetadata, type CreatedEncounter } from './openmrs/actions.js';
import { adoptRefappMetadata } from './refapp-metadata.js';

/** What the generator has done so far. */
export interface TrafficStats {
  /** Clinical actions committed (one OpenMRS service call each). */
  transactions: number;
  perAction: Map<string, number>;
  errors: number;
  lastError: string | null;
}

export interface Traffic {
  readonly stats: TrafficStats;
  /** Finishes the action in progress, then stops and closes the connection. */
  stop(): Promise<void>;
}

export interface TrafficOptions {
  db: MariaDbServer;
  database: string;
  /** Mean actions per second (arrivals are random, as at a real front desk). */
  ratePerSecond: number;
  /** A seed for a reproducible sequence (default: random). */
  seed?: number;
}

interface OpenVisit {
  patientId: number;
  visitId: number;
  encounters: number;
}

interface Encounter {
  patientId: number;
  visitId: number;
  encounterId: number;
  /** Current (non-voided) obs ids that can be edited or voided. */
  editable: number[];
}

interface ActiveOrder {
  patientId: number;
  orderId: number;
  kind: 'drug' | 'test';
}

const KEEP = 500;

/** mulberry32: a small seeded PRNG, so a run can be repeated with DEMO_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = [
  'Amina',
  'Baraka',
  'Chiku',
  'Daudi',
  'Eshe',
  'Faraji',
  'Halima',
  'Imani',
  'Jabari',
  'Kamaria',
  'Lulu',
  'Musa',
  'Nia',
  'Omari',
  'Pendo',
  'Rehema',
  'Sefu',
  'Tumaini',
  'Wanjiru',
  'Zawadi',
];
const FAMILY = [
  'Otieno',
  'Mwangi',
  'Kamau',
  'Wafula',
  'Achieng',
  'Njoroge',
  'Odhiambo',
  'Mutua',
  'Kiprono',
  'Chebet',
  'Auma',
  'Ndungu',
];
const CITIES = ['Nairobi', 'Kisumu', 'Mombasa', 'Eldoret', 'Nakuru', 'Thika'];

/**
 * Creates the metadata the statement library needs (adopting the RefApp's same-named rows). `npm run demo` calls it
 * before the bridge starts, so the stream shows clinical activity rather than the setup; {@link startTraffic} calls it
 * again, which only reads the ids back.
 */
export async function prepareClinic(db: MariaDbServer, database: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: db.url(database), dateStrings: true });
  try {
    await adoptRefappMetadata(conn);
    await seedMetadata(conn);
  } finally {
    await conn.end();
  }
}

/** Connects, prepares the metadata the statement library needs, and starts writing. */
export async function startTraffic(options: TrafficOptions): Promise<Traffic> {
  const random = prng(options.seed ?? Math.floor(Math.random() * 2 ** 31));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const conn = await mysql.createConnection({ uri: options.db.url(options.database), dateStrings: true });
  await adoptRefappMetadata(conn);
  const om = new OpenmrsActions(conn, await seedMetadata(conn));

  const stats: TrafficStats = { transactions: 0, perAction: new Map(), errors: 0, lastError: null };
  const [existing] = await conn.query<mysql.RowDataPacket[]>(
    'SELECT patient_id FROM patient WHERE voided = 0 ORDER BY patient_id',
  );
  const patients: number[] = existing.map((r) => Number(r.patient_id));
  /** Patients this run registered, with their name ids (for name edits). */
  const registered: Array<{ patientId: number; nameIds: number[] }> = [];
  const visits: OpenVisit[] = [];
  const encounters: Encounter[] = [];
  const orders: ActiveOrder[] = [];

  const bounded = <T>(xs: T[]) => {
    if (xs.length > KEEP) xs.splice(0, xs.length - KEEP);
  };
  const remove = <T>(xs: T[], x: T) => {
    const i = xs.indexOf(x);
    if (i >= 0) xs.splice(i, 1);
  };
  const inOpenVisit = () => encounters.filter((e) => visits.some((v) => v.visitId === e.visitId));
  const withEditableObs = () => encounters.filter((e) => e.editable.length > 0);

  const remember = (patientId: number, visitId: number, e: CreatedEncounter) => {
    // Group members (temperature, note) are edited through their group in OpenMRS: keep the top-level values.
    encounters.push({
      patientId,
      visitId,
      encounterId: e.encounterId,
      editable: [e.obs.weight.obsId, e.obs.height.obsId],
    });
    bounded(encounters);
  };

  /** Each action: a weight, whether it applies now, and what it does. */
  const actions: Array<{ name: string; weight: number; ready: () => boolean; run: () => Promise<void> }> = [
    {
      name: 'register patient',
      weight: 1.5,
      ready: () => true,
      run: async () => {
        const family = pick(FAMILY);
        const p = await om.registerPatient({
          gender: random() < 0.5 ? 'F' : 'M',
          birthdate: `${1950 + Math.floor(random() * 70)}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`,
          names: [{ givenName: pick(GIVEN), familyName: family, preferred: true }],
          addresses: [
            { address1: `${1 + Math.floor(random() * 200)} Moi Avenue`, cityVillage: pick(CITIES), country: 'Kenya' },
          ],
        });
        patients.push(p.patientId);
        registered.push({ patientId: p.patientId, nameIds: p.nameIds });
        bounded(registered);
      },
    },
    {
      name: 'start visit',
      weight: 2.5,
      ready: () => visits.length < 12,
      run: async () => {
        const patientId = pick(patients.filter((p) => !visits.some((v) => v.patientId === p)));
        const v = await om.startVisit(patientId);
        visits.push({ patientId, visitId: v.visitId, encounters: 0 });
      },
    },
    {
      name: 'encounter with obs',
      weight: 4,
      ready: () => visits.length > 0,
      run: async () => {
        const v = pick(visits);
        const e = await om.createEncounter(v.patientId, v.visitId, {
          weight: Math.round(45 + random() * 50),
          height: Math.round(150 + random() * 40),
          temperature: Math.round((36 + random() * 3) * 10) / 10,
          note: pick(['Feels well', 'Cough for 3 days', 'Follow-up', 'Headache and fever', 'Routine check']),
        });
        v.encounters++;
        remember(v.patientId, v.visitId, e);
      },
    },
    {
      name: 'edit obs',
      weight: 1.5,
      ready: () => withEditableObs().length > 0,
      run: async () => {
        const e = pick(withEditableObs());
        const obsId = pick(e.editable);
        const edited = await om.editObs(obsId, { valueNumeric: Math.round(40 + random() * 150) });
        e.editable[e.editable.indexOf(obsId)] = edited.obsId;
      },
    },
    {
      name: 'void obs',
      weight: 0.3,
      ready: () => withEditableObs().length > 0,
      run: async () => {
        const e = pick(withEditableObs());
        const obsId = pick(e.editable);
        await om.voidObs(obsId);
        remove(e.editable, obsId);
      },
    },
    {
      name: 'place drug order',
      weight: 1.5,
      ready: () => inOpenVisit().length > 0 && orders.length < 40,
      run: async () => {
        const e = pick(inOpenVisit());
        const o = await om.placeDrugOrder(e.patientId, e.encounterId, { dose: pick([250, 500, 1000]) });
        orders.push({ patientId: e.patientId, orderId: o.orderId, kind: 'drug' });
      },
    },
    {
      name: 'place test order',
      weight: 0.7,
      ready: () => inOpenVisit().length > 0 && orders.length < 40,
      run: async () => {
        const e = pick(inOpenVisit());
        const o = await om.placeTestOrder(e.patientId, e.encounterId);
        orders.push({ patientId: e.patientId, orderId: o.orderId, kind: 'test' });
      },
    },
    {
      name: 'revise order',
      weight: 0.5,
      ready: () => orders.some((o) => o.kind === 'drug'),
      run: async () => {
        const o = pick(orders.filter((x) => x.kind === 'drug'));
        const revised = await om.reviseOrder(o.orderId, { dose: pick([250, 500, 750]) });
        o.orderId = revised.orderId;
      },
    },
    {
      name: 'discontinue order',
      weight: 0.8,
      ready: () => orders.length > 0,
      run: async () => {
        const o = pick(orders);
        await om.discontinueOrder(o.orderId);
        remove(orders, o);
      },
    },
    {
      name: 'end visit',
      weight: 2,
      ready: () => visits.some((v) => v.encounters > 0) || visits.length >= 12,
      run: async () => {
        const candidates = visits.filter((v) => v.encounters > 0);
        const v = candidates.length > 0 ? pick(candidates) : visits[0];
        await om.endVisit(v.visitId);
        remove(visits, v);
      },
    },
    {
      name: 'record allergy',
      weight: 0.3,
      ready: () => true,
      run: async () => void (await om.recordAllergy(pick(patients))),
    },
    {
      name: 'record condition',
      weight: 0.3,
      ready: () => true,
      run: async () => void (await om.recordCondition(pick(patients))),
    },
    {
      name: 'record diagnosis',
      weight: 0.4,
      ready: () => inOpenVisit().length > 0,
      run: async () => void (await om.recordDiagnosis(pick(inOpenVisit()).encounterId)),
    },
    {
      name: 'enrol in program',
      weight: 0.15,
      ready: () => true,
      run: async () => void (await om.enrollInProgram(pick(patients))),
    },
    {
      name: 'edit name',
      weight: 0.3,
      ready: () => registered.length > 0,
      run: async () => {
        const p = pick(registered);
        await om.editName(p.nameIds[0], { givenName: pick(GIVEN) });
      },
    },
    {
      name: 'add identifier',
      weight: 0.2,
      ready: () => registered.length > 0,
      run: async () => void (await om.addIdentifier(pick(registered).patientId)),
    },
    {
      name: 'void encounter',
      weight: 0.1,
      ready: () => encounters.length > 0,
      run: async () => {
        const e = pick(encounters);
        await om.voidEncounter(e.encounterId);
        remove(encounters, e);
      },
    },
    {
      name: 'void patient',
      weight: 0.05,
      ready: () => registered.some((p) => !visits.some((v) => v.patientId === p.patientId)),
      run: async () => {
        const p = pick(registered.filter((r) => !visits.some((v) => v.patientId === r.patientId)));
        await om.voidPatient(p.patientId, 'Duplicate record');
        remove(registered, p);
        remove(patients, p.patientId);
        for (const e of encounters.filter((x) => x.patientId === p.patientId)) remove(encounters, e);
        for (const o of orders.filter((x) => x.patientId === p.patientId)) remove(orders, o);
      },
    },
    {
      name: 'module table write',
      weight: 0.1,
      ready: () => true,
      run: async () => void (await om.moduleWrite()),
    },
  ];

  const choose = () => {
    const ready = actions.filter((a) => a.ready());
    let r = random() * ready.reduce((s, a) => s + a.weight, 0);
    for (const a of ready) {
      r -= a.weight;
      if (r <= 0) return a;
    }
    return ready[ready.length - 1];
  };

  let stopping = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    while (!stopping) {
      const action = choose();
      try {
        await action.run();
        stats.transactions++;
        stats.perAction.set(action.name, (stats.perAction.get(action.name) ?? 0) + 1);
      } catch (err) {
        stats.errors++;
        stats.lastError = `${action.name}: ${(err as Error).message}`;
      }
      // Exponential inter-arrival times (a Poisson process) around the mean rate, capped so the demo never stalls.
      const mean = 1000 / options.ratePerSecond;
      if (!stopping) await sleep(Math.min(-Math.log(1 - random()) * mean, mean * 4));
    }
  })();

  return {
    stats,
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await conn.end().catch(() => undefined);
    },
  };
}
