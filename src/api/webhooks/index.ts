/**
 * The webhook admin API (CONTRACT.md section 6): `/v1/webhooks` and its sub-resources, as a fastify plugin. Validation
 * and the OpenAPI document both come from the zod schemas in `schemas.ts`.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WebhookManager } from '../../delivery/webhook-manager.js';
import { WebhookUrlError } from '../../delivery/webhook-url.js';
import type { Delivery as StoredDelivery, Webhook as StoredWebhook } from '../../state/webhooks.js';
import { apiErrorHandler, BadRequestError } from './errors.js';
import {
  ApiError,
  DeliveriesQuery,
  Delivery,
  DeliveryList,
  DeliveryParams,
  HookParams,
  SecretRotated,
  SkipBody,
  Webhook,
  WebhookCreate,
  WebhookCreated,
  WebhookList,
  WebhookPatch,
} from './schemas.js';

/** Options of the webhook API plugin. */
export interface WebhookApiOptions {
  manager: WebhookAdmin;
}

/** What the API needs of the webhook manager. */
export type WebhookAdmin = Pick<
  WebhookManager,
  'create' | 'list' | 'get' | 'update' | 'delete' | 'rotateSecret' | 'deliveries' | 'retry' | 'skip' | 'failing'
>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function toApiWebhook(h: StoredWebhook, manager: WebhookAdmin) {
  return {
    id: h.id,
    url: h.url,
    guarantee: h.guarantee,
    types: h.types,
    patient: h.patient,
    description: h.description,
    enabled: h.enabled,
    status: !h.enabled ? ('disabled' as const) : manager.failing(h.id) ? ('failing' as const) : ('active' as const),
    disabledReason: h.disabledReason,
    position: {
      file: h.position.binlog.file,
      pos: h.position.binlog.pos,
      ...(h.position.gtidState ? { gtidState: h.position.gtidState } : {}),
    },
    previousSecretValidUntil:
      h.previousSecretUntil && h.previousSecretUntil > Date.now() ? iso(h.previousSecretUntil) : null,
    createdAt: iso(h.createdAt)!,
    updatedAt: iso(h.updatedAt)!,
  };
}

function toApiDelivery(d: StoredDelivery) {
  return {
    id: d.id,
    webhookId: d.messageId,
    txid: d.txid,
    eventIds: d.eventIds,
    status: d.status,
    attempts: d.attempts,
    history: d.history.map((a) => ({
      at: iso(a.at)!,
      statusCode: a.status,
      latencyMs: a.latencyMs,
      ...(a.error ? { error: a.error } : {}),
    })),
    lastStatusCode: d.lastStatus,
    lastLatencyMs: d.lastLatencyMs,
    lastError: d.lastError,
    firstAttemptAt: iso(d.firstAttemptAt),
    lastAttemptAt: iso(d.lastAttemptAt),
    nextAttemptAt: iso(d.nextAttemptAt),
    finishedAt: iso(d.finishedAt),
    note: d.note,
  };
}

const notFound = { error: 'unknown webhook' };
const TAGS = ['webhooks'];
const SECURITY = [{ bearerAuth: [] }];
const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError };

async function urlChecked<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WebhookUrlError)
      throw new BadRequestError('invalid body', [{ path: 'url', message: err.message }]);
    throw err;
  }
}

/**
 * Registers `/v1/webhooks...` on `app` in its own encapsulated scope (its validator, serializer and error handler do
 * not leak). Needs the app-wide `authPlugin` (admin token; subscribe tokens get 403).
 */
