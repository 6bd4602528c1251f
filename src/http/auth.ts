import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { AppError } from '../domain/errors.js';
import { actionOf, type Caller, isAllowed, isReadMethod, permissionOf } from '../domain/permissions.js';
import type { Principal } from '../services/projects.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** The session id from the cookie, when the request was authenticated by one. */
    sessionId?: string;
    /** What a route adds to its audit entry (e.g. the settings it changed); never personal data. */
    auditDetail?: string;
  }
  interface FastifyContextConfig {
    /** The route needs no principal (sign-in). */
    public?: boolean;
  }
}

export const SESSION_COOKIE = 'tg_session';
export const CSRF_HEADER = 'x-csrf-token';

// Reads that are audited all the same: an access export hands out everything held about a person.
const AUDITED_READS = new Set(['contacts.export']);

/**
 * The one authentication and authorisation path of `/api/v1`: a bearer key or
 * the session cookie gives the request one principal (onRequest); the
 * permission table decides whether it may perform the route's action, after
 * the project check (preValidation, so a refusal comes before body errors);
 * and every state-changing request is appended to the audit log with how it
 * ended (onSend, so the entry exists when the client reads the answer).
 */
export function installApiAuth(api: FastifyInstance, ctx: AppContext): void {
  api.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    request.principal = await authenticate(ctx, request, reply);
  });

  api.addHook('preValidation', async (request) => {
    if (!principalOf(request)) return;
    const pid = (request.params as Record<string, string | undefined> | undefined)?.pid;
    if (pid !== undefined && /^[0-9]{1,15}$/.test(pid)) ctx.projects.assertAccess(request.principal, Number(pid));
    authorize(request, actionOf(request.method, request.routeOptions.url ?? request.url));
    // A request sent without a body is validated as an empty object: an optional body may be left out
    // (`curl -X POST …/keys`), and a required field is named instead of "body: must be object".
    if (request.body === undefined && !isReadMethod(request.method) && !request.headers['content-type']?.startsWith('multipart/')) request.body = {};
  });

  api.addHook('onSend', async (request, reply, payload) => {
    const principal = principalOf(request);
    if (!principal) return payload;
    const action = actionOf(request.method, request.routeOptions.url ?? request.url);
    if ((isReadMethod(request.method) || permissionOf(action, request.method).changesState === false) && !AUDITED_READS.has(action)) return payload;
    const pid = (request.params as Record<string, string | undefined> | undefined)?.pid;
    const projectId = pid !== undefined && /^[0-9]{1,15}$/.test(pid) ? Number(pid) : 0;
    let object = request.url.split('?')[0]!.replace(/^\/api\/v1\//, '');
    const created = reply.statusCode === 201 ? createdId(payload) : undefined;
    if (created) object = `${object}/${created}`;
    try {
      await ctx.audit.record({ projectId, actor: auditActor(principal), action, object, status: reply.statusCode, ...(request.auditDetail ? { detail: request.auditDetail } : {}) });
    } catch (error) {
      request.log.error({ err: error }, 'audit entry not written');
    }
    return payload;
  });
}

/** Throws 403 unless the request's principal may perform the action (the permission table of domain/permissions.ts). */
export function authorize(request: FastifyRequest, action: string): void {
  const principal = request.principal;
  const permission = permissionOf(action, request.method);
  if (isAllowed(callerOf(principal), permission)) return;
  if (principal.kind === 'project') {
    const needs = permission.scope ? `the ${permission.scope} scope` : 'the admin key or an owner';
    throw new AppError('Forbidden', `This key may not ${action}: it needs ${needs}`);
  }
  throw new AppError('Forbidden', `The ${principal.kind === 'user' ? principal.role : ''} role may not ${action}`);
}

function principalOf(request: FastifyRequest): Principal | undefined {
  return (request as { principal?: Principal }).principal;
}

function callerOf(principal: Principal): Caller {
  if (principal.kind === 'admin') return { kind: 'admin' };
  if (principal.kind === 'project') return { kind: 'key', scopes: principal.scopes };
  return { kind: 'user', role: principal.role };
}

async function authenticate(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match ? await ctx.projects.authenticate(match[1]!) : null;
    if (!principal) {
      reply.header('WWW-Authenticate', match ? 'Bearer error="invalid_token"' : 'Bearer');
      throw new AppError('Unauthorized', match ? 'The API key is not valid' : 'Send an API key as Authorization: Bearer <key>');
    }
    return principal;
  }
  const sessionId = request.cookies[SESSION_COOKIE];
  if (sessionId) {
    const user = await ctx.sessions.resolve(sessionId);
    if (!user) throw new AppError('SessionEnded', 'The session has ended or expired: sign in again');
    request.principal = { kind: 'user', userId: user.userId, email: user.email, role: user.role, projectIds: user.projectIds };
    request.sessionId = sessionId;
    // Cookies ride along on cross-site requests; the token proves the page that sent it is ours.
    if (!isReadMethod(request.method)) {
      const token = request.headers[CSRF_HEADER];
      if (!ctx.sessions.checkCsrf(sessionId, typeof token === 'string' ? token : undefined)) {
        throw new AppError('CsrfTokenInvalid', `A state-changing request made with the session cookie needs the ${CSRF_HEADER} header given at sign-in`);
      }
    }
    return request.principal;
  }
  reply.header('WWW-Authenticate', 'Bearer');
  throw new AppError('Unauthorized', 'Send an API key as Authorization: Bearer <key>, or sign in (POST /api/v1/sessions)');
}

function createdId(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || payload.length > 65_536) return undefined;
  try {
    const id = (JSON.parse(payload) as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}

/** The actor of an audit entry: `user:<email>`, `key:<keyId>` or `admin`. */
export function auditActor(principal: Principal): string {
  if (principal.kind === 'user') return `user:${principal.email}`;
  return principal.kind === 'admin' ? 'admin' : `key:${principal.keyId}`;
}

/** Who acted, as written in consent-history sources: `admin:<email>` for a user, `api:<keyId>` or `api:admin` for keys. */
export function actorOf(principal: Principal): string {
  if (principal.kind === 'user') return `admin:${principal.email}`;
  return principal.kind === 'admin' ? 'api:admin' : `api:${principal.keyId}`;
}

/** The history source of a consent change: a user's is always `admin:<email>`; a key may name the source it relays. */
export function consentSource(principal: Principal, requested: string | undefined): string {
  return principal.kind === 'user' ? actorOf(principal) : (requested ?? actorOf(principal));
}
