import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError } from '../../domain/errors.js';
import { SESSION_COOKIE } from '../auth.js';
import { problemResponses } from '../schemas.js';
import { UserView, userView } from './users.routes.js';

const SessionView = Type.Object({
  user: Type.Pick(UserView, ['id', 'email', 'name', 'role', 'projects', 'language']),
  csrfToken: Type.String({ description: 'send as the X-CSRF-Token header on every POST/PUT/PATCH/DELETE made with the session cookie' }),
});

// Secure whenever the browser speaks HTTPS to us, directly or through a TLS proxy (TRACKGUARD_TRUST_PROXY).
const cookieOptions = (request: FastifyRequest) => ({ httpOnly: true, sameSite: 'strict' as const, path: '/', secure: request.protocol === 'https' });

/** Sign-in from another site's page is refused: the Origin a browser sends must be ours. */
function assertSameOrigin(ctx: AppContext, request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  // Hosts are compared as URLs parse them, so an explicit default port (`:80`) matches its absence.
  const hostOf = (value: unknown, protocol: string): string | undefined => {
    if (typeof value !== 'string' || value === '') return undefined;
    try {
      return new URL(value.includes('://') ? value : `${protocol}//${value}`).host;
    } catch {
      return undefined;
    }
  };
  const claimed = hostOf(origin, 'http:');
  const protocol = claimed ? new URL(origin).protocol : 'http:';
  const ours = [hostOf(request.headers.host, protocol), hostOf(request.headers['x-forwarded-host'], protocol), hostOf(ctx.config.publicUrl, protocol)];
  if (!claimed || !ours.includes(claimed)) throw new AppError('CrossOriginSignIn', 'Sign-in is accepted only from this server’s own pages (Origin does not match)');
}

async function sessionView(ctx: AppContext, sessionId: string, userId: number) {
  const { id, email, name, role, projects, language } = await userView(ctx, await ctx.users.get(userId));
  return { user: { id, email, name, role, projects, language }, csrfToken: ctx.sessions.csrfToken(sessionId) };
}

function endCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
}

export function sessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['sessions'];

  r.post(
    '/api/v1/sessions',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Sign in: sets the HttpOnly, SameSite=Strict session cookie and answers the user and the CSRF token',
        security: [],
        body: Type.Object({ email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }),
        response: { 201: SessionView, ...problemResponses, 403: Type.Ref('Problem'), 429: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      assertSameOrigin(ctx, request);
      const { sessionId, user } = await ctx.sessions.signIn(request.body.email, request.body.password, request.ip);
      // The principal is set only now, so the audit log records who signed in.
      request.principal = { kind: 'user', userId: user.userId, email: user.email, role: user.role, projectIds: user.projectIds };
      reply.setCookie(SESSION_COOKIE, sessionId, cookieOptions(request));
      return reply.code(201).send(await sessionView(ctx, sessionId, user.userId));
    },
  );

  r.get(
    '/api/v1/sessions/current',
    { schema: { tags, summary: 'The signed-in user and the CSRF token of the session; 401 without a valid session', response: { 200: SessionView, ...problemResponses } } },
    async (request) => {
      const principal = request.principal;
      if (principal.kind !== 'user' || !request.sessionId) throw new AppError('NoSession', 'No session: sign in with POST /api/v1/sessions');
      return sessionView(ctx, request.sessionId, principal.userId);
    },
  );

  r.delete(
    '/api/v1/sessions/current',
    { schema: { tags, summary: 'Sign out: ends the session on the server and clears the cookie', response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      if (request.principal.kind !== 'user' || !request.sessionId) throw new AppError('NoSession', 'No session: sign in with POST /api/v1/sessions');
      await ctx.sessions.signOut(request.sessionId);
      endCookie(request, reply);
      return reply.code(204).send(null);
    },
  );
}
