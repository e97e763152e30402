/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-signature` is `v1,` + base64 of
 * HMAC-SHA256(`<webhook-id>.<webhook-timestamp>.<body>`) keyed with the secret's decoded bytes.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Prefix of every secret the bridge issues, as Standard Webhooks libraries expect. */
export const SECRET_PREFIX = 'whsec_';

/** A new secret: `whsec_` + base64 of 32 random bytes (the spec asks for 24 to 64). */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The key bytes of a `whsec_` secret. */
export function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(b64, 'base64');
}

/** One `v1,<base64>` signature of a message. */
export function signOne(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secretKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

/** The three Standard Webhooks headers of one delivery attempt. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs a delivery with every given secret (current first, then the previous one during a rotation), space-separated
 * as the spec allows, so receivers that still hold the old secret keep verifying.
 */
export function signatureHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string | Buffer,
): SignatureHeaders {
  if (secrets.length === 0) throw new Error('a webhook needs at least one secret to sign with');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signOne(s, id, timestamp, body)).join(' '),
  };
}
