import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, type FieldProblem } from '../domain/errors.js';

export const PROBLEM_BASE = 'https://trackguard.dev/problems/';

/** RFC 9457 body; `type` is stable per `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldProblem[];
}

/**
 * The HTTP status of every code of the error catalogue: the one place where
 * a domain failure gets its HTTP face (a new code without a status does not compile).
 */
const STATUS: Record<ErrorCode, number> = {
  CampaignNotFound: 404,
  ConsentWordingNotFound: 404,
  ContactNotFound: 404,
  FormNotFound: 404,
  GroupNotFound: 404,
  ImportNotFound: 404,
  InjectionRuleNotFound: 404,
  KeyNotFound: 404,
  LinkNotFound: 404,
  MessageNotFound: 404,
  ProjectNotFound: 404,
  ScoreModelNotFound: 404,
  SendingNotFound: 404,
  UserNotFound: 404,
  WebhookNotFound: 404,
  InvalidInput: 400,
  InvalidRecord: 400,
  InvalidEvent: 400,
  InvalidMessage: 400,
  InvalidCampaign: 400,
  InvalidCriteria: 400,
  InvalidScoreRules: 400,
  InvalidInjectionRule: 400,
  InvalidConsentValue: 400,
  InvalidConsentDate: 400,
  FutureConsentDate: 400,
  TemplateError: 400,
  EmptyImport: 400,
  GroupNotStatic: 400,
  Unauthorized: 401,
  InvalidCredentials: 401,
  NoSession: 401,
  SessionEnded: 401,
  Forbidden: 403,
  CsrfTokenInvalid: 403,
  CrossOriginSignIn: 403,
  TooManySignInAttempts: 429,
  CampaignNotDraft: 409,
  CampaignRunning: 409,
  CampaignNotStartable: 409,
  CampaignNotRunning: 409,
  CampaignEntryNotApi: 409,
  ScoreModelInUse: 409,
  MessageAlreadySent: 409,
  MessageInUse: 409,
  SendingStarted: 409,
  UserExists: 409,
  LastOwner: 409,
};

/** @example statusOf('ContactNotFound') // 404 */
export const statusOf = (code: ErrorCode): number => STATUS[code];

const kebab = (code: string): string => code.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

export function problem(code: string, status: number, detail: string, errors?: FieldProblem[]): Problem {
  return { type: PROBLEM_BASE + kebab(code), title: code.replace(/([a-z0-9])([A-Z])/g, '$1 $2'), status, detail, code, ...(errors?.length ? { errors } : {}) };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(JSON.stringify(p));
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PayloadTooLarge',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UnsupportedMediaType',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MalformedJson',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MalformedJson',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'InvalidContentLength',
};

/**
 * Field problems of a schema validation error, one per field: a value outside
 * a union of literals (TypeBox's enums) says which values are allowed instead
 * of one "must be equal to constant" per literal.
 *
 * @example // tracking.mode: 'maybe' → { field: 'tracking.mode', reason: 'must be one of opt-out, opt-in' }
 */
function validationProblems(error: FastifyError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const allowed = new Map<string, unknown[]>();
  for (const v of error.validation ?? []) {
    const params = v.params as Record<string, unknown>;
    let field = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (typeof params.missingProperty === 'string') field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
    field ||= error.validationContext ?? 'body';
    if (typeof params.additionalProperty === 'string') {
      problems.push({ field: field === (error.validationContext ?? 'body') ? params.additionalProperty : `${field}.${params.additionalProperty}`, reason: 'unknown property' });
      continue;
    }
    if (v.keyword === 'const' || v.keyword === 'enum') {
      const values = v.keyword === 'const' ? [params.allowedValue] : ((params.allowedValues as unknown[]) ?? []);
      allowed.set(field, [...(allowed.get(field) ?? []), ...values]);
      continue;
    }
    // The union's own "must match a schema in anyOf" says nothing once its literals are listed.
    if (v.keyword === 'anyOf' && allowed.has(field)) continue;
    problems.push({ field, reason: v.message ?? 'invalid' });
  }
  const enums = [...allowed].map(([field, values]) => ({ field, reason: `must be one of ${[...new Set(values.map(String))].join(', ')}` }));
  const seen = new Set<string>();
  return [...enums, ...problems].filter((p) => {
    const key = `${p.field}\n${p.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The body types a route's server takes, for a 415 that says what to send. */
const KNOWN_TYPES = ['application/json', 'text/csv', 'multipart/form-data', 'application/x-www-form-urlencoded', 'application/octet-stream'];
function acceptedTypes(request: FastifyRequest): string[] {
  return KNOWN_TYPES.filter((type) => request.server.hasContentTypeParser(type));
}

/** The one place where errors become problem+json. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) return sendProblem(reply, problem(error.code, statusOf(error.code), error.message, error.errors));
    if (error.validation) {
      const errors = validationProblems(error);
      const where = error.validationContext ?? 'body';
      const detail = errors.map((e) => `${e.field}: ${e.reason}`).join('; ') || `invalid ${where}`;
      return sendProblem(reply, problem('ValidationFailed', 400, detail, errors));
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped === 'UnsupportedMediaType') {
      const given = String(request.headers['content-type'] ?? 'none').split(';')[0]!.trim();
      return sendProblem(reply, problem(mapped, 415, `Content-Type ${given} is not taken here; send one of: ${acceptedTypes(request).join(', ')}`));
    }
    if (mapped) return sendProblem(reply, problem(mapped, error.statusCode ?? 400, error.message));
    if (error instanceof SyntaxError) return sendProblem(reply, problem('MalformedJson', 400, error.message));
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return sendProblem(reply, problem('InternalError', 500, 'The server could not complete the request.'));
    }
    return sendProblem(reply, problem(error.code ? kebab(error.code) : 'BadRequest', status, error.message));
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem('RouteNotFound', 404, `No route ${request.method} ${request.url.split('?')[0]}`)));
}

/**
 * Errors fastify raises before routing (a bad URL encoding, a parameter over `maxParamLength`): problem+json like
 * every other. The URL is not echoed (it may be a token).
 */
export function frameworkErrorHandler(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : (error.statusCode ?? 400);
  const code = status === 414 ? 'UriTooLong' : 'BadUrl';
  sendProblem(reply, problem(code, status < 500 ? status : 400, status === 414 ? 'A path segment is too long.' : 'The URL cannot be read.'));
}

/** Errors of the HTTP parser itself (headers too large, a malformed request line, a timeout), before fastify sees a request. */
export function clientErrorHandler(error: NodeJS.ErrnoException & { code?: string }, socket: import('node:net').Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'RequestTimeout', 'The request took too long to arrive.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'HeadersTooLarge', 'The request line or headers exceed 16 KB.']
        : error.code === 'HPE_URI_TOO_LONG'
          ? [414, 'URI Too Long', 'UriTooLong', 'The URL is too long.']
          : [400, 'Bad Request', 'MalformedRequest', 'The HTTP request cannot be parsed.'];
  const body = JSON.stringify(problem(code, status, detail));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
