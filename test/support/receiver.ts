/** A real HTTP receiver (node:http) for webhook tests: records every request and answers as the test says. */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';

export interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
}

/** Decides the answer; may delay. Default: 200. */
export type Responder = (req: Received, res: ServerResponse) => unknown;

export interface Receiver {
  url: string;
  requests: Received[];
  respond: Responder;
  close(): Promise<void>;
  /** Resolves once `n` requests arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

export async function startReceiver(respond?: Responder): Promise<Receiver> {
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const receiver: Receiver = {
    url: '',
    requests: [],
    respond: respond ?? ((_req, res) => void res.writeHead(200).end()),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    waitFor(n, timeoutMs = 20_000) {
      if (receiver.requests.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`receiver got ${receiver.requests.length} requests, wanted ${n}`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const at = performance.now();
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rec: Received = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), at };
      receiver.requests.push(rec);
      for (const w of [...waiters]) {
        if (receiver.requests.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      void receiver.respond(rec, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  receiver.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`;
  return receiver;
}
