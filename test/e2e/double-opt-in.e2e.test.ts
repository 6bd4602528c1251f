// Double opt-in in a real browser (issue 15 items 4 and 7): only the person, pressing the button of the page
// their email's link opens, may create the subscription and its consent. A mail scanner's GET, an expired link
// or someone who knows the address must change nothing, and the answer must not tell known addresses apart.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formTexts, type Lang, wordingHash } from '../../src/domain/form.js';
import { verifyConfirmationToken } from '../../src/domain/signed-link.js';
import { CHROMIUM, expectAccessible, expectFitsWidth, launchChromium, openPage } from '../helpers/admin-browser.js';
import { confirmationEmails, type ConfirmationEmail } from '../helpers/confirmation-emails.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const SHOTS = join(process.cwd(), 'test-results', 'screenshots');
const haveBrowser = existsSync(CHROMIUM);

if (!haveBrowser) {
  // CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: the browser tests cannot run (apt-get install chromium)`);
  console.warn(`Skipping browser tests of double opt-in: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}

const HOUR = 3_600_000;
const LANGS: Lang[] = ['en', 'fr'];
const EMAIL_LABEL: Record<Lang, string> = { en: 'Email address', fr: 'Adresse courriel' };
const FIRST_NAME_LABEL: Record<Lang, string> = { en: 'First name', fr: 'Prénom' };
const VALID_48_HOURS: Record<Lang, string> = { en: 'valid for 48 hours.', fr: 'valide pendant 48 heures.' };
const VALID_1_HOUR: Record<Lang, string> = { en: 'valid for 1 hour.', fr: 'valide pendant 1 heure.' };

interface HistoryEntry {
  id: string;
  action: string;
  date: string;
  source: string;
  ip?: string;
  userAgent?: string;
  wordingHash?: string;
  detail?: string;
  hash: string;
  prevHash: string | null;
}

interface ContactItem {
  id: string;
  email: string;
  status: string;
  hasTrackingConsent: boolean | null;
  trackingStatus: string;
  tracked: boolean;
  fields: Record<string, unknown>;
}

/**
 * The page's console errors, each with the URL it came from. Chromium logs the 404 status of a link that is no
 * longer valid (used or expired) as an error: those are expected, and listed by the test.
 */
function consoleErrors(page: Page): { unexpected(invalidLinks?: string[]): string[] } {
  const seen: { text: string; url: string }[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') seen.push({ text: message.text(), url: message.location().url });
  });
  page.on('pageerror', (error) => seen.push({ text: String(error), url: page.url() }));
  return {
    unexpected: (invalidLinks = []) =>
      seen.filter((e) => !(invalidLinks.includes(e.url) && e.text.includes('status of 404'))).map((e) => `${e.text} (${e.url})`),
  };
}

describe.skipIf(!haveBrowser)('double opt-in in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  for (const dialect of dialects()) describe(dialect, () => {
    let t: TestApp;
    let base: string;
    let pid: string;
    // The app's clock: the tests move it to let links expire.
    let now = Date.now();
    let mailsSeen = 0;

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => now);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      if (!address || typeof address === 'string') throw new Error('server has no port');
      base = `http://127.0.0.1:${address.port}`;
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' }, branding: { name: 'Café Lumière', color: '#7c2d12' } });
    });
    afterAll(async () => t?.close());

    // The pages are the same on both databases: one set of screenshots is enough.
    const shot = async (page: Page, name: string) => {
      if (dialect === 'sqlite') await page.screenshot({ path: join(SHOTS, `double-opt-in-${name}.png`), fullPage: true });
    };
    const local = (url: string) => url.replace(t.config.publicUrl, base);
    /** The emails sent since the last call. */
    async function newMails(): Promise<ConfirmationEmail[]> {
      const all = await confirmationEmails(t);
      const fresh = all.slice(mailsSeen);
      mailsSeen = all.length;
      return fresh;
    }
    async function contactsWith(email: string): Promise<ContactItem[]> {
      const res = await t.api<{ items: ContactItem[] }>('GET', `/api/v1/projects/${pid}/contacts?email=${encodeURIComponent(email)}`);
      expect(res.status).toBe(200);
      return res.body.items;
    }
    async function historyOf(cid: string): Promise<HistoryEntry[]> {
      const res = await t.api<HistoryEntry[]>('GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`);
      expect(res.status).toBe(200);
      return res.body;
    }
    const pendingRequests = () => t.ctx.store.db.selectFrom('form_requests').select(['id', 'email']).where('project_id', '=', Number(pid)).execute();

    async function newForm(lang: Lang, confirmationHours?: number) {
      const res = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, {
        kind: 'subscription',
        name: `doi-${lang}-${confirmationHours ?? 48}`,
        fields: ['fields.firstName'],
        trackingConsentField: true,
        doubleOptIn: true,
        ...(confirmationHours === undefined ? {} : { confirmationHours }),
      });
      expect(res.status).toBe(201);
      return res.body.id;
    }

    /** Fills the form as a person does (by its labels), ticks the consent box and sends it. */
    async function subscribe(page: Page, formId: string, lang: Lang, email: string, firstName: string) {
      const texts = formTexts('subscription', lang, {});
      await page.goto(`${base}/f/subscribe/${formId}?lang=${lang}`);
      await page.getByLabel(EMAIL_LABEL[lang]).fill(email);
      await page.getByLabel(FIRST_NAME_LABEL[lang]).fill(firstName);
      await page.getByLabel(texts.consentLabel).check();
      await page.getByRole('button', { name: texts.submit }).click();
      await page.getByRole('heading', { level: 1, name: texts.checkEmailTitle }).waitFor();
    }

    /** Tabs from the top of the page to the confirm button (it must be reachable by keyboard) and presses Enter. */
    async function confirmWithKeyboard(page: Page, lang: Lang) {
      const button = page.getByRole('button', { name: formTexts('subscription', lang, {}).confirmButton });
      const focused = () => button.evaluate((el) => el === document.activeElement);
      for (let i = 0; i < 10 && !(await focused()); i++) await page.keyboard.press('Tab');
      expect(await focused(), 'the confirm button is reached with Tab').toBe(true);
      expect(await button.evaluate((el) => el.matches(':focus-visible')), 'keyboard focus is visible').toBe(true);
      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.keyboard.press('Enter')]);
      await page.waitForLoadState('load');
      return response;
    }

    for (const lang of LANGS) {
      // English at a desktop width, French on a 390 px phone.
      const mobile = lang === 'fr';

      it(`(${lang}) the form only requests; a scanner's GET confirms nothing; Enter on the page's button subscribes, with both steps and their proof`, async () => {
        const texts = formTexts('subscription', lang, {});
        const formId = await newForm(lang);
        const email = `doi-${lang}@example.com`;
        const knownEmail = `known-${lang}@example.com`;
        const [merged] = await t.ctx.contacts.merge(Number(pid), [{ email: knownEmail, hasTrackingConsent: false, fields: { firstName: 'Known' } }], { source: 'api:test' });
        const knownId = String(merged!.contactId);
        const knownBefore = await contactsWith(knownEmail);
        const knownHistoryBefore = await historyOf(knownId);

        const { page, close } = await openPage(browser, { mobile });
        const errors = consoleErrors(page);
        try {
          // The form.
          await page.goto(`${base}/f/subscribe/${formId}?lang=${lang}`);
          expect(await page.getAttribute('html', 'lang')).toBe(lang);
          await expect(page.getByLabel(texts.consentLabel).isChecked()).resolves.toBe(false);
          await expectAccessible(page, `subscription form (${lang})`);
          if (mobile) await expectFitsWidth(page, 'subscription form at 390 px');
          await page.getByLabel(EMAIL_LABEL[lang]).fill(email);
          await page.getByLabel(FIRST_NAME_LABEL[lang]).fill('Zoé');
          await page.getByLabel(texts.consentLabel).check();
          await shot(page, `form-${lang}`);
          const requestedAt = now;
          await page.getByRole('button', { name: texts.submit }).click();

          // The answer: asks to check the inbox, says nothing of the address, and nothing exists yet.
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(texts.checkEmailTitle);
          await expect(page.locator('main p').textContent()).resolves.toBe(texts.checkEmailText);
          expect(await page.locator('main').textContent()).not.toContain(email);
          await expectAccessible(page, `answer page (${lang})`);
          if (mobile) await expectFitsWidth(page, 'answer page at 390 px');
          await shot(page, `answer-${lang}`);
          const answer = await page.content();
          expect(await contactsWith(email)).toEqual([]);

          // The same form with an address already known: the very same page (no enumeration), the contact untouched.
          await subscribe(page, formId, lang, knownEmail, 'Hacked');
          expect(await page.content()).toBe(answer);
          expect(await contactsWith(knownEmail)).toEqual(knownBefore);
          expect(await historyOf(knownId)).toEqual(knownHistoryBefore);

          // The email: in the person's language, one signed link, valid for the form's 48 hours.
          const mails = await newMails();
          expect(mails.map((m) => m.to).sort()).toEqual([email, knownEmail].sort());
          const mail = mails.find((m) => m.to === email)!;
          expect(mail.subject).toBe(`${texts.confirmEmailSubject} – Café Lumière`);
          expect(mail.text).toContain(VALID_48_HOURS[lang]);
          expect(mail.link.startsWith(`${t.config.publicUrl}/f/confirm/`)).toBe(true);
          expect(mail.link.endsWith(`?lang=${lang}`)).toBe(true);
          expect(mail.htmlLink).toBe(mail.link);
          const token = new URL(mail.link).pathname.split('/').at(-1)!;
          const signed = verifyConfirmationToken(t.config.secrets, token, now);
          expect(signed).toMatchObject({ projectId: Number(pid) });
          expect(signed!.expiresAt).toBe(Math.floor((requestedAt + 48 * HOUR) / 1000) * 1000);
          expect(verifyConfirmationToken(['another-secret'], token, now)).toBeNull();
          const link = local(mail.link);

          // A link scanner fetches the link (no browser, no cookies): it sees the button, and nothing happens.
          now += 60_000;
          for (const method of ['GET', 'HEAD', 'GET']) {
            const scanned = await fetch(link, { method, headers: { 'user-agent': 'Mozilla/5.0 (compatible; LinkScanner/1.0)' }, redirect: 'manual' });
            expect(scanned.status, method).toBe(200);
            if (method === 'GET') expect(await scanned.text()).toContain(`<button type="submit">${texts.confirmButton}</button>`);
          }
          expect(await contactsWith(email)).toEqual([]);
          expect((await pendingRequests()).filter((r) => r.email === email)).toHaveLength(1);

          // The person opens the link: what they confirm, and one button they reach and press with the keyboard.
          now += 4 * 60_000;
          await page.goto(link);
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(texts.confirmTitle);
          await expect(page.getByText(texts.consentLabel).isVisible()).resolves.toBe(true);
          await expectAccessible(page, `confirmation page (${lang})`);
          if (mobile) await expectFitsWidth(page, 'confirmation page at 390 px');
          await shot(page, `confirm-${lang}`);
          expect(await contactsWith(email)).toEqual([]);
          const confirmedAt = now;
          const response = await confirmWithKeyboard(page, lang);
          expect(response.status()).toBe(200);
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(texts.thanksTitle);
          await expect(page.getByRole('link', { name: lang === 'en' ? /receipt/i : /reçu/i }).isVisible()).resolves.toBe(true);
          await expectAccessible(page, `confirmed page (${lang})`);
          await shot(page, `confirmed-${lang}`);

          // Now the contact exists: active, its fields, tracking consent accepted.
          const [contact] = await contactsWith(email);
          expect(contact).toMatchObject({ status: 'active', hasTrackingConsent: true, trackingStatus: 'accepted', tracked: true, fields: { firstName: 'Zoé' } });

          // The history, as the API returns it: the request and the confirmation, each with its own proof.
          const history = await historyOf(contact!.id);
          const label = wordingHash(texts.consentLabel);
          expect(history).toHaveLength(2);
          const [requested, confirmed] = history as [HistoryEntry, HistoryEntry];
          expect(requested).toMatchObject({ action: 'double-opt-in-requested', source: `form:${formId}`, date: new Date(requestedAt).toISOString(), ip: '127.0.0.1', wordingHash: label });
          expect(requested.detail).toMatch(/^double opt-in, request \d+; tracking consent ticked$/);
          expect(confirmed).toMatchObject({ action: 'accepted', source: `form:${formId}`, date: new Date(confirmedAt).toISOString(), ip: '127.0.0.1', wordingHash: label });
          expect(confirmed.detail).toMatch(/^double opt-in, request \d+ confirmed$/);
          for (const entry of history) expect(entry.userAgent).toContain('Chrome');
          expect(confirmed.prevHash).toBe(requested.hash);
          // The wording behind the hash is the box's label, in the language it was shown in.
          const wording = await t.api<{ text: string; lang: string }>('GET', `/api/v1/projects/${pid}/consent-wordings/${label}`);
          expect(wording.body).toMatchObject({ text: texts.consentLabel, lang });

          // The link works once: opened again, it is no longer valid, and nothing more is written.
          await page.goto(link);
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(texts.confirmInvalidTitle);
          expect(await historyOf(contact!.id)).toHaveLength(2);
          expect(await contactsWith(knownEmail)).toEqual(knownBefore);
          expect(errors.unexpected([link])).toEqual([]);
        } finally {
          await close();
        }
      });

      it(`(${lang}) an expired link shows that it is no longer valid and confirms nothing, even from a page opened in time`, async () => {
        const texts = formTexts('subscription', lang, {});
        const formId = await newForm(lang, 1);
        const { page, close } = await openPage(browser, { mobile });
        const errors = consoleErrors(page);
        try {
          await subscribe(page, formId, lang, `late-${lang}@example.com`, 'Léa');
          await subscribe(page, formId, lang, `later-${lang}@example.com`, 'Léon');
          const [late, later] = await newMails();
          expect(late!.to).toBe(`late-${lang}@example.com`);
          expect(late!.text).toContain(VALID_1_HOUR[lang]);

          // Opened a minute before the hour is up, pressed a minute after: the link has expired.
          now += HOUR - 60_000;
          await page.goto(local(late!.link));
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(texts.confirmTitle);
          now += 2 * 60_000;
          const response = await confirmWithKeyboard(page, lang);
          expect(response.status()).toBe(404);
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(texts.confirmInvalidTitle);
          await expect(page.locator('main p').textContent()).resolves.toBe(texts.confirmInvalidText);

          // Opened after the hour: the page says so and offers no button.
          await page.goto(local(later!.link));
          await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(texts.confirmInvalidTitle);
          await expect(page.locator('main p').textContent()).resolves.toBe(texts.confirmInvalidText);
          await expect(page.getByRole('button').count()).resolves.toBe(0);
          await expectAccessible(page, `expired link page (${lang})`);
          if (mobile) await expectFitsWidth(page, 'expired link page at 390 px');
          await shot(page, `expired-${lang}`);

          expect(await contactsWith(`late-${lang}@example.com`)).toEqual([]);
          expect(await contactsWith(`later-${lang}@example.com`)).toEqual([]);
          expect(errors.unexpected([local(late!.link), local(later!.link)])).toEqual([]);
        } finally {
          await close();
        }
      });
    }
  });
});
