import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/** One field named by a problem+json answer (`errors[].field`), with why it was refused. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** An answer other than 2xx, carrying the problem+json body when the server sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The reason given for one field (`email`, `records.0.email` …), if the server named it. */
  forField(field: string): string | undefined {
    return this.errors.find((e) => e.field === field || e.field.endsWith(`.${field}`))?.reason;
  }
}

let csrfToken: string | null = null;

/** The session's CSRF token, sent as `X-CSRF-Token` on every state-changing request. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const csrf: Middleware = {
  onRequest({ request }) {
    if (csrfToken && MUTATIONS.has(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

async function problemOf(response: Response): Promise<ApiError> {
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const body = (await response.clone().json()) as { code?: string; detail?: string; title?: string; errors?: FieldProblem[] };
      return new ApiError(response.status, body.code ?? 'Error', body.detail ?? body.title ?? response.statusText, body.errors ?? []);
    } catch {
      // Not JSON after all: fall through to the status line.
    }
  }
  return new ApiError(response.status, 'Error', response.statusText || `HTTP ${response.status}`);
}

const throwOnError: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) throw await problemOf(response);
    return response;
  },
};

/** The typed client every screen goes through (types from the OpenAPI document, see web/scripts/api-types.ts). */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf, throwOnError);

/**
 * Calls that answer a file rather than JSON (CSV, JSON downloads) or send one
 * (CSV uploads): the same CSRF header and error handling, without JSON parsing.
 */
export async function rawRequest(method: string, url: string, body?: BodyInit, contentType?: string): Promise<Response> {
  const headers = new Headers();
  if (contentType) headers.set('content-type', contentType);
  if (csrfToken && MUTATIONS.has(method)) headers.set('X-CSRF-Token', csrfToken);
  const response = await fetch(url, { method, body: body ?? null, headers, credentials: 'same-origin' });
  if (!response.ok) throw await problemOf(response);
  return response;
}

/**
 * TanStack Query's `retry` for live reads (previews, counts): a refusal (4xx, e.g. a bad merge tag) is shown at
 * once, a server or network failure is tried twice more before it is shown.
 */
export function retryUnlessRefused(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status < 500) return false;
  return failures < 2;
}
