import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from './problem.js';

/*
 * The security headers every response carries (SPEC §15) unless its route set
 * its own (the admin app, the hosted forms, the API docs set stricter or
 * page-specific ones). JSON answers get a CSP that allows nothing: a browser
 * that is tricked into rendering one runs no script and frames nothing.
 */
const DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
];

export function installSecurityHeaders(app: FastifyInstance, publicUrl: string): void {
  const hsts = publicUrl.startsWith('https://');
  // A callback hook: it runs on every response, tracking hits included.
  app.addHook('onSend', (request, reply, payload, done) => {
    for (const [name, value] of DEFAULTS) if (!reply.hasHeader(name)) reply.header(name, value);
    if (hsts && !reply.hasHeader('strict-transport-security')) reply.header('strict-transport-security', 'max-age=31536000');
    // API answers are for this origin's scripts and API clients, not for other sites' pages.
    if (request.url.startsWith('/api/') && !reply.hasHeader('cross-origin-resource-policy')) reply.header('cross-origin-resource-policy', 'same-origin');
    done(null, payload);
  });
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * A preHandler that lets `/metrics` through only with `Authorization: Bearer
 * <token>` when TRACKGUARD_METRICS_TOKEN is set (compared in constant time).
 */
export function metricsGuard(token: string | undefined) {
  if (!token) return undefined;
  const expected = digest(token);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (given !== '' && timingSafeEqual(digest(given), expected)) return;
    reply.header('www-authenticate', 'Bearer realm="metrics"');
    return sendProblem(reply, problem('Unauthorized', 401, 'this server protects /metrics: send Authorization: Bearer <TRACKGUARD_METRICS_TOKEN>'));
  };
}
