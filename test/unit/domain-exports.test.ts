import { describe, expect, expectTypeOf, it } from 'vitest';
import { OpenmrsEvent, PatientCreated, EVENT_TYPE_NAMES, routeOf } from '../../src/index.js';
import type { PatientCreated as PatientCreatedType, ObsAmended } from '../../src/index.js';

describe('package entry', () => {
  it('exports the catalog: zod schemas, inferred types, names, routing', () => {
    expect(EVENT_TYPE_NAMES).toContain('PatientCreated');
    expect(EVENT_TYPE_NAMES).toHaveLength(49);
    expect(typeof PatientCreated.parse).toBe('function');
    expect(routeOf({ type: 'ObsAmended' })).toEqual({ aggregate: 'obs', action: 'amended' });
    expectTypeOf<PatientCreatedType['type']>().toEqualTypeOf<'PatientCreated'>();
    expectTypeOf<ObsAmended['data']['previousObsUuid']>().toEqualTypeOf<string>();
    const parsed = OpenmrsEvent.safeParse({ type: 'Nope' });
    expect(parsed.success).toBe(false);
  });
});
