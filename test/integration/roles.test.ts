// Roles are enforced by the API itself (SPEC §13): the app only hides what the API would refuse, so
// every refusal here must come from the server, and a viewer must be refused on every mutation the OpenAPI document lists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { asUser, createUser, type Session, signIn } from '../helpers/session.js';

const MUTATIONS = ['post', 'put', 'patch', 'delete'] as const;
// Routes every signed-in user may call for themselves, and computations posted as a body (previews, live counts).
const OWN_OR_READ = new Set([
  'PATCH /api/v1/users/me',
  'DELETE /api/v1/sessions/current',
  'POST /api/v1/sessions',
  'POST /api/v1/projects/{pid}/messages/{mid}/preview',
  'POST /api/v1/projects/{pid}/messages/preview',
  'POST /api/v1/projects/{pid}/messages/{mid}/recipients',
  'POST /api/v1/projects/{pid}/groups/count',
  'POST /api/v1/projects/{pid}/injection-rules/example',
  'POST /api/v1/projects/{pid}/forms/preview',
]);

for (const dialect of dialects()) {
  describe(`roles (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let cid: string;
    const sessions: Record<string, Session> = {};

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'ana@example.com' }, { email: 'bo@example.com' }] });
      cid = merged.body.results[0]!.contactId;
      for (const role of ['owner', 'marketer', 'privacy', 'viewer']) {
        await createUser(t, { email: `${role}@example.com`, password: `${role}-password`, role, projects: [pid] });
        sessions[role] = await signIn(t, `${role}@example.com`, `${role}-password`);
      }
    });
    afterAll(() => t.close());

    const call = (role: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) => asUser<{ code?: string }>(t, sessions[role]!, method, url, body);

    it('a viewer is refused with 403 problem+json on every mutation of the OpenAPI document, before its body is even read', async () => {
      const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
      let checked = 0;
      for (const [path, operations] of Object.entries(doc.paths)) {
        if (!path.startsWith('/api/v1/')) continue;
        for (const method of MUTATIONS) {
          if (!operations[method]) continue;
          const key = `${method.toUpperCase()} ${path}`;
          if (OWN_OR_READ.has(key)) continue;
          const url = path.replace('{pid}', pid).replace(/\{[a-z]+\}/g, '1');
          const res = await asUser<{ code?: string }>(t, sessions.viewer!, method.toUpperCase() as 'POST', url, {});
          expect({ key, status: res.status }).toEqual({ key, status: 403 });
          expect(String(res.headers['content-type'])).toContain('application/problem+json');
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThan(30);
      // Reading stays open to a viewer.
      expect((await call('viewer', 'GET', `/api/v1/projects/${pid}/contacts`)).status).toBe(200);
      expect((await call('viewer', 'GET', `/api/v1/projects/${pid}/contacts/${cid}`)).status).toBe(200);
      expect((await call('viewer', 'GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`)).status).toBe(200);
    });

    it('tracking settings, the audit log, access export and erasure are for owner and privacy only', async () => {
      for (const role of ['marketer', 'viewer']) {
        expect((await call(role, 'PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-in' } })).status).toBe(403);
        expect((await call(role, 'GET', `/api/v1/projects/${pid}/audit-log`)).status).toBe(403);
        expect((await call(role, 'GET', `/api/v1/projects/${pid}/contacts/${cid}/export`)).status).toBe(403);
        expect((await call(role, 'DELETE', `/api/v1/projects/${pid}/contacts/${cid}`)).status).toBe(403);
        expect((await call(role, 'POST', `/api/v1/projects/${pid}/ledger/verify`)).status).toBe(403);
      }
      expect((await t.api<{ tracking: { mode: string } }>('GET', `/api/v1/projects/${pid}`)).body.tracking.mode).toBe('opt-out');
      for (const role of ['owner', 'privacy']) {
        expect((await call(role, 'PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: role === 'owner' ? 'opt-in' : 'opt-out' } })).status).toBe(200);
        expect((await call(role, 'GET', `/api/v1/projects/${pid}/audit-log`)).status).toBe(200);
        expect((await call(role, 'GET', `/api/v1/projects/${pid}/contacts/${cid}/export`)).status).toBe(200);
        const verified = await call(role, 'POST', `/api/v1/projects/${pid}/ledger/verify`);
        expect(verified.status).toBe(200);
        expect(verified.body).toMatchObject({ ok: true, entries: expect.any(Number) });
      }
      const bo = (await t.api<{ items: { id: string; email: string }[] }>('GET', `/api/v1/projects/${pid}/contacts`)).body.items.find((c) => c.email === 'bo@example.com')!;
      expect((await call('privacy', 'DELETE', `/api/v1/projects/${pid}/contacts/${bo.id}`)).status).toBe(200);
    });

    it('privacy changes consent but sends nothing: messages, sendings and campaigns are refused', async () => {
      expect((await call('privacy', 'PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: false })).status).toBe(200);
      expect((await call('privacy', 'POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'm', communicationType: 'marketing', subject: 's', html: '<p>x</p>' })).status).toBe(403);
      expect((await call('privacy', 'POST', `/api/v1/projects/${pid}/sendings`, { messageId: '1', target: { all: true } })).status).toBe(403);
      expect((await call('privacy', 'POST', `/api/v1/projects/${pid}/campaigns`, {})).status).toBe(403);
      expect((await call('privacy', 'POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'new@example.com' }] })).status).toBe(403);
    });

    it('a marketer works contacts and messages, and a consent change they make is recorded as admin:<email>', async () => {
      expect((await call('marketer', 'POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'cy@example.com', hasTrackingConsent: true }] })).status).toBe(200);
      const message = await call('marketer', 'POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'm', communicationType: 'marketing', subject: 's', html: '<p>x</p>' });
      expect(message.status).toBe(201);
      expect((await call('marketer', 'PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: true })).status).toBe(200);
      const history = await t.api<{ source: string }[]>('GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`);
      expect(history.body.at(-1)?.source).toBe('admin:marketer@example.com');
    });

    it('only owners manage users and keys', async () => {
      for (const role of ['marketer', 'privacy', 'viewer']) {
        expect((await call(role, 'GET', '/api/v1/users')).status).toBe(403);
        expect((await call(role, 'POST', '/api/v1/users', { email: `x-${role}@example.com`, role: 'owner' })).status).toBe(403);
        expect((await call(role, 'POST', `/api/v1/projects/${pid}/keys`)).status).toBe(403);
        expect((await call(role, 'GET', `/api/v1/projects/${pid}/keys`)).status).toBe(403);
        expect((await call(role, 'POST', '/api/v1/projects', { name: 'mine' })).status).toBe(403);
      }
      expect((await call('owner', 'POST', `/api/v1/projects/${pid}/keys`, { name: 'from owner' })).status).toBe(201);
      expect((await call('owner', 'POST', '/api/v1/users', { email: 'new-user@example.com', role: 'viewer', projects: [pid] })).status).toBe(201);
    });

    it('a role change applies to the very next request of an open session', async () => {
      const viewer = (await t.api<{ items: { id: string; email: string }[] }>('GET', '/api/v1/users')).body.items.find((u) => u.email === 'viewer@example.com')!;
      const url = `/api/v1/projects/${pid}/contacts/merge`;
      expect((await call('viewer', 'POST', url, { records: [{ email: 'dee@example.com' }] })).status).toBe(403);
      expect((await t.api('PATCH', `/api/v1/users/${viewer.id}`, { role: 'marketer' })).status).toBe(200);
      expect((await call('viewer', 'POST', url, { records: [{ email: 'dee@example.com' }] })).status).toBe(200);
      expect((await t.api('PATCH', `/api/v1/users/${viewer.id}`, { role: 'viewer', projects: [] })).status).toBe(200);
      expect((await call('viewer', 'GET', `/api/v1/projects/${pid}`)).status).toBe(404);
    });
  });
}
