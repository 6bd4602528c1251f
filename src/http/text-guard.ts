import type { FastifyInstance } from 'fastify';
import { badInput } from '../domain/errors.js';
import { unstorableText } from '../domain/safe-text.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route rejects unstorable text per record itself (a batch keeps its valid records). */
    perRecordText?: boolean;
  }
}

/**
 * A NUL byte or a lone surrogate in any string of a request (body, query) is a 400 naming where it is,
 * before validation: PostgreSQL refuses such text (a 500 otherwise) and SQLite would store a mangled value.
 */
export function installTextGuard(api: FastifyInstance): void {
  api.addHook('preValidation', async (request) => {
    const inQuery = unstorableText(request.query);
    if (inQuery) throw badInput(inQuery.path, inQuery.reason);
    const body = request.body;
    // Only parsed JSON / form bodies: a CSV import body is a stream, read and checked line by line.
    const parsed = Array.isArray(body) || (body !== null && typeof body === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(body)));
    if (request.routeOptions.config.perRecordText || !parsed) return;
    const inBody = unstorableText(body);
    if (inBody) throw badInput(inBody.path, inBody.reason);
  });
}
