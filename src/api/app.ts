/**
 * The fastify app factory: one app with the service's logger, the auth hook, and the plugins of each module
 * registered in order. Other modules add theirs through `plugins` (the webhook admin API, the WebSocket stream, the
 * console) without this file knowing them.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyServerOptions,
} from 'fastify';
import type { Logger } from 'pino';
import { authPlugin, type AuthOptions } from './auth.js';
import { operationsPlugin, type OperationsOptions } from './operations.js';
import { registerOpenApi } from './openapi.js';

/** A plugin with its options, registered in list order after auth and the operations routes. */
export interface PluginRegistration {
  name: string;
  plugin: FastifyPluginAsync<any>;
  options?: Record<string, unknown>;
}

export interface AppOptions {
  logger: Logger;
  auth: AuthOptions;
  operations: OperationsOptions;
  plugins?: PluginRegistration[];
  /** Extra fastify server options (body limit, ...). */
  server?: Omit<FastifyServerOptions, 'logger' | 'loggerInstance' | 'rewriteUrl'>;
}

/** Builds the app (not listening yet). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...options.server,
    loggerInstance: options.logger as FastifyBaseLogger,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  // First, so that @fastify/swagger sees every route for GET /openapi.json.
  await registerOpenApi(app);
  await app.register(authPlugin, options.auth);
  await app.register(operationsPlugin, options.operations);
  for (const { plugin, options: pluginOptions } of options.plugins ?? []) {
    await app.register(plugin, pluginOptions ?? {});
  }
  return app;
}
