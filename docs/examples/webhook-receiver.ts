// Webhooks: verify the Standard Webhooks signature on the raw body, answer 2xx fast, deduplicate by webhook-id.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { BridgeEvent } from './event.js';

const hook = new Webhook(process.env.WEBHOOK_SECRET!); // the whsec_... returned by POST /v1/webhooks

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      hook.verify(body, {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      });
    } catch {
      res.writeHead(401).end();
      return;
    }
    // Transactional hooks get a batch (application/cloudevents-batch+json): one committed transaction, in order.
    // Post-commit hooks get one event per request (application/cloudevents+json).
    const parsed = JSON.parse(body) as BridgeEvent | BridgeEvent[];
    const events = Array.isArray(parsed) ? parsed : [parsed];
    for (const event of events) console.log(event.txid, event.txseq, event.type, event.subject);
    res.writeHead(204).end(); // any 2xx acknowledges; 410 disables the hook; 429/503 may send Retry-After
  });
}).listen(3000);
