// Hosted forms are where people give or withdraw consent themselves: each change must carry its proof
// (source, IP, user agent, wording hash), GETs must change nothing (link scanners), and every POST needs CSRF.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formTexts, optOutWording } from '../../src/domain/form.js';
import { signContactLink } from '../../src/domain/signed-link.js';
import { buildApp } from '../../src/http/app.js';
import { contactPageUrl } from '../../src/services/forms.service.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const UA = 'Mozilla/5.0 (forms test)';

interface Page {
  status: number;
  body: string;
  csrf: string | undefined;
}

interface HistoryEntry {
  action: string;
  source: string;
  ip?: string;
  userAgent?: string;
  wordingHash?: string;
}

let ipSeq = 0;
const nextIp = () => `203.0.113.${(ipSeq++ % 250) + 1}`;

async function get(t: TestApp, url: string, headers: Record<string, string> = {}): Promise<Page> {
  const res = await t.app.inject({ method: 'GET', url, headers: { 'user-agent': UA, ...headers } });
  return { status: res.statusCode, body: res.body, csrf: /name="csrf" value="([^"]+)"/.exec(res.body)?.[1] };
}

async function post(t: TestApp, url: string, fields: Record<string, string>, options: { ip?: string; headers?: Record<string, string> } = {}): Promise<Page> {
  const res = await t.app.inject({
    method: 'POST',
    url,
    remoteAddress: options.ip ?? nextIp(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA, ...options.headers },
    payload: new URLSearchParams(fields).toString(),
  });
  return { status: res.statusCode, body: res.body, csrf: /name="csrf" value="([^"]+)"/.exec(res.body)?.[1] };
}

/** GET the page, then POST its form with the token it gave, as a browser does. */
async function submit(t: TestApp, url: string, fields: Record<string, string>, options: { ip?: string; headers?: Record<string, string> } = {}): Promise<Page> {
  const page = await get(t, url);
  expect(page.status).toBe(200);
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  expect(action).toBeDefined();
  return post(t, action!.replaceAll('&amp;', '&'), { csrf: page.csrf!, ...fields }, options);
}

async function newContact(t: TestApp, pid: string, record: Record<string, unknown>): Promise<number> {
  const res = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [record] });
  return Number(res.body.results[0]!.contactId);
}

/** The contact and its consent history, read through the services (what the contact card shows). */
async function contact(t: TestApp, pid: string, cid: number) {
  const c = await t.ctx.contacts.get(Number(pid), cid);
  const history = await t.ctx.consent.history(Number(pid), cid);
  const consentHistory: HistoryEntry[] = history.map((h) => ({
    action: h.action,
    source: h.source,
    ...(h.ip ? { ip: h.ip } : {}),
    ...(h.user_agent ? { userAgent: h.user_agent } : {}),
    ...(h.wording_hash ? { wordingHash: h.wording_hash } : {}),
  }));
  return { hasTrackingConsent: c.hasTrackingConsent, status: c.status, email: c.email, fields: c.fields, updatedAt: c.updatedAt, consentHistory };
}

const link = (t: TestApp, purpose: 'unsubscribe' | 'tracking-optout' | 'profile', pid: string, cid: number) =>
  `/f/${purpose}/${signContactLink(t.config.secrets, purpose, Number(pid), cid)}`;

async function eventsOf(t: TestApp, pid: string) {
  return t.ctx.store.db.selectFrom('events').selectAll().where('project_id', '=', Number(pid)).orderBy('id').execute();
}

