// Injection rules fill contact values only for identified (tracked) clicks, and
// web events are linked to a contact only while that contact is tracked.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`injection rules and web events (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    const ids: Record<string, string> = {};
    const clickPaths: Record<string, string> = {};

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'tracked@example.com', hasTrackingConsent: 1, fields: { tier: 'gold' } },
          { email: 'refused@example.com', hasTrackingConsent: 0, fields: { tier: 'gold' } },
        ],
      });
      const [tracked, refused] = merged.body.results.map((r) => r.contactId);
      Object.assign(ids, { tracked, refused });
      const rules = [
        { name: 'utm everywhere', domains: ['example.com'], params: [{ name: 'utm_source', value: 'newsletter' }, { name: 'utm_campaign', value: '{{message.name}}' }, { name: 'cid', value: '{{contact.id}}' }], autoApply: true, onlyTrackedContacts: false },
        { name: 'tier for tracked only', domains: ['example.com'], params: [{ name: 'tier', value: '{{contact.fields.tier}}' }, { name: 'src', value: 'tg' }], autoApply: true, onlyTrackedContacts: true },
        { name: 'other domain', domains: ['elsewhere.org'], params: [{ name: 'x', value: '1' }], autoApply: true, onlyTrackedContacts: false },
      ];
      for (const rule of rules) expect((await t.api('POST', `/api/v1/projects/${pid}/injection-rules`, rule)).status).toBe(201);
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, {
        channel: 'email', name: 'Spring sale', communicationType: 'newsletter', subject: 'S', html: '<a href="https://shop.example.com/p?ref=mail&utm_source=old#reviews">p</a>',
      });
      const sending = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { all: true } });
      while (await t.ctx.jobs.runOnce()) {
        // drain
      }
      const dir = join(t.config.dataDir, 'outbox', sending.body.id);
      for (const file of readdirSync(dir)) {
        const eml = readFileSync(join(dir, file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        const to = /^To: (.+)$/m.exec(eml)?.[1]?.trim() ?? '';
        clickPaths[to] = /\/t\/c\/[A-Za-z0-9_-]+/.exec(eml)?.[0] ?? '';
      }
    });
    afterAll(async () => t?.close());

    async function follow(path: string): Promise<URL> {
      const res = await t.app.inject({ method: 'GET', url: path, headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15' } });
      expect(res.statusCode).toBe(302);
      return new URL(String(res.headers.location));
    }

    it('fills contact values for a tracked click, keeps the query and fragment, and replaces a same-named parameter', async () => {
      const url = await follow(clickPaths['tracked@example.com']!);
      expect(url.origin + url.pathname).toBe('https://shop.example.com/p');
      expect(url.hash).toBe('#reviews');
      expect(url.searchParams.get('ref')).toBe('mail');
      expect(url.searchParams.getAll('utm_source')).toEqual(['newsletter']);
      expect(url.searchParams.get('utm_campaign')).toBe('Spring sale');
      expect(url.searchParams.get('cid')).toBe(ids.tracked);
      expect(url.searchParams.get('tier')).toBe('gold');
      expect(url.searchParams.get('x')).toBeNull();
    });

    it('never fills contact values for an anonymous click, and skips tracked-only rules', async () => {
      const url = await follow(clickPaths['refused@example.com']!);
      expect(url.searchParams.get('utm_source')).toBe('newsletter');
      expect(url.searchParams.get('cid')).toBeNull();
      expect(url.searchParams.get('tier')).toBeNull();
      expect(url.searchParams.get('src')).toBeNull();
    });

    it('treats a click as anonymous once the contact withdraws, whatever the rule says', async () => {
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${ids.tracked}/tracking-consent`, { consent: false });
      const url = await follow(clickPaths['tracked@example.com']!);
      expect(url.searchParams.get('cid')).toBeNull();
      expect(url.searchParams.get('tier')).toBeNull();
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${ids.tracked}/tracking-consent`, { consent: true });
    });

    it('validates injection rules with field-level errors', async () => {
      const res = await t.api<{ errors: { field: string }[] }>('POST', `/api/v1/projects/${pid}/injection-rules`, { name: 'bad', domains: ['example.com'], params: [{ name: 'x', value: '{{contact.password}}' }] });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]?.field).toMatch(/params/);
      const list = await t.api<{ items: unknown[] }>('GET', `/api/v1/projects/${pid}/injection-rules`);
      expect(list.body.items).toHaveLength(3);
    });

    it('links a web event to a tracked contact and records an untracked one anonymously, URL query dropped', async () => {
      const a = await t.api<{ identified: boolean }>('POST', `/api/v1/projects/${pid}/events`, { email: 'TRACKED@example.com', type: 'page_view', url: 'https://example.com/pricing?email=tracked@example.com' });
      expect(a.status).toBe(202);
      expect(a.body.identified).toBe(true);
      const b = await t.api<{ identified: boolean }>('POST', `/api/v1/projects/${pid}/events`, { email: 'refused@example.com', type: 'signup_started', url: 'https://example.com/pricing?email=refused@example.com' });
      expect(b.body.identified).toBe(false);
      const rows = await t.ctx.store.db.selectFrom('events').selectAll().where('project_id', '=', Number(pid)).where('type', '=', 'web').orderBy('id').execute();
      expect(rows).toHaveLength(2);
      expect(String(rows[0]!.contact_id)).toBe(ids.tracked);
      expect(rows[1]).toMatchObject({ contact_id: null, ip: null, user_agent: null, url: 'https://example.com/pricing', name: 'signup_started' });
      expect(rows[1]!.at % 60_000).toBe(0);
    });

    it('rejects a web event for an unknown contact, a future date or a missing key', async () => {
      expect((await t.api('POST', `/api/v1/projects/${pid}/events`, { email: 'nobody@example.com', type: 'web' })).status).toBe(404);
      expect((await t.api('POST', `/api/v1/projects/${pid}/events`, { email: 'tracked@example.com', type: 'web', at: '2999-01-01T00:00:00Z' })).status).toBe(400);
      expect((await t.api('POST', `/api/v1/projects/${pid}/events`, { type: 'web' })).status).toBe(400);
    });
  });
}
