import type { InjectOptions } from 'fastify';
import type { TestApp } from './harness.js';

export interface Session {
  cookie: string;
  csrfToken: string;
  user: { id: string; email: string; role: string; projects: string[]; language: string | null };
  setCookie: string;
}

/** Creates a user through the API with the admin key; returns its id. */
export async function createUser(t: TestApp, body: { email: string; password?: string; role: string; projects?: string[]; name?: string }): Promise<string> {
  const res = await t.api<{ id: string }>('POST', '/api/v1/users', body);
  if (res.status !== 201) throw new Error(`user creation failed: ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** Signs in through POST /api/v1/sessions; throws unless it answers 201 with the cookie. */
export async function signIn(t: TestApp, email: string, password: string): Promise<Session> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { email, password } });
  if (res.statusCode !== 201) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  const setCookie = String(res.headers['set-cookie'] ?? '');
  const value = /tg_session=([^;]+)/.exec(setCookie)?.[1];
  if (!value) throw new Error(`no session cookie in ${setCookie}`);
  const body = JSON.parse(res.body) as { csrfToken: string; user: Session['user'] };
  return { cookie: `tg_session=${value}`, csrfToken: body.csrfToken, user: body.user, setCookie };
}

/** Calls the API with the session cookie and, unless `csrf` is false or a string, the session's CSRF token. */
export async function asUser<T = unknown>(
  t: TestApp,
  session: Session,
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  csrf: boolean | string = true,
): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (csrf === true) headers['x-csrf-token'] = session.csrfToken;
  else if (typeof csrf === 'string') headers['x-csrf-token'] = csrf;
  const options: InjectOptions = { method, url, headers };
  if (body !== undefined) options.payload = body as InjectOptions['payload'];
  const res = await t.app.inject(options);
  const type = String(res.headers['content-type'] ?? '');
  return { status: res.statusCode, body: (type.includes('json') && res.body ? JSON.parse(res.body) : res.body) as T, headers: res.headers };
}
