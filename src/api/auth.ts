/**
 * Bearer-token auth for every route (CONTRACT sections 3 and 8), as one app-wide hook that other plugins reuse by
 * declaring a scope in their route config:
 *
 * - `config: { auth: 'public' }` (or H's `config: { public: true }`): no token needed (health, the console page).
 * - `config: { auth: 'stream' }`: the admin token or a subscribe token; also accepted as `?access_token=` because
 *   browsers cannot set headers on a WebSocket. WebSocket routes default to this scope.
 * - `config: { auth: 'admin' }`, the default: the admin token only; a subscribe token gets 403.
 *
 * Without BRIDGE_ADMIN_TOKEN (allowed on loopback only) every route is open, except that subscribe tokens, when
 * configured, still protect streams.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** The scopes a route can ask for. */
export type AuthScope = 'public' | 'stream' | 'admin';

/** Who the caller is, set on every request as `request.principal`. */
export type Principal = 'admin' | 'subscriber' | 'anonymous';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope this route needs (default `admin`, `stream` for WebSocket routes). */
    auth?: AuthScope;
    /** Same as `auth: 'public'`. */
    public?: boolean;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface AuthOptions {
  adminToken?: string;
  subscribeTokens?: readonly string[];
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The bearer token of a request: `Authorization: Bearer ...`, or `access_token` in the query when `allowQuery`. */
export function requestToken(req: FastifyRequest, allowQuery: boolean): string | null {
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : '';
  }
  if (allowQuery) {
    const query = req.query as Record<string, unknown> | undefined;
    const token = query?.access_token;
    if (typeof token === 'string') return token;
  }
  return null;
}

/** Resolves a token to a principal (`null`: not a known token). */
export function principalOf(token: string, options: AuthOptions): Principal | null {
  if (options.adminToken && same(token, options.adminToken)) return 'admin';
  if ((options.subscribeTokens ?? []).some((t) => same(token, t))) return 'subscriber';
  return null;
}

/** The scope of the route a request matched. */
export function routeScope(req: FastifyRequest): AuthScope {
  const config = req.routeOptions.config as { auth?: AuthScope; public?: boolean } | undefined;
  if (config?.auth) return config.auth;
  if (config?.public) return 'public';
  if ((req.routeOptions as { websocket?: boolean }).websocket) return 'stream';
  return 'admin';
}

/** Decides one request; sends 401/403 and returns false when it may not pass. */
export async function authorize(req: FastifyRequest, reply: FastifyReply, options: AuthOptions): Promise<boolean> {
  const scope = routeScope(req);
  const token = requestToken(req, scope === 'stream');
  const principal = token ? principalOf(token, options) : null;
  req.principal = principal ?? 'anonymous';
  if (scope === 'public') return true;
  const protectedScope =
    scope === 'admin' ? Boolean(options.adminToken) : Boolean(options.adminToken || options.subscribeTokens?.length);
  if (!protectedScope) return true;
  if (principal === 'admin') return true;
  if (principal === 'subscriber') {
    if (scope === 'stream') return true;
    await reply
      .code(403)
      .send({ error: 'this token may open event streams only; this route needs the admin token', details: [] });
    return false;
  }
  reply.header('www-authenticate', 'Bearer realm="openmrs-event-bridge"');
  await reply.code(401).send({
    error: token ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)',
    details: [],
  });
  return false;
}

/** Registers the app-wide auth hook (not encapsulated: it applies to routes of every plugin). */
export const authPlugin: FastifyPluginAsync<AuthOptions> = async (app: FastifyInstance, options) => {
  app.decorateRequest('principal', 'anonymous');
  app.addHook('onRequest', async (req, reply) => {
    if (!(await authorize(req, reply, options))) return reply;
  });
};
// Apply the hook to the whole app rather than to a child context (what fastify-plugin does).
(authPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
