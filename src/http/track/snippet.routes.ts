import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { problem, sendProblem } from '../problem.js';
import { SlidingWindowLimiter } from '../forms/rate-limit.js';

/** The query parameter the snippet reads the `{{trackingToken}}` from, unless the tag says `data-param`. */
export const SNIPPET_TOKEN_PARAM = 'tg_token';

/*
 * The web snippet, the same bytes for every request (never built from input).
 * It reads its project from its own tag's `data-project`, posts one page
 * view to `/t/w` beside itself (`…/t/w.js` → `…/t/w`, so a path prefix in
 * front of trackguard works), and sends the token of the link the visitor
 * arrived by, except under Global Privacy Control. It stores nothing in the
 * browser, sends no credentials, and takes the token out of the URL it
 * reports. `text/plain` keeps the POST a CORS simple request (no preflight).
 */
export const WEB_SNIPPET = `/* trackguard web snippet: one page view, no storage in the browser */
(function () {
  var s = document.currentScript;
  var p = s && Number(s.getAttribute('data-project'));
  if (!p || !window.fetch) return;
  var q = s.getAttribute('data-param') || '${SNIPPET_TOKEN_PARAM}';
  var u = new URL(location.href);
  var t = u.searchParams.get(q);
  u.searchParams.delete(q);
  var b = { projectId: p, url: u.href };
  if (t && navigator.globalPrivacyControl !== true) b.token = t;
  fetch(s.src.replace(/\\.js([?#].*)?$/, ''), { method: 'POST', body: JSON.stringify(b), credentials: 'omit', keepalive: true, headers: { 'content-type': 'text/plain' } }).catch(function () {});
})();
`;

const PageViewBody = Type.Object(
  {
    projectId: Type.Integer({ minimum: 1 }),
    url: Type.Optional(Type.String({ maxLength: 2000 })),
    token: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** Any site may load the snippet and post its page views: no credentials are ever involved. */
function crossOrigin(reply: FastifyReply): FastifyReply {
  return reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
}

/**
 * `GET /t/w.js` (the web snippet) and `POST /t/w` (its page views): public,
 * unauthenticated, served by the track role like the other `/t/` routes. A
 * page view is identified only through a signed click token of a tracked
 * contact (SPEC §14); `Sec-GPC: 1` makes it anonymous.
 */
export function snippetRoutes(ctx: AppContext, options: { rateLimit?: { max: number; windowMs: number } | undefined } = {}) {
  // Per client address, in memory only (never stored or logged): generous, since many visitors can share one address.
  const limit = options.rateLimit ?? { max: 600, windowMs: 60_000 };
  const limiter = new SlidingWindowLimiter(limit.max, limit.windowMs);
  return async (app: FastifyInstance): Promise<void> => {
    // The snippet posts JSON as text/plain: a simple request, so browsers send no preflight.
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
    app.addHook('onSend', (_request, reply, payload, done) => {
      crossOrigin(reply);
      done(null, payload);
    });
    const r = app.withTypeProvider<TypeBoxTypeProvider>();

    r.get('/t/w.js', { schema: { hide: true, response: { 200: Type.String() } } }, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(WEB_SNIPPET),
    );

    r.options('/t/w', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'content-type')
        .header('access-control-max-age', '86400')
        .send(),
    );

    r.post('/t/w', { bodyLimit: 8 * 1024, schema: { hide: true, body: PageViewBody, response: { 204: Type.Null() } } }, async (request, reply) => {
      if (!limiter.allow(request.ip, ctx.clock())) {
        reply.header('retry-after', String(Math.ceil(limit.windowMs / 1000)));
        return sendProblem(reply, problem('TooManyRequests', 429, 'too many page views from this address; try again later'));
      }
      await ctx.webEvents.recordPageView(request.body, { gpc: request.headers['sec-gpc'] });
      return reply.code(204).header('cache-control', 'no-store').send(null);
    });
  };
}
