import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { normalizeLink } from '../../domain/link.js';
import type { HitRequest } from '../../services/tracking.service.js';

/** A 1×1 transparent GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const TokenParams = Type.Object({ token: Type.String({ maxLength: 200 }) });

function hitRequest(request: FastifyRequest): HitRequest {
  return { method: request.method, userAgent: request.headers['user-agent'], ip: request.ip, headers: request.headers };
}

/** `GET /t/o/{token}` and `GET /t/c/{token}`: public, unauthenticated, and never an open redirect. */
export function trackRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const schema = { hide: true, params: TokenParams };

  r.get('/t/o/:token', { schema }, async (request, reply) => {
    const outcome = await ctx.tracking.hit('open', request.params.token, hitRequest(request));
    reply.header('cache-control', 'no-store, no-cache, must-revalidate, private').header('pragma', 'no-cache');
    if (!outcome.found) return reply.code(404).type('text/plain').send('Not found');
    return reply.type('image/gif').send(PIXEL);
  });

  r.get('/t/c/:token', { schema }, async (request, reply) => {
    const outcome = await ctx.tracking.hit('click', request.params.token, hitRequest(request));
    reply.header('cache-control', 'no-store, private').header('referrer-policy', 'no-referrer');
    // The destination comes from the stored sending; a forged token never redirects.
    if (!outcome.found || !outcome.location) return reply.code(404).type('text/plain').send('Not found');
    // Links of sendings stored before links were normalised at save, and injected values, are encoded here too.
    return reply.redirect(normalizeLink(outcome.location), 302);
  });
}
