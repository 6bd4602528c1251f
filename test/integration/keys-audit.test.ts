// Key scopes, revocation and the audit log (SPEC §13, §15): a revoked key must stop at once (never cached), a key
// without `admin` must not change the module, the mode or keys, and every mutation — refusals included — must be on record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { asUser, createUser, signIn } from '../helpers/session.js';

interface KeyView {
  id: string;
  key: string;
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
}
interface AuditPage {
  items: { id: string; at: string; actor: string; action: string; object: string; outcome: string; status: number; detail?: string }[];
  nextCursor: string | null;
}

for (const dialect of dialects()) {
  describe(`keys and the audit log (${dialect})`, () => {
    let t: TestApp;
    let now = Date.UTC(2026, 5, 1, 9);
    let pid: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => now);
      pid = await createProject(t);
    });
    afterAll(() => t.close());

    const issue = async (body?: unknown) => {
      const res = await t.api<KeyView>('POST', `/api/v1/projects/${pid}/keys`, body);
      expect(res.status).toBe(201);
      return res.body;
    };

    it('POST …/keys needs no body; a key issued without scopes gets read, write and consent', async () => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/projects/${pid}/keys`, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ name: 'default', scopes: ['read', 'write', 'consent'], key: expect.stringMatching(/^tgk_/) });
      expect((await t.api('POST', `/api/v1/projects/${pid}/keys`, { scopes: ['root'] })).status).toBe(400);
    });

    it('a key without the admin scope cannot change the module, the mode or keys; with it, it can', async () => {
      const plain = await issue({ name: 'plain' });
      const admin = await issue({ name: 'admin', scopes: ['read', 'admin'] });
      expect((await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true } }, plain.key)).status).toBe(403);
      expect((await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-in' } }, plain.key)).status).toBe(403);
      expect((await t.api('POST', `/api/v1/projects/${pid}/keys`, {}, plain.key)).status).toBe(403);
      expect((await t.api('GET', `/api/v1/projects/${pid}/keys`, undefined, plain.key)).status).toBe(403);
      expect((await t.api('DELETE', `/api/v1/projects/${pid}/keys/${admin.id}`, undefined, plain.key)).status).toBe(403);
      expect((await t.api<{ tracking: { enabled: boolean } }>('GET', `/api/v1/projects/${pid}`)).body.tracking.enabled).toBe(false);
      expect((await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true, mode: 'opt-in' } }, admin.key)).status).toBe(200);
      expect((await t.api('POST', `/api/v1/projects/${pid}/keys`, { name: 'child' }, admin.key)).status).toBe(201);
      // An admin-scoped project key still reaches only its own project and no installation-wide action.
      expect((await t.api('POST', '/api/v1/projects', { name: 'x' }, admin.key)).status).toBe(403);
      expect((await t.api('GET', '/api/v1/users', undefined, admin.key)).status).toBe(403);
    });

    it('each scope opens only its own actions: read reads, write changes, consent changes consent', async () => {
      const read = await issue({ scopes: ['read'] });
      const write = await issue({ scopes: ['read', 'write'] });
      const contacts = `/api/v1/projects/${pid}/contacts`;
      expect((await t.api('GET', contacts, undefined, read.key)).status).toBe(200);
      expect((await t.api('POST', `${contacts}/merge`, { records: [{ email: 'r@example.com' }] }, read.key)).status).toBe(403);
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `${contacts}/merge`, { records: [{ email: 'w@example.com' }] }, write.key);
      expect(merged.status).toBe(200);
      const cid = merged.body.results[0]!.contactId;
      expect((await t.api('PUT', `${contacts}/${cid}/tracking-consent`, { consent: true }, write.key)).status).toBe(403);
      // A batch carrying consent values is a consent change too.
      expect((await t.api('POST', `${contacts}/merge`, { records: [{ email: 'w@example.com', hasTrackingConsent: true }] }, write.key)).status).toBe(403);
      expect((await t.api<{ hasTrackingConsent: boolean | null }>('GET', `${contacts}/${cid}`)).body.hasTrackingConsent).toBeNull();
      const consent = await issue({ scopes: ['consent'] });
      expect((await t.api('PUT', `${contacts}/${cid}/tracking-consent`, { consent: true }, consent.key)).status).toBe(200);
      expect((await t.api('GET', contacts, undefined, consent.key)).status).toBe(403);
    });

    it('keys are listed with name, scopes, created and last used, never the secret; a revoked key is refused at once', async () => {
      const key = await issue({ name: 'ci', scopes: ['read', 'write'] });
      now += 5000;
      expect((await t.api('GET', `/api/v1/projects/${pid}`, undefined, key.key)).status).toBe(200);
      const list = await t.api<{ items: Omit<KeyView, 'key'>[] }>('GET', `/api/v1/projects/${pid}/keys`);
      expect(list.status).toBe(200);
      const listed = list.body.items.find((k) => k.id === key.id)!;
      expect(listed).toEqual({ id: key.id, projectId: pid, name: 'ci', scopes: ['read', 'write'], createdAt: key.createdAt, lastUsedAt: new Date(now).toISOString() });
      // The secret part is everything after tgk_<id>_ (it may itself hold underscores).
      expect(JSON.stringify(list.body)).not.toContain(key.key.slice(key.key.indexOf('_', 4) + 1));

      expect((await t.api('DELETE', `/api/v1/projects/${pid}/keys/${key.id}`)).status).toBe(204);
      expect((await t.api('GET', `/api/v1/projects/${pid}`, undefined, key.key)).status).toBe(401);
      expect((await t.api('DELETE', `/api/v1/projects/${pid}/keys/${key.id}`)).status).toBe(404);
      const after = await t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/keys`);
      expect(after.body.items.map((k) => k.id)).not.toContain(key.id);
    });

    it('TRACKGUARD_ADMIN_KEY may list several keys, all accepted, so the admin key rotates without downtime', async () => {
      await t.ctx.projects.ensureAdminKey(`new-admin-key, ${ADMIN_KEY}`);
      expect((await t.api('GET', '/api/v1/projects', undefined, 'new-admin-key')).status).toBe(200);
      expect((await t.api('GET', '/api/v1/projects')).status).toBe(200);
      await t.ctx.projects.ensureAdminKey('new-admin-key');
      expect((await t.api('GET', '/api/v1/projects')).status).toBe(401);
      await t.ctx.projects.ensureAdminKey(ADMIN_KEY);
    });

    it('every mutation by a user, a key or the admin key is on record, refusals included, newest first; reads are not', async () => {
      const own = await createProject(t);
      const key = await t.api<KeyView>('POST', `/api/v1/projects/${own}/keys`, { name: 'k' });
      await createUser(t, { email: 'auditor@example.com', password: 'auditor-password', role: 'privacy', projects: [own] });
      await createUser(t, { email: 'watcher@example.com', password: 'watcher-password', role: 'viewer', projects: [own] });
      const privacy = await signIn(t, 'auditor@example.com', 'auditor-password');
      const viewer = await signIn(t, 'watcher@example.com', 'watcher-password');

      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${own}/contacts/merge`, { records: [{ email: 'zoe@example.com' }] }, key.body.key);
      const cid = merged.body.results[0]!.contactId;
      expect((await asUser(t, privacy, 'PUT', `/api/v1/projects/${own}/contacts/${cid}/tracking-consent`, { consent: false })).status).toBe(200);
      expect((await asUser(t, viewer, 'PUT', `/api/v1/projects/${own}/contacts/${cid}/tracking-consent`, { consent: true })).status).toBe(403);
      expect((await t.api('PATCH', `/api/v1/projects/${own}`, { tracking: { enabled: true } }, key.body.key)).status).toBe(403);
      await t.api('GET', `/api/v1/projects/${own}/contacts`, undefined, key.body.key);
      expect((await t.api('PATCH', `/api/v1/projects/${own}`, { tracking: { enabled: true, mode: 'opt-in' } })).status).toBe(200);

      const log = await asUser<AuditPage>(t, privacy, 'GET', `/api/v1/projects/${own}/audit-log`);
      expect(log.status).toBe(200);
      const rows = log.body.items.map(({ actor, action, object, outcome }) => ({ actor, action, object, outcome }));
      expect(rows).toEqual([
        { actor: 'admin', action: 'projects.update', object: `projects/${own}`, outcome: 'ok' },
        { actor: `key:${key.body.id}`, action: 'projects.update', object: `projects/${own}`, outcome: 'refused' },
        { actor: 'user:watcher@example.com', action: 'contacts.tracking-consent', object: `projects/${own}/contacts/${cid}/tracking-consent`, outcome: 'refused' },
        { actor: 'user:auditor@example.com', action: 'contacts.tracking-consent', object: `projects/${own}/contacts/${cid}/tracking-consent`, outcome: 'ok' },
        { actor: `key:${key.body.id}`, action: 'contacts.merge', object: `projects/${own}/contacts/merge`, outcome: 'ok' },
        { actor: 'admin', action: 'keys.create', object: `projects/${own}/keys/${key.body.id}`, outcome: 'ok' },
      ]);
      // A change of mode or module state says what changed.
      expect(log.body.items[0]?.detail).toContain('tracking.enabled: false → true');
      expect(log.body.items[0]?.detail).toContain('tracking.mode: "opt-out" → "opt-in"');
      // No contact's email or data in the log: ids and actors only.
      expect(JSON.stringify(log.body)).not.toContain('zoe@example.com');
      for (const item of log.body.items) expect(Date.parse(item.at)).not.toBeNaN();
    });

    it('the audit log pages with a cursor and filters by actor, action and time', async () => {
      const own = await createProject(t);
      const start = now;
      for (let i = 0; i < 7; i += 1) {
        now += 60_000;
        await t.api('POST', `/api/v1/projects/${own}/contacts/merge`, { records: [{ email: `p${i}@example.com` }] });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { body: AuditPage } = await t.api<AuditPage>('GET', `/api/v1/projects/${own}/audit-log?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.body.items.map((i) => i.id));
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(7);
      expect([...seen].sort((a, b) => Number(b) - Number(a))).toEqual(seen);

      const merges = await t.api<AuditPage>('GET', `/api/v1/projects/${own}/audit-log?action=contacts.merge&actor=admin`);
      expect(merges.body.items).toHaveLength(7);
      expect((await t.api<AuditPage>('GET', `/api/v1/projects/${own}/audit-log?actor=key:999`)).body.items).toHaveLength(0);
      const since = new Date(start + 3 * 60_000).toISOString();
      const until = new Date(start + 5 * 60_000).toISOString();
      const window = await t.api<AuditPage>('GET', `/api/v1/projects/${own}/audit-log?since=${since}&until=${until}`);
      expect(window.body.items).toHaveLength(2);
      expect((await t.api('GET', `/api/v1/projects/${own}/audit-log?since=yesterday`)).status).toBe(400);
    });

    it('an access export is on record too, although it is a read', async () => {
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'exported@example.com' }] });
      const cid = merged.body.results[0]!.contactId;
      expect((await t.api('GET', `/api/v1/projects/${pid}/contacts/${cid}/export`)).status).toBe(200);
      const log = await t.api<AuditPage>('GET', `/api/v1/projects/${pid}/audit-log?action=contacts.export`);
      expect(log.body.items[0]).toMatchObject({ actor: 'admin', object: `projects/${pid}/contacts/${cid}/export`, outcome: 'ok' });
    });
  });
}
