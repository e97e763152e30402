/**
 * The event every channel carries: one CloudEvents 1.0 object in structured JSON mode (CONTRACT.md section 4).
 * The zod schemas in `domain/catalog` are the source of truth for each type's `data`; this interface is the envelope
 * that `delivery` and `channels` rely on.
 */
export interface BridgeEvent {
  specversion: '1.0';
  /** `<site>:<txid>:<txseq>`: deterministic, the consumer's idempotency key. */
  id: string;
  /** `openmrs://<site>` */
  source: string;
  /** A catalog type, e.g. `ObsVoided`. */
  type: string;
  /** uuid of the entity the event is about. */
  subject?: string;
  /** Commit time of the transaction, ISO-8601 UTC. */
  time: string;
  datacontenttype: 'application/json';
  /** OpenMRS Event module class name, e.g. `org.openmrs.Obs`. */
  openmrsclass: string;
  /** OpenMRS Event module action: CREATED, UPDATED, VOIDED, UNVOIDED, RETIRED, UNRETIRED, PURGED. */
  openmrsaction: string;
  /** `person.uuid` of the patient the event concerns, when it concerns one. */
  patientuuid?: string;
  /** The transaction's GTID. */
  txid: string;
  /** 1-based place of the event in its transaction. */
  txseq: number;
  /** Number of events the transaction produced. */
  txsize: number;
  /** Opaque; a stream started `after` it resumes right after this event. */
  cursor: string;
  data: Record<string, unknown>;
}

/** All events of one committed transaction, in order, with where to resume after it. */
export interface TransactionEvents {
  txid: string;
  /** Commit time, unix seconds. */
  commitTime: number;
  /** Resume position after this transaction (see capture/types). */
  end: import('../capture/types.js').ResumePosition;
  events: BridgeEvent[];
}