export const webhookApi: FastifyPluginAsync<WebhookApiOptions> = async (root: FastifyInstance, opts) => {
  const { manager } = opts;
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(apiErrorHandler);
  // Every route here is in the default `admin` scope of the app-wide auth hook (api/auth.ts).
  if (!root.hasRequestDecorator('principal'))
    throw new Error('register api/auth authPlugin on the app before the webhook API: it must not be left open');

  app.post(
    '/v1/webhooks',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Register a webhook',
        description:
          'The hook receives every matching transaction committed after this call returns. The secret is shown only in this answer.',
        body: WebhookCreate,
        response: { 201: WebhookCreated, ...errors },
      },
    },
    async (req, reply) => {
      const { hook, secret } = await urlChecked(() => manager.create(req.body));
      return reply.code(201).send({ ...toApiWebhook(hook, manager), secret });
    },
  );

  app.get(
    '/v1/webhooks',
    { schema: { tags: TAGS, security: SECURITY, summary: 'List webhooks', response: { 200: WebhookList, ...errors } } },
    async () => ({ webhooks: (await manager.list()).map((h) => toApiWebhook(h, manager)) }),
  );

  app.get(
    '/v1/webhooks/:id',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Get a webhook',
        params: HookParams,
        response: { 200: Webhook, ...errors },
      },
    },
    async (req, reply) => {
      const hook = await manager.get(req.params.id);
      return hook ? toApiWebhook(hook, manager) : reply.code(404).send(notFound);
    },
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Change a webhook',
        description:
          'Its delivery restarts from its position with the new settings. enabled=true re-enables a disabled hook.',
        params: HookParams,
        body: WebhookPatch,
        response: { 200: Webhook, ...errors },
      },
    },
    async (req, reply) => {
      const hook = await urlChecked(() => manager.update(req.params.id, req.body));
      return hook ? toApiWebhook(hook, manager) : reply.code(404).send(notFound);
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Delete a webhook and its delivery log',
        params: HookParams,
        response: { 204: z.null().describe('Deleted'), ...errors },
      },
    },
    async (req, reply) => {
      return (await manager.delete(req.params.id)) ? reply.code(204).send(null) : reply.code(404).send(notFound);
    },
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Replace the signing secret',
        description: 'For 24 h deliveries carry signatures with both the new and the old secret.',
        params: HookParams,
        response: { 200: SecretRotated, ...errors },
      },
    },
    async (req, reply) => {
      const r = await manager.rotateSecret(req.params.id);
      return r
        ? { secret: r.secret, previousSecretValidUntil: iso(r.previousSecretUntil)! }
        : reply.code(404).send(notFound);
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'The delivery log, newest first',
        params: HookParams,
        querystring: DeliveriesQuery,
        response: { 200: DeliveryList, ...errors },
      },
    },
    async (req, reply) => {
      const list = await manager.deliveries(req.params.id, req.query);
      return list ? { deliveries: list.map(toApiDelivery) } : reply.code(404).send(notFound);
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/retry',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Retry a delivery now',
        description:
          'A pending delivery is attempted at once. A dead letter is sent again (out of order: its hook moved on) and goes back to the dead-letter list if that attempt fails.',
        params: DeliveryParams,
        response: { 200: Delivery, 409: ApiError, ...errors },
      },
    },
    async (req, reply) => {
      const r = await manager.retry(req.params.id, req.params.deliveryId);
      if (r.kind === 'not-found') return reply.code(404).send({ error: 'unknown webhook or delivery' });
      if (r.kind === 'conflict') return reply.code(409).send({ error: r.message });
      return toApiDelivery(r.delivery);
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/skip',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Skip a blocked delivery',
        description:
          "The hook's position moves past the delivery's transaction and delivery goes on with the next. Logged, with the reason.",
        params: DeliveryParams,
        body: SkipBody,
        response: { 200: Delivery, 409: ApiError, ...errors },
      },
    },
    async (req, reply) => {
      const reason = req.body?.reason ?? 'skipped by an admin';
      req.log.warn({ hook: req.params.id, delivery: req.params.deliveryId, reason }, 'webhook delivery skip requested');
      const r = await manager.skip(req.params.id, req.params.deliveryId, reason);
      if (r.kind === 'not-found') return reply.code(404).send({ error: 'unknown webhook or delivery' });
      if (r.kind === 'conflict') return reply.code(409).send({ error: r.message });
      return toApiDelivery(r.delivery);
    },
  );
};
