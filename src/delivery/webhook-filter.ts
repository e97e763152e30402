/**
 * Which events a webhook subscribed to (CONTRACT.md section 5: RowChanged only when `types` names it).
 */
import type { BridgeEvent } from '../domain/types.js';

/** A hook's filter. */
export interface HookFilter {
  types: readonly string[] | null;
  patient: string | null;
}

/** A predicate for one hook's filter, built once per runner. */
export function eventMatcher(filter: HookFilter): (e: BridgeEvent) => boolean {
  const types = filter.types ? new Set(filter.types) : null;
  const patient = filter.patient;
  return (e) =>
    (types ? types.has(e.type) : e.type !== 'RowChanged') && (patient === null || e.patientuuid === patient);
}
