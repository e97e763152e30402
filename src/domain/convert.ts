/**
 * Row conversion: a binlog row image (columns by name) to a payload object by its field spec, references through the
 * transaction's RefBatch, DATETIMEs through the SourceClock; and the `changes` between two converted images.
 */
import type { ColumnValue, RowImage } from '../source/types.js';
import { REF_TARGETS, type FieldKind, type FieldSpec } from './catalog/fields.js';
import { memoSlotSource, refSpec, type RefBatch, type RefSpec } from './references.js';
import type { SourceClock } from './time.js';

/** A field spec flattened for the hot loop. */
export interface CompiledField {
  name: string;
  column: string;
  kind: FieldKind;
  ref: RefSpec | null;
}

const compiled = new WeakMap<FieldSpec, CompiledField[]>();
/** The uuid RefSpec of a target table (shared instances). */
export function uuidRef(table: string, key: string): RefSpec {
  return refSpec(table, key, 'uuid');
}

/** Flattens a field spec once (memoized). */
export function compile(spec: FieldSpec): CompiledField[] {
  // Consecutive rows are mostly of one table (the obs of an encounter): a one-entry memo before the WeakMap.
  if (spec === lastSpec) return lastCompiled;
  let out = compiled.get(spec);
  if (!out) {
    out = Object.entries(spec).map(([name, f]) => ({
      name,
      column: f.column,
      kind: f.kind,
      ref: f.ref ? uuidRef(REF_TARGETS[f.ref].table, REF_TARGETS[f.ref].key) : null,
    }));
    compiled.set(spec, out);
  }
  lastSpec = spec;
  lastCompiled = out;
  return out;
}
let lastSpec: FieldSpec | null = null;
let lastCompiled: CompiledField[] = [];

/** One reference that resolved to null, with where it was in the payload. */
export interface UnresolvedRef {
  field: string;
  table: string;
  id: number;
  reason: string;
}

/** What conversion needs: the clock, the transaction's references, and where to report unresolved ones. */
export interface ConvertContext {
  clock: SourceClock;
  refs: RefBatch;
  unresolved: UnresolvedRef[];
  /**
   * The resolver's memo of values last found (ReferenceResolver.lastId/lastValue, slot `memoSlot(idx, id)`): the
   * generated converters answer a repeated reference from it without a call (a uuid never changes).
   */
  lastId: readonly number[];
  lastValue: readonly string[];
}

function toInt(v: ColumnValue): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`not a number: ${JSON.stringify(v)}`);
    return n;
  }
  throw new Error('binary value where a number was expected');
}

/** Registers every reference of `row` with the batch (call before `resolve()`). */
export function wantRefs(fields: readonly CompiledField[], row: RowImage, refs: RefBatch): void {
  wanterOf(fields)(row, refs);
}

type Wanter = (row: RowImage, refs: RefBatch) => void;
const wanters = new WeakMap<readonly CompiledField[], Wanter>();
let lastWanted: readonly CompiledField[] | null = null;
let lastWanter: Wanter = () => undefined;

/** Registers one reference value (a number, or a numeric string). */
function wantValue(refs: RefBatch, spec: RefSpec, v: ColumnValue | undefined): void {
  if (typeof v === 'number') refs.want(spec, v);
  else if (typeof v === 'string' && v !== '') refs.want(spec, Number(v));
}

/** Builds (once per spec) straight-line code reading each reference column by its constant name (monomorphic loads). */
function wanterOf(fields: readonly CompiledField[]): Wanter {
  if (fields === lastWanted) return lastWanter;
  let fn = wanters.get(fields);
  if (fn) {
    lastWanted = fields;
    return (lastWanter = fn);
  }
  const specs: RefSpec[] = [];
  const lines: string[] = [];
  for (const f of fields) {
    if (f.ref === null) continue;
    specs.push(f.ref);
    lines.push(
      `v = row[${JSON.stringify(f.column)}]; if (v !== null && v !== undefined) W(refs, S[${specs.length - 1}], v);`,
    );
  }
  const body = `return function want(row, refs) { let v; ${lines.join(' ')} };`;
  fn = new Function('W', 'S', body)(wantValue, specs) as Wanter;
  wanters.set(fields, fn);
  return fn;
}