for (const dialect of dialects()) {
  describe(`hosted forms (${dialect})`, () => {
    let t: TestApp;
    let pid: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' }, branding: { name: 'Acme <script>alert(1)</script>', color: '#0a7f3f' } });
    });
    afterAll(async () => t?.close());

    describe('the /forms API', () => {
      it('creates a subscription form with its public url, lists, reads, patches and deletes it', async () => {
        const created = await t.api<{ id: string; url: string; kind: string }>('POST', `/api/v1/projects/${pid}/forms`, {
          kind: 'subscription',
          name: 'Newsletter',
          fields: ['email', 'fields.firstName'],
          trackingConsentField: true,
          texts: { fr: { title: 'Infolettre' } },
        });
        expect(created.status).toBe(201);
        expect(created.body.url).toBe(`${t.config.publicUrl}/f/subscribe/${created.body.id}`);
        const list = await t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/forms`);
        expect(list.body.items.map((f) => f.id)).toContain(created.body.id);
        const patched = await t.api<{ name: string; texts: unknown }>('PATCH', `/api/v1/projects/${pid}/forms/${created.body.id}`, { name: 'News', texts: { en: { submit: 'Join' } } });
        expect(patched.status).toBe(200);
        expect(patched.body).toMatchObject({ name: 'News', texts: { en: { submit: 'Join' } } });
        expect((await t.api('GET', `/api/v1/projects/${pid}/forms/${created.body.id}`)).status).toBe(200);
        expect((await t.api('DELETE', `/api/v1/projects/${pid}/forms/${created.body.id}`)).status).toBe(204);
        expect((await t.api('GET', `/api/v1/projects/${pid}/forms/${created.body.id}`)).status).toBe(404);
        expect((await get(t, `/f/subscribe/${created.body.id}`)).status).toBe(404);
      });

      it('answers 400 naming the field for a bad kind, an unknown field, an option of another kind or an unknown text key', async () => {
        const bad = [
          [{ kind: 'survey', name: 'x' }, 'kind'],
          [{ kind: 'subscription', name: 'x', fields: ['password'] }, 'fields.0'],
          [{ kind: 'subscription', name: 'x', offerTrackingOptOut: true }, 'offerTrackingOptOut'],
          [{ kind: 'unsubscribe', name: 'x', trackingConsentField: true }, 'trackingConsentField'],
          [{ kind: 'profile', name: 'x', texts: { en: { titel: 'typo' } } }, 'texts.en.titel'],
        ] as const;
        for (const [body, field] of bad) {
          const res = await t.api<{ errors: { field: string }[] }>('POST', `/api/v1/projects/${pid}/forms`, body);
          expect(res.status, JSON.stringify(body)).toBe(400);
          expect(res.body.errors.map((e) => e.field).join(',')).toContain(field);
        }
      });

      it("hides a project's forms from another project's key", async () => {
        const other = await createProject(t);
        const key = await t.api<{ key: string }>('POST', `/api/v1/projects/${other}/keys`, { name: 'k' });
        const form = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'profile', name: 'p' });
        expect((await t.api('GET', `/api/v1/projects/${pid}/forms/${form.body.id}`, undefined, key.body.key)).status).toBe(404);
        await t.api('DELETE', `/api/v1/projects/${pid}/forms/${form.body.id}`);
      });
    });

    describe('subscription form', () => {
      let formId: string;
      beforeAll(async () => {
        const res = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'subscription', name: 'News', fields: ['fields.firstName'], trackingConsentField: true });
        formId = res.body.id;
      });

      it('shows an accessible page in English by default and in French from ?lang= or Accept-Language, box never pre-ticked', async () => {
        const en = await get(t, `/f/subscribe/${formId}`);
        expect(en.status).toBe(200);
        expect(en.body).toContain('<html lang="en">');
        expect(en.body.match(/<h1>/g)).toHaveLength(1);
        expect(en.body).toContain('<label for="f-email">Email address</label>');
        expect(en.body).toContain('<label for="f-fields-firstName">First name</label>');
        expect(en.body).toMatch(/<input type="checkbox" id="tracking-consent" name="trackingConsent" value="yes">/);
        expect(en.body).not.toMatch(/checked/);
        const fr = await get(t, `/f/subscribe/${formId}?lang=fr`);
        expect(fr.body).toContain('<html lang="fr">');
        expect(fr.body).toContain('Adresse courriel');
        const negotiated = await get(t, `/f/subscribe/${formId}`, { 'accept-language': 'fr-CA,fr;q=0.9,en;q=0.5' });
        expect(negotiated.body).toContain('<html lang="fr">');
      });

      it('escapes the branding name and never lets markup through', async () => {
        const page = await get(t, `/f/subscribe/${formId}`);
        expect(page.body).toContain('Acme &lt;script&gt;alert(1)&lt;/script&gt;');
        expect(page.body).not.toContain('<script>');
      });

      it('a ticked box records acceptance with source form:<id>, IP, user agent and the hash of the French label shown', async () => {
        const ip = nextIp();
        const done = await submit(t, `/f/subscribe/${formId}?lang=fr`, { email: 'Ana@Example.com', 'fields.firstName': 'Ana', trackingConsent: 'yes' }, { ip });
        expect(done.status).toBe(200);
        expect(done.body).toContain('Merci de votre abonnement');
        const res = await t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/contacts?email=ana@example.com`);
        const cid = Number(res.body.items[0]!.id);
        const card = await contact(t, pid, cid);
        expect(card).toMatchObject({ hasTrackingConsent: true, status: 'active', fields: { firstName: 'Ana' } });
        expect(card.consentHistory).toHaveLength(1);
        expect(card.consentHistory[0]).toMatchObject({
          action: 'accepted',
          source: `form:${formId}`,
          ip,
          userAgent: UA,
          wordingHash: sha256(formTexts('subscription', 'fr', {}).consentLabel),
        });
        const submitted = (await eventsOf(t, pid)).filter((e) => e.type === 'form_submit' && e.contact_id === cid);
        expect(submitted).toHaveLength(1);
        expect(submitted[0]!.form_id).toBe(Number(formId));
      });

      it('an unticked box is no answer: the contact is created and no consent is recorded', async () => {
        const done = await submit(t, `/f/subscribe/${formId}`, { email: 'bo@example.com' });
        expect(done.status).toBe(200);
        expect(done.body).toContain('Thank you for subscribing');
        const res = await t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/contacts?email=bo@example.com`);
        const card = await contact(t, pid, Number(res.body.items[0]!.id));
        expect(card.hasTrackingConsent).toBeNull();
        expect(card.consentHistory).toHaveLength(0);
      });

      it('an invalid email shows the form again with the error tied to the field, in the page language', async () => {
        const page = await submit(t, `/f/subscribe/${formId}?lang=fr`, { email: 'not-an-email', 'fields.firstName': '<b>Zoé</b>' });
        expect(page.status).toBe(400);
        expect(page.body).toContain('aria-describedby="f-email-error"');
        expect(page.body).toContain('id="f-email-error"');
        expect(page.body).toContain('Entrez une adresse courriel valide');
        expect(page.body).toContain('value="&lt;b&gt;Zoé&lt;/b&gt;"');
      });
    });

    describe('profile form', () => {
      it('shows current values escaped and the box ticked only when accepted; unticking records a refusal', async () => {
        const cid = await newContact(t, pid, { email: 'cy@example.com', fields: { firstName: '<script>alert("x")</script>' }, hasTrackingConsent: true });
        const form = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'profile', name: 'Prefs', fields: ['fields.firstName'], trackingConsentField: true });
        const url = link(t, 'profile', pid, cid);
        const page = await get(t, url);
        expect(page.status).toBe(200);
        expect(page.body).toContain('value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"');
        expect(page.body).not.toContain('<script>');
        expect(page.body).toMatch(/name="trackingConsent" value="yes" checked>/);
        const ip = nextIp();
        const done = await submit(t, url, { email: 'cy@example.com', 'fields.firstName': 'Cy' }, { ip });
        expect(done.status).toBe(200);
        expect(done.body).toContain('Your preferences are saved');
        const card = await contact(t, pid, cid);
        expect(card.hasTrackingConsent).toBe(false);
        expect(card.fields.firstName).toBe('Cy');
        expect(card.consentHistory.at(-1)).toMatchObject({
          action: 'refused',
          source: `form:${form.body.id}`,
          ip,
          userAgent: UA,
          wordingHash: sha256(formTexts('profile', 'en', {}).consentLabel),
        });
        await t.api('DELETE', `/api/v1/projects/${pid}/forms/${form.body.id}`);
      });

      it('without a configured form, the default profile page works in French and ticking records acceptance (source form:profile)', async () => {
        const cid = await newContact(t, pid, { email: 'di@example.com' });
        const url = `${link(t, 'profile', pid, cid)}?lang=fr`;
        const page = await get(t, url);
        expect(page.body).toContain('<html lang="fr">');
        expect(page.body).not.toMatch(/checked/);
        const done = await submit(t, url, { email: 'di@example.com', trackingConsent: 'yes' });
        expect(done.body).toContain('Vos préférences sont enregistrées');
        const card = await contact(t, pid, cid);
        expect(card.hasTrackingConsent).toBe(true);
        expect(card.consentHistory.at(-1)).toMatchObject({ action: 'accepted', source: 'form:profile', wordingHash: sha256(formTexts('profile', 'fr', {}).consentLabel) });
      });

      it('leaving an unanswered box unticked records nothing', async () => {
        const cid = await newContact(t, pid, { email: 'ed@example.com' });
        await submit(t, link(t, 'profile', pid, cid), { email: 'ed@example.com' });
        const card = await contact(t, pid, cid);
        expect(card.hasTrackingConsent).toBeNull();
        expect(card.consentHistory).toHaveLength(0);
      });
    });

    describe('tracking opt-out form', () => {
      it('GET only shows the page and the status: nothing changes (link scanners)', async () => {
        const cid = await newContact(t, pid, { email: 'fa@example.com', hasTrackingConsent: true });
        const before = await contact(t, pid, cid);
        for (const lang of ['en', 'fr']) {
          const page = await get(t, `${link(t, 'tracking-optout', pid, cid)}?lang=${lang}`);
          expect(page.status).toBe(200);
          expect(page.body).toContain(lang === 'en' ? 'You currently accept' : 'Vous acceptez actuellement');
        }
        expect(await contact(t, pid, cid)).toEqual(before);
      });

      it('POST refuse records the refusal with its proof, and the confirmation page offers to accept again', async () => {
        const cid = await newContact(t, pid, { email: 'gu@example.com' });
        const url = `${link(t, 'tracking-optout', pid, cid)}?lang=fr`;
        const ip = nextIp();
        const done = await submit(t, url, { action: 'refuse' }, { ip });
        expect(done.status).toBe(200);
        expect(done.body).toContain('Votre refus est enregistré');
        expect(done.body).toContain('value="accept"');
        let card = await contact(t, pid, cid);
        expect(card.hasTrackingConsent).toBe(false);
        const texts = formTexts('tracking-optout', 'fr', {});
        expect(card.consentHistory.at(-1)).toMatchObject({ action: 'refused', source: 'tracking-optout-form', ip, userAgent: UA, wordingHash: sha256(optOutWording(texts, false)) });
        // The way back: the confirmation page's own form accepts again.
        const again = await post(t, url, { csrf: done.csrf!, action: 'accept' });
        expect(again.body).toContain('Votre consentement est enregistré');
        card = await contact(t, pid, cid);
        expect(card.hasTrackingConsent).toBe(true);
        expect(card.consentHistory.at(-1)).toMatchObject({ action: 'accepted', source: 'tracking-optout-form', wordingHash: sha256(optOutWording(texts, true)) });
      });

      it('an unknown action is refused with 400 and changes nothing', async () => {
        const cid = await newContact(t, pid, { email: 'ha@example.com' });
        const res = await submit(t, link(t, 'tracking-optout', pid, cid), { action: 'delete-everything' });
        expect(res.status).toBe(400);
        expect((await contact(t, pid, cid)).consentHistory).toHaveLength(0);
      });
    });

    describe('unsubscribe form', () => {
      it('GET shows and changes nothing; POST unsubscribes and writes an identified event for a tracked contact', async () => {
        const cid = await newContact(t, pid, { email: 'ia@example.com' });
        const url = link(t, 'unsubscribe', pid, cid);
        const page = await get(t, url);
        expect(page.body).toContain('ia@example.com');
        expect((await contact(t, pid, cid)).status).toBe('active');
        expect((await eventsOf(t, pid)).filter((e) => e.contact_id === cid)).toHaveLength(0);
        const done = await submit(t, `${url}?lang=fr`, {});
        expect(done.status).toBe(200);
        expect(done.body).toContain('Vous êtes désabonné');
        expect((await contact(t, pid, cid)).status).toBe('inactive');
        const events = (await eventsOf(t, pid)).filter((e) => e.type === 'unsubscribe' && e.contact_id === cid);
        expect(events).toHaveLength(1);
        expect((await get(t, url)).body).toContain('already unsubscribed');
      });

      it("an untracked contact's unsubscribe event is anonymous: no contact, IP or user agent, time cut to the minute", async () => {
        const cid = await newContact(t, pid, { email: 'jo@example.com', hasTrackingConsent: false });
        const before = (await eventsOf(t, pid)).length;
        await submit(t, link(t, 'unsubscribe', pid, cid), {});
        const added = (await eventsOf(t, pid)).slice(before);
        expect(added).toHaveLength(1);
        expect(added[0]).toMatchObject({ type: 'unsubscribe', contact_id: null, ip: null, user_agent: null });
        expect(added[0]!.at % 60_000).toBe(0);
      });

      it('with offerTrackingOptOut, the page links to the tracking opt-out page of the same contact', async () => {
        const form = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'unsubscribe', name: 'Unsub', offerTrackingOptOut: true, texts: { en: { optOutLink: 'Keep mails, stop tracking' } } });
        const cid = await newContact(t, pid, { email: 'ka@example.com' });
        const page = await get(t, link(t, 'unsubscribe', pid, cid));
        expect(page.body).toContain('Keep mails, stop tracking');
        const href = /<a href="(\/f\/tracking-optout\/[^"?]+)/.exec(page.body)?.[1];
        expect(href).toBe(link(t, 'tracking-optout', pid, cid));
        expect(contactPageUrl(t.config, 'tracking-optout', Number(pid), cid)).toBe(t.config.publicUrl + href);
        expect((await get(t, href!)).status).toBe(200);
        await t.api('PATCH', `/api/v1/projects/${pid}/forms/${form.body.id}`, { offerTrackingOptOut: false });
        expect((await get(t, link(t, 'unsubscribe', pid, cid))).body).not.toContain('/f/tracking-optout/');
        await t.api('DELETE', `/api/v1/projects/${pid}/forms/${form.body.id}`);
      });

      it('RFC 8058 one-click POST unsubscribes without a CSRF token, urlencoded or multipart', async () => {
        const a = await newContact(t, pid, { email: 'la@example.com' });
        const res = await post(t, link(t, 'unsubscribe', pid, a), { 'List-Unsubscribe': 'One-Click' });
        expect(res.status).toBe(200);
        expect((await contact(t, pid, a)).status).toBe('inactive');
        const b = await newContact(t, pid, { email: 'mo@example.com' });
        const boundary = '----tg1234';
        const payload = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
        const multi = await t.app.inject({ method: 'POST', url: link(t, 'unsubscribe', pid, b), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
        expect(multi.statusCode).toBe(200);
        expect((await contact(t, pid, b)).status).toBe('inactive');
      });
    });

    describe('protections', () => {
      it('a POST without a CSRF token, with a forged one, one from another page or from another origin gets 403 and changes nothing', async () => {
        const cid = await newContact(t, pid, { email: 'ny@example.com' });
        const url = link(t, 'tracking-optout', pid, cid);
        const other = await get(t, link(t, 'unsubscribe', pid, cid));
        const own = await get(t, url);
        const attempts = [
          await post(t, url, { action: 'refuse' }),
          await post(t, url, { action: 'refuse', csrf: `${own.csrf!.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAA` }),
          await post(t, url, { action: 'refuse', csrf: other.csrf! }),
          await post(t, url, { action: 'refuse', csrf: own.csrf! }, { headers: { origin: 'https://evil.example' } }),
          await post(t, link(t, 'unsubscribe', pid, cid), {}),
        ];
        for (const res of attempts) {
          expect(res.status).toBe(403);
          expect(res.body).toContain('<html lang="en">');
        }
        const card = await contact(t, pid, cid);
        expect(card).toMatchObject({ hasTrackingConsent: null, status: 'active' });
        expect(card.consentHistory).toHaveLength(0);
        // The same token from this server's own origin works.
        const ok = await post(t, url, { action: 'refuse', csrf: own.csrf! }, { headers: { origin: t.config.publicUrl } });
        expect(ok.status).toBe(200);
      });

      it('a forged, altered or moved signed link gets an HTML 404, never a 500', async () => {
        const cid = await newContact(t, pid, { email: 'oz@example.com' });
        const unsub = signContactLink(t.config.secrets, 'unsubscribe', Number(pid), cid);
        const urls = [
          `/f/unsubscribe/${pid}.${cid}.AAAAAAAAAAAAAAAA`,
          `/f/unsubscribe/${unsub.replace(`.${cid}.`, `.${cid + 1}.`)}`,
          `/f/tracking-optout/${unsub}`,
          `/f/profile/${unsub}`,
          `/f/unsubscribe/${signContactLink(['another-secret'], 'unsubscribe', Number(pid), cid)}`,
          `/f/unsubscribe/${signContactLink(t.config.secrets, 'unsubscribe', Number(pid), 999_999)}`,
          '/f/unsubscribe/not-a-token',
          '/f/subscribe/999999',
          '/f/subscribe/abc',
          '/f/nothing-here',
        ];
        for (const url of urls) {
          const res = await get(t, url);
          expect(res.status, url).toBe(404);
          expect(res.body).toContain('This link is not valid');
        }
        const posted = await post(t, `/f/unsubscribe/${pid}.${cid}.AAAAAAAAAAAAAAAA`, { 'List-Unsubscribe': 'One-Click' });
        expect(posted.status).toBe(404);
        expect((await contact(t, pid, cid)).status).toBe('active');
      });

      it('too many POSTs from one address get a 429 page', async () => {
        const limited = await buildApp(t.ctx, { logger: false, formRateLimit: { max: 3, windowMs: 60_000 } });
        try {
          const cid = await newContact(t, pid, { email: 'pa@example.com' });
          const url = link(t, 'tracking-optout', pid, cid);
          const statuses: number[] = [];
          for (let i = 0; i < 5; i++) {
            const res = await limited.inject({ method: 'POST', url, remoteAddress: '198.51.100.7', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'action=refuse' });
            statuses.push(res.statusCode);
          }
          expect(statuses).toEqual([403, 403, 403, 429, 429]);
          const other = await limited.inject({ method: 'POST', url, remoteAddress: '198.51.100.8', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'action=refuse' });
          expect(other.statusCode).toBe(403);
        } finally {
          await limited.close();
        }
      });
    });
  });
}
