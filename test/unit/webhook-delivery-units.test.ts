import { describe, expect, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { generateSecret, signatureHeaders } from '../../src/channels/webhook/signing.js';
import { parseRetryAfter } from '../../src/channels/webhook/sender.js';
import { DEFAULT_RETRY_POLICY, nextAttemptAt, retryDelay } from '../../src/delivery/retry-schedule.js';
import { checkWebhookUrl, isInternalAddress } from '../../src/delivery/webhook-url.js';
import { CommitHold } from '../../src/delivery/commit-hold.js';
import { eventMatcher } from '../../src/delivery/webhook-filter.js';
import { MemoryFeed } from '../support/memory-feed.js';

describe('Standard Webhooks signing', () => {
  it('issues whsec_ secrets of 32 random bytes', () => {
    const s = generateSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(s);
  });

  it('signs so that the standardwebhooks package verifies, with either secret during a rotation', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const body = JSON.stringify([{ id: 'a:0-1-1:1', data: { ü: '✓' } }]);
    const ts = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders([newSecret, oldSecret], 'a:0-1-1', ts, body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new StandardWebhook(newSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new StandardWebhook(oldSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new StandardWebhook(generateSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new StandardWebhook(newSecret).verify(body + ' ', { ...headers })).toThrow();
  });
});

describe('retry schedule', () => {
  it('grows along the schedule with at most 10% jitter and repeats the last delay', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect(retryDelay(p, 1, () => 0)).toBe(1000);
    expect(retryDelay(p, 1, () => 0.999)).toBeLessThanOrEqual(1100);
    expect(retryDelay(p, 2, () => 0)).toBe(5000);
    expect(retryDelay(p, 7, () => 0)).toBe(3_600_000);
    expect(retryDelay(p, 30, () => 0)).toBe(3_600_000);
    for (let i = 0; i < 100; i++) {
      const d = retryDelay(p, 3);
      expect(d).toBeGreaterThanOrEqual(30_000);
      expect(d).toBeLessThanOrEqual(33_000);
    }
  });

  it('is exhausted once the next attempt would fall outside the window; Retry-After replaces the delay', () => {
    const p = { delaysMs: [100, 200], windowMs: 1000, jitter: 0 };
    expect(nextAttemptAt(p, 0, 1, 0)).toBe(100);
    expect(nextAttemptAt(p, 0, 5, 700)).toBe(900);
    expect(nextAttemptAt(p, 0, 6, 900)).toBeNull();
    expect(nextAttemptAt(p, 0, 1, 0, 750)).toBe(750);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});

describe('webhook URL policy', () => {
  it('accepts http and https only', async () => {
    await expect(checkWebhookUrl('ftp://example.org/x', { refuseInternal: false })).rejects.toThrow(/scheme ftp/);
    await expect(checkWebhookUrl('not a url', { refuseInternal: false })).rejects.toThrow(/absolute/);
    await expect(checkWebhookUrl('http://127.0.0.1:9/x', { refuseInternal: false })).resolves.toBeInstanceOf(URL);
  });

  it('refuses loopback and private addresses when asked, also behind a host name', async () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      '::ffff:10.0.0.1',
    ])
      expect(isInternalAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '2606:4700::1111', '172.32.0.1']) expect(isInternalAddress(a), a).toBe(false);
    const resolve = async (h: string) => (h === 'evil.example' ? ['93.184.216.34', '10.0.0.5'] : ['93.184.216.34']);
    await expect(checkWebhookUrl('https://evil.example/', { refuseInternal: true, resolve })).rejects.toThrow(
      /10\.0\.0\.5/,
    );
    await expect(checkWebhookUrl('https://good.example/', { refuseInternal: true, resolve })).resolves.toBeInstanceOf(
      URL,
    );
    await expect(checkWebhookUrl('http://[::1]:80/', { refuseInternal: true, resolve })).rejects.toThrow(/loopback/);
  });
});

describe('event filter', () => {
  it('gives RowChanged only to hooks that name it, and filters by patient', () => {
    const feed = new MemoryFeed();
    const [obs, row] = feed.push(['ObsCreated', 'RowChanged'], 'p1').events;
    expect(eventMatcher({ types: null, patient: null })(obs)).toBe(true);
    expect(eventMatcher({ types: null, patient: null })(row)).toBe(false);
    expect(eventMatcher({ types: ['RowChanged'], patient: null })(row)).toBe(true);
    expect(eventMatcher({ types: null, patient: 'p2' })(obs)).toBe(false);
    expect(eventMatcher({ types: ['ObsCreated'], patient: 'p1' })(obs)).toBe(true);
  });
});

describe('commit hold', () => {
  function setup(hookTypes: Record<string, string[]>) {
    const acks: number[] = [];
    const hold = new CommitHold({
      sendAck: (p) => acks.push(p.pos),
      hooks: () =>
        Object.entries(hookTypes).map(([id, types]) => ({ id, matches: eventMatcher({ types, patient: null }) })),
    });
    return { acks, hold, feed: new MemoryFeed() };
  }

  it('ACKs at once when no hook matches and nothing is pending', () => {
    const { acks, hold, feed } = setup({ a: ['ObsCreated'] });
    const tx = feed.push(['VisitStarted']);
    hold.onTransaction(tx, true);
    expect(acks).toEqual([tx.end.binlog.pos]);
    hold.onTransaction(feed.push(['VisitStarted']), false);
    expect(acks).toHaveLength(1);
  });

  it('ACKs only after every matching hook acknowledged, cumulatively and in binlog order', () => {
    const { acks, hold, feed } = setup({ a: ['ObsCreated'], b: ['ObsCreated', 'VisitStarted'] });
    const t1 = feed.push(['ObsCreated']);
    const t2 = feed.push(['VisitStarted']);
    const t3 = feed.push(['PatientCreated']);
    for (const t of [t1, t2, t3]) hold.onTransaction(t, true);
    expect(acks).toEqual([]);
    hold.acknowledged('a', t1.end);
    expect(acks).toEqual([]);
    hold.acknowledged('b', t1.end);
    expect(acks).toEqual([t1.end.binlog.pos]);
    // t3 matches nobody but sits behind t2, which waits for b.
    hold.acknowledged('b', t2.end);
    expect(acks).toEqual([t1.end.binlog.pos, t3.end.binlog.pos]);
    expect(hold.pending).toBe(0);
  });

  it('counts a hook that got there before the live reader, and forgets a disabled hook', () => {
    const { acks, hold, feed } = setup({ a: ['ObsCreated'], b: ['ObsCreated'] });
    const t1 = feed.push(['ObsCreated']);
    hold.acknowledged('a', t1.end);
    hold.onTransaction(t1, true);
    expect(acks).toEqual([]);
    hold.forget('b');
    expect(acks).toEqual([t1.end.binlog.pos]);
  });
});
