/**
 * The WebSocket channel on a real fastify server and real `ws` clients, fed by the service's stream (live hub and
 * followers) over an in-memory binlog: auth (401 without a token), query validation (400 naming the field), filters by
 * type and patient, reconnect with `after` (nothing missed, nothing doubled, while events keep coming), a client
 * that stops reading is closed with 1008 and bounded memory while the others keep receiving, heartbeats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import websocket from '@fastify/websocket';
import { authPlugin } from '../../src/api/auth.js';
import { streamPlugin, type StreamRouteOptions } from '../../src/channels/websocket/stream-plugin.js';
import type { ChannelMetrics } from '../../src/delivery/types.js';
import type { BridgeEvent } from '../../src/domain/types.js';
import { makeTransactions } from '../support/events.js';
import { MemoryBinlog } from '../support/memory-binlog.js';
import { waitFor } from '../support/wait.js';
import { asJson, parseCloudEvent } from '../support/cloudevent.js';

const ADMIN = 'admin-token-123';
const SUBSCRIBER = 'subscribe-token-456';
const P1 = 'a1b2c3d4-0000-4000-8000-000000000001';
const P2 = 'a1b2c3d4-0000-4000-8000-000000000002';

interface Harness {
  app: FastifyInstance;
  binlog: MemoryBinlog;
  base: string;
  published: number;
  nextSeq: number;
  /** Commits `n` more fixture transactions. */
  commit(n: number): BridgeEvent[];
}

/** With `rootWebsocket`, the app registers @fastify/websocket itself (so the test can see its clients). */
async function startHarness(options: Partial<StreamRouteOptions> = {}, rootWebsocket = false): Promise<Harness> {
  const binlog = new MemoryBinlog({ maxBufferedEvents: 2000 });
  const h = { binlog, published: 0, nextSeq: 1 } as Harness;
  const metrics: ChannelMetrics = { published: (_c, n) => (h.published += n), failed() {}, inflight() {} };
  const app = Fastify({ forceCloseConnections: true });
  await app.register(authPlugin, { adminToken: ADMIN, subscribeTokens: [SUBSCRIBER] });
  if (rootWebsocket) await app.register(websocket);
  await app.register(streamPlugin, { source: binlog.followers, metrics, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  h.app = app;
  h.base = `ws://127.0.0.1:${address.port}/v1/stream`;
  h.commit = (n) => {
    const txs = makeTransactions(n, { site: 'clinic-a', patients: [P1, P2], firstSeq: h.nextSeq });
    h.nextSeq += n;
    binlog.commit(...txs);
    return txs.flatMap((t) => t.events);
  };
  return h;
}

interface Client {
  ws: WebSocket;
  events: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
}

function connect(
  url: string,
  headers: Record<string, string> = { authorization: `Bearer ${SUBSCRIBER}` },
): Promise<Client> {
  const ws = new WebSocket(url, { headers });
  const events: Record<string, unknown>[] = [];
  ws.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    events.push(parseCloudEvent(data as Buffer));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, events, closed }));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        req.destroy(); // ws leaves the refused request to us
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body }));
      });
    });
    ws.once('error', reject);
  });
}

/** Followers open their live subscription asynchronously; wait until `n` are attached before committing. */
const attached = (h: Harness, n: number) => waitFor(() => h.binlog.hub.subscriberCount >= n);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.app.close();
});

describe('WebSocket channel: auth and input', () => {
  it('refuses a connection without a token (401) or with a wrong one, accepts subscribe and admin tokens', async () => {
    await expect(connect(h.base, {})).rejects.toMatchObject({ status: 401 });
    await expect(connect(h.base, { authorization: 'Bearer nope' })).rejects.toMatchObject({ status: 401 });
    for (const client of [
      await connect(h.base),
      await connect(h.base, { authorization: `Bearer ${ADMIN}` }),
      await connect(`${h.base}?access_token=${SUBSCRIBER}`, {}),
    ]) {
      client.ws.close();
      await client.closed;
    }
  });

  it('answers 400 naming the field for a bad query', async () => {
    const err = await connect(`${h.base}?types=ObsVoided,NoSuchEvent&patient=${'x'.repeat(40)}`).catch((e) => e);
    expect(err.status).toBe(400);
    const body = JSON.parse(err.body);
    expect(body.error).toBeTruthy();
    expect(body.details.map((d: { path: string }) => d.path).sort()).toEqual(['patient', 'types']);
    expect(body.details.find((d: { path: string }) => d.path === 'types').message).toMatch(/NoSuchEvent/);
  });
});

