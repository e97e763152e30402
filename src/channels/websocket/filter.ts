/**
 * The query of `GET /v1/stream` (CONTRACT.md section 6): `types` (comma list of catalog types; RowChanged only when
 * named; none = every type but RowChanged), `patient` (a patient's uuid), `after` (a cursor), parsed and checked.
 */
import { EVENT_TYPE_NAMES } from '../../domain/catalog/index.js';
import type { BridgeEvent } from '../../domain/types.js';

/** What one client asked to receive. */
export interface StreamFilter {
  /** Types to send; null = every type but RowChanged. */
  types: ReadonlySet<string> | null;
  /** Only events whose `patientuuid` is this. */
  patient: string | null;
}

export interface StreamQuery {
  filter: StreamFilter;
  after: string | null;
}

/** One bad field, as the API reports it (`{path, message}`). */
export interface FieldError {
  path: string;
  message: string;
}

const KNOWN_TYPES = new Set(EVENT_TYPE_NAMES);
/** OpenMRS uuids are `char(38)` holding 36-character uuids (legacy ones may be shorter or unhyphenated). */
const UUID_LIKE = /^[0-9A-Za-z-]{1,38}$/;

/** Parses the query string; returns the errors of every bad field instead when there are any. */
export function parseStreamQuery(query: Record<string, unknown>): StreamQuery | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const single = (name: string): string | null => {
    const value = query[name];
    if (value === undefined) return null;
    if (typeof value !== 'string') {
      errors.push({ path: name, message: 'must be given once' });
      return null;
    }
    return value;
  };

  let types: Set<string> | null = null;
  const typesText = single('types');
  if (typesText !== null) {
    const names = typesText
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (names.length === 0) errors.push({ path: 'types', message: 'must name at least one event type' });
    const unknown = names.filter((t) => !KNOWN_TYPES.has(t));
    if (unknown.length) errors.push({ path: 'types', message: `unknown event type(s): ${unknown.join(', ')}` });
    types = new Set(names);
  }

  const patient = single('patient');
  if (patient !== null && !UUID_LIKE.test(patient)) errors.push({ path: 'patient', message: 'must be a patient uuid' });

  const after = single('after');
  if (after !== null && after.length === 0)
    errors.push({ path: 'after', message: "must be a cursor (an event's `cursor`)" });

  if (errors.length) return { errors };
  return { filter: { types, patient }, after };
}

/** True when the client asked for this event. */
export function matches(filter: StreamFilter, event: BridgeEvent): boolean {
  if (filter.types ? !filter.types.has(event.type) : event.type === 'RowChanged') return false;
  return filter.patient === null || event.patientuuid === filter.patient;
}
