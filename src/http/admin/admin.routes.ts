import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { problem, sendProblem } from '../problem.js';

/** Where `npm run build:web` writes the app (web/vite.config.ts). */
export const DEFAULT_ADMIN_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

const ASSETS = '/admin/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';

// The app has no inline script; the API is same-origin. Nothing else may load or frame it.
// Previews of an email or a hosted form are sandboxed `srcdoc` frames (no script, no same origin), which
// inherit this policy: they need the inline styles and remote images that email and hosted-page HTML carry
// (the hosted pages' own policy allows the same). Scripts stay forbidden everywhere.
const CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    styleSrcElem: ["'self'", "'unsafe-inline'"],
    styleSrcAttr: ["'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', 'https:', 'http:'],
    frameSrc: ["'self'"],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>trackguard admin</title></head>
<body><h1>The admin app is not built</h1><p>Run <code>npm run build:web</code> (it runs during <code>npm ci</code>), then restart the server.</p></body></html>`;

/**
 * The admin app at /admin: hashed assets cached for good, and every other path
 * under /admin answered with index.html so each deep link of SPEC §13 loads
 * directly (the app's router takes it from there). Without a build the server
 * still starts and /admin says the app is not built.
 */
export function adminApp(dist: string = DEFAULT_ADMIN_DIST) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(helmet, { contentSecurityPolicy: CSP, crossOriginEmbedderPolicy: false, global: true });
    const index = join(dist, 'index.html');
    if (!existsSync(index)) {
      const notBuilt = async (_request: unknown, reply: FastifyReply) => reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      app.get('/admin', { schema: { hide: true } }, notBuilt);
      app.get('/admin/*', { schema: { hide: true } }, notBuilt);
      return;
    }
    await app.register(fastifyStatic, {
      root: dist,
      prefix: '/admin/',
      // One route per built file, found at start; unknown paths fall to the history fallback below.
      wildcard: false,
      index: false,
      schemaHide: true,
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header('cache-control', path.includes(`${join(dist, 'assets')}`) ? IMMUTABLE : 'no-cache');
      },
    });
    const page = async (_request: unknown, reply: FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html');
    app.get('/admin', { schema: { hide: true } }, page);
    app.get('/admin/*', { schema: { hide: true } }, async (request, reply) => {
      // A missing hashed asset is a 404, not the page (a stale tab must not parse HTML as a script).
      if (request.url.startsWith(ASSETS)) return sendProblem(reply, problem('RouteNotFound', 404, `No file ${request.url.split('?')[0]}`));
      return page(request, reply);
    });
  };
}
