import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { authPlugin, type AuthOptions } from '../../src/api/auth.js';

async function app(options: AuthOptions) {
  const server = Fastify();
  await server.register(authPlugin, options);
  // Routes of another plugin: the hook applies to them too.
  await server.register(async (child) => {
    child.get('/admin', async (req) => ({ principal: req.principal }));
    child.get('/stream', { config: { auth: 'stream' } }, async (req) => ({ principal: req.principal }));
    child.get('/open', { config: { auth: 'public' } }, async () => ({ ok: true }));
    child.get('/page', { config: { public: true } }, async () => ({ ok: true }));
  });
  return server;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('auth plugin', () => {
  const options = { adminToken: 'admin-token-0123456789', subscribeTokens: ['subscriber-1', 'subscriber-2'] };

  it('lets the admin token through everywhere', async () => {
    const server = await app(options);
    for (const url of ['/admin', '/stream', '/open']) {
      const res = await server.inject({ url, headers: bearer(options.adminToken) });
      expect(res.statusCode).toBe(200);
    }
    expect((await server.inject({ url: '/admin', headers: bearer(options.adminToken) })).json()).toEqual({
      principal: 'admin',
    });
  });

  it('gives subscribe tokens streams only (403 on admin routes)', async () => {
    const server = await app(options);
    expect((await server.inject({ url: '/stream', headers: bearer('subscriber-2') })).json()).toEqual({
      principal: 'subscriber',
    });
    const admin = await server.inject({ url: '/admin', headers: bearer('subscriber-1') });
    expect(admin.statusCode).toBe(403);
    expect(admin.json()).toMatchObject({ error: expect.stringContaining('admin token'), details: [] });
  });

  it('answers 401 without a token or with a wrong one, and accepts access_token on streams only', async () => {
    const server = await app(options);
    const none = await server.inject({ url: '/admin' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect((await server.inject({ url: '/stream', headers: bearer('nope-nope') })).statusCode).toBe(401);
    expect((await server.inject({ url: '/stream?access_token=subscriber-1' })).statusCode).toBe(200);
    expect((await server.inject({ url: `/admin?access_token=${options.adminToken}` })).statusCode).toBe(401);
    expect((await server.inject({ url: '/open' })).statusCode).toBe(200);
    expect((await server.inject({ url: '/page' })).statusCode).toBe(200);
  });

  it('is open without an admin token (loopback), except streams when subscribe tokens exist', async () => {
    const open = await app({});
    expect((await open.inject({ url: '/admin' })).statusCode).toBe(200);
    expect((await open.inject({ url: '/stream' })).statusCode).toBe(200);
    const subscribersOnly = await app({ subscribeTokens: ['subscriber-1'] });
    expect((await subscribersOnly.inject({ url: '/admin' })).statusCode).toBe(200);
    expect((await subscribersOnly.inject({ url: '/stream' })).statusCode).toBe(401);
    expect((await subscribersOnly.inject({ url: '/stream', headers: bearer('subscriber-1') })).statusCode).toBe(200);
  });
});
