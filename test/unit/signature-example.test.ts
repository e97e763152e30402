/**
 * The signature check that docs/consuming.md shows (docs/examples/verify-signature.ts) and the demo's receiver uses
 * accepts what the `standardwebhooks` reference implementation signs, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook } from '../../docs/examples/verify-signature.js';
import { verifySignature } from '../../demo/receiver.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const other = `whsec_${randomBytes(24).toString('base64')}`;
const body = JSON.stringify([{ id: 'clinic-a:0-1-7:1', type: 'PatientCreated' }]);

function signed(key: string, id = 'msg_1', at = new Date()) {
  const signature = new Webhook(key).sign(id, at, body);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

describe.each([
  ['docs/examples/verify-signature.ts', (h: ReturnType<typeof signed>, b: string) => verifyWebhook(secret, h, b)],
  [
    'demo/receiver.ts',
    (h: ReturnType<typeof signed>, b: string) =>
      verifySignature(
        secret,
        { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'] },
        b,
      ),
  ],
])('%s', (_name, verify) => {
  it('accepts a signature made by standardwebhooks', () => {
    expect(verify(signed(secret), body)).toBe(true);
  });

  it('rejects a changed body, another secret, another id, an old timestamp', () => {
    expect(verify(signed(secret), body.replace('PatientCreated', 'PatientVoided'))).toBe(false);
    expect(verify(signed(other), body)).toBe(false);
    expect(verify({ ...signed(secret), 'webhook-id': 'msg_2' }, body)).toBe(false);
    expect(verify(signed(secret, 'msg_1', new Date(Date.now() - 3600_000)), body)).toBe(false);
  });

  it('accepts either of two signatures after a secret rotation', () => {
    const now = new Date();
    const a = signed(other, 'msg_3', now);
    const b = signed(secret, 'msg_3', now);
    expect(verify({ ...b, 'webhook-signature': `${a['webhook-signature']} ${b['webhook-signature']}` }, body)).toBe(
      true,
    );
  });
});
