// A wording hash alone proves nothing a person can read: the proof of a consent must show the exact text the
// page showed, in its language, kept once however many people saw it, and found from the history's wordingHash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formTexts, optOutWording, subscriptionWording, wordingHash } from '../../src/domain/form.js';
import { signContactLink } from '../../src/domain/signed-link.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const UA = 'Mozilla/5.0 (wordings test)';
const FR_LABEL = "J'accepte le suivi de mes ouvertures et clics (version 2)";

interface Wording {
  hash: string;
  text: string;
  lang: string;
  firstShownAt: string;
}

/** GET the page, then POST its form with the token it gave, as a browser does. */
async function submit(t: TestApp, url: string, fields: Record<string, string>): Promise<number> {
  const page = await t.app.inject({ method: 'GET', url, headers: { 'user-agent': UA } });
  expect(page.statusCode).toBe(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  const res = await t.app.inject({
    method: 'POST',
    url: action!.replaceAll('&amp;', '&'),
    remoteAddress: '203.0.113.7',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA },
    payload: new URLSearchParams({ csrf: csrf!, ...fields }).toString(),
  });
  return res.statusCode;
}

async function historyOf(t: TestApp, pid: string, email: string): Promise<{ action: string; wordingHash?: string; recordedAt: string }[]> {
  const found = await t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/contacts?email=${encodeURIComponent(email)}`);
  const cid = found.body.items[0]!.id;
  return (await t.api<{ action: string; wordingHash?: string; recordedAt: string }[]>('GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`)).body;
}

for (const dialect of dialects()) {
  describe(`consent wordings (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let formId: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
      const form = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, {
        kind: 'subscription',
        name: 'News',
        trackingConsentField: true,
        texts: { fr: { consentLabel: FR_LABEL } },
      });
      expect(form.status).toBe(201);
      formId = form.body.id;
    });
    afterAll(async () => t?.close());

    it('a consent given on a form keeps the text the person read, in its language, found by the history entry’s wordingHash', async () => {
      expect(await submit(t, `/f/subscribe/${formId}?lang=fr`, { email: 'ana@example.com', trackingConsent: 'yes' })).toBe(200);
      const [entry] = await historyOf(t, pid, 'ana@example.com');
      expect(entry).toMatchObject({ action: 'accepted', wordingHash: wordingHash(FR_LABEL) });
      const res = await t.api<Wording>('GET', `/api/v1/projects/${pid}/consent-wordings/${entry!.wordingHash}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ hash: wordingHash(FR_LABEL), text: FR_LABEL, lang: 'fr', firstShownAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
      expect(Date.parse(res.body.firstShownAt)).toBeLessThanOrEqual(Date.parse(entry!.recordedAt));
    });

    it('a wording shown to many people is stored once and keeps the date it was first shown', async () => {
      const first = (await t.api<Wording>('GET', `/api/v1/projects/${pid}/consent-wordings/${wordingHash(FR_LABEL)}`)).body;
      expect(await submit(t, `/f/subscribe/${formId}?lang=fr`, { email: 'bo@example.com', trackingConsent: 'yes' })).toBe(200);
      const rows = await t.ctx.store.db.selectFrom('consent_wordings').selectAll().where('project_id', '=', Number(pid)).where('hash', '=', wordingHash(FR_LABEL)).execute();
      expect(rows).toHaveLength(1);
      expect((await t.api<Wording>('GET', `/api/v1/projects/${pid}/consent-wordings/${wordingHash(FR_LABEL)}`)).body).toEqual(first);
    });

    it('the English page stores its own wording beside the French one', async () => {
      expect(await submit(t, `/f/subscribe/${formId}?lang=en`, { email: 'cy@example.com', trackingConsent: 'yes' })).toBe(200);
      const label = formTexts('subscription', 'en', {}).consentLabel;
      const res = await t.api<Wording>('GET', `/api/v1/projects/${pid}/consent-wordings/${wordingHash(label)}`);
      expect(res.body).toMatchObject({ text: label, lang: 'en' });
    });

    it('the tracking opt-out page keeps the wording of the button pressed', async () => {
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'di@example.com', hasTrackingConsent: true }] });
      const cid = Number(merged.body.results[0]!.contactId);
      const url = `/f/tracking-optout/${signContactLink(t.config.secrets, 'tracking-optout', Number(pid), cid)}?lang=fr`;
      expect(await submit(t, url, { action: 'refuse' })).toBe(200);
      const refusal = (await historyOf(t, pid, 'di@example.com')).at(-1)!;
      const text = optOutWording(formTexts('tracking-optout', 'fr', {}), false);
      expect(refusal).toMatchObject({ action: 'refused', wordingHash: wordingHash(text) });
      expect((await t.api<Wording>('GET', `/api/v1/projects/${pid}/consent-wordings/${refusal.wordingHash}`)).body).toMatchObject({ text, lang: 'fr' });
    });

    it('a double opt-in request keeps its wording from the moment it is shown, before anyone confirms', async () => {
      const form = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'subscription', name: 'DOI', doubleOptIn: true, texts: { en: { title: 'Join us' } } });
      expect(await submit(t, `/f/subscribe/${form.body.id}`, { email: 'eve@example.com' })).toBe(200);
      const request = await t.ctx.store.db.selectFrom('form_requests').select('wording_hash').where('project_id', '=', Number(pid)).where('email', '=', 'eve@example.com').executeTakeFirstOrThrow();
      const text = subscriptionWording(formTexts('subscription', 'en', { texts: { en: { title: 'Join us' } } }));
      expect(request.wording_hash).toBe(wordingHash(text));
      expect((await t.api<Wording>('GET', `/api/v1/projects/${pid}/consent-wordings/${request.wording_hash}`)).body).toMatchObject({ text, lang: 'en' });
    });

    it('an unknown hash is a 404 problem, a malformed one a 400 naming hash, and another project sees none', async () => {
      const unknown = await t.api<{ code: string }>('GET', `/api/v1/projects/${pid}/consent-wordings/${'a'.repeat(64)}`);
      expect(unknown.status).toBe(404);
      expect(String(unknown.headers['content-type'])).toContain('application/problem+json');
      expect(unknown.body.code).toBe('ConsentWordingNotFound');
      const bad = await t.api<{ errors: { field: string }[] }>('GET', `/api/v1/projects/${pid}/consent-wordings/not-a-hash`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e) => e.field).join(',')).toContain('hash');
      const other = await createProject(t);
      expect((await t.api('GET', `/api/v1/projects/${other}/consent-wordings/${wordingHash(FR_LABEL)}`)).status).toBe(404);
    });
  });
}
