/**
 * The zod schemas of the `/v1/webhooks` API: request validation and the OpenAPI document come from these.
 */
import { z } from 'zod';
import { EVENT_TYPE_NAMES } from '../../domain/catalog/index.js';

/**
 * The API's named schemas (components of the OpenAPI document). A registry of its own, not zod's global one, which
 * also holds every event schema of the catalog (those are published in docs/events/ and asyncapi.yaml instead).
 */
export const apiSchemas = z.registry<{ id: string }>();

function named<T extends z.ZodType>(schema: T, id: string): T {
  apiSchemas.add(schema, { id });
  return schema;
}

const eventType = z.string().refine((t) => EVENT_TYPE_NAMES.includes(t), {
  message: 'is not an event type of the catalog (see docs/events/)',
});
const types = z
  .array(eventType)
  .min(1, { message: 'must name at least one type (omit it to receive every type but RowChanged)' })
  .max(100)
  .describe('Event types to receive; omitted or null: every type but RowChanged');
const patient = z
  .uuid({ message: 'must be a uuid (the patient person.uuid)' })
  .describe('Only events about this patient');
const url = z
  .string()
  .max(2048, { message: 'must be at most 2048 characters' })
  .describe('http:// or https:// URL that receives the POSTs');
const description = z.string().max(1000, { message: 'must be at most 1000 characters' });

/** POST /v1/webhooks */
export const WebhookCreate = named(
  z.strictObject({
    url,
    guarantee: z.enum(['transactional', 'post-commit'], { message: 'must be transactional or post-commit' }),
    types: types.optional(),
    patient: patient.optional(),
    description: description.optional(),
  }),
  'WebhookCreate',
);

/** PATCH /v1/webhooks/{id} */
export const WebhookPatch = named(
  z
    .strictObject({
      url: url.optional(),
      types: types.nullable().optional(),
      patient: patient.nullable().optional(),
      description: description.nullable().optional(),
      enabled: z.boolean({ message: 'must be true or false' }).optional().describe('false disables, true re-enables'),
    })
    .refine((p) => Object.keys(p).length > 0, { message: 'must change at least one field' }),
  'WebhookPatch',
);

const position = z
  .object({
    file: z.string(),
    pos: z.number().int(),
    gtidState: z.string().optional(),
  })
  .describe('The binlog position after the last transaction this hook acknowledged');

/** A webhook as the API shows it (never with its secret). */
export const Webhook = named(
  z.object({
    id: z.string(),
    url: z.string(),
    guarantee: z.enum(['transactional', 'post-commit']),
    types: z.array(z.string()).nullable(),
    patient: z.string().nullable(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    status: z
      .enum(['active', 'failing', 'disabled'])
      .describe('failing: a delivery is being retried (a transactional hook is blocked on it)'),
    disabledReason: z.string().nullable(),
    position,
    previousSecretValidUntil: z.iso.datetime().nullable().describe('Until then deliveries carry both signatures'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  }),
  'Webhook',
);

/** POST /v1/webhooks answer: the hook and its secret, shown this once. */
export const WebhookCreated = named(
  Webhook.extend({
    secret: z.string().describe('whsec_ + base64: the signing secret, shown only now'),
  }),
  'WebhookCreated',
);

export const WebhookList = named(z.object({ webhooks: z.array(Webhook) }), 'WebhookList');

export const SecretRotated = named(
  z.object({
    secret: z.string().describe('The new whsec_ secret, shown only now'),
    previousSecretValidUntil: z.iso.datetime().describe('The old secret keeps signing until then (24 h)'),
  }),
  'SecretRotated',
);

const deliveryStatus = z.enum(['pending', 'delivered', 'dead', 'skipped', 'gone', 'cancelled']);

/** One delivery of the delivery log. */
export const Delivery = named(
  z.object({
    id: z.string(),
    webhookId: z.string().describe('The webhook-id header of its requests (stable across retries)'),
    txid: z.string(),
    eventIds: z.array(z.string()),
    status: deliveryStatus.describe(
      'pending: being retried; dead: exhausted (post-commit), retry it with .../retry; gone: the receiver answered 410',
    ),
    attempts: z.number().int(),
    history: z.array(
      z.object({
        at: z.iso.datetime(),
        statusCode: z.number().int().nullable(),
        latencyMs: z.number(),
        error: z.string().optional(),
      }),
    ),
    lastStatusCode: z.number().int().nullable(),
    lastLatencyMs: z.number().nullable(),
    lastError: z.string().nullable(),
    firstAttemptAt: z.iso.datetime().nullable(),
    lastAttemptAt: z.iso.datetime().nullable(),
    nextAttemptAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    note: z.string().nullable(),
  }),
  'Delivery',
);

export const DeliveryList = named(z.object({ deliveries: z.array(Delivery) }), 'DeliveryList');

export const DeliveriesQuery = z.strictObject({
  status: deliveryStatus.optional(),
  limit: z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be an integer' })
    .min(1, { message: 'must be at least 1' })
    .max(1000, { message: 'must be at most 1000' })
    .optional(),
  before: z
    .string()
    .regex(/^\d{1,19}$/, { message: 'must be a delivery id' })
    .optional()
    .describe('Page: deliveries older than this id'),
});

export const SkipBody = named(
  z
    .strictObject({
      reason: z.string().max(1000, { message: 'must be at most 1000 characters' }).optional(),
    })
    .nullish()
    .describe('Optional; without a body the reason is "skipped by an admin"'),
  'SkipRequest',
);

export const HookParams = z.strictObject({ id: z.string().max(64, { message: 'is not a webhook id' }) });
export const DeliveryParams = z.strictObject({
  id: z.string().max(64, { message: 'is not a webhook id' }),
  deliveryId: z.string().max(20, { message: 'is not a delivery id' }),
});

/** Every error answer: `details` names each bad field. */
export const ApiError = named(
  z.object({
    error: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
  'Error',
);
