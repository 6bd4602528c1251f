// The web snippet runs on other people's sites and its page views are public input: it must stay tiny and
// storage-free, and a page view may name a contact only through a signed token of a tracked contact, never under GPC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { SNIPPET_TOKEN_PARAM } from '../../src/http/track/snippet.routes.js';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { sendAndReadClicks } from '../helpers/outbox-clicks.js';

const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

for (const dialect of dialects()) {
  describe(`web snippet (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let other: string;
    const ids: Record<string, number> = {};
    /** The `{{trackingToken}}` each recipient's click carried to the site (none for an anonymous click). */
    const tokens: Record<string, string | null> = {};

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true } });
      other = await createProject(t, { tracking: { enabled: true } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'tracked@example.com', hasTrackingConsent: 1 },
          { email: 'refused@example.com', hasTrackingConsent: 0 },
        ],
      });
      ids.tracked = Number(merged.body.results[0]!.contactId);
      ids.refused = Number(merged.body.results[1]!.contactId);
      const rule = { name: 'site visits', domains: ['shop.example.com'], params: [{ name: SNIPPET_TOKEN_PARAM, value: '{{trackingToken}}' }, { name: 'utm_source', value: 'mail' }], onlyTrackedContacts: false };
      expect((await t.api('POST', `/api/v1/projects/${pid}/injection-rules`, rule)).status).toBe(201);
      const clicks = await sendAndReadClicks(t, pid, '<a href="https://shop.example.com/landing?x=1">shop</a>');
      for (const [email, path] of Object.entries(clicks)) {
        const res = await t.app.inject({ method: 'GET', url: path, headers: { 'user-agent': BROWSER_UA } });
        expect(res.statusCode).toBe(302);
        tokens[email] = new URL(String(res.headers.location)).searchParams.get(SNIPPET_TOKEN_PARAM);
      }
    });
    afterAll(async () => t?.close());

    /** Newest first; after a flush, since a page view acknowledged from the hit journal under load commits later. */
    const webEvents = async (projectId: string) => {
      await t.ctx.events.flush();
      return t.ctx.store.db.selectFrom('events').selectAll().where('project_id', '=', Number(projectId)).where('type', '=', 'web').orderBy('id', 'desc').execute();
    };
    const pageView = (body: unknown, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url: '/t/w', headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example.com', 'user-agent': BROWSER_UA, ...headers }, payload: JSON.stringify(body) });

    it('serves w.js: under 2 KB, JavaScript, cacheable, loadable cross-origin, no cookie and no browser storage', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/t/w.js' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(res.rawPayload.length).toBeLessThan(2048);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
      expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
      expect(res.body).not.toMatch(/cookie|localStorage|sessionStorage|indexedDB/i);
      expect(res.body).toContain('globalPrivacyControl');
      // The same bytes whatever the request says.
      const again = await t.app.inject({ method: 'GET', url: '/t/w.js?project=1&x=<script>', headers: { cookie: 'a=b' } });
      expect(again.body).toBe(res.body);
    });

    it('the click of a tracked contact carries its tracking token to the site; an anonymous click carries none', () => {
      expect(tokens['tracked@example.com']).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(tokens['refused@example.com']).toBeNull();
    });

    it('answers a preflight and every page view with CORS headers, no cookie', async () => {
      const preflight = await t.app.inject({ method: 'OPTIONS', url: '/t/w', headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
      expect(preflight.headers['access-control-allow-methods']).toContain('POST');
      const res = await pageView({ projectId: Number(pid), url: 'https://shop.example.com/' });
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it("a page view with a tracked contact's token is identified, with its full URL", async () => {
      const res = await pageView({ projectId: Number(pid), url: 'https://shop.example.com/landing?x=1&utm_source=mail', token: tokens['tracked@example.com'] });
      expect(res.statusCode).toBe(204);
      const [row] = await webEvents(pid);
      expect(row).toMatchObject({ contact_id: ids.tracked, web_type: 'page_view', url: 'https://shop.example.com/landing?x=1&utm_source=mail', channel: 'web', ip: null, user_agent: null });
    });

    it('a page view without a token is anonymous: no contact, no query, time to the minute', async () => {
      expect((await pageView({ projectId: Number(pid), url: 'https://shop.example.com/pricing?email=a@b.c' })).statusCode).toBe(204);
      const [row] = await webEvents(pid);
      expect(row).toMatchObject({ contact_id: null, url: 'https://shop.example.com/pricing', ip: null, user_agent: null, nonce: null });
      expect(Number(row!.at) % 60_000).toBe(0);
    });

    it('Sec-GPC: 1 makes even a tracked contact’s page view anonymous; with honorGpc off the token identifies it', async () => {
      await pageView({ projectId: Number(pid), url: 'https://shop.example.com/gpc', token: tokens['tracked@example.com'] }, { 'sec-gpc': '1' });
      expect((await webEvents(pid))[0]).toMatchObject({ contact_id: null, url: 'https://shop.example.com/gpc' });
      expect((await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { honorGpc: false } })).status).toBe(200);
      try {
        await pageView({ projectId: Number(pid), url: 'https://shop.example.com/gpc-off', token: tokens['tracked@example.com'] }, { 'sec-gpc': '1' });
        expect((await webEvents(pid))[0]).toMatchObject({ contact_id: ids.tracked, url: 'https://shop.example.com/gpc-off' });
      } finally {
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { honorGpc: true } });
      }
    });

    it('a forged or altered token, or a token of another project, gives an anonymous page view', async () => {
      const good = tokens['tracked@example.com']!;
      const altered = `${good.slice(0, -2)}${good.endsWith('AA') ? 'BB' : 'AA'}`;
      for (const token of [altered, 'not-a-token', good.slice(0, 10)]) {
        expect((await pageView({ projectId: Number(pid), url: 'https://shop.example.com/forged', token })).statusCode).toBe(204);
        expect((await webEvents(pid))[0]).toMatchObject({ contact_id: null });
      }
      expect((await pageView({ projectId: Number(other), url: 'https://other.example/', token: good })).statusCode).toBe(204);
      expect((await webEvents(other))[0]).toMatchObject({ contact_id: null });
    });

    it('a contact who withdrew since the click is recorded anonymously (consent at the moment of the visit)', async () => {
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${ids.tracked}/tracking-consent`, { consent: false });
      try {
        await pageView({ projectId: Number(pid), url: 'https://shop.example.com/after-refusal', token: tokens['tracked@example.com'] });
        expect((await webEvents(pid))[0]).toMatchObject({ contact_id: null, url: 'https://shop.example.com/after-refusal' });
      } finally {
        await t.api('PUT', `/api/v1/projects/${pid}/contacts/${ids.tracked}/tracking-consent`, { consent: true });
      }
    });

    it('refuses an unknown project, a bad body and extra fields', async () => {
      expect((await pageView({ projectId: 999_999, url: 'https://x.example/' })).statusCode).toBe(404);
      expect((await pageView({ url: 'https://x.example/' })).statusCode).toBe(400);
      expect((await pageView({ projectId: Number(pid), email: 'tracked@example.com' })).statusCode).toBe(400);
      const malformed = await t.app.inject({ method: 'POST', url: '/t/w', headers: { 'content-type': 'text/plain' }, payload: '{not json' });
      expect(malformed.statusCode).toBe(400);
    });

    it('too many page views from one address get a 429 and are not recorded; another address is not affected', async () => {
      const limited = await buildApp(t.ctx, { logger: false, pageViewRateLimit: { max: 2, windowMs: 60_000 } });
      try {
        const before = (await webEvents(pid)).length;
        const post = (remoteAddress: string) =>
          limited.inject({ method: 'POST', url: '/t/w', remoteAddress, headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ projectId: Number(pid), url: 'https://shop.example.com/flood' }) });
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push((await post('198.51.100.9')).statusCode);
        expect(statuses).toEqual([204, 204, 429, 429]);
        expect((await post('198.51.100.10')).statusCode).toBe(204);
        expect((await webEvents(pid)).length).toBe(before + 3);
      } finally {
        await limited.close();
      }
    });

    it('Sec-GPC: 1 on POST …/events records the event anonymously whatever the consent', async () => {
      const plain = await t.api<{ identified: boolean }>('POST', `/api/v1/projects/${pid}/events`, { email: 'tracked@example.com', type: 'page_view', url: 'https://shop.example.com/api' });
      expect(plain.body.identified).toBe(true);
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/events`,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'sec-gpc': '1' },
        payload: { email: 'tracked@example.com', type: 'page_view', url: 'https://shop.example.com/api-gpc?q=1' },
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ recorded: true, identified: false });
      expect((await webEvents(pid))[0]).toMatchObject({ contact_id: null, url: 'https://shop.example.com/api-gpc' });
    });
  });
}
