// The marketing screens in a real browser, driven by their labels: a message is written, previewed and sent, its results
// fill as an HTTP client hits the pixel and links, and no refused contact ever shows on the page or in its exports (rule 6).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOTS, addUser, expectAccessible, expectFitsWidth, haveAdminBrowser, launchChromium, openPage, screenshot, signInThroughPage, startAdminServer, type AdminServer } from '../helpers/admin-browser.js';
import { createProject, dialects, type TestApp } from '../helpers/harness.js';

const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const REFUSED = ['cy.refused@example.com', 'dee.refused@example.com'];

/** Waits for what the page shows after a debounce, a request and a render, under a loaded machine too. */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000, interval: 100 });

async function drainJobs(t: TestApp): Promise<void> {
  while (await t.ctx.jobs.runOnce()) {
    // one step at a time until nothing is due
  }
}

/** The tracking paths (`/t/o/…`, `/t/c/…`) of every email the sending wrote to the outbox, by recipient. */
async function trackingPaths(t: TestApp, sendingId: string): Promise<Map<string, { opens: string[]; clicks: string[] }>> {
  const dir = join(t.config.dataDir, 'outbox', sendingId);
  const out = new Map<string, { opens: string[]; clicks: string[] }>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.eml'))) {
    const mail = await simpleParser(readFileSync(join(dir, file)));
    const html = typeof mail.html === 'string' ? mail.html : '';
    const paths = (re: RegExp) => [...new Set([...html.matchAll(re)].map((m) => m[1] as string))];
    const to = mail.to && !Array.isArray(mail.to) ? mail.to.text : '';
    out.set(to, { opens: paths(/https?:\/\/[^/"]+(\/t\/o\/[A-Za-z0-9_-]+)/g), clicks: paths(/https?:\/\/[^/"]+(\/t\/c\/[A-Za-z0-9_-]+)/g) });
  }
  return out;
}

