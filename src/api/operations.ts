/** `GET /healthz`, `GET /readyz`, `GET /metrics` (CONTRACT section 6, operations). */
import type { FastifyPluginAsync } from 'fastify';

/** One readiness check: its name, whether it passes, and details for operators. */
export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: Record<string, unknown> | string;
}

export interface OperationsOptions {
  /** The current readiness checks (source connected, state reachable, each sink ready). */
  readiness: () => ReadinessCheck[] | Promise<ReadinessCheck[]>;
  /** The Prometheus text exposition. */
  metrics: () => Promise<{ contentType: string; body: string }>;
}

export const operationsPlugin: FastifyPluginAsync<OperationsOptions> = async (app, options) => {
  app.get('/healthz', { config: { auth: 'public' }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { auth: 'public' }, logLevel: 'warn' }, async (_req, reply) => {
    const checks = await options.readiness();
    const ready = checks.every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', { config: { auth: 'stream' }, logLevel: 'warn' }, async (_req, reply) => {
    const { contentType, body } = await options.metrics();
    return reply.type(contentType).send(body);
  });
};
