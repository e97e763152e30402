/**
 * Realistic BridgeEvents for channel tests and benchmarks, before (and beside) the full pipeline: OpenMRS-shaped
 * transactions (a visit with an encounter and its obs, obs voided, a patient updated, a module row changed), each
 * event about 1 KB of JSON like the domain layer's.
 */
import { randomUUID } from 'node:crypto';
import type { BridgeEvent, TransactionEvents } from '../../src/domain/types.js';

/** The expected route words of a type (CONTRACT section 5), independent of the code under test. */
export const EXPECTED_ROUTE: Record<string, string> = {
  PatientUpdated: 'patient.updated',
  VisitStarted: 'visit.started',
  EncounterCreated: 'encounter.created',
  ObsCreated: 'obs.created',
  ObsVoided: 'obs.voided',
  OrderPlaced: 'order.placed',
  ProgramEnrollmentCompleted: 'program-enrollment.completed',
  MetadataRetired: 'metadata.retired',
  'RowChanged:insert': 'row.inserted',
  'RowChanged:update': 'row.updated',
  'RowChanged:delete': 'row.deleted',
};

const CLASSES: Record<string, [string, string]> = {
  PatientUpdated: ['org.openmrs.Patient', 'UPDATED'],
  VisitStarted: ['org.openmrs.Visit', 'CREATED'],
  EncounterCreated: ['org.openmrs.Encounter', 'CREATED'],
  ObsCreated: ['org.openmrs.Obs', 'CREATED'],
  ObsVoided: ['org.openmrs.Obs', 'VOIDED'],
  OrderPlaced: ['org.openmrs.DrugOrder', 'CREATED'],
  ProgramEnrollmentCompleted: ['org.openmrs.PatientProgram', 'UPDATED'],
  MetadataRetired: ['org.openmrs.Location', 'RETIRED'],
};

/** The shape of each generated transaction, cycled through in order. */
const SHAPES: string[][] = [
  ['VisitStarted', 'EncounterCreated', 'ObsCreated', 'ObsCreated', 'ObsCreated'],
  ['ObsVoided'],
  ['PatientUpdated'],
  ['OrderPlaced', 'RowChanged:insert'],
  ['ProgramEnrollmentCompleted', 'RowChanged:update'],
  ['MetadataRetired', 'RowChanged:delete'],
];

export interface FixtureOptions {
  site?: string;
  /** Patients the events are spread over (round robin). */
  patients?: string[];
  /** First GTID sequence number. */
  firstSeq?: number;
  /** Binlog file of the positions. */
  file?: string;
}

/** A position-ordered cursor for fixture events: `fx:<seq>:<txseq>` (the real one is opaque). */
export function fixtureCursor(seq: number, txseq: number): string {
  return `fx:${seq}:${txseq}`;
}

/** Makes `count` transactions of OpenMRS-shaped events with deterministic ids and increasing binlog positions. */
export function makeTransactions(count: number, options: FixtureOptions = {}): TransactionEvents[] {
  const site = options.site ?? 'clinic-a';
  const patients = options.patients ?? [randomUUID(), randomUUID(), randomUUID()];
  const first = options.firstSeq ?? 1;
  const file = options.file ?? 'mariadb-bin.000001';
  const txs: TransactionEvents[] = [];
  for (let n = 0; n < count; n++) {
    const seq = first + n;
    const txid = `0-1-${seq}`;
    const shape = SHAPES[seq % SHAPES.length]!;
    const commitTime = 1_795_000_000 + seq;
    const patient = patients[seq % patients.length]!;
    const events = shape.map((kind, i) => makeEvent(kind, { site, txid, seq, txseq: i + 1, txsize: shape.length, commitTime, patient }));
    txs.push({ txid, commitTime, end: { binlog: { file, pos: 4 + seq * 1000 }, gtidState: txid }, events });
  }
  return txs;
}

/**
 * Transaction `index` (0-based) of an endless deterministic sequence: the same object every time it is asked for, as
 * re-reading the binlog from a position gives the same transactions again.
 */
export function transactionSequence(options: FixtureOptions = {}): (index: number) => TransactionEvents {
  const cache = new Map<number, TransactionEvents>();
  return (index) => {
    let tx = cache.get(index);
    if (!tx) {
      tx = makeTransactions(1, { ...options, firstSeq: (options.firstSeq ?? 1) + index })[0]!;
      cache.set(index, tx);
    }
    return tx;
  };
}

interface EventContext {
  site: string;
  txid: string;
  seq: number;
  txseq: number;
  txsize: number;
  commitTime: number;
  patient: string;
}

function makeEvent(kind: string, c: EventContext): BridgeEvent {
  const [type, op] = kind.split(':') as [string, string | undefined];
  const subject = randomUUID();
  const base = {
    specversion: '1.0' as const,
    id: `${c.site}:${c.txid}:${c.txseq}`,
    source: `openmrs://${c.site}`,
    type,
    subject,
    time: new Date(c.commitTime * 1000).toISOString().replace('.000Z', 'Z'),
    datacontenttype: 'application/json' as const,
    txid: c.txid,
    txseq: c.txseq,
    txsize: c.txsize,
    cursor: fixtureCursor(c.seq, c.txseq),
  };
  if (type === 'RowChanged') {
    const row = { id: c.seq, uuid: subject, name: 'idgen pool row', note: 'x'.repeat(300), date_created: '2026-11-29T10:15:02Z' };
    return {
      ...base,
      openmrsclass: 'org.openmrs.OpenmrsObject',
      openmrsaction: op === 'insert' ? 'CREATED' : op === 'delete' ? 'PURGED' : 'UPDATED',
      data: {
        table: 'idgen_pooled_identifier',
        op,
        before: op === 'insert' ? null : row,
        after: op === 'delete' ? null : { ...row, note: 'y'.repeat(300) },
        changed: op === 'update' ? ['note'] : [],
      },
    };
  }
  const [openmrsclass, openmrsaction] = CLASSES[type]!;
  const concerned = type !== 'MetadataRetired';
  return {
    ...base,
    openmrsclass,
    openmrsaction,
    ...(concerned ? { patientuuid: c.patient } : {}),
    data: {
      uuid: subject,
      patientUuid: concerned ? c.patient : undefined,
      encounterUuid: randomUUID(),
      conceptUuid: '5089AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      conceptName: 'Weight (kg)',
      valueNumeric: 70.5,
      obsDatetime: '2026-11-29T10:15:02Z',
      locationUuid: '8d6c993e-c2cc-11de-8d13-0010c6dffd0f',
      comment: 'Recorded during the morning clinic by the triage nurse, double-checked against the previous visit.',
      creatorUuid: randomUUID(),
      dateCreated: '2026-11-29T10:15:02Z',
      voided: type.endsWith('Voided'),
      voidReason: type.endsWith('Voided') ? 'Entered in error' : null,
      changes: type.endsWith('Updated') ? { gender: { from: 'M', to: 'F' } } : undefined,
      formNamespaceAndPath: 'Form2$vitals/2-0.0.0/1',
    },
  };
}
