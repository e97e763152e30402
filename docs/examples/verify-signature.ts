// Verifying a signature without a library: HMAC-SHA256 of `${id}.${timestamp}.${body}` with the decoded secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function verifyWebhook(
  secret: string, // whsec_<base64>
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string },
  rawBody: string,
): boolean {
  const timestamp = Number(headers['webhook-timestamp']);
  if (Math.abs(Date.now() / 1000 - timestamp) > 300) return false; // refuse replays older than 5 minutes
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${rawBody}`)
    .digest();
  // After rotate-secret the header carries two signatures for 24 h, space-separated: any one may match.
  return headers['webhook-signature'].split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}
