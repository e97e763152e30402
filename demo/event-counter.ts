/**
 * Counts the events the bridge streams, per type, over the public WebSocket `/v1/stream` (undici's WebSocket: Node
 * 20 has no global one). Reconnects with `after=<last cursor>` so a dropped connection misses nothing.
 */
import { WebSocket } from 'undici';

export interface EventCounter {
  /** Events per type, in order of first appearance. */
  readonly counts: Map<string, number>;
  readonly total: number;
  readonly connected: boolean;
  close(): void;
}

/** Opens the stream at `baseUrl` (e.g. `http://127.0.0.1:8787`), subscribed to `types` (all but RowChanged if empty). */
export function countEvents(baseUrl: string, options: { token?: string; types?: string[] } = {}): EventCounter {
  const counts = new Map<string, number>();
  let total = 0;
  let connected = false;
  let closed = false;
  let cursor: string | null = null;
  let ws: WebSocket | null = null;
  let retry: NodeJS.Timeout | undefined;

  const open = () => {
    const url = new URL('/v1/stream', baseUrl.replace(/^http/, 'ws'));
    if (options.types?.length) url.searchParams.set('types', options.types.join(','));
    if (cursor) url.searchParams.set('after', cursor);
    if (options.token) url.searchParams.set('access_token', options.token);
    ws = new WebSocket(url);
    ws.onopen = () => (connected = true);
    ws.onmessage = (msg) => {
      const event = JSON.parse(String(msg.data)) as { type: string; cursor?: string };
      counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
      total++;
      if (event.cursor) cursor = event.cursor;
    };
    ws.onclose = () => {
      connected = false;
      if (!closed) retry = setTimeout(open, 1000);
    };
    ws.onerror = () => {
      // onclose follows and reconnects.
    };
  };
  open();

  return {
    counts,
    get total() {
      return total;
    },
    get connected() {
      return connected;
    },
    close() {
      closed = true;
      clearTimeout(retry);
      ws?.close();
    },
  };
}
