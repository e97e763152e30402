/**
 * Validates an event three ways: its zod schema (the catalog), its published JSON Schema (docs/events, with ajv) and
 * the official CloudEvents SDK. Throws with every problem found.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { CloudEvent } from 'cloudevents';
import { eventTypeInfo } from '../../src/domain/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ajv = new Ajv2020({ strict: false, allErrors: true });
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (a: Ajv2020) => void;
addFormats(ajv);
const validators = new Map<string, ReturnType<Ajv2020['compile']>>();

/** The published JSON Schema validator of a type (docs/events/<type>.schema.json). */
function jsonSchemaValidator(type: string) {
  let v = validators.get(type);
  if (!v) {
    const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'events', `${type}.schema.json`), 'utf8'));
    v = ajv.compile(schema);
    validators.set(type, v);
  }
  return v;
}

/** Throws unless `event` passes zod, the published JSON Schema and the CloudEvents SDK. */
export function validateEvent(event: unknown): void {
  const e = event as { type: string; id: string };
  const info = eventTypeInfo(e.type);
  if (!info) throw new Error(`${e.id}: type ${e.type} is not in the catalog`);
  const problems: string[] = [];
  const z = info.schema.safeParse(event);
  if (!z.success) problems.push(`zod: ${JSON.stringify(z.error.issues).slice(0, 1000)}`);
  // JSON round trip: what a consumer receives.
  const wire = JSON.parse(JSON.stringify(event));
  const v = jsonSchemaValidator(e.type);
  if (!v(wire)) problems.push(`JSON Schema: ${JSON.stringify(v.errors).slice(0, 1000)}`);
  try {
    const ce = new CloudEvent(wire, true);
    if (ce.id !== e.id || ce.type !== e.type) problems.push('CloudEvents: attributes lost');
  } catch (err) {
    problems.push(`CloudEvents SDK: ${(err as Error).message} ${JSON.stringify((err as any).errors ?? '')}`);
  }
  if (problems.length) throw new Error(`${e.type} ${e.id} is invalid:\n${problems.join('\n')}`);
}
