/**
 * One WebSocket subscriber of `GET /v1/stream`: follows the event stream (replayed from its cursor, then live; the
 * seam is the stream source's), sends each matching event as one text frame, and keeps its send buffer bounded.
 *
 * Backpressure: when the socket holds more than `maxBufferedBytes` unsent, the client stops pulling from the stream
 * (the stream source then holds at most its own bounded buffer for it, and reads the binlog again later) and waits for
 * the socket to drain. A client that does not drain for `stallMs` is closed with 1008 and a reason, and terminated if
 * it does not complete the close in `closeGraceMs`. Memory per client is bounded either way, and other clients never
 * wait for it.
 */
import type { WebSocket } from 'ws';
import type { Socket } from 'node:net';
import type { ChannelMetrics, EventStreamSource } from '../../delivery/types.js';
import { type ChannelLogger, silentLogger } from '../logger.js';
import { matches, type StreamQuery } from './filter.js';
import { eventJson } from '../event-json.js';
import { textFrameSink } from './frame-writer.js';

export interface StreamClientOptions {
  source: EventStreamSource;
  metrics?: ChannelMetrics;
  /** Bytes the socket may hold unsent before the client stops pulling. */
  maxBufferedBytes: number;
  /** How long a full send buffer may fail to drain before the client is closed with 1008. */
  stallMs: number;
  /** How long a closed slow client gets to finish the close handshake before it is terminated. */
  closeGraceMs: number;
  logger?: ChannelLogger;
  /** Whether other subscribers are connected, who may send the same (live) event objects: then their JSON is cached. */
  othersConnected?: () => boolean;
}

/** WebSocket close codes used by the stream. */
export const CLOSE = { policy: 1008, internal: 1011, goingAway: 1001 } as const;

/** Serves one connected client until it or the stream ends. */
export async function serveStreamClient(
  socket: WebSocket,
  query: StreamQuery,
  options: StreamClientOptions,
): Promise<void> {
  const log = options.logger ?? silentLogger;
  const abort = new AbortController();
  socket.once('close', () => abort.abort());
  const { filter, after } = query;
  // Frames leave in one socket write per burst (the stream hands over transactions it already holds without a turn of
  // the event loop); nothing waits on a timer.
  const out = textFrameSink(socket);
  try {
    for await (const tx of options.source.follow({ after, signal: abort.signal })) {
      let sent = 0;
      const shared = options.othersConnected?.() ?? false;
      for (const event of tx.events) {
        if (!matches(filter, event)) continue;
        if (socket.bufferedAmount + out.pendingBytes > options.maxBufferedBytes) {
          out.flush();
          options.metrics?.published('websocket', sent);
          sent = 0;
          if (!(await drained(socket, options.maxBufferedBytes, options.stallMs, abort.signal))) {
            if (abort.signal.aborted) return;
            closeSlowClient(socket, options);
            log.warn({ channel: 'websocket', buffered: socket.bufferedAmount }, 'WebSocket client too slow; closed');
            return;
          }
        }
        if (socket.readyState !== socket.OPEN) return;
        out.send(eventJson(event, shared));
        sent++;
      }
      if (sent) options.metrics?.published('websocket', sent);
    }
  } catch (err) {
    if (abort.signal.aborted) return;
    // What was sent before the failure goes before the close frame.
    out.flush();
    if ((err as Error).name === 'InvalidCursorError') {
      socket.close(CLOSE.policy, reason(`invalid cursor: ${(err as Error).message}`));
      return;
    }
    log.error({ err, channel: 'websocket' }, 'WebSocket stream failed');
    options.metrics?.failed('websocket', 1);
    socket.close(CLOSE.internal, 'stream error');
  } finally {
    out.flush();
    abort.abort();
  }
}

/**
 * Waits until the socket's unsent bytes fall to half of `limit`; false when that takes longer than `stallMs` or the
 * client went away.
 */
async function drained(socket: WebSocket, limit: number, stallMs: number, signal: AbortSignal): Promise<boolean> {
  const low = limit / 2;
  const deadline = Date.now() + stallMs;
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  while (socket.bufferedAmount > low) {
    if (signal.aborted || socket.readyState !== socket.OPEN) return false;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    // 'drain' of the TCP socket when there is one; a short poll as well, since ws may hold bytes of its own.
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        raw?.off('drain', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(left, 50));
      raw?.once('drain', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
  return true;
}

function closeSlowClient(socket: WebSocket, options: StreamClientOptions): void {
  const limitKb = Math.round(options.maxBufferedBytes / 1024);
  socket.close(
    CLOSE.policy,
    reason(`too slow: send buffer over ${limitKb} KiB for ${options.stallMs} ms; reconnect with after=<last cursor>`),
  );
  // The close frame waits behind the unread bytes; do not keep them for a peer that never reads again.
  const timer = setTimeout(() => socket.terminate(), options.closeGraceMs);
  timer.unref?.();
  socket.once('close', () => clearTimeout(timer));
}

/** A close reason within the protocol's 123 bytes. */
function reason(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= 123 ? text : bytes.subarray(0, 120).toString() + '...';
}
