// Requests and checks shared by the API contract tests of projects, keys, merge and consent.
import { expect } from 'vitest';
import { ADMIN_KEY, type TestApp } from './harness.js';

export interface MergeResponse {
  results: { index: number; contactId?: string; result: string; consent: string; error?: string }[];
  counts: Record<string, number>;
}
export interface ContactCard {
  id: string;
  email: string | null;
  externalId: string | null;
  phone: string | null;
  hasTrackingConsent: boolean | null;
  dtTrackingConsent: string | null;
  trackingStatus: string;
  tracked: boolean;
  consentHistory: HistoryEntry[];
}
export interface HistoryEntry {
  id: string;
  contactId: string | null;
  action: string;
  date: string;
  source: string;
  hash: string;
  prevHash: string;
}
export interface ProjectView {
  id: string;
  name: string;
  tracking: { enabled: boolean; mode: string; anonymizePastOnRefusal: boolean };
  settings: { tracking: { enabled: boolean; mode: string; anonymizePastOnRefusal: boolean } };
}

export const DAY = 86_400_000;
export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The foundation's request helpers, bound to the test app `get()` returns when called. */
export function foundationApi(get: () => TestApp) {
  /** Row counts of every table the foundation writes, to prove an error changed nothing. */
  async function snapshot() {
    const db = get().ctx.store.db;
    const count = async (table: 'projects' | 'api_keys' | 'contacts' | 'consent_history' | 'events') =>
      Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const heads = await db.selectFrom('ledger_heads').select(['project_id', 'seq', 'hash']).orderBy('project_id').execute();
    const projects = await db.selectFrom('projects').select(['id', 'name', 'settings']).orderBy('id').execute();
    const contacts = await db.selectFrom('contacts').selectAll().orderBy('id').execute();
    return {
      projects: await count('projects'),
      keys: await count('api_keys'),
      contacts: await count('contacts'),
      history: await count('consent_history'),
      events: await count('events'),
      heads,
      projectRows: projects,
      contactRows: contacts,
    };
  }

  /** Sends a request that must fail with problem+json and leave the database as it was. */
  async function expectProblem(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    url: string,
    body: unknown,
    status: number,
    options: { key?: string | null; field?: string } = {},
  ) {
    const before = await snapshot();
    const res = await get().api<{ type: string; title: string; status: number; detail: string; errors?: { field: string }[] }>(
      method,
      url,
      body,
      options.key === undefined ? ADMIN_KEY : options.key,
    );
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(status);
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect(res.body.status).toBe(status);
    expect(res.body.type).toMatch(/^https?:\/\//);
    expect(typeof res.body.title).toBe('string');
    if (options.field) expect(res.body.errors?.map((e) => e.field)).toContain(options.field);
    expect(await snapshot()).toEqual(before);
    return res.body;
  }

  const merge = (pid: string, records: unknown[], key?: string) =>
    get().api<MergeResponse>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records }, key);
  const card = async (pid: string, cid: string) => {
    const res = await get().api<ContactCard>('GET', `/api/v1/projects/${pid}/contacts/${cid}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const putConsent = (pid: string, cid: string, body: unknown) =>
    get().api<ContactCard & { consent: string }>('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, body);
  const history = async (pid: string, cid: string) => {
    const res = await get().api<HistoryEntry[]>('GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const issueKey = async (pid: string) => {
    const res = await get().api<{ id: string; key: string }>('POST', `/api/v1/projects/${pid}/keys`, { name: 'ci' });
    expect(res.status).toBe(201);
    return res.body;
  };

  return { snapshot, expectProblem, merge, card, putConsent, history, issueKey };
}
