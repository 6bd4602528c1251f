import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
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

function validationProblems(error: FastifyError): FieldProblem[] {
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    let field = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (typeof params.missingProperty === 'string') field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
    if (typeof params.additionalProperty === 'string') {
      field = field ? `${field}.${params.additionalProperty}` : params.additionalProperty;
      return { field, reason: 'unknown property' };
    }
    return { field: field || (error.validationContext ?? 'body'), reason: v.message ?? 'invalid' };
  });
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
