/**
 * Builds the OpenAPI document offline, from the same app factory and route plugins the service registers, so
 * `openapi/openapi.yaml` is exactly what `GET /openapi.json` serves.
 */
import pino from 'pino';
import { buildApp } from './app.js';
import { webhookApi, type WebhookAdmin } from './webhooks/index.js';

const offline = async (): Promise<never> => {
  throw new Error('documentation-only app: no webhook manager');
};

/** The app with every documented route, wired to nothing (for generating the document only). */
export async function buildDocumentationApp() {
  const manager: WebhookAdmin = {
    create: offline,
    list: offline,
    get: offline,
    update: offline,
    delete: offline,
    rotateSecret: offline,
    deliveries: offline,
    retry: offline,
    skip: offline,
    failing: () => false,
  };
  return buildApp({
    logger: pino({ level: 'silent' }),
    auth: {},
    operations: { readiness: () => [], metrics: async () => ({ contentType: 'text/plain', body: '' }) },
    plugins: [{ name: 'webhooks', plugin: webhookApi, options: { manager } }],
  });
}

/** The OpenAPI document as served at GET /openapi.json. */
export async function generateOpenApiDocument(): Promise<Record<string, unknown>> {
  const app = await buildDocumentationApp();
  try {
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}: ${res.body}`);
    return res.json();
  } finally {
    await app.close();
  }
}