describe('WebSocket channel: delivery', () => {
  it('filters by type and by patient; RowChanged only when named; one event JSON per text frame, in order', async () => {
    const all = await connect(h.base);
    const obsVoided = await connect(`${h.base}?types=ObsVoided,ObsCreated`);
    const rows = await connect(`${h.base}?types=RowChanged`);
    const patient = await connect(`${h.base}?patient=${P2}`);
    await attached(h, 4);
    const events = asJson(h.commit(60));
    const expectAll = events.filter((e) => e.type !== 'RowChanged');
    const expectObs = events.filter((e) => e.type === 'ObsVoided' || e.type === 'ObsCreated');
    const expectRows = events.filter((e) => e.type === 'RowChanged');
    const expectPatient = expectAll.filter((e) => e.patientuuid === P2);
    expect(expectObs.length && expectRows.length && expectPatient.length).toBeTruthy();
    await waitFor(
      () =>
        all.events.length >= expectAll.length &&
        obsVoided.events.length >= expectObs.length &&
        rows.events.length >= expectRows.length &&
        patient.events.length >= expectPatient.length,
      20_000,
    );
    expect(all.events).toEqual(expectAll);
    expect(obsVoided.events).toEqual(expectObs);
    expect(rows.events).toEqual(expectRows);
    expect(patient.events).toEqual(expectPatient);
    for (const c of [all, obsVoided, rows, patient]) c.ws.close();
    await Promise.all([all, obsVoided, rows, patient].map((c) => c.closed));
  });

  it('a client that reconnects with after=<last cursor> misses nothing and gets nothing twice, while events keep coming', async () => {
    const first = await connect(h.base);
    await attached(h, 1);
    const expected: BridgeEvent[] = [];
    let committing = true;
    const writer = (async () => {
      // Keep committing while the client disconnects, is away, and comes back: the seam is crossed live.
      while (committing) {
        expected.push(...asJson(h.commit(5)).filter((e) => e.type !== 'RowChanged'));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await waitFor(() => first.events.length >= 100, 20_000);
    first.ws.terminate(); // an abrupt drop, as a network failure
    await first.closed;
    const seen = [...first.events];
    const cursor = seen.at(-1)!.cursor as string;
    await new Promise((r) => setTimeout(r, 100)); // away while events are committed
    const second = await connect(`${h.base}?after=${encodeURIComponent(cursor)}`);
    await waitFor(() => second.events.length >= 200, 20_000);
    committing = false;
    await writer;
    await waitFor(() => seen.length + second.events.length >= expected.length, 20_000);
    const got = [...seen, ...second.events];
    expect(got.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(got).toEqual(expected);
    second.ws.close();
    await second.closed;
  });

  it('replays from a cursor in the middle of a transaction: only the events after it', async () => {
    const events = asJson(h.commit(12)).filter((e) => e.type !== 'RowChanged');
    const mid = events.findIndex((e) => (e.txseq as number) === 2 && (e.txsize as number) > 2);
    const client = await connect(`${h.base}?after=${encodeURIComponent(events[mid]!.cursor)}`);
    await waitFor(() => client.events.length >= events.length - mid - 1, 20_000);
    expect(client.events).toEqual(events.slice(mid + 1));
    client.ws.close();
    await client.closed;
  });

  it('closes a bad cursor with 1008', async () => {
    const client = await connect(`${h.base}?after=not-a-cursor`);
    const { code, reason } = await client.closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/invalid cursor/);
  });
});

describe('WebSocket channel: slow and dead clients', () => {
  let slowHarness: Harness;
  let heartbeatHarness: Harness;
  beforeAll(async () => {
    slowHarness = await startHarness({ maxBufferedBytes: 64 * 1024, stallMs: 1500, closeGraceMs: 20_000 }, true);
    heartbeatHarness = await startHarness({ heartbeatMs: 300 }, true);
  });
  afterAll(async () => {
    for (const s of [slowHarness, heartbeatHarness]) {
      for (const c of s?.app.websocketServer.clients ?? []) c.terminate();
      await s?.app.close();
    }
  });

  it('closes a client that stops reading with 1008, keeps its buffer bounded, and the others keep receiving', async () => {
    const s = slowHarness;
    const fast = await connect(s.base);
    const slow = await connect(s.base);
    await attached(s, 2);
    // The slow client stops reading its socket: TCP fills up, then the server's send buffer.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    let maxBuffered = 0;
    const sampler = setInterval(() => {
      for (const c of s.app.websocketServer.clients) maxBuffered = Math.max(maxBuffered, c.bufferedAmount);
    }, 5);
    let expected = 0;
    const deadline = Date.now() + 30_000;
    let slowClosedOnServer = false;
    try {
      // Commit until the server gave up on the slow client (kernel buffers on loopback hold several MB first).
      while (!slowClosedOnServer && Date.now() < deadline) {
        expected += s.commit(100).filter((e) => e.type !== 'RowChanged').length;
        await new Promise((r) => setTimeout(r, 20));
        const serverSide = [...s.app.websocketServer.clients];
        slowClosedOnServer = serverSide.length < 2 || serverSide.some((c) => c.readyState !== WebSocket.OPEN);
      }
    } finally {
      clearInterval(sampler);
    }
    expect(slowClosedOnServer).toBe(true);
    // The fast client got everything, in order, while the slow one was stuck.
    await waitFor(() => fast.events.length >= expected, 60_000);
    expect(fast.events.length).toBe(expected);
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);
    // The slow client's buffer never grew past the cap plus one frame.
    expect(maxBuffered).toBeLessThan(64 * 1024 + 4096);
    // Once it reads again, it finds the 1008 close after the frames it had not read.
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const { code, reason } = await slow.closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/too slow/);
    expect(slow.events.length).toBeLessThan(expected);
    fast.ws.close();
    await fast.closed;
  }, 120_000);

  it('pings every heartbeat and terminates a peer that does not answer', async () => {
    const s = heartbeatHarness;
    const live = await connect(s.base);
    const dead = await connect(s.base);
    let pings = 0;
    live.ws.on('ping', () => pings++);
    // A dead peer: it neither reads nor answers pings.
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(() => s.app.websocketServer.clients.size === 1, 5_000);
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    live.ws.close();
    dead.ws.terminate();
    await live.closed;
  });
});
