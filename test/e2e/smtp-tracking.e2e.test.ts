// End to end: the server sends through a real SMTP server, the mail is parsed as
// a mail client would, and its pixel and links are opened by a real HTTP client
// and by Chromium. The report and the cards must count everyone and link only tracked contacts.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { chromium } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: the browser tests cannot run`);

function listen(server: Server | SMTPServer): Promise<number> {
  const net = server instanceof SMTPServer ? server.server : server;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((net.address() as AddressInfo).port)));
}

for (const dialect of dialects()) {
  describe(`email through SMTP, opened and clicked for real (${dialect})`, () => {
    let t: TestApp;
    let smtp: SMTPServer;
    let landing: Server;
    let landingUrl: string;
    let base: string;
    let pid: string;
    let sendingId: string;
    const mails = new Map<string, ParsedMail>();
    const ids: Record<string, string> = {};

    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      expect(res.status).toBeLessThan(300);
      return (await res.json()) as T;
    };

    beforeAll(async () => {
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        onData(stream, _session, callback) {
          simpleParser(stream).then((mail) => {
            const to = mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined;
            if (to) mails.set(to, mail);
            callback();
          }, callback);
        },
      });
      const smtpPort = await listen(smtp);
      landing = createServer((_req, res) => res.end('<html><body>landing</body></html>'));
      landingUrl = `http://127.0.0.1:${await listen(landing)}/landing`;
      t = await startTestApp(dialect, { transport: 'smtp', smtpUrl: `smtp://127.0.0.1:${smtpPort}` });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      t.config.publicUrl = base; // links in the mail point at the listening server
      pid = await createProject(t, { tracking: { enabled: true } });
      const merged = await call<{ results: { contactId: string }[] }>('POST', `/projects/${pid}/contacts/merge`, {
        records: [{ email: 'yes@example.com', hasTrackingConsent: 1 }, { email: 'no@example.com', hasTrackingConsent: 0 }, { email: 'later@example.com', hasTrackingConsent: 1 }],
      });
      const [yes, no, later] = merged.results.map((r) => r.contactId);
      Object.assign(ids, { yes, no, later });
      const message = await call<{ id: string }>('POST', `/projects/${pid}/messages`, {
        channel: 'email', name: 'e2e', communicationType: 'newsletter', subject: 'Hello',
        html: `<html><body><p>Hello</p><a id="go" href="${landingUrl}?a=1">Go</a></body></html>`, text: `Go: ${landingUrl}?a=1`,
      });
      const sending = await call<{ id: string }>('POST', `/projects/${pid}/sendings`, { messageId: message.id, target: { all: true } });
      sendingId = sending.id;
      t.ctx.jobs.start();
      for (let i = 0; i < 100; i++) {
        const s = await call<{ status: string }>('GET', `/projects/${pid}/sendings/${sendingId}`);
        if (s.status === 'sent' && mails.size === 3) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    afterAll(async () => {
      await t?.close();
      await new Promise((r) => smtp?.close(() => r(null)));
      landing?.close();
    });

    const linkOf = (email: string, kind: 'o' | 'c') => {
      const html = String(mails.get(email)?.html ?? '');
      return new RegExp(`${base}/t/${kind}/[A-Za-z0-9_-]+`).exec(html)?.[0] ?? '';
    };

    it('delivers one mail per contact with the one-click unsubscribe headers', () => {
      expect([...mails.keys()].sort()).toEqual(['later@example.com', 'no@example.com', 'yes@example.com']);
      for (const mail of mails.values()) {
        const lines = new Map(mail.headerLines.map((h) => [h.key, h.line]));
        expect(lines.get('list-unsubscribe-post')).toContain('List-Unsubscribe=One-Click');
        expect(lines.get('list-unsubscribe')).toContain(`${base}/f/unsubscribe/`);
      }
    });

    it('records opens and clicks from a plain HTTP client; a forged link gets 404 and no Location', async () => {
      const ua = { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126 Safari/537.36' };
      for (const email of ['yes@example.com', 'no@example.com']) {
        const open = await fetch(linkOf(email, 'o'), { headers: ua });
        expect(open.status).toBe(200);
        expect(open.headers.get('content-type')).toBe('image/gif');
        const click = await fetch(linkOf(email, 'c'), { headers: ua, redirect: 'manual' });
        expect(click.status).toBe(302);
        expect(click.headers.get('location')).toBe(`${landingUrl}?a=1`);
      }
      const forged = await fetch(`${linkOf('yes@example.com', 'c').slice(0, -3)}abc`, { redirect: 'manual' });
      expect(forged.status).toBe(404);
      expect(forged.headers.get('location')).toBeNull();
    });

    it.skipIf(!haveBrowser)('records the pixel and the click made in Chromium', async () => {
      await call('PUT', `/projects/${pid}/contacts/${ids.later}/tracking-consent`, { consent: false });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      try {
        const page = await browser.newPage();
        // A page of another local server, as a webmail's viewer would be (trackguard's own responses carry a CSP that allows nothing).
        await page.goto(landingUrl);
        await page.setContent(String(mails.get('later@example.com')!.html), { waitUntil: 'load' });
        await Promise.all([page.waitForURL(/\/landing\?a=1$/), page.click('#go')]);
        expect(await page.textContent('body')).toBe('landing');
      } finally {
        await browser.close();
      }
    });

    it('reports every hit, lists only tracked contacts and links nothing to the untracked ones', async () => {
      await t.ctx.events.flush();
      const report = await call<{ recipients: Record<string, number>; opens: { total: number; unique: number }; clicks: { total: number; unique: number }; contacts: { email: string }[]; legend: { untrackedContacts: number; untrackedAtSending: number } }>(
        'GET', `/projects/${pid}/sendings/${sendingId}/report`,
      );
      expect(report.recipients).toMatchObject({ targeted: 3, tracked: 2, untracked: 1, delivered: 3 });
      expect(report.opens.total).toBe(haveBrowser ? 3 : 2);
      expect(report.clicks.total).toBe(haveBrowser ? 3 : 2);
      expect(report.contacts.map((c) => c.email)).toEqual(['yes@example.com']);
      // 'later' withdrew after the sending: the legend counts them now, so the figures reconcile (issue 12 item 9).
      expect(report.legend).toMatchObject({ untrackedContacts: 2, untrackedAtSending: 1 });
      expect(report.recipients).toMatchObject({ trackedNow: 1, untrackedNow: 2, notDelivered: 0 });
      expect(report.contacts.length + report.legend.untrackedContacts + (report.recipients.notDelivered ?? Number.NaN)).toBe(report.recipients.targeted);
      for (const id of [ids.no, ids.later]) {
        const card = await call<{ tracked: boolean; sendings: unknown[]; events: unknown[] }>('GET', `/projects/${pid}/contacts/${id}`);
        expect(card).toMatchObject({ tracked: false, sendings: [], events: [] });
        const linked = await t.ctx.store.db.selectFrom('events').select('id').where('contact_id', '=', Number(id)).execute();
        expect(linked).toHaveLength(0);
      }
      const yes = await call<{ events: { type: string }[] }>('GET', `/projects/${pid}/contacts/${ids.yes}`);
      expect(yes.events.map((e) => e.type).sort()).toEqual(['click', 'open']);
    });
  });
}