type Converter = (row: RowImage, ctx: ConvertContext, path: string) => Record<string, unknown>;

/**
 * Thrown by a conversion at the first reference that is not known yet (neither in the transaction, nor resolved, nor
 * cached): the build stops there instead of converting the rest for nothing; the mapper asks for all of the unit's
 * references and builds it again once they are resolved.
 */
export const NOT_RESOLVED_YET: unique symbol = Symbol('reference not resolved yet');

/** Per-kind value conversions, shared by the generated converters. */
const H = {
  uuid(v: ColumnValue | undefined, column: string): string {
    if (typeof v !== 'string' || v === '') throw new Error(`column ${column} is empty: the row has no uuid`);
    return v;
  },
  ref(v: ColumnValue | undefined, spec: RefSpec, ctx: ConvertContext, path: string, name: string): string | null {
    const id = toInt(v ?? null);
    if (id === null) return null;
    const refs = ctx.refs;
    const misses = refs.misses;
    const value = refs.get(spec, id);
    if (value === null) {
      // Not known yet (a miss): whatever else this build makes is thrown away, the unit is built again after lookup.
      if (refs.misses !== misses) throw NOT_RESOLVED_YET;
      ctx.unresolved.push({ field: path + name, table: spec.table, id, reason: refs.reason(spec, id) });
    }
    return value;
  },
  datetime(v: ColumnValue | undefined, ctx: ConvertContext): string | null {
    return v === null || v === undefined ? null : ctx.clock.toUtc(typeof v === 'string' ? v : String(v));
  },
  bool(v: ColumnValue | undefined): boolean {
    return v === null || v === undefined ? false : typeof v === 'number' ? v !== 0 : v === '1' || v === 'true';
  },
  int: toInt,
  date(v: ColumnValue | undefined): string | null {
    if (v === null || v === undefined) return null;
    const s = String(v);
    return s.startsWith('0000') ? null : s.slice(0, 10);
  },
  str(v: ColumnValue | undefined): string | null {
    return v === null || v === undefined
      ? null
      : typeof v === 'string'
        ? v
        : Buffer.isBuffer(v)
          ? v.toString('utf8')
          : String(v);
  },
};

const converters = new WeakMap<readonly CompiledField[], Converter>();
let lastConverted: readonly CompiledField[] | null = null;
let lastConverter: Converter = () => ({});

/**
 * Builds (once per spec) a converter that returns the payload as one object literal: a fixed shape V8 keeps
 * monomorphic, and no per-field dispatch on the kind. Column and field names come from our own specs.
 */
function converterOf(fields: readonly CompiledField[]): Converter {
  if (fields === lastConverted) return lastConverter;
  let fn = converters.get(fields);
  if (fn) {
    lastConverted = fields;
    return (lastConverter = fn);
  }
  const specs: RefSpec[] = [];
  const props = fields.map((f) => {
    const col = `row[${JSON.stringify(f.column)}]`;
    // Most columns of a row are NULL (an obs fills one value column of eight): those take no call.
    const orNull = (call: string) => `((v = ${col}) === null || v === undefined ? null : ${call})`;
    let expr: string;
    switch (f.kind) {
      case 'uuid':
        expr = `H.uuid(${col}, ${JSON.stringify(f.column)})`;
        break;
      case 'ref': {
        specs.push(f.ref!);
        // An id the resolver's memo holds (the rows of a transaction repeat their patient, encounter, location and
        // creator): its value without a call. The memo holds numbers only, so a string never matches.
        expr = orNull(
          `v === L[s = ${memoSlotSource(f.ref!.idx, 'v')}] ? V[s] : H.ref(v, S[${specs.length - 1}], ctx, path, ${JSON.stringify(f.name)})`,
        );
        break;
      }
      case 'datetime':
        expr = orNull('H.datetime(v, ctx)');
        break;
      case 'bool':
        expr = `H.bool(${col})`;
        break;
      case 'int':
      case 'number':
        expr = orNull(`(typeof v === 'number' ? v : H.int(v))`);
        break;
      case 'date':
        expr = orNull('H.date(v)');
        break;
      default:
        expr = orNull(`(typeof v === 'string' ? v : H.str(v))`);
    }
    return `${JSON.stringify(f.name)}: ${expr}`;
  });
  const body = `return function convert(row, ctx, path) { const L = ctx.lastId, V = ctx.lastValue; let v, s; return { ${props.join(', ')} }; };`;
  fn = new Function('H', 'S', body)(H, specs) as Converter;
  converters.set(fields, fn);
  return fn;
}

