// Anyone who knows an address could take a public subscription form's CSRF token and POST that address with
// the consent box ticked: the contact's refusal and fields were overwritten with no step by the person (issue 9).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formTexts } from '../../src/domain/form.js';
import { signConfirmationToken } from '../../src/domain/signed-link.js';
import { issueCsrfToken } from '../../src/http/forms/csrf.js';
import { confirmationEmails } from '../helpers/confirmation-emails.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const HOUR = 3_600_000;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const ATTACKER_UA = 'curl/8.5 (attacker)';
const PERSON_UA = 'Mozilla/5.0 (the person)';

let now = Date.UTC(2026, 2, 2, 10, 0, 0);
let ipSeq = 0;
const nextIp = () => `198.51.100.${(ipSeq++ % 250) + 1}`;

interface Page {
  status: number;
  body: string;
  csrf: string | undefined;
}

async function get(t: TestApp, url: string, ua = ATTACKER_UA): Promise<Page> {
  const res = await t.app.inject({ method: 'GET', url, headers: { 'user-agent': ua } });
  return { status: res.statusCode, body: res.body, csrf: /name="csrf" value="([^"]+)"/.exec(res.body)?.[1] };
}

async function post(t: TestApp, url: string, fields: Record<string, string>, ip = nextIp(), ua = ATTACKER_UA): Promise<Page> {
  const res = await t.app.inject({
    method: 'POST',
    url,
    remoteAddress: ip,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': ua },
    payload: new URLSearchParams(fields).toString(),
  });
  return { status: res.statusCode, body: res.body, csrf: /name="csrf" value="([^"]+)"/.exec(res.body)?.[1] };
}

/** The attack exactly as reported: GET the form for its token, then POST the victim's address. */
async function forge(t: TestApp, formId: string, fields: Record<string, string>, ip = nextIp()): Promise<Page> {
  const page = await get(t, `/f/subscribe/${formId}`);
  expect(page.status).toBe(200);
  return post(t, `/f/subscribe/${formId}`, { csrf: page.csrf!, ...fields }, ip);
}

async function contactByEmail(t: TestApp, pid: string, email: string) {
  const res = await t.api<{ items: { id: string; status: string; hasTrackingConsent: boolean | null; fields: Record<string, unknown>; updatedAt: string }[] }>(
    'GET',
    `/api/v1/projects/${pid}/contacts?email=${encodeURIComponent(email)}`,
  );
  return res.body.items[0];
}

async function historyOf(t: TestApp, pid: string, cid: string) {
  const rows = await t.ctx.consent.history(Number(pid), Number(cid));
  return rows.map((h) => ({ action: h.action, source: h.source, date: Number(h.date), ip: h.ip, userAgent: h.user_agent, wordingHash: h.wording_hash }));
}

const pathOf = (link: string) => link.replace(/^https?:\/\/[^/]+/, '');

