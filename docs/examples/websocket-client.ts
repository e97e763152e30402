// WebSocket: filter on the server, and resume after the last event you handled with `after=<cursor>`.
import { WebSocket } from 'undici'; // Node 22+ and browsers have a global WebSocket
import type { BridgeEvent } from './event.js';

const base = 'ws://127.0.0.1:8787/v1/stream';
let lastCursor: string | null = null;

function open(): void {
  const url = new URL(base);
  url.searchParams.set('types', 'ObsCreated,ObsAmended,ObsVoided');
  url.searchParams.set('patient', 'a1b2c3d4-0000-4000-8000-000000000001');
  if (lastCursor) url.searchParams.set('after', lastCursor); // nothing missed, nothing doubled
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${process.env.BRIDGE_TOKEN}` } });
  ws.onmessage = (msg) => {
    const event = JSON.parse(String(msg.data)) as BridgeEvent;
    console.log(event.type, event.subject, event.data);
    lastCursor = event.cursor;
  };
  ws.onclose = () => setTimeout(open, 1000);
}
open();
