/**
 * `GET /v1/stream` (CONTRACT.md section 6): a WebSocket of events, one event JSON per text frame, filtered by `types`
 * and `patient`, from `after=<cursor>` (replay from the binlog, then live) or from now.
 *
 * Auth is the app's (src/api/auth.ts): the route asks for the `stream` scope (admin or subscribe token, header or
 * `access_token` query). Bad query fields get 400 `{error, details}` before the upgrade. Heartbeats: a ping every
 * `heartbeatMs`; a peer that did not answer the previous one is terminated.
 */
import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type { StreamPluginOptions } from '../../delivery/types.js';
import type { ChannelLogger } from '../logger.js';
import { CLOSE, serveStreamClient } from './client.js';
import { parseStreamQuery, type StreamQuery } from './filter.js';

/** Options of the stream plugin: the service's, plus tuning for tests and benchmarks. */
export interface StreamRouteOptions extends StreamPluginOptions {
  /** How long a full send buffer may fail to drain before the client is closed (1008). Default 10 s. */
  stallMs?: number;
  /** Time a closed slow client gets to finish the close handshake. Default 5 s. */
  closeGraceMs?: number;
  logger?: ChannelLogger;
}

const DEFAULT_MAX_BUFFERED = 4 * 1024 * 1024;
const DEFAULT_HEARTBEAT = 30_000;

/** Registers `GET /v1/stream` (and @fastify/websocket when the app has not registered it). */
export const streamPlugin: FastifyPluginAsync<StreamRouteOptions> = async (app, options) => {
  if (!app.hasDecorator('websocketServer')) {
    await app.register(websocket, {
      // Subscribers only listen; anything they send is ignored, so keep what they may send small.
      options: { maxPayload: 4096 },
      preClose(done) {
        for (const client of this.websocketServer.clients) client.close(CLOSE.goingAway, 'server shutting down');
        done();
      },
    });
  }

  const alive = new WeakMap<WebSocket, boolean>();
  const clients = new Set<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const socket of clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT);
  heartbeat.unref();
  app.addHook('onClose', async () => clearInterval(heartbeat));

  const queries = new WeakMap<object, StreamQuery>();
  app.get(
    '/v1/stream',
    {
      websocket: true,
      config: { auth: 'stream' },
      // A refused upgrade (401, 403, 400) is answered on the raw upgrade socket, which no HTTP server tracks: end it,
      // or it stays half-open and keeps the server from closing.
      onResponse: async (req, reply) => {
        const socket = reply.raw.socket;
        if (!req.raw.headers.upgrade || !socket || socket.destroyed) return;
        socket.end();
        setTimeout(() => socket.destroy(), 2000).unref();
      },
      preValidation: async (req, reply) => {
        const parsed = parseStreamQuery((req.query ?? {}) as Record<string, unknown>);
        if ('errors' in parsed) {
          return reply.code(400).send({ error: 'invalid stream query', details: parsed.errors });
        }
        queries.set(req, parsed);
      },
    },
    (socket, req) => {
      const query = queries.get(req)!;
      clients.add(socket);
      alive.set(socket, true);
      socket.on('pong', () => alive.set(socket, true));
      socket.once('close', () => clients.delete(socket));
      void serveStreamClient(socket, query, {
        source: options.source,
        metrics: options.metrics,
        maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED,
        stallMs: options.stallMs ?? 10_000,
        closeGraceMs: options.closeGraceMs ?? 5_000,
        logger: options.logger ?? req.log,
        othersConnected: () => clients.size > 1,
      });
    },
  );
};
