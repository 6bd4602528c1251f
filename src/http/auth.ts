import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { Principal, ProjectService } from '../services/projects.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/** `Authorization: Bearer <key>` → the request's principal, or 401. */
export function bearerAuth(projects: ProjectService) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      reply.header('WWW-Authenticate', 'Bearer');
      throw new AppError('Unauthorized', 401, 'Send an API key as Authorization: Bearer <key>');
    }
    const principal = await projects.authenticate(match[1]!);
    if (!principal) {
      reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new AppError('Unauthorized', 401, 'The API key is not valid');
    }
    request.principal = principal;
  };
}

/** Who acted, as written in consent-history sources: `api:<keyId>` or `api:admin`. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'admin' ? 'api:admin' : `api:${principal.keyId}`;
}
