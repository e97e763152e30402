/**
 * The live event console: a fastify plugin that serves the browser page at `GET /` and its assets under
 * `/console/`. Plain HTML, CSS and JS from `public/`, read once at registration; the page itself talks to the public
 * API (`/v1/stream`, `/v1/webhooks`, `/readyz`, `/metrics`) with the user's token, so it needs no route of its own.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

/** Options of {@link consolePlugin}. */
export interface ConsolePluginOptions {
  /** Folder with index.html and its assets; defaults to the `public/` folder shipped next to this file. */
  root?: string;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

/**
 * Where the page lives. From the sources it is `./public`; from the build (`dist/api/console/`) tsc does not copy
 * static files, so fall back to the sources' folder (the Docker image copies it next to the build instead).
 */
export async function defaultConsoleRoot(): Promise<string> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, 'public'), join(here, '..', '..', '..', 'src', 'api', 'console', 'public')];
  for (const dir of candidates) {
    if (
      await stat(join(dir, 'index.html')).then(
        () => true,
        () => false,
      )
    )
      return dir;
  }
  throw new Error(`console assets not found in ${candidates.join(' or ')}`);
}

async function loadAssets(root: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const name of await readdir(root)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = await readFile(join(root, name));
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;
    assets.set(name, { body, type, etag });
  }
  if (!assets.has('index.html')) throw new Error(`console: ${root} has no index.html`);
  return assets;
}

/**
 * Serves the console: `GET /` (the page) and `GET /console/<file>` (its scripts and styles). The routes carry
 * `config: { public: true }`: the page must load without a token, since it is the page that asks for one.
 */
export const consolePlugin: FastifyPluginAsync<ConsolePluginOptions> = async (app: FastifyInstance, opts) => {
  const assets = await loadAssets(opts.root ?? (await defaultConsoleRoot()));

  app.get('/', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const asset = assets.get('index.html')!;
    return serve(req.headers['if-none-match'], asset, reply);
  });

  app.get<{ Params: { file: string } }>(
    '/console/:file',
    { config: { public: true }, schema: { hide: true } },
    async (req, reply) => {
      const asset = assets.get(req.params.file);
      if (!asset) return reply.code(404).send({ error: 'not found', details: [] });
      return serve(req.headers['if-none-match'], asset, reply);
    },
  );
};

function serve(ifNoneMatch: string | undefined, asset: Asset, reply: import('fastify').FastifyReply) {
  // no-cache (revalidate with the ETag): a restarted bridge with a new console version is picked up at once.
  reply.header('cache-control', 'no-cache').header('etag', asset.etag);
  if (ifNoneMatch === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

export default consolePlugin;
