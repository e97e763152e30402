/**
 * The CloudEvents 1.0 envelope (structured JSON mode) with the extension attributes of CONTRACT.md section 4, and the
 * helper that defines one catalog event type on top of it.
 */
import { z } from 'zod';

/** OpenMRS Event module actions (`org.openmrs.event.Event.Action`). */
export const OpenmrsAction = z.enum(['CREATED', 'UPDATED', 'VOIDED', 'UNVOIDED', 'RETIRED', 'UNRETIRED', 'PURGED']);
export type OpenmrsAction = z.infer<typeof OpenmrsAction>;

/** The attributes every event has, whatever its type. */
export const envelopeShape = {
  specversion: z.literal('1.0'),
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*:.+:[1-9][0-9]*$/)
    .describe('`<site>:<txid>:<txseq>`: deterministic, the idempotency key'),
  source: z
    .string()
    .regex(/^openmrs:\/\/[a-z0-9][a-z0-9-]*$/)
    .describe('`openmrs://<site>`'),
  subject: z.string().min(1).optional().describe('uuid of the entity the event is about'),
  time: z.iso.datetime().describe('commit time of the transaction, UTC'),
  datacontenttype: z.literal('application/json'),
  openmrsclass: z
    .string()
    .regex(/^org\.openmrs\./)
    .describe('OpenMRS class, as the Event module names it'),
  openmrsaction: OpenmrsAction,
  patientuuid: z.string().min(1).optional().describe('person.uuid of the patient the event concerns'),
  txid: z.string().min(1).describe("the transaction's GTID"),
  txseq: z.number().int().min(1).describe('1-based place of the event in its transaction'),
  txsize: z.number().int().min(1).describe('number of events of the transaction'),
  cursor: z.string().min(1).describe('opaque; a stream started `after` it resumes right after this event'),
};

/** Routing facts of one catalog type: the kebab-case parts of routing keys and topics (CONTRACT section 5). */
export interface EventTypeInfo {
  /** The catalog name, e.g. `ObsVoided`. */
  type: string;
  /** e.g. `obs`, `program-enrollment`, `row`. */
  aggregate: string;
  /** e.g. `voided`; for RowChanged the action depends on the operation (`inserted`, `updated`, `deleted`). */
  action: string;
  /** The Event-module action, or null for RowChanged (depends on the operation). */
  openmrsaction: OpenmrsAction | null;
  /** The OpenMRS classes events of this type can carry. */
  classes: readonly string[];
  description: string;
  /** The zod schema of the whole event. */
  schema: z.ZodType;
  /** The zod schema of `data`. */
  data: z.ZodType;
}

/** Defines one event type: the envelope with `type` fixed to `name` and `data` typed. */
export function eventType<N extends string, D extends z.ZodType, A extends OpenmrsAction>(
  name: N,
  data: D,
  meta: { action: A; classes: readonly [string, ...string[]]; description: string },
) {
  const classes = meta.classes;
  return z
    .object({
      ...envelopeShape,
      type: z.literal(name),
      openmrsclass: classes.length === 1 ? z.literal(classes[0]) : z.enum(classes as [string, ...string[]]),
      openmrsaction: z.literal(meta.action),
      data,
    })
    .meta({ id: name, title: name, description: meta.description });
}