/**
 * Converts one row image by a field spec (as `convertRow(compile(spec), ...)`). The converters of the last few specs
 * are kept at hand: a transaction's rows take turns between a few tables (an encounter, its providers, its obs),
 * which a one-entry memo misses on every turn and the WeakMaps answer only after hashing the spec.
 */
export function convertBySpec(
  spec: FieldSpec,
  row: RowImage,
  ctx: ConvertContext,
  path: string,
): Record<string, unknown> {
  let k = 0;
  while (k < RECENT && recentSpecs[k] !== spec) k++;
  if (k === RECENT) {
    k = recentNext;
    recentNext = (recentNext + 1) % RECENT;
    recentSpecs[k] = spec;
    recentConverters[k] = converterOf(compile(spec));
  }
  return recentConverters[k](row, ctx, path);
}

const RECENT = 4;
const recentSpecs: Array<FieldSpec | null> = new Array<FieldSpec | null>(RECENT).fill(null);
const recentConverters: Converter[] = new Array<Converter>(RECENT).fill(() => ({}));
let recentNext = 0;

/** Converts one row image to its payload object. Throws when the row cannot be mapped (no uuid, bad value). */
export function convertRow(
  fields: readonly CompiledField[],
  row: RowImage,
  ctx: ConvertContext,
  path: string,
): Record<string, unknown> {
  return converterOf(fields)(row, ctx, path);
}

/** Fields whose change alone is no change (CONTRACT: an update of only these emits nothing). */
const AUDIT_ONLY = new Set(['changedByUuid', 'dateChanged']);

/**
 * Adds `{from, to}` for every field that differs between two converted images to `changes` (keys prefixed).
 * Returns true when a field other than `changedByUuid`/`dateChanged` changed.
 */
export function diffInto(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  prefix: string,
  changes: Record<string, { from: unknown; to: unknown }>,
  skip?: ReadonlySet<string>,
): boolean {
  let meaningful = false;
  for (const key in after) {
    if (skip?.has(key)) continue;
    const from = before[key];
    const to = after[key];
    if (from === to || (from === undefined && to === null)) continue;
    changes[prefix + key] = { from: from === undefined ? null : from, to };
    if (!AUDIT_ONLY.has(key)) meaningful = true;
  }
  return meaningful;
}

/** Raw images for RowChanged: JSON-safe (binary as `{base64}`). */
export function rawImage(row: RowImage | null): Record<string, string | number | null | { base64: string }> | null {
  if (!row) return null;
  const out: Record<string, string | number | null | { base64: string }> = {};
  for (const k in row) {
    const v = row[k];
    out[k] = Buffer.isBuffer(v) ? { base64: v.toString('base64') } : (v as string | number | null);
  }
  return out;
}

/** Columns that differ between two raw images (all columns when one side is missing). */
export function changedColumns(before: RowImage | null, after: RowImage | null): string[] {
  if (!before) return after ? Object.keys(after) : [];
  if (!after) return Object.keys(before);
  const out: string[] = [];
  for (const k in after) {
    const a = before[k];
    const b = after[k];
    if (a === b) continue;
    if (Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b)) continue;
    out.push(k);
  }
  return out;
}
