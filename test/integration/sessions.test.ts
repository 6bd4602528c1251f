// Users and sessions of the admin app (SPEC §13): a stolen database or a cross-site page must not
// sign anyone in, a signed-out or expired session must stop working on the server, and users' consent changes are attributed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { asUser, createUser, signIn } from '../helpers/session.js';

const HOUR = 3600_000;

for (const dialect of dialects()) {
  describe(`users and sessions (${dialect})`, () => {
    let t: TestApp;
    let now = Date.UTC(2026, 5, 1, 9);
    let pid: string;
    let other: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => now);
      pid = await createProject(t);
      other = await createProject(t);
    });
    afterAll(() => t.close());

    it('users are created, listed, read, changed and removed through /api/v1/users; passwords are stored as Argon2id hashes only', async () => {
      const created = await t.api<{ id: string; email: string; role: string; projects: string[]; language: string | null; hasPassword: boolean }>('POST', '/api/v1/users', {
        email: ' Marie@Example.com ',
        name: 'Marie',
        password: 'correct horse battery',
        role: 'marketer',
        projects: [pid],
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ email: 'marie@example.com', role: 'marketer', projects: [pid], language: null, hasPassword: true });
      const id = created.body.id;
      const stored = await t.ctx.store.db.selectFrom('users').selectAll().where('id', '=', Number(id)).executeTakeFirstOrThrow();
      expect(stored.password_hash).toMatch(/^\$argon2id\$/);
      expect(JSON.stringify(stored)).not.toContain('correct horse battery');

      const list = await t.api<{ items: { id: string }[] }>('GET', '/api/v1/users');
      expect(list.body.items.map((u) => u.id)).toContain(id);
      expect((await t.api('GET', `/api/v1/users/${id}`)).status).toBe(200);

      const patched = await t.api<{ role: string; projects: string[]; language: string }>('PATCH', `/api/v1/users/${id}`, { role: 'privacy', projects: [pid, other], language: 'fr' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ role: 'privacy', projects: [pid, other], language: 'fr' });

      expect((await t.api('POST', '/api/v1/users', { email: 'marie@example.com', role: 'viewer' })).status).toBe(409);
      const unknownProject = await t.api<{ errors: { field: string }[] }>('POST', '/api/v1/users', { email: 'x@example.com', role: 'viewer', projects: ['999999'] });
      expect(unknownProject.status).toBe(400);
      expect(unknownProject.body.errors[0]?.field).toBe('projects.0');
      const badRole = await t.api<{ errors: { field: string }[] }>('POST', '/api/v1/users', { email: 'y@example.com', role: 'god' });
      expect(badRole.status).toBe(400);

      const session = await signIn(t, 'marie@example.com', 'correct horse battery');
      expect((await t.api('DELETE', `/api/v1/users/${id}`)).status).toBe(204);
      expect((await t.api('GET', `/api/v1/users/${id}`)).status).toBe(404);
      // Removing a user ends their sessions.
      expect((await asUser(t, session, 'GET', '/api/v1/sessions/current')).status).toBe(401);
    });

    it('an owner reaches every project; the last owner can be neither removed nor demoted', async () => {
      const id = await createUser(t, { email: 'boss@example.com', password: 'owner-password', role: 'owner' });
      const owner = await signIn(t, 'boss@example.com', 'owner-password');
      expect(owner.user.projects).toEqual(expect.arrayContaining([pid, other]));
      const projects = await asUser<{ items: { id: string }[] }>(t, owner, 'GET', '/api/v1/projects');
      expect(projects.body.items.map((p) => p.id)).toEqual(expect.arrayContaining([pid, other]));
      const users = await t.api<{ items: { id: string; role: string }[] }>('GET', '/api/v1/users');
      const owners = users.body.items.filter((u) => u.role === 'owner');
      if (owners.length === 1) {
        expect((await t.api('DELETE', `/api/v1/users/${id}`)).status).toBe(409);
        expect((await t.api('PATCH', `/api/v1/users/${id}`, { role: 'viewer' })).status).toBe(409);
      }
    });

    it('sign-in sets an HttpOnly, SameSite=Strict cookie on path / (Secure behind HTTPS) and answers the user and a CSRF token', async () => {
      await createUser(t, { email: 'cookie@example.com', password: 'cookie-password', role: 'viewer', projects: [pid] });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { email: 'cookie@example.com', password: 'cookie-password' } });
      expect(res.statusCode).toBe(201);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(/^tg_session=[A-Za-z0-9_-]{40,};/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');
      expect(cookie).toContain('Path=/');
      expect(cookie).not.toContain('Secure');
      const body = JSON.parse(res.body);
      expect(body.user).toEqual({ id: expect.any(String), email: 'cookie@example.com', name: null, role: 'viewer', projects: [pid], language: null });
      expect(body.csrfToken).toEqual(expect.any(String));
      // The session id is stored hashed: the cookie's value is nowhere in the database.
      const value = /tg_session=([^;]+)/.exec(cookie)![1]!;
      const rows = await t.ctx.store.db.selectFrom('sessions').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(value);

      const tls = await startTestApp(t.dialect, { trustProxy: true });
      try {
        await createUser(tls, { email: 'tls@example.com', password: 'tls-password', role: 'owner' });
        const secure = await tls.app.inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'x-forwarded-proto': 'https' }, payload: { email: 'tls@example.com', password: 'tls-password' } });
        expect(secure.statusCode).toBe(201);
        expect(String(secure.headers['set-cookie'])).toContain('Secure');
      } finally {
        await tls.close();
      }
    });

    it('the same 401 answers an unknown email and a wrong password; a foreign Origin cannot sign in', async () => {
      await createUser(t, { email: 'known@example.com', password: 'known-password', role: 'viewer' });
      const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { email: 'known@example.com', password: 'nope-nope' } });
      const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { email: 'nobody@example.com', password: 'nope-nope' } });
      expect(wrong.statusCode).toBe(401);
      expect(unknown.statusCode).toBe(401);
      expect(wrong.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(wrong.body).detail).toBe(JSON.parse(unknown.body).detail);
      expect(wrong.headers['set-cookie']).toBeUndefined();
      const foreign = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', headers: { origin: 'https://evil.example' }, payload: { email: 'known@example.com', password: 'known-password' } });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.headers['set-cookie']).toBeUndefined();
      const same = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', headers: { origin: 'http://localhost:80', host: 'localhost:80' }, payload: { email: 'known@example.com', password: 'known-password' } });
      expect(same.statusCode).toBe(201);
    });

    it('failed sign-ins are rate-limited per email: the sixth attempt within 15 minutes is a 429, even with the right password', async () => {
      await createUser(t, { email: 'target@example.com', password: 'target-password', role: 'viewer' });
      for (let i = 0; i < 5; i += 1) {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', remoteAddress: `203.0.113.${i + 1}`, payload: { email: 'target@example.com', password: `guess-${i}-guess` } });
        expect(res.statusCode).toBe(401);
      }
      const blocked = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { email: 'target@example.com', password: 'target-password' } });
      expect(blocked.statusCode).toBe(429);
      expect(blocked.headers['content-type']).toContain('application/problem+json');
      now += 16 * 60_000;
      await signIn(t, 'target@example.com', 'target-password');
    });

    it('failed sign-ins are rate-limited per address across emails', async () => {
      const address = '198.51.100.77';
      let last = 0;
      for (let i = 0; i < 21; i += 1) {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', remoteAddress: address, payload: { email: `spray${i}@example.com`, password: 'password1' } });
        last = res.statusCode;
        if (i < 20) expect(res.statusCode).toBe(401);
      }
      expect(last).toBe(429);
      now += 16 * 60_000;
    });

    it('GET /sessions/current answers the session; DELETE ends it on the server, so the old cookie no longer works', async () => {
      await createUser(t, { email: 'leave@example.com', password: 'leave-password', role: 'viewer', projects: [pid] });
      const session = await signIn(t, 'leave@example.com', 'leave-password');
      const current = await asUser<{ user: { email: string }; csrfToken: string }>(t, session, 'GET', '/api/v1/sessions/current');
      expect(current.status).toBe(200);
      expect(current.body.user.email).toBe('leave@example.com');
      expect(current.body.csrfToken).toBe(session.csrfToken);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/sessions/current' })).statusCode).toBe(401);

      const out = await asUser(t, session, 'DELETE', '/api/v1/sessions/current');
      expect(out.status).toBe(204);
      expect(String(out.headers['set-cookie'])).toContain('tg_session=;');
      // Replaying the old cookie (as a copied browser would) is refused everywhere.
      expect((await asUser(t, session, 'GET', '/api/v1/sessions/current')).status).toBe(401);
      expect((await asUser(t, session, 'GET', `/api/v1/projects/${pid}`)).status).toBe(401);
    });

    it('a session ends after 2 hours without use and 12 hours after sign-in however much it is used', async () => {
      await createUser(t, { email: 'clock@example.com', password: 'clock-password', role: 'viewer', projects: [pid] });
      const idle = await signIn(t, 'clock@example.com', 'clock-password');
      now += 2 * HOUR - 1000;
      expect((await asUser(t, idle, 'GET', `/api/v1/projects/${pid}`)).status).toBe(200);
      now += 2 * HOUR - 1000;
      expect((await asUser(t, idle, 'GET', `/api/v1/projects/${pid}`)).status).toBe(200);
      now += 2 * HOUR + 1000;
      expect((await asUser(t, idle, 'GET', `/api/v1/projects/${pid}`)).status).toBe(401);

      const busy = await signIn(t, 'clock@example.com', 'clock-password');
      for (let h = 1; h <= 11; h += 1) {
        now += HOUR;
        expect((await asUser(t, busy, 'GET', `/api/v1/projects/${pid}`)).status).toBe(200);
      }
      now += HOUR + 1000;
      expect((await asUser(t, busy, 'GET', `/api/v1/projects/${pid}`)).status).toBe(401);
    });

    it('a state-changing request made with the cookie needs the X-CSRF-Token of its own session (403 otherwise); keys need none', async () => {
      await createUser(t, { email: 'csrf@example.com', password: 'csrf-password', role: 'owner' });
      await createUser(t, { email: 'csrf2@example.com', password: 'csrf-password', role: 'owner' });
      const session = await signIn(t, 'csrf@example.com', 'csrf-password');
      const another = await signIn(t, 'csrf2@example.com', 'csrf-password');
      const body = { tracking: { enabled: true } };
      const missing = await asUser<{ code: string }>(t, session, 'PATCH', `/api/v1/projects/${pid}`, body, false);
      expect(missing.status).toBe(403);
      expect(missing.headers['content-type']).toContain('application/problem+json');
      expect((await asUser(t, session, 'PATCH', `/api/v1/projects/${pid}`, body, 'forged')).status).toBe(403);
      expect((await asUser(t, session, 'PATCH', `/api/v1/projects/${pid}`, body, another.csrfToken)).status).toBe(403);
      expect((await t.api<{ tracking: { enabled: boolean } }>('GET', `/api/v1/projects/${pid}`)).body.tracking.enabled).toBe(false);
      expect((await asUser(t, session, 'GET', `/api/v1/projects/${pid}`, undefined, false)).status).toBe(200);
      expect((await asUser(t, session, 'PATCH', `/api/v1/projects/${pid}`, body)).status).toBe(200);
      expect((await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: false } })).status).toBe(200);
    });

    it('a user changes their own language, name and password (the current password is required)', async () => {
      await createUser(t, { email: 'self@example.com', password: 'self-password', role: 'viewer', projects: [pid] });
      const session = await signIn(t, 'self@example.com', 'self-password');
      const lang = await asUser<{ language: string; name: string }>(t, session, 'PATCH', '/api/v1/users/me', { language: 'fr', name: 'Moi' });
      expect(lang.status).toBe(200);
      expect(lang.body).toMatchObject({ language: 'fr', name: 'Moi' });
      expect((await asUser<{ user: { language: string } }>(t, session, 'GET', '/api/v1/sessions/current')).body.user.language).toBe('fr');
      expect((await asUser(t, session, 'PATCH', '/api/v1/users/me', { language: 'de' })).status).toBe(400);
      expect((await asUser(t, session, 'PATCH', '/api/v1/users/me', { password: 'new-password-1' })).status).toBe(400);
      expect((await asUser(t, session, 'PATCH', '/api/v1/users/me', { password: 'new-password-1', currentPassword: 'wrong-one' })).status).toBe(400);
      expect((await asUser(t, session, 'PATCH', '/api/v1/users/me', { password: 'new-password-1', currentPassword: 'self-password' })).status).toBe(200);
      await signIn(t, 'self@example.com', 'new-password-1');
      // A viewer may change their own account but nobody else's.
      expect((await asUser(t, session, 'GET', '/api/v1/users')).status).toBe(403);
    });

    it('GET /projects lists only the projects the user reaches', async () => {
      await createUser(t, { email: 'one@example.com', password: 'one-password', role: 'marketer', projects: [other] });
      const session = await signIn(t, 'one@example.com', 'one-password');
      const list = await asUser<{ items: { id: string }[] }>(t, session, 'GET', '/api/v1/projects');
      expect(list.body.items.map((p) => p.id)).toEqual([other]);
      expect((await asUser(t, session, 'GET', `/api/v1/projects/${pid}`)).status).toBe(404);
      expect((await asUser(t, session, 'GET', `/api/v1/projects/${pid}/contacts`)).status).toBe(404);
    });

    it("a consent change made by a user is recorded with the source admin:<email>, whatever source the body names", async () => {
      await createUser(t, { email: 'officer@example.com', password: 'officer-password', role: 'privacy', projects: [pid] });
      const session = await signIn(t, 'officer@example.com', 'officer-password');
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'ana@example.com' }] });
      const cid = merged.body.results[0]!.contactId;
      const set = await asUser(t, session, 'PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: true, source: 'admin:someone-else@example.com' });
      expect(set.status).toBe(200);
      const history = await t.api<{ action: string; source: string }[]>('GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`);
      expect(history.body.at(-1)?.source).toBe('admin:officer@example.com');
    });

    it('the owner of TRACKGUARD_ADMIN_EMAIL/PASSWORD is ensured at start; without them the first start creates admin@localhost once', async () => {
      const fresh = await startTestApp(t.dialect);
      try {
        const first = await fresh.ctx.users.ensureOwner({});
        expect(first?.email).toBe('admin@localhost');
        expect(first?.password.length).toBeGreaterThanOrEqual(12);
        expect(await fresh.ctx.users.ensureOwner({})).toBeUndefined();
        await signIn(fresh, 'admin@localhost', first!.password);

        await fresh.ctx.users.ensureOwner({ email: 'Chief@Example.com', password: 'chief-password' });
        const chief = await signIn(fresh, 'chief@example.com', 'chief-password');
        expect(chief.user.role).toBe('owner');
        // A changed password in the environment wins at the next start.
        await fresh.ctx.users.ensureOwner({ email: 'chief@example.com', password: 'rotated-password' });
        await signIn(fresh, 'chief@example.com', 'rotated-password');
      } finally {
        await fresh.close();
      }
    });
  });
}
