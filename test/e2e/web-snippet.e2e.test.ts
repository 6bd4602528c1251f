// The web snippet for real: a site on another origin includes /t/w.js, a person arrives through a tracked
// link of an email, and Chromium runs the script. Only a tracked contact's visit without GPC may be identified.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNIPPET_TOKEN_PARAM } from '../../src/http/track/snippet.routes.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { sendAndReadClicks } from '../helpers/outbox-clicks.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

if (!haveBrowser) {
  // CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: the browser tests cannot run (apt-get install chromium)`);
  console.warn(`Skipping browser tests of the web snippet: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}

/** The customer's site: one page that includes the snippet, served from another origin than trackguard. */
function startSite(snippetTag: (path: string) => string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/favicon')) return void response.writeHead(204).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>${snippetTag(request.url ?? '/')}</head><body><h1>Shop</h1></body></html>`);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

describe.skipIf(!haveBrowser)('web snippet in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => browser?.close());

  for (const dialect of dialects()) describe(dialect, () => {
    let t: TestApp;
    let site: Server;
    let base: string;
    let siteBase: string;
    let pid: string;
    let clicks: Record<string, string>;
    const ids: Record<string, number> = {};

    beforeAll(async () => {
      t = await startTestApp(dialect);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      // /custom names its own token parameter, as a site whose injection rule uses another name would.
      site = await startSite((path) => `<script src="${base}/t/w.js" data-project="${pid}"${path.startsWith('/custom') ? ' data-param="ref_token"' : ''} async></script>`);
      // `localhost` and another port: another origin (and another host) than trackguard's.
      siteBase = `http://localhost:${(site.address() as AddressInfo).port}`;
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'tracked@example.com', hasTrackingConsent: 1 }, { email: 'refused@example.com', hasTrackingConsent: 0 }] });
      ids.tracked = Number(merged.body.results[0]!.contactId);
      const rule = { name: 'site visits', domains: ['localhost'], params: [{ name: SNIPPET_TOKEN_PARAM, value: '{{trackingToken}}' }], onlyTrackedContacts: false };
      expect((await t.api('POST', `/api/v1/projects/${pid}/injection-rules`, rule)).status).toBe(201);
      clicks = await sendAndReadClicks(t, pid, `<p><a href="${siteBase}/landing?from=mail">Visit the shop</a></p>`);
      expect(Object.keys(clicks).sort()).toEqual(['refused@example.com', 'tracked@example.com']);
    });
    afterAll(async () => {
      await new Promise((done) => site?.close(done));
      await t?.close();
    });

    async function newestPageView(after: number) {
      for (let i = 0; i < 100; i++) {
        await t.ctx.events.flush();
        const row = await t.ctx.store.db.selectFrom('events').selectAll().where('project_id', '=', Number(pid)).where('type', '=', 'web').where('id', '>', after).orderBy('id', 'desc').executeTakeFirst();
        if (row) return row;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the page view never arrived');
    }
    const lastId = async () => Number((await t.ctx.store.db.selectFrom('events').select((e) => e.fn.max('id').as('id')).executeTakeFirst())?.id ?? 0);

    /** Opens `url` in a fresh context; returns where the page ended, what the snippet posted, and the console errors. */
    /** `gpc`: `'browser'` = GPC on (the property and the header), `'header'` = the header alone (the server's rule by itself). */
    async function visit(url: string, options: { gpc?: 'browser' | 'header' } = {}) {
      const context: BrowserContext = await browser.newContext({ userAgent: UA, ...(options.gpc ? { extraHTTPHeaders: { 'Sec-GPC': '1' } } : {}) });
      // Chromium has no GPC switch: a browser with GPC on exposes navigator.globalPrivacyControl and sends Sec-GPC: 1.
      if (options.gpc === 'browser') await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      try {
        const posted = page.waitForRequest((r) => r.url() === `${base}/t/w` && r.method() === 'POST');
        const answered = page.waitForResponse((r) => r.url() === `${base}/t/w` && r.request().method() === 'POST');
        await page.goto(url);
        const request = await posted;
        const response = await answered;
        return { landed: page.url(), body: JSON.parse(request.postData() ?? '{}') as Record<string, unknown>, status: response.status(), cookies: await context.cookies(), storage: await page.evaluate(() => localStorage.length + sessionStorage.length), errors };
      } finally {
        await context.close();
      }
    }

    it("a tracked contact arriving by the email's link: the snippet sends the token and the page view is identified", async () => {
      const before = await lastId();
      const seen = await visit(`${base}${clicks['tracked@example.com']}`);
      const landed = new URL(seen.landed);
      expect(landed.origin).toBe(siteBase);
      expect(landed.searchParams.get(SNIPPET_TOKEN_PARAM)).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(seen.body).toEqual({ projectId: Number(pid), url: `${siteBase}/landing?from=mail`, token: landed.searchParams.get(SNIPPET_TOKEN_PARAM) });
      expect(seen.status).toBe(204);
      expect(seen.errors).toEqual([]);
      expect(seen.cookies).toEqual([]);
      expect(seen.storage).toBe(0);
      expect(await newestPageView(before)).toMatchObject({ contact_id: ids.tracked, url: `${siteBase}/landing?from=mail`, web_type: 'page_view' });
    });

    it('a tag with data-param reads the token from that parameter and leaves it out of the URL it reports', async () => {
      const token = new URL((await visit(`${base}${clicks['tracked@example.com']}`)).landed).searchParams.get(SNIPPET_TOKEN_PARAM)!;
      const before = await lastId();
      const seen = await visit(`${siteBase}/custom?a=1&ref_token=${token}#top`);
      expect(seen.body).toEqual({ projectId: Number(pid), url: `${siteBase}/custom?a=1#top`, token });
      expect(await newestPageView(before)).toMatchObject({ contact_id: ids.tracked, url: `${siteBase}/custom?a=1#top` });
    });

    it('the same link with Global Privacy Control on: still redirected, no token sent, the page view is anonymous', async () => {
      const before = await lastId();
      const seen = await visit(`${base}${clicks['tracked@example.com']}`, { gpc: 'browser' });
      expect(new URL(seen.landed).origin).toBe(siteBase);
      expect(seen.body).not.toHaveProperty('token');
      expect(seen.status).toBe(204);
      expect(seen.errors).toEqual([]);
      expect(await newestPageView(before)).toMatchObject({ contact_id: null, url: `${siteBase}/landing`, ip: null, user_agent: null });
    });

    it('Sec-GPC: 1 alone keeps the page view anonymous even though the script sent the token', async () => {
      const before = await lastId();
      const seen = await visit(`${base}${clicks['tracked@example.com']}`, { gpc: 'header' });
      expect(seen.body).toHaveProperty('token');
      expect(seen.status).toBe(204);
      expect(await newestPageView(before)).toMatchObject({ contact_id: null, url: `${siteBase}/landing` });
    });

    it('a visitor without a token (an untracked recipient, or anyone else) is anonymous', async () => {
      for (const url of [`${base}${clicks['refused@example.com']}`, `${siteBase}/landing?from=search`]) {
        const before = await lastId();
        const seen = await visit(url);
        expect(new URL(seen.landed).searchParams.get(SNIPPET_TOKEN_PARAM)).toBeNull();
        expect(seen.body).not.toHaveProperty('token');
        expect(seen.errors).toEqual([]);
        expect(await newestPageView(before)).toMatchObject({ contact_id: null, url: `${siteBase}/landing` });
      }
    });
  });
});
