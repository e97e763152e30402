/**
 * The demo's webhook receiver: a plain node:http server that verifies each delivery's Standard Webhooks signature
 * (the same check docs/consuming.md shows) and counts what it received. It answers 200 to every valid delivery.
 */
import { createServer, type Server } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the receiver has seen so far. */
export interface ReceiverStats {
  requests: number;
  events: number;
  badSignatures: number;
  lastTxid: string | null;
}

export interface DemoReceiver {
  /** The URL to register, e.g. `http://127.0.0.1:40123/hook`. */
  url: string;
  stats: ReceiverStats;
  /** Set once the hook is registered: the `whsec_...` secret returned by `POST /v1/webhooks`. */
  setSecret(secret: string): void;
  close(): Promise<void>;
}

/**
 * Verifies a Standard Webhooks signature: `webhook-signature` holds space-separated `v1,<base64>` entries, each an
 * HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` keyed with the base64 part of the `whsec_` secret.
 */
export function verifySignature(
  secret: string,
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string,
  toleranceSeconds = 300,
): boolean {
  if (!headers.id || !headers.timestamp || !headers.signature) return false;
  const ts = Number(headers.timestamp);
  if (!Number.isFinite(ts) || Math.abs(Date.now() / 1000 - ts) > toleranceSeconds) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${headers.id}.${headers.timestamp}.${body}`).digest();
  return headers.signature.split(' ').some((entry) => {
    const [version, sig] = entry.split(',', 2);
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** Starts the receiver on a free loopback port. */
export async function startReceiver(): Promise<DemoReceiver> {
  const stats: ReceiverStats = { requests: 0, events: 0, badSignatures: 0, lastTxid: null };
  let secret: string | null = null;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const ok =
        secret !== null &&
        verifySignature(
          secret,
          { id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature') },
          body,
        );
      if (!ok) {
        stats.badSignatures++;
        res.writeHead(401).end();
        return;
      }
      stats.requests++;
      try {
        const parsed = JSON.parse(body) as { txid?: string } | Array<{ txid?: string }>;
        const events = Array.isArray(parsed) ? parsed : [parsed];
        stats.events += events.length;
        stats.lastTxid = events.at(-1)?.txid ?? stats.lastTxid;
      } catch {
        // A body that is not JSON is still acknowledged: the signature proved it came from the bridge.
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    stats,
    setSecret: (s) => (secret = s),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
