/**
 * RowChanged: the raw fallback for tables with no aggregate (module tables, the rest of core) and for rows that could
 * not be mapped, so nothing is ever dropped in silence.
 */
import { z } from 'zod';
import { envelopeShape } from './envelope.js';

/**
 * A row image as published: column name -> value. Values are as the binlog decoder gives them (numbers, strings,
 * DATETIME as the source's zoneless `YYYY-MM-DD HH:MM:SS`), binary values as `{base64}`. Integer ids stay ids: a raw
 * row has no aggregate to resolve them against.
 */
export const RawRow = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.null(), z.object({ base64: z.string() })]),
);

export const RowChangedData = z.object({
  table: z.string(),
  op: z.enum(['insert', 'update', 'delete']),
  before: RawRow.nullable().describe('the row before the change (update, delete)'),
  after: RawRow.nullable().describe('the row after the change (insert, update)'),
  changed: z
    .array(z.string())
    .describe('columns whose value differs between before and after (update); all columns for insert/delete'),
  error: z.string().optional().describe('set when the row belongs to an aggregate but could not be mapped: why'),
});

export const RowChanged = z
  .object({
    ...envelopeShape,
    type: z.literal('RowChanged'),
    openmrsclass: z.string().regex(/^org\.openmrs\./),
    openmrsaction: z.enum(['CREATED', 'UPDATED', 'PURGED']),
    data: RowChangedData,
  })
  .meta({
    id: 'RowChanged',
    title: 'RowChanged',
    description:
      'A row change of a table with no aggregate, or of a row that could not be mapped (then `data.error` says why). openmrsclass is `org.openmrs.Row`; openmrsaction CREATED/UPDATED/PURGED for insert/update/delete.',
  });

export type RowChanged = z.infer<typeof RowChanged>;