for (const dialect of dialects()) {
  describe(`consent forgery through the public subscription form (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let formId: string;
    let doiFormId: string;
    let victimId: string;
    let sentBefore = 0;

    const newMails = async () => {
      const all = await confirmationEmails(t);
      const fresh = all.slice(sentBefore);
      sentBefore = all.length;
      return fresh;
    };

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => now);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      formId = (await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'subscription', name: 'News', fields: ['fields.firstName'], trackingConsentField: true })).body.id;
      doiFormId = (
        await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'subscription', name: 'Double', fields: ['fields.firstName'], trackingConsentField: true, doubleOptIn: true, confirmationHours: 2 })
      ).body.id;
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [{ email: 'victim@example.com', status: 'inactive', hasTrackingConsent: false, dtTrackingConsent: new Date(now - 86_400_000).toISOString(), fields: { firstName: 'Victor' } }],
      });
      victimId = merged.body.results[0]!.contactId;
    });
    afterAll(async () => t?.close());
    beforeEach(() => {
      now += 2 * HOUR; // each test starts outside the previous one's per-address email limit
    });

    it('the forged POST leaves the victim exactly as they were, and only emails them a confirmation link', async () => {
      const before = await contactByEmail(t, pid, 'victim@example.com');
      const historyBefore = await historyOf(t, pid, victimId);
      const answer = await forge(t, formId, { email: 'victim@example.com', trackingConsent: 'yes', 'fields.firstName': 'Hacked' });
      expect(answer.status).toBe(200);
      const after = await contactByEmail(t, pid, 'victim@example.com');
      expect(after).toEqual(before);
      expect(after).toMatchObject({ status: 'inactive', hasTrackingConsent: false, fields: { firstName: 'Victor' } });
      expect(await historyOf(t, pid, victimId)).toEqual(historyBefore);
      const mails = await newMails();
      expect(mails).toHaveLength(1);
      expect(mails[0]!.to).toBe('victim@example.com');
      expect(mails[0]!.subject).toContain('Confirm your subscription');
      expect(mails[0]!.link.startsWith(`${t.config.publicUrl}/f/confirm/`)).toBe(true);
    });

    it('the answer page is byte-identical for a known and an unknown address (no enumeration), on both kinds of form', async () => {
      for (const id of [formId, doiFormId]) {
        const known = await forge(t, id, { email: 'victim@example.com', trackingConsent: 'yes', 'fields.firstName': 'Hacked' });
        const unknown = await forge(t, id, { email: `nobody-${id}@example.com`, trackingConsent: 'yes', 'fields.firstName': 'Hacked' });
        expect(known.status).toBe(unknown.status);
        expect(known.body).toBe(unknown.body);
        expect(known.body).not.toContain('victim');
      }
      await newMails();
    });

    it('a new address on a form without double opt-in is still subscribed at once (today’s behaviour)', async () => {
      const done = await forge(t, formId, { email: 'newcomer@example.com', trackingConsent: 'yes', 'fields.firstName': 'Nina' });
      expect(done.body).toContain('Thank you for subscribing');
      const created = await contactByEmail(t, pid, 'newcomer@example.com');
      expect(created).toMatchObject({ status: 'active', hasTrackingConsent: true, fields: { firstName: 'Nina' } });
      expect(await newMails()).toHaveLength(0);
    });

    it('a GET of the link (a mail scanner) changes nothing; the POST of its button confirms, and the history shows both steps with their proof', async () => {
      const attackerIp = '203.0.113.66';
      await forge(t, formId, { email: 'victim@example.com', trackingConsent: 'yes', 'fields.firstName': 'Victoria' }, attackerIp);
      const requestedAt = now;
      const [mail] = await newMails();
      const before = await contactByEmail(t, pid, 'victim@example.com');
      const historyBefore = await historyOf(t, pid, victimId);
      now += 60_000;
      const scanned = await get(t, pathOf(mail!.link), 'LinkScanner/1.0');
      const again = await get(t, pathOf(mail!.link), 'LinkScanner/1.0');
      expect(scanned.status).toBe(200);
      expect(again.status).toBe(200);
      expect(scanned.body).toContain('<button type="submit">Confirm</button>');
      expect(scanned.body).toContain(formTexts('subscription', 'en', {}).consentLabel);
      expect(await contactByEmail(t, pid, 'victim@example.com')).toEqual(before);
      expect(await historyOf(t, pid, victimId)).toEqual(historyBefore);

      const personIp = '192.0.2.10';
      const page = await get(t, pathOf(mail!.link), PERSON_UA);
      const action = /<form method="post" action="([^"]+)"/.exec(page.body)![1]!.replaceAll('&amp;', '&');
      const confirmed = await post(t, action, { csrf: page.csrf! }, personIp, PERSON_UA);
      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toContain('Thank you for subscribing');
      const after = await contactByEmail(t, pid, 'victim@example.com');
      expect(after).toMatchObject({ status: 'active', hasTrackingConsent: true, fields: { firstName: 'Victoria' } });
      const history = await historyOf(t, pid, victimId);
      const label = sha256(formTexts('subscription', 'en', {}).consentLabel);
      expect(history.slice(historyBefore.length)).toEqual([
        { action: 'double-opt-in-requested', source: `form:${formId}`, date: requestedAt, ip: attackerIp, userAgent: ATTACKER_UA, wordingHash: label },
        { action: 'accepted', source: `form:${formId}`, date: now, ip: personIp, userAgent: PERSON_UA, wordingHash: label },
      ]);
    });

    it('a used link cannot be replayed, an expired one or a forged one is refused, and none changes anything', async () => {
      await forge(t, formId, { email: 'victim@example.com', 'fields.firstName': 'Replay' });
      const [mail] = await newMails();
      const path = pathOf(mail!.link);
      const page = await get(t, path, PERSON_UA);
      expect((await post(t, path, { csrf: page.csrf! }, nextIp(), PERSON_UA)).status).toBe(200);
      expect((await contactByEmail(t, pid, 'victim@example.com'))?.fields.firstName).toBe('Replay');
      // Replay: the same POST (its form token is spent), the link with a fresh token, and the link itself.
      expect((await post(t, path, { csrf: page.csrf! }, nextIp(), PERSON_UA)).status).toBe(403);
      expect((await post(t, path, { csrf: issueCsrfToken(t.config.secrets, path.split('?')[0]!, now) }, nextIp(), PERSON_UA)).status).toBe(404);
      const replayed = await get(t, path, PERSON_UA);
      expect(replayed.status).toBe(404);
      expect(replayed.body).toContain('This confirmation link is not valid');

      // Expired: the form's 48 h (default) have passed.
      await forge(t, formId, { email: 'victim@example.com', 'fields.firstName': 'Late' });
      const [late] = await newMails();
      now += 48 * HOUR + 1000;
      expect((await get(t, pathOf(late!.link))).status).toBe(404);

      // Forged: another request id, an altered MAC, a token signed with another secret, garbage.
      await forge(t, formId, { email: 'victim@example.com', 'fields.firstName': 'Forged' });
      const [fresh] = await newMails();
      const token = pathOf(fresh!.link).split('/f/confirm/')[1]!.split('?')[0]!;
      const parts = token.split('.');
      const forgeries = [
        [parts[0], String(Number(parts[1]) + 1), ...parts.slice(2)].join('.'),
        [...parts.slice(0, 4), `${parts[4]!.slice(0, -1)}${parts[4]!.endsWith('A') ? 'B' : 'A'}`].join('.'),
        signConfirmationToken(['not-the-secret'], { projectId: Number(parts[0]), requestId: Number(parts[1]), expiresAt: now + HOUR, nonce: parts[3]! }),
        'x'.repeat(99),
      ];
      for (const forged of forgeries) {
        const res = await get(t, `/f/confirm/${forged}`);
        expect(res.status, forged).toBe(404);
        const csrf = (await get(t, pathOf(fresh!.link))).csrf!;
        expect((await post(t, `/f/confirm/${forged}`, { csrf })).status, forged).toBeGreaterThanOrEqual(403);
      }
      expect((await contactByEmail(t, pid, 'victim@example.com'))?.fields.firstName).toBe('Replay');
    });

    it('with doubleOptIn, even a new address is only a request until confirmed; the link expires after the form’s hours', async () => {
      const done = await forge(t, doiFormId, { email: 'careful@example.com', trackingConsent: 'yes', 'fields.firstName': 'Cara' });
      expect(done.body).toContain('Check your inbox');
      expect(await contactByEmail(t, pid, 'careful@example.com')).toBeUndefined();
      const [mail] = await newMails();
      expect(mail!.text).toContain('2 hours');
      const page = await get(t, pathOf(mail!.link), PERSON_UA);
      expect(await contactByEmail(t, pid, 'careful@example.com')).toBeUndefined();
      expect((await post(t, pathOf(mail!.link), { csrf: page.csrf! }, '192.0.2.20', PERSON_UA)).status).toBe(200);
      const created = await contactByEmail(t, pid, 'careful@example.com');
      expect(created).toMatchObject({ status: 'active', hasTrackingConsent: true, fields: { firstName: 'Cara' } });
      expect((await historyOf(t, pid, created!.id)).map((h) => h.action)).toEqual(['double-opt-in-requested', 'accepted']);

      await forge(t, doiFormId, { email: 'slow@example.com' });
      const [slow] = await newMails();
      now += 2 * HOUR + 1000;
      expect((await get(t, pathOf(slow!.link))).status).toBe(404);
      expect(await contactByEmail(t, pid, 'slow@example.com')).toBeUndefined();
    });

    it('an unticked box confirmed records the request and the confirmation, and no consent', async () => {
      await forge(t, doiFormId, { email: 'plain@example.com' });
      const [mail] = await newMails();
      const page = await get(t, pathOf(mail!.link), PERSON_UA);
      expect(page.body).not.toContain(formTexts('subscription', 'en', {}).consentLabel);
      await post(t, pathOf(mail!.link), { csrf: page.csrf! }, nextIp(), PERSON_UA);
      const created = await contactByEmail(t, pid, 'plain@example.com');
      expect(created).toMatchObject({ status: 'active', hasTrackingConsent: null });
      const history = await historyOf(t, pid, created!.id);
      expect(history.map((h) => h.action)).toEqual(['double-opt-in-requested', 'double-opt-in-confirmed']);
      expect(history.every((h) => h.ip && h.userAgent && h.wordingHash?.length === 64)).toBe(true);
    });

    it('at most three confirmation emails per address and form an hour, with the same answer page', async () => {
      const pages = [];
      for (let i = 0; i < 5; i++) pages.push((await forge(t, formId, { email: 'victim@example.com' })).body);
      expect(new Set(pages).size).toBe(1);
      expect(await newMails()).toHaveLength(3);
      now += HOUR + 1000;
      await forge(t, formId, { email: 'victim@example.com' });
      expect(await newMails()).toHaveLength(1);
    });

    it('housekeeping purges the requests never confirmed once their link expired', async () => {
      await forge(t, formId, { email: 'victim@example.com' });
      await newMails();
      const pending = () => t.ctx.store.db.selectFrom('form_requests').select('id').where('project_id', '=', Number(pid)).execute();
      expect((await pending()).length).toBeGreaterThan(0);
      now += 49 * HOUR;
      const result = await t.ctx.housekeeping.run(now);
      expect(result.expiredRequests).toBeGreaterThan(0);
      expect(await pending()).toHaveLength(0);
    });

    it('doubleOptIn and confirmationHours belong to subscription forms and are bounded', async () => {
      const bad = [
        [{ kind: 'unsubscribe', name: 'x', doubleOptIn: true }, 'doubleOptIn'],
        [{ kind: 'profile', name: 'x', confirmationHours: 5 }, 'confirmationHours'],
        [{ kind: 'subscription', name: 'x', confirmationHours: 0 }, 'confirmationHours'],
        [{ kind: 'subscription', name: 'x', confirmationHours: 10_000 }, 'confirmationHours'],
      ] as const;
      for (const [body, field] of bad) {
        const res = await t.api<{ errors?: { field: string }[]; detail: string }>('POST', `/api/v1/projects/${pid}/forms`, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(JSON.stringify(res.body)).toContain(field);
      }
      const read = await t.api<{ doubleOptIn: boolean; confirmationHours: number }>('GET', `/api/v1/projects/${pid}/forms/${doiFormId}`);
      expect(read.body).toMatchObject({ doubleOptIn: true, confirmationHours: 2 });
    });

    it('erasing a contact drops its pending requests: an old link cannot bring it back', async () => {
      await forge(t, formId, { email: 'newcomer@example.com', trackingConsent: 'yes' });
      const [mail] = await newMails();
      const cid = (await contactByEmail(t, pid, 'newcomer@example.com'))!.id;
      await t.ctx.privacy.eraseContact(Number(pid), Number(cid));
      expect((await get(t, pathOf(mail!.link))).status).toBe(404);
      expect(await contactByEmail(t, pid, 'newcomer@example.com')).toBeUndefined();
    });
  });
}
