// In a real browser: the receipt a person downloads from a confirmation page is the proof they keep, so the
// file as saved must verify and one altered byte must not; and a form sent with Global Privacy Control still
// applies the person's choice but leaves only an anonymous event (SPEC §14).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formTexts, type Lang } from '../../src/domain/form.js';
import { contactPageUrl } from '../../src/services/forms.service.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-results', 'screenshots');
const haveBrowser = existsSync(CHROMIUM);

if (!haveBrowser) {
  // CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: the browser tests cannot run (apt-get install chromium)`);
  console.warn(`Skipping browser tests of receipts and GPC: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}

const RECEIPT_LINK: Record<Lang, RegExp> = { en: /receipt/i, fr: /reçu/i };

/** One byte changed at `at` (to another printable character). */
function altered(text: string, at: number): string {
  const bytes = Buffer.from(text, 'utf8');
  bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
  return bytes.toString('utf8');
}

describe.skipIf(!haveBrowser)('receipts and GPC on hosted forms in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => browser?.close());

  for (const dialect of dialects()) describe(dialect, () => {
    let t: TestApp;
    let base: string;
    let pid: number;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      if (!address || typeof address === 'string') throw new Error('server has no port');
      base = `http://127.0.0.1:${address.port}`;
      pid = Number(await createProject(t, { tracking: { enabled: true, mode: 'opt-out' }, branding: { name: 'Café Lumière', contact: 'privacy@cafe.example' } }));
    });
    afterAll(async () => t?.close());

    const local = (url: string) => url.replace(t.config.publicUrl, base);
    async function newContact(email: string, hasTrackingConsent: boolean | null): Promise<number> {
      const [merged] = await t.ctx.contacts.merge(pid, [{ email, ...(hasTrackingConsent === null ? {} : { hasTrackingConsent }) }], { source: 'api:test' });
      return Number(merged!.contactId);
    }
    const formEvents = (type: string) =>
      t.ctx.store.db.selectFrom('events').selectAll().where('project_id', '=', pid).where('type', '=', type as 'form_submit').orderBy('id', 'desc').execute();

    for (const lang of ['en', 'fr'] as Lang[]) {
      it(`tracking opt-out (${lang}): the confirmation page links the receipt; the downloaded file verifies, one altered byte does not`, async () => {
        const cid = await newContact(`receipt-${lang}@example.com`, true);
        const texts = formTexts('tracking-optout', lang, {});
        // Plain HTML forms: the pages must work without JavaScript.
        const context = await browser.newContext({ javaScriptEnabled: false, acceptDownloads: true, viewport: { width: 800, height: 900 } });
        try {
          const page = await context.newPage();
          await page.goto(`${local(contactPageUrl(t.config, 'tracking-optout', pid, cid))}?lang=${lang}`);
          await page.getByRole('button', { name: texts.refuseButton }).click();
          await expect(page.locator('h1').textContent()).resolves.toBe(texts.refusedTitle);
          const link = page.getByRole('link', { name: RECEIPT_LINK[lang] });
          await expect(link.isVisible()).resolves.toBe(true);
          await expect(link.getAttribute('type')).resolves.toBe('application/json');
          if (dialect === 'sqlite') await page.screenshot({ path: join(SHOTS, `receipt-confirmation-${lang}.png`), fullPage: true });

          const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
          expect(download.suggestedFilename()).toMatch(/^consent-receipt-\d+\.json$/);
          const file = readFileSync(await download.path(), 'utf8');
          const verdict = await t.ctx.receipts.verify(file);
          expect(verdict).toMatchObject({ ok: true, receipt: { receipt: { event: { action: 'refused', source: 'tracking-optout-form' }, subject: { email: `receipt-${lang}@example.com` } } } });

          // One altered byte anywhere (the action's date, the ledger position, the signature) fails.
          const positions = [file.indexOf('"timestamp"') + 16, file.indexOf('"position"') + 12, file.lastIndexOf('"value"') + 12];
          for (const at of positions) {
            expect(at).toBeGreaterThan(20);
            const verdictAltered = await t.ctx.receipts.verify(altered(file, at));
            expect(verdictAltered.ok, `byte ${at} altered`).toBe(false);
          }
          expect((await t.ctx.receipts.verify(file.replace('"refused"', '"accepted"'))).ok).toBe(false);
        } finally {
          await context.close();
        }
      });
    }

    it('profile form sent with Sec-GPC: 1: the form works, its event is anonymous; the same form without GPC is identified', async () => {
      const texts = formTexts('profile', 'en', {});
      for (const gpc of [false, true]) {
        const cid = await newContact(`gpc-profile-${gpc}@example.com`, true);
        const context = await browser.newContext({ javaScriptEnabled: false, ...(gpc ? { extraHTTPHeaders: { 'Sec-GPC': '1' } } : {}) });
        try {
          const page = await context.newPage();
          const sent: (string | undefined)[] = [];
          page.on('request', (r) => {
            if (r.method() === 'POST') sent.push(r.headers()['sec-gpc']);
          });
          await page.goto(`${local(contactPageUrl(t.config, 'profile', pid, cid))}?lang=en`);
          await expect(page.getByLabel(texts.consentLabel).isChecked()).resolves.toBe(true);
          await page.getByRole('button', { name: texts.submit }).click();
          await expect(page.locator('h1').textContent()).resolves.toBe(texts.thanksTitle);
          expect(sent).toEqual([gpc ? '1' : undefined]);
          // GPC changes nothing of the person's consent: it still says tracked.
          expect((await t.ctx.contacts.get(pid, cid)).hasTrackingConsent).toBe(true);
          const [event] = await formEvents('form_submit');
          if (gpc) {
            expect(event).toMatchObject({ contact_id: null, ip: null, user_agent: null, name: 'profile' });
            expect(Number(event!.at) % 60_000).toBe(0);
          } else {
            expect(event).toMatchObject({ contact_id: cid, ip: '127.0.0.1', name: 'profile' });
          }
        } finally {
          await context.close();
        }
      }
    });

    it('tracking opt-out form sent with Sec-GPC: 1 — accepting still records the acceptance and its receipt, the form event stays anonymous', async () => {
      const cid = await newContact('gpc-accept@example.com', null);
      const texts = formTexts('tracking-optout', 'en', {});
      const context = await browser.newContext({ javaScriptEnabled: false, extraHTTPHeaders: { 'Sec-GPC': '1' } });
      try {
        const page = await context.newPage();
        const before = (await formEvents('form_submit'))[0]?.id ?? 0;
        await page.goto(`${local(contactPageUrl(t.config, 'tracking-optout', pid, cid))}?lang=en`);
        await page.getByRole('button', { name: texts.acceptButton }).click();
        await expect(page.locator('h1').textContent()).resolves.toBe(texts.acceptedTitle);
        await expect(page.getByRole('link', { name: RECEIPT_LINK.en }).isVisible()).resolves.toBe(true);
        expect((await t.ctx.contacts.get(pid, cid)).hasTrackingConsent).toBe(true);
        expect((await t.ctx.consent.history(pid, cid)).at(-1)).toMatchObject({ action: 'accepted', source: 'tracking-optout-form' });
        const [event] = await formEvents('form_submit');
        expect(Number(event!.id)).toBeGreaterThan(Number(before));
        expect(event).toMatchObject({ contact_id: null, ip: null, user_agent: null, name: 'tracking-optout' });
      } finally {
        await context.close();
      }
    });
  });
});