async function hit(base: string, path: string): Promise<number> {
  const res = await fetch(`${base}${path}`, { headers: { 'user-agent': HUMAN_UA }, redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}

/** Everything a person could read on the page, attributes included (titles, labels, tooltips, frames). */
async function pageText(page: Page): Promise<string> {
  const frames = await Promise.all(page.frames().map((f) => f.content().catch(() => '')));
  return frames.join('\n');
}

async function download(page: Page, button: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
  const path = await file.path();
  return readFileSync(path, 'utf8');
}

describe.skipIf(!haveAdminBrowser())('admin marketing screens in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  for (const dialect of dialects()) describe(dialect, () => {
    let server: AdminServer;
    let pid: string;
    let marketer: { email: string; password: string };
    let groupId: string;
    beforeAll(async () => {
      server = await startAdminServer(dialect);
      const { t } = server;
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'ana@example.com', hasTrackingConsent: true, fields: { firstName: 'Ana' } },
          { email: 'bo@example.com', fields: { firstName: 'Bo' } },
          { email: REFUSED[0], hasTrackingConsent: false, fields: { firstName: 'Cy' } },
          { email: REFUSED[1], hasTrackingConsent: false },
          { email: 'outside@elsewhere.org' },
        ],
      });
      expect(merged.status).toBe(200);
      const group = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/groups`, {
        name: 'Example readers',
        criteria: { field: 'email', op: 'endsWith', value: '@example.com' },
      });
      groupId = group.body.id;
      marketer = await addUser(t, 'marketer', [pid]);
    });
    afterAll(async () => server?.close());

    it('a marketer writes a message, previews it, sends it to a group and watches the results fill; no refused contact shows anywhere', async () => {
      const { page, errors, close } = await openPage(browser);
      page.setDefaultTimeout(10_000);
      try {
        await signInThroughPage(page, server.base, marketer.email, marketer.password);
        await page.goto(`${server.base}/admin/projects/${pid}/messages`);
        await page.getByRole('link', { name: 'New message' }).click();
        await page.getByLabel('Name', { exact: true }).fill('Spring news');
        await page.getByLabel('Subject', { exact: true }).fill('Hello {{contact.firstName | "there"}}');
        await page
          .getByLabel('HTML', { exact: true })
          .fill('<html><body><p>Hi {{contact.firstName}}</p><a href="https://example.com/spring">Spring sale</a> <a href="https://example.com/faq">FAQ</a></body></html>');
        await page.getByLabel('Text version', { exact: true }).fill('Spring sale: https://example.com/spring');
        // A bad merge tag is reported beside the field that holds it.
        await page.getByLabel('Subject', { exact: true }).fill('Hello {{contact.}}');
        await poll(() => page.getByText(/unknown tag \{\{contact\.\}\}/).count()).toBeGreaterThan(0);
        await page.getByLabel('Subject', { exact: true }).fill('Hello {{contact.firstName | "there"}}');
        await page.getByLabel('Preview as').selectOption({ label: 'ana@example.com · tracked' });
        const frame = page.frameLocator('iframe[title="Email preview, desktop width"]');
        await frame.getByText('Hi Ana').waitFor({ timeout: 30_000 });
        await poll(() => page.getByText('Hello Ana').count()).toBeGreaterThan(0);
        await poll(() => page.locator('.tracking-url').count()).toBe(3);
        await page.getByRole('radio', { name: 'Mobile' }).check();
        await page.frameLocator('iframe[title="Email preview, mobile width"]').getByText('Spring sale').waitFor();
        await page.getByRole('radio', { name: 'Plain text' }).check();
        await page.getByText(/^Spring sale: http:\/\/.+\/t\/c\//).waitFor();
        await page.getByRole('radio', { name: 'Desktop' }).check();
        await page.getByRole('button', { name: 'Create message' }).click();
        await page.waitForURL(/\/messages\/\d+$/);
        await expectAccessible(page, 'message editor');
        if (dialect === 'sqlite') await screenshot(page, 'message-editor');

        await page.getByRole('radio', { name: 'A group' }).check();
        await page.getByLabel('Group', { exact: true }).selectOption({ label: 'Example readers' });
        const recipients = page.locator('.recipients');
        await poll(() => recipients.textContent()).toMatch(/Recipients\s*4.*Tracked\s*2.*Untracked\s*2/s);
        await page.getByRole('button', { name: 'Send…' }).click();
        const dialog = page.getByRole('dialog');
        await expect(dialog.textContent()).resolves.toContain('4 contacts: 2 tracked and 2 untracked');
        await expectAccessible(page, 'send confirmation');
        await dialog.getByRole('button', { name: 'Send now' }).click();
        await page.waitForURL(/\/sendings\/\d+$/);
        const sid = page.url().split('/').pop()!;
        await page.getByRole('heading', { name: 'Results: Spring news' }).waitFor();

        await drainJobs(server.t);
        await page.getByText('Sent', { exact: true }).waitFor();
        const mails = await trackingPaths(server.t, sid);
        expect([...mails.keys()].sort()).toEqual(['ana@example.com', 'bo@example.com', ...REFUSED].sort());
        const ana = mails.get('ana@example.com')!;
        const cy = mails.get(REFUSED[0]!)!;
        expect(await hit(server.base, ana.opens[0]!)).toBe(200);
        expect(await hit(server.base, ana.clicks[0]!)).toBe(302);
        expect(await hit(server.base, cy.opens[0]!)).toBe(200);
        expect(await hit(server.base, cy.clicks[1]!)).toBe(302);
        expect(await hit(server.base, cy.clicks[1]!)).toBe(302);

        // The page polls: the figures, charts and list fill without a reload.
        const figures = page.locator('section', { has: page.getByRole('heading', { name: 'Figures' }) });
        await poll(() => figures.textContent()).toMatch(/Opens\s*Total\s*2\s*Unique\s*2/);
        await expect(figures.textContent()).resolves.toMatch(/Targeted\s*4\s*Delivered\s*4\s*Tracked\s*2\s*Untracked\s*2/);
        await expect(figures.textContent()).resolves.toMatch(/Clicks\s*Total\s*3\s*Unique\s*2/);
        await page.getByText('2 untracked contacts', { exact: true }).waitFor();
        const list = page.getByRole('table', { name: 'Tracked contacts' });
        await list.getByRole('row', { name: /ana@example\.com\s*1\s*1/ }).waitFor();
        await expect(list.getByRole('row').count()).resolves.toBe(3);
        await poll(() => page.locator('figure.chart svg').count()).toBe(4);
        await page.getByText('Show the figures as a table').nth(1).click();
        await page.getByRole('cell', { name: 'https://example.com/faq' }).waitFor();

        const text = await pageText(page);
        for (const email of REFUSED) expect(text).not.toContain(email);
        const csv = await download(page, 'Export CSV');
        const ndjson = await download(page, 'Export NDJSON');
        expect(csv.split('\n').filter(Boolean).length).toBe(1 + 5);
        expect(ndjson.split('\n').filter(Boolean).length).toBe(5);
        expect(csv).toContain('ana@example.com');
        for (const email of REFUSED) {
          expect(csv).not.toContain(email);
          expect(ndjson).not.toContain(email);
        }
        await expectAccessible(page, 'sending results');
        if (dialect === 'sqlite') await screenshot(page, 'sending-results');
        // The only error is the browser's own line for the 400 that reported the bad merge tag.
        expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
      } catch (error) {
        await screenshot(page, `failed-${dialect}`);
        throw error;
      } finally {
        await close();
      }
    }, 90_000);

    it('the results page in French says "contacts non suivis", fits 390 px, and the dashboard lists the sending', async () => {
      const sendings = await server.t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/sendings`);
      const sid = sendings.body.items[0]!.id;
      const { page, errors, close } = await openPage(browser, { mobile: true, locale: 'fr-CA' });
      try {
        await signInThroughPage(page, server.base, marketer.email, marketer.password, { email: 'Adresse courriel', password: 'Mot de passe', submit: 'Se connecter' });
        await page.goto(`${server.base}/admin/projects/${pid}/sendings/${sid}`);
        await page.getByText('2 contacts non suivis', { exact: true }).waitFor();
        await poll(() => page.locator('figure.chart svg').count()).toBe(4);
        await expectFitsWidth(page, 'sending results at 390 px');
        await expectAccessible(page, 'sending results in French');
        if (dialect === 'sqlite') await screenshot(page, 'sending-results-fr-390');
        const text = await pageText(page);
        for (const email of REFUSED) expect(text).not.toContain(email);

        await page.goto(`${server.base}/admin/projects/${pid}`);
        await page.waitForURL(/\/dashboard$/);
        await page.getByRole('link', { name: 'Spring news' }).waitFor();
        await expect(page.locator('main').textContent()).resolves.toMatch(/Refusé\s*:\s*2/);
        await expectFitsWidth(page, 'dashboard at 390 px');
        await expectAccessible(page, 'dashboard');
        if (dialect === 'sqlite') await screenshot(page, 'dashboard-fr-390');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });

    it('an injection rule with "Apply only to tracked contacts" shows a tracked and an anonymous click, and saves the option', async () => {
      const { page, errors, close } = await openPage(browser);
      page.setDefaultTimeout(10_000);
      try {
        await signInThroughPage(page, server.base, marketer.email, marketer.password);
        await page.goto(`${server.base}/admin/projects/${pid}/injection-rules`);
        await page.getByRole('link', { name: 'New rule' }).click();
        await page.getByLabel('Name', { exact: true }).fill('Shop campaign tags');
        await page.getByLabel('Domains', { exact: true }).fill('example.com');
        await page.getByRole('button', { name: 'Add a parameter' }).click();
        await page.getByLabel('Parameter 4 name').fill('cid');
        await page.getByLabel('Parameter 4 value').fill('{{contact.id}}');
        await page.getByLabel('Example link').fill('https://shop.example.com/sale');
        const option = page.getByLabel('Apply only to tracked contacts');
        await expect(option.isChecked()).resolves.toBe(true);
        const example = page.locator('dl.examples');
        await poll(() => example.textContent()).toMatch(/A tracked click goes to.*utm_source=trackguard.*cid=42.*An anonymous click goes tohttps:\/\/shop\.example\.com\/sale$/);
        await page.getByText('Left out of anonymous clicks: utm_source, utm_medium, utm_campaign, cid.').waitFor();
        await option.uncheck();
        await poll(() => example.textContent()).toMatch(/An anonymous click goes tohttps:\/\/shop\.example\.com\/sale\?utm_source=trackguard&utm_medium=email&utm_campaign=Example(\+|%20)message$/);
        await page.getByText('Left out of anonymous clicks: cid.').waitFor();
        await option.check();
        await page.getByRole('button', { name: 'Create rule' }).click();
        await page.waitForURL(/\/injection-rules\/\d+$/);
        const rules = await server.t.api<{ items: { name: string; onlyTrackedContacts: boolean; params: { name: string }[] }[] }>('GET', `/api/v1/projects/${pid}/injection-rules`);
        expect(rules.body.items.find((r) => r.name === 'Shop campaign tags')).toMatchObject({ onlyTrackedContacts: true, params: [{ name: 'utm_source' }, { name: 'utm_medium' }, { name: 'utm_campaign' }, { name: 'cid' }] });
        await expectAccessible(page, 'injection rule');
        if (dialect === 'sqlite') await screenshot(page, 'injection-rule');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 60_000);

    it('"did not open in 90 days" built in the builder counts live and never pulls in the refused contacts', async () => {
      const criteria = { all: [{ not: { behavior: 'opened', withinDays: 90 } }] };
      const expected = await server.t.api<{ count: number }>('POST', `/api/v1/projects/${pid}/groups/count`, { criteria });
      const everyone = await server.t.api<{ count: number }>('POST', `/api/v1/projects/${pid}/groups/count`, { criteria: { all: [] } });
      const { page, errors, close } = await openPage(browser);
      page.setDefaultTimeout(10_000);
      try {
        await signInThroughPage(page, server.base, marketer.email, marketer.password);
        await page.goto(`${server.base}/admin/projects/${pid}/groups/new`);
        await page.getByLabel('Name', { exact: true }).fill('Re-engagement');
        await page.getByText(`${everyone.body.count} contacts match now`).waitFor();
        await page.getByRole('button', { name: 'Add a behaviour condition' }).click();
        const clause = page.getByRole('group', { name: 'Behaviour condition' });
        await expect(clause.getByLabel('Behaviour', { exact: true }).inputValue()).resolves.toBe('opened');
        await clause.getByText('Contacts who are not tracked never match this condition, whether it is negated or not.').waitFor();
        await clause.getByLabel('Did not (negate)').check();
        await clause.getByLabel('Within the last days').fill('90');
        await page.getByText(`${expected.body.count} contacts match now`).waitFor();
        // The refused contacts neither opened nor are counted: the count is below everyone minus the one who opened.
        expect(expected.body.count).toBeLessThanOrEqual(everyone.body.count - REFUSED.length);
        await expectAccessible(page, 'group builder');
        await page.getByRole('button', { name: 'Create group' }).click();
        await page.waitForURL(/\/groups\/\d+$/);
        const gid = page.url().split('/').pop()!;
        const saved = await server.t.api<{ criteria: unknown }>('GET', `/api/v1/projects/${pid}/groups/${gid}`);
        expect(saved.body.criteria).toEqual(criteria);
        const members = page.getByRole('table', { name: 'Members' });
        await poll(() => members.getByRole('row').count()).toBe(expected.body.count + 1);
        const text = await pageText(page);
        for (const email of REFUSED) expect(text).not.toContain(email);
        if (dialect === 'sqlite') await screenshot(page, 'group-builder');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 60_000);

    it("the unsubscribe form's offer of the tracking opt-out is configured and shows in the French preview", async () => {
      const { page, errors, close } = await openPage(browser);
      page.setDefaultTimeout(10_000);
      try {
        await signInThroughPage(page, server.base, marketer.email, marketer.password);
        await page.goto(`${server.base}/admin/projects/${pid}/forms`);
        const section = page.locator('section', { has: page.getByRole('heading', { name: 'Unsubscribe form', exact: true }) });
        // Every kind of SPEC §3 is there, each previewed as its hosted page.
        const profile = page.locator('section', { has: page.getByRole('heading', { name: 'Profile form', exact: true }) });
        await profile.frameLocator('iframe[title="Preview in French"]').getByRole('heading', { name: 'Vos préférences' }).waitFor();
        await expect(profile.getByLabel('Show the tracking-consent field (never pre-ticked)').isChecked()).resolves.toBe(true);
        const optOut = page.locator('section', { has: page.getByRole('heading', { name: 'Behavioral tracking opt-out', exact: true }) });
        await optOut.frameLocator('iframe[title="Preview in English"]').getByRole('heading', { name: 'Measurement of your interactions' }).waitFor();
        if (dialect === 'sqlite') await profile.screenshot({ path: join(SHOTS, 'forms-profile.png') });
        const offer = section.getByLabel('Offer the option to opt-out from behavioral tracking');
        const french = section.frameLocator('iframe[title="Preview in French"]');
        await offer.uncheck();
        await french.getByRole('heading', { name: 'Désabonnement' }).waitFor();
        await poll(() => french.getByText('Gérer la mesure de mes interactions').count()).toBe(0);
        await offer.check();
        await french.getByRole('link', { name: 'Gérer la mesure de mes interactions' }).waitFor();
        await french.getByText(/Vous pouvez plutôt refuser la mesure de vos interactions/).waitFor();
        await section.frameLocator('iframe[title="Preview in English"]').getByRole('link', { name: 'Manage the measurement of my interactions' }).waitFor();
        await section.getByRole('button', { name: 'Save' }).click();
        await section.getByText('Saved.').waitFor();
        const forms = await server.t.api<{ items: { kind: string; offerTrackingOptOut?: boolean }[] }>('GET', `/api/v1/projects/${pid}/forms`);
        expect(forms.body.items.find((f) => f.kind === 'unsubscribe')).toMatchObject({ offerTrackingOptOut: true });
        const hosted = await server.t.api<string>('POST', `/api/v1/projects/${pid}/forms/preview`, { kind: 'unsubscribe', lang: 'fr', offerTrackingOptOut: true });
        expect(hosted.status).toBe(200);
        await expectAccessible(page, 'forms');
        if (dialect === 'sqlite') await screenshot(page, 'forms');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 60_000);

    it('a campaign with a behavioural condition is drawn as its steps and counts "left: untracked" at the condition', async () => {
      const message = await server.t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, {
        channel: 'email',
        name: 'Welcome series',
        communicationType: 'newsletter',
        subject: 'Welcome',
        html: '<p>Welcome <a href="https://example.com/start">start</a></p>',
      });
      expect(message.status).toBe(201);
      const { page, errors, close } = await openPage(browser);
      page.setDefaultTimeout(10_000);
      try {
        await signInThroughPage(page, server.base, marketer.email, marketer.password);
        await page.goto(`${server.base}/admin/projects/${pid}/campaigns/new`);
        await page.getByLabel('Name', { exact: true }).fill('Welcome journey');
        await page.getByLabel('Group', { exact: true }).selectOption({ label: 'Example readers' });
        const send = page.getByRole('region', { name: /^Send step/ });
        await send.getByLabel('Message to send').selectOption({ label: 'Welcome series' });
        await page.getByRole('region', { name: /^Wait step/ }).getByRole('button', { name: 'Remove this step' }).click();
        const condition = page.getByRole('region', { name: /^Condition step/ });
        await expect(condition.getByLabel('Behaviour', { exact: true }).inputValue()).resolves.toBe('opened');
        await condition.getByText('This condition is on behaviour: contacts who are not tracked leave the campaign here (left: untracked).').waitFor();
        await page.getByRole('button', { name: 'Create campaign' }).click();
        await page.waitForURL(/\/campaigns\/\d+$/);
        const cid = page.url().split('/').pop()!;
        await page.getByRole('button', { name: 'Start' }).click();
        await page.getByText('Running', { exact: true }).waitFor();
        await drainJobs(server.t);
        await page.reload();
        const stepAt = page.getByRole('region', { name: /^Condition step/ });
        await stepAt.getByText('left: untracked 2').waitFor();
        await page.getByRole('region', { name: /^Send step/ }).getByText('Reached: 4').waitFor();
        const stats = await server.t.api<{ leftUntracked: number }>('GET', `/api/v1/projects/${pid}/campaigns/${cid}/stats`);
        expect(stats.body.leftUntracked).toBe(2);
        await expectAccessible(page, 'campaign');
        if (dialect === 'sqlite') await screenshot(page, 'campaign');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 60_000);

    it('a viewer reads messages and results but sees no control that changes them', async () => {
      const viewer = await addUser(server.t, 'viewer', [pid]);
      const messages = await server.t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/messages`);
      const { page, errors, close } = await openPage(browser);
      try {
        await signInThroughPage(page, server.base, viewer.email, viewer.password);
        await page.goto(`${server.base}/admin/projects/${pid}/messages`);
        await page.getByRole('link', { name: 'Spring news' }).waitFor();
        await expect(page.getByRole('link', { name: 'New message' }).count()).resolves.toBe(0);
        await page.goto(`${server.base}/admin/projects/${pid}/messages/${messages.body.items[0]!.id}`);
        await page.getByLabel('Subject', { exact: true }).waitFor();
        await expect(page.getByLabel('Subject', { exact: true }).getAttribute('readonly')).resolves.not.toBeNull();
        await expect(page.getByRole('button', { name: /Save|Send|Create/ }).count()).resolves.toBe(0);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
      expect(groupId).toBeTruthy();
    });

    // Runs last: it adds contacts to the group and withdraws a consent, which the tests above do not expect.
    it('after a withdrawal the Untracked card gives both readings, the page lists who the sending left out, and the navigation fits 1280 and 390 px', async () => {
      const { t } = server;
      const base = `/api/v1/projects/${pid}`;
      await t.api('POST', `${base}/contacts/merge`, {
        records: [
          { email: 'quarantined@example.com', status: 'quarantine' },
          { email: 'unsubscribed@example.com', status: 'inactive' },
        ],
      });
      const count = (await t.api<{ count: number }>('GET', `${base}/groups/${groupId}/count`)).body.count;
      const messages = await t.api<{ items: { id: string; name: string }[] }>('GET', `${base}/messages`);
      const messageId = messages.body.items.find((m) => m.name === 'Spring news')!.id;
      const created = await t.api<{ id: string; targeted: number; excluded: Record<string, number> }>('POST', `${base}/sendings`, { messageId, target: { groupId } });
      expect(created.body.excluded).toEqual({ unsubscribed: 1, quarantined: 1, noAddress: 0 });
      expect(created.body.targeted + 2).toBe(count);
      await drainJobs(t);
      // Bo was tracked (opt-out, unanswered) when the message left, and refuses since.
      const refusal = await t.api<{ results: { consent: string }[] }>('POST', `${base}/contacts/merge`, { records: [{ email: 'bo@example.com', hasTrackingConsent: false }] });
      expect(refusal.body.results[0]!.consent).toBe('applied');
      const url = `${server.base}/admin/projects/${pid}/sendings/${created.body.id}`;
      const nav = (page: Page) => page.getByRole('navigation', { name: /Main|Principale/ });
      /** Every navigation link lies inside the viewport (none cut at the right edge), the last one included. */
      const expectNavInside = async (page: Page, width: number, where: string) => {
        const links = nav(page).getByRole('link');
        const n = await links.count();
        expect(n, where).toBeGreaterThanOrEqual(13);
        for (let i = 0; i < n; i++) {
          const box = await links.nth(i).boundingBox();
          expect(box, `${where}: link ${i}`).not.toBeNull();
          expect(box!.x, `${where}: link ${i} left`).toBeGreaterThanOrEqual(0);
          expect(box!.x + box!.width, `${where}: link ${i} right`).toBeLessThanOrEqual(width);
        }
      };

      for (const [locale, labels, figure, left, legend] of [
        ['en-US', undefined, /Untracked\s*2 at sending · 3 now/, /Unsubscribed\s*1\s*Quarantined\s*1\s*No address for this channel\s*0/, '3 untracked contacts'],
        [
          'fr-CA',
          { email: 'Adresse courriel', password: 'Mot de passe', submit: 'Se connecter' },
          /Non suivis\s*2 à l'envoi · 3 maintenant/,
          /Désabonnés\s*1\s*En quarantaine\s*1\s*Sans adresse pour ce canal\s*0/,
          '3 contacts non suivis',
        ],
      ] as const) {
        for (const mobile of [false, true]) {
          const width = mobile ? 390 : 1280;
          const where = `results ${locale} at ${width} px`;
          const { page, errors, close } = await openPage(browser, { mobile, locale });
          try {
            await signInThroughPage(page, server.base, marketer.email, marketer.password, labels);
            await page.goto(url);
            await page.getByText(legend, { exact: true }).waitFor();
            const figures = page.locator('section', { has: page.getByRole('heading', { name: /Figures|Chiffres/ }) });
            await expect(figures.textContent()).resolves.toMatch(figure);
            await page.getByRole('heading', { name: locale === 'en-US' ? 'Not sent to' : 'Non destinataires' }).waitFor();
            await expect(figures.textContent()).resolves.toMatch(left);
            await expectNavInside(page, width, where);
            if (mobile) await expectFitsWidth(page, where);
            await expectAccessible(page, where);
            if (dialect === 'sqlite') {
              await screenshot(page, `sending-withdrawal-${locale}-${width}`);
              // The top of the page as first seen: the navigation and the figures.
              await page.screenshot({ path: join(SHOTS, `sending-withdrawal-${locale}-${width}-top.png`) });
              await figures.screenshot({ path: join(SHOTS, `sending-withdrawal-${locale}-${width}-figures.png`) });
            }
            // The navigation works from the keyboard: focus its "Sendings" link, press Enter.
            await nav(page).getByRole('link', { name: locale === 'en-US' ? 'Sendings' : 'Envois' }).focus();
            await page.keyboard.press('Enter');
            await page.waitForURL(/\/sendings$/);
            expect(errors, where).toEqual([]);
          } catch (error) {
            await screenshot(page, `failed-withdrawal-${dialect}-${locale}-${width}`);
            throw error;
          } finally {
            await close();
          }
        }
      }
    }, 120_000);
  });
});
