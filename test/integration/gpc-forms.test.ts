// Global Privacy Control on hosted forms (SPEC §14): a form request with Sec-GPC: 1 must never be blocked and
// the person's choice must still apply (with its proof and receipt), but the form's own event is anonymous.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signContactLink } from '../../src/domain/signed-link.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const UA = 'Mozilla/5.0 (gpc forms test)';

for (const dialect of dialects()) {
  describe(`GPC on hosted forms (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
    });
    afterAll(async () => t?.close());

    async function newContact(email: string, hasTrackingConsent?: number): Promise<number> {
      const res = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email, hasTrackingConsent }] });
      return Number(res.body.results[0]!.contactId);
    }

    /** GET the page, POST its form with its CSRF token and `headers`, as a browser does. */
    async function submit(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
      const page = await t.app.inject({ method: 'GET', url, headers: { 'user-agent': UA, ...headers } });
      expect(page.statusCode).toBe(200);
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const action = /<form method="post" action="([^"]+)"/.exec(page.body)![1]!.replaceAll('&amp;', '&');
      return t.app.inject({ method: 'POST', url: action, headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA, ...headers }, payload: new URLSearchParams({ csrf, ...fields }).toString() });
    }

    const newestEvent = async (type: 'form_submit' | 'unsubscribe') =>
      t.ctx.store.db.selectFrom('events').selectAll().where('project_id', '=', Number(pid)).where('type', '=', type).orderBy('id', 'desc').executeTakeFirst();

    it('subscription with Sec-GPC: 1: the person is subscribed with the consent they ticked, the form event is anonymous', async () => {
      const form = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'subscription', name: 'news', trackingConsentField: true });
      const res = await submit(`/f/subscribe/${form.body.id}?lang=en`, { email: 'gpc-sub@example.com', trackingConsent: 'yes' }, { 'sec-gpc': '1' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/<h1>/);
      const { items } = await t.ctx.contacts.list(Number(pid), { email: 'gpc-sub@example.com', limit: 1 });
      expect(items[0]).toMatchObject({ hasTrackingConsent: true });
      expect(await newestEvent('form_submit')).toMatchObject({ contact_id: null, ip: null, user_agent: null, name: 'subscription' });
    });

    it('tracking opt-out page with Sec-GPC: 1: accepting applies with its proof, the event is anonymous; without the header it is identified', async () => {
      for (const gpc of [true, false]) {
        const cid = await newContact(`gpc-optout-${gpc}@example.com`);
        const url = `/f/tracking-optout/${signContactLink(t.config.secrets, 'tracking-optout', Number(pid), cid)}?lang=en`;
        const res = await submit(url, { action: 'accept' }, gpc ? { 'sec-gpc': '1' } : {});
        expect(res.statusCode).toBe(200);
        const history = await t.ctx.consent.history(Number(pid), cid);
        expect(history.at(-1)).toMatchObject({ action: 'accepted', source: 'tracking-optout-form', user_agent: UA });
        expect(await newestEvent('form_submit')).toMatchObject(gpc ? { contact_id: null, ip: null, user_agent: null } : { contact_id: cid, user_agent: UA });
      }
    });

    it('unsubscribe with Sec-GPC: 1 unsubscribes; its event is anonymous', async () => {
      const cid = await newContact('gpc-unsub@example.com', 1);
      const res = await submit(`/f/unsubscribe/${signContactLink(t.config.secrets, 'unsubscribe', Number(pid), cid)}?lang=en`, {}, { 'sec-gpc': '1' });
      expect(res.statusCode).toBe(200);
      expect((await t.ctx.contacts.get(Number(pid), cid)).status).toBe('inactive');
      expect(await newestEvent('unsubscribe')).toMatchObject({ contact_id: null, ip: null });
    });

    it('with tracking.honorGpc off, Sec-GPC: 1 changes nothing', async () => {
      expect((await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { honorGpc: false } })).status).toBe(200);
      try {
        const cid = await newContact('gpc-off@example.com');
        const url = `/f/tracking-optout/${signContactLink(t.config.secrets, 'tracking-optout', Number(pid), cid)}?lang=en`;
        expect((await submit(url, { action: 'accept' }, { 'sec-gpc': '1' })).statusCode).toBe(200);
        expect(await newestEvent('form_submit')).toMatchObject({ contact_id: cid });
      } finally {
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { honorGpc: true } });
      }
    });
  });
}
