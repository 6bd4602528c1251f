// A person gives or withdraws consent in a real browser, with JavaScript off: the pages must work as plain
// HTML forms (labels, CSRF token, same-origin POST) and leave the proof in the consent history.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formTexts, type Lang, optOutWording, wordingHash } from '../../src/domain/form.js';
import { contactPageUrl } from '../../src/services/forms.service.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-results', 'screenshots');
const haveBrowser = existsSync(CHROMIUM);

if (!haveBrowser) {
  // CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: the browser tests cannot run (apt-get install chromium)`);
  console.warn(`Skipping browser tests of the hosted forms: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}

const LANGS: Lang[] = ['en', 'fr'];

describe.skipIf(!haveBrowser)('hosted forms in Chromium', () => {
  // One browser for the whole file; each dialect gets its own server and browser context.
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => browser?.close());

  for (const dialect of dialects()) describe(dialect, () => {
    let t: TestApp;
    let base: string;
    let context: BrowserContext;
    let page: Page;
    let pid: number;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      if (!address || typeof address === 'string') throw new Error('server has no port');
      base = `http://127.0.0.1:${address.port}`;
      pid = Number(await createProject(t, { tracking: { enabled: true, mode: 'opt-in' }, branding: { name: 'Café Lumière', color: '#7c2d12' } }));
      // No JavaScript: the pages are plain HTML forms.
      context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 800, height: 900 } });
      page = await context.newPage();
    });
    afterAll(async () => {
      await context?.close();
      await t?.close();
    });

    // The pages are the same on both databases: one set of screenshots is enough.
    const shot = async (name: string) => {
      if (dialect === 'sqlite') await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    };
    const history = (cid: number) => t.ctx.consent.history(pid, cid);
    const local = (url: string) => url.replace(t.config.publicUrl, base);

    async function contactByEmail(email: string) {
      const { items } = await t.ctx.contacts.list(pid, { email, limit: 1 });
      expect(items).toHaveLength(1);
      return items[0]!;
    }

    for (const lang of LANGS) {
      it(`subscription form (${lang}): fill, tick the box and submit; acceptance recorded with its proof`, async () => {
        const form = await t.ctx.forms.create(pid, { kind: 'subscription', name: `news-${lang}`, fields: ['fields.firstName'], trackingConsentField: true });
        const texts = formTexts('subscription', lang, {});
        await page.goto(`${base}/f/subscribe/${form.id}?lang=${lang}`);
        expect(await page.getAttribute('html', 'lang')).toBe(lang);
        await expect(page.getByLabel(texts.consentLabel).isChecked()).resolves.toBe(false);
        await page.getByLabel(lang === 'en' ? 'Email address' : 'Adresse courriel').fill(`sub-${lang}@example.com`);
        await page.getByLabel(lang === 'en' ? 'First name' : 'Prénom').fill('Zoé <b>');
        await page.getByLabel(texts.consentLabel).check();
        await shot(`subscription-${lang}`);
        await page.getByRole('button', { name: texts.submit }).click();
        await expect(page.locator('h1').textContent()).resolves.toBe(texts.thanksTitle);
        await shot(`subscription-${lang}-done`);
        const contact = await contactByEmail(`sub-${lang}@example.com`);
        expect(contact).toMatchObject({ hasTrackingConsent: true, fields: { firstName: 'Zoé <b>' } });
        const [entry] = await history(contact.id);
        expect(entry).toMatchObject({ action: 'accepted', source: `form:${form.id}`, ip: '127.0.0.1', wording_hash: wordingHash(texts.consentLabel) });
        expect(entry!.user_agent).toContain('Chrome');
      });

      it(`profile form (${lang}): shows the current values, unticking the box records a refusal`, async () => {
        const [merged] = await t.ctx.contacts.merge(pid, [{ email: `profile-${lang}@example.com`, fields: { firstName: 'Ana' }, hasTrackingConsent: true }], { source: 'api:test' });
        const cid = Number(merged!.contactId);
        const texts = formTexts('profile', lang, {});
        await page.goto(`${local(contactPageUrl(t.config, 'profile', pid, cid))}?lang=${lang}`);
        const consent = page.getByLabel(texts.consentLabel);
        await expect(consent.isChecked()).resolves.toBe(true);
        await expect(page.getByLabel(lang === 'en' ? 'Email address' : 'Adresse courriel').inputValue()).resolves.toBe(`profile-${lang}@example.com`);
        await consent.uncheck();
        await shot(`profile-${lang}`);
        await page.getByRole('button', { name: texts.submit }).click();
        await expect(page.locator('h1').textContent()).resolves.toBe(texts.thanksTitle);
        const contact = await t.ctx.contacts.get(pid, cid);
        expect(contact.hasTrackingConsent).toBe(false);
        expect((await history(cid)).at(-1)).toMatchObject({ action: 'refused', source: 'form:profile', ip: '127.0.0.1', wording_hash: wordingHash(texts.consentLabel) });
      });

      it(`tracking opt-out form (${lang}): viewing changes nothing, refuse then accept again`, async () => {
        const [merged] = await t.ctx.contacts.merge(pid, [{ email: `optout-${lang}@example.com`, hasTrackingConsent: true }], { source: 'api:test' });
        const cid = Number(merged!.contactId);
        const texts = formTexts('tracking-optout', lang, {});
        await page.goto(`${local(contactPageUrl(t.config, 'tracking-optout', pid, cid))}?lang=${lang}`);
        await shot(`tracking-optout-${lang}`);
        expect(await history(cid)).toHaveLength(1);
        await page.getByRole('button', { name: texts.refuseButton }).click();
        await expect(page.locator('h1').textContent()).resolves.toBe(texts.refusedTitle);
        await shot(`tracking-optout-${lang}-refused`);
        expect((await t.ctx.contacts.get(pid, cid)).hasTrackingConsent).toBe(false);
        expect((await history(cid)).at(-1)).toMatchObject({ action: 'refused', source: 'tracking-optout-form', ip: '127.0.0.1', wording_hash: wordingHash(optOutWording(texts, false)) });
        await page.getByRole('button', { name: texts.acceptButton }).click();
        await expect(page.locator('h1').textContent()).resolves.toBe(texts.acceptedTitle);
        expect((await t.ctx.contacts.get(pid, cid)).hasTrackingConsent).toBe(true);
        expect((await history(cid)).at(-1)).toMatchObject({ action: 'accepted', source: 'tracking-optout-form', wording_hash: wordingHash(optOutWording(texts, true)) });
      });

      it(`unsubscribe form (${lang}): unsubscribes, then offers the tracking opt-out of the same contact`, async () => {
        const form = await t.ctx.forms.create(pid, { kind: 'unsubscribe', name: `unsub-${lang}`, offerTrackingOptOut: true });
        const [merged] = await t.ctx.contacts.merge(pid, [{ email: `unsub-${lang}@example.com` }], { source: 'api:test' });
        const cid = Number(merged!.contactId);
        const texts = formTexts('unsubscribe', lang, {});
        await page.goto(`${local(contactPageUrl(t.config, 'unsubscribe', pid, cid))}?lang=${lang}`);
        await shot(`unsubscribe-${lang}`);
        expect((await t.ctx.contacts.get(pid, cid)).status).toBe('active');
        await page.getByRole('button', { name: texts.submit }).click();
        await expect(page.locator('h1').textContent()).resolves.toBe(texts.thanksTitle);
        await shot(`unsubscribe-${lang}-done`);
        expect((await t.ctx.contacts.get(pid, cid)).status).toBe('inactive');
        await page.getByRole('link', { name: texts.optOutLink }).click();
        expect(page.url()).toBe(`${local(contactPageUrl(t.config, 'tracking-optout', pid, cid))}?lang=${lang}`);
        await expect(page.locator('h1').textContent()).resolves.toBe(formTexts('tracking-optout', lang, {}).title);
        await t.ctx.forms.remove(pid, form.id);
      });
    }
  });
});
