// Sending and tracking end to end through the API: who gets which token, what an
// open or click records, and that nothing links an untracked contact to a behaviour.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../src/domain/token.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

async function runJobs(t: TestApp): Promise<void> {
  while (await t.ctx.jobs.runOnce()) {
    // drain
  }
}

interface Mail {
  to: string;
  opens: string[];
  clicks: string[];
  html: string;
  headerLines: Map<string, string>;
}

async function readOutbox(t: TestApp, sendingId: string): Promise<Mail[]> {
  const dir = join(t.config.dataDir, 'outbox', sendingId);
  const mails: Mail[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.eml'))) {
    const parsed = await simpleParser(readFileSync(join(dir, file)));
    const html = typeof parsed.html === 'string' ? parsed.html : '';
    const paths = (re: RegExp) => [...html.matchAll(re)].map((m) => m[1] as string);
    mails.push({
      to: parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '',
      opens: paths(/http:\/\/[^/"]+(\/t\/o\/[A-Za-z0-9_-]+)/g),
      clicks: [...new Set(paths(/http:\/\/[^/"]+(\/t\/c\/[A-Za-z0-9_-]+)/g))],
      html,
      headerLines: new Map(parsed.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(':') + 1).trim()])),
    });
  }
  return mails;
}

async function hit(t: TestApp, path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await t.app.inject({ method, url: path, headers: { 'user-agent': HUMAN_UA, ...headers }, remoteAddress: '203.0.113.7' });
  // A hit is acknowledged once journaled, its batch committed a little later under load:
  // every read of events or reports below starts after the writer has flushed.
  await t.ctx.events.flush();
  return res;
}

for (const dialect of dialects()) {
  describe(`sending and tracking (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    const ids: Record<string, string> = {};
    let sendingId: string;
    let mails: Map<string, Mail>;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'ana@example.com', hasTrackingConsent: true, fields: { firstName: 'Ana' } },
          { email: 'bo@example.com' },
          { email: 'cy@example.com', hasTrackingConsent: false },
        ],
      });
      const [ana, bo, cy] = merged.body.results.map((r) => r.contactId);
      Object.assign(ids, { ana, bo, cy });
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, {
        channel: 'email',
        name: 'November news',
        communicationType: 'newsletter',
        subject: 'Hello {{contact.firstName | "there"}}',
        html: '<html><body><p>Hi {{contact.firstName}}</p><a href="https://example.com/a?x=1#top">A</a> <a href="https://shop.example.org/b">B</a> <a href="{{trackingOptOutUrl}}">privacy</a></body></html>',
        text: 'See https://example.com/a?x=1#top',
      });
      expect(message.status).toBe(201);
      const sending = await t.api<{ id: string; status: string; targeted: number }>('POST', `/api/v1/projects/${pid}/sendings`, {
        messageId: message.body.id,
        target: { all: true },
      });
      expect(sending.status).toBe(201);
      expect(sending.body.targeted).toBe(3);
      sendingId = sending.body.id;
      await runJobs(t);
      mails = new Map((await readOutbox(t, sendingId)).map((m) => [m.to, m]));
    });
    afterAll(async () => t?.close());

    it('counts tracked and untracked recipients and stores delivery rows for tracked ones only', async () => {
      const sending = await t.api<Record<string, unknown>>('GET', `/api/v1/projects/${pid}/sendings/${sendingId}`);
      expect(sending.body).toMatchObject({ status: 'sent', targeted: 3, tracked: 2, untracked: 1, delivered: 3 });
      const rows = await t.ctx.store.db.selectFrom('deliveries').select('contact_id').where('sending_id', '=', Number(sendingId)).execute();
      expect(rows.map((r) => String(r.contact_id)).sort()).toEqual([ids.ana, ids.bo].sort());
      expect(mails.size).toBe(3);
    });

    it("gives a refused recipient nonce tokens that carry no contact id", () => {
      const cy = mails.get('cy@example.com')!;
      expect(cy.clicks.length).toBe(2);
      for (const path of [...cy.opens, ...cy.clicks]) {
        const token = verifyToken(t.config.secrets, path.split('/').pop()!);
        expect(token).not.toBeNull();
        expect('nonce' in token!.recipient).toBe(true);
      }
      const ana = mails.get('ana@example.com')!;
      const token = verifyToken(t.config.secrets, ana.opens[0]!.split('/').pop()!);
      expect(token!.recipient).toEqual({ contactId: Number(ids.ana) });
    });

    it('puts RFC 8058 unsubscribe headers and the tracking opt-out footer on every email', () => {
      for (const mail of mails.values()) {
        expect(mail.headerLines.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
        expect(mail.headerLines.get('list-unsubscribe')).toMatch(/^<http:\/\/[^>]+\/f\/unsubscribe\/[^>]+>$/);
        expect(mail.html).toContain('/f/tracking-optout/');
      }
    });

    it('records a tracked open as identified and a refused one as anonymous, without IP, user agent or exact time', async () => {
      const ana = mails.get('ana@example.com')!;
      const cy = mails.get('cy@example.com')!;
      const res = await hit(t, ana.opens[0]!);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/gif');
      expect(res.headers['cache-control']).toContain('no-store');
      expect((await hit(t, cy.opens[0]!)).statusCode).toBe(200);
      const events = await t.ctx.store.db.selectFrom('events').selectAll().where('sending_id', '=', Number(sendingId)).where('type', '=', 'open').execute();
      const identified = events.filter((e) => e.contact_id !== null);
      const anonymous = events.filter((e) => e.contact_id === null);
      expect(identified.map((e) => String(e.contact_id))).toEqual([ids.ana]);
      expect(identified[0]!.ip).toBe('203.0.113.7');
      expect(anonymous).toHaveLength(1);
      expect(anonymous[0]).toMatchObject({ ip: null, user_agent: null });
      expect(anonymous[0]!.nonce).toMatch(/^[A-Za-z0-9_-]{11}$/);
      expect(anonymous[0]!.at % 60_000).toBe(0);
    });

    it('redirects a click to the stored destination, query and fragment kept', async () => {
      const ana = mails.get('ana@example.com')!;
      const res = await hit(t, ana.clicks[0]!);
      expect(res.statusCode).toBe(302);
      expect(res.headers.location).toBe('https://example.com/a?x=1#top');
    });

    it('answers 404 without Location to a forged, truncated or altered token', async () => {
      const path = mails.get('ana@example.com')!.clicks[0]!;
      const token = path.split('/').pop()!;
      const flipped = token.slice(0, 5) + (token[5] === 'A' ? 'B' : 'A') + token.slice(6);
      for (const bad of [flipped, token.slice(0, -2), `${token}x`, 'aHR0cHM6Ly9ldmlsLmV4YW1wbGU', '..%2F..%2Fetc']) {
        const res = await hit(t, `/t/c/${bad}`);
        expect(res.statusCode).toBe(404);
        expect(res.headers.location).toBeUndefined();
      }
      // An open token is not a click token.
      const open = mails.get('ana@example.com')!.opens[0]!.split('/').pop()!;
      expect((await hit(t, `/t/c/${open}`)).statusCode).toBe(404);
    });

    it('does not count HEAD requests or prefetches', async () => {
      const before = await t.ctx.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const bo = mails.get('bo@example.com')!;
      expect((await hit(t, bo.opens[0]!, {}, 'HEAD')).statusCode).toBe(200);
      expect((await hit(t, bo.clicks[0]!, { 'sec-purpose': 'prefetch' })).statusCode).toBe(302);
      const after = await t.ctx.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
    });

    it('flags Apple Mail Privacy Protection opens as machine and reports them apart', async () => {
      const bo = mails.get('bo@example.com')!;
      await hit(t, bo.opens[0]!, { 'user-agent': 'Mozilla/5.0' });
      const report = await t.api<{ opens: { total: number; machine: number; unique: number } }>('GET', `/api/v1/projects/${pid}/sendings/${sendingId}/report`);
      expect(report.body.opens).toMatchObject({ total: 3, machine: 1, unique: 3 });
    });

    it('reports every event but lists tracked contacts only, with the untracked count in the legend', async () => {
      const cy = mails.get('cy@example.com')!;
      await hit(t, cy.clicks[1]!);
      await hit(t, cy.clicks[1]!);
      const report = await t.api<{
        recipients: Record<string, number>;
        clicks: { total: number; unique: number };
        links: { url: string; total: number; unique: number }[];
        contacts: { contactId: string; opens: number; clicks: number }[];
        timeline: { opens: number; clicks: number }[];
        legend: { untrackedContacts: number };
      }>('GET', `/api/v1/projects/${pid}/sendings/${sendingId}/report`);
      expect(report.status).toBe(200);
      expect(report.body.recipients).toMatchObject({ targeted: 3, tracked: 2, untracked: 1, delivered: 3 });
      expect(report.body.clicks).toMatchObject({ total: 3, unique: 2 });
      expect(report.body.links).toEqual([
        expect.objectContaining({ url: 'https://example.com/a?x=1#top', total: 1, unique: 1 }),
        expect.objectContaining({ url: 'https://shop.example.org/b', total: 2, unique: 1 }),
      ]);
      expect(report.body.contacts.map((c) => c.contactId).sort()).toEqual([ids.ana, ids.bo].sort());
      expect(report.body.contacts.find((c) => c.contactId === ids.ana)).toMatchObject({ opens: 1, clicks: 1 });
      expect(report.body.legend.untrackedContacts).toBe(1);
      expect(report.body.timeline.reduce((n, b) => n + b.opens + b.clicks, 0)).toBe(6);
    });

    it("shows a tracked contact's sendings and events on the card, and none for an untracked one", async () => {
      const ana = await t.api<{ sendings: unknown[]; events: { type: string }[]; tracked: boolean }>('GET', `/api/v1/projects/${pid}/contacts/${ids.ana}`);
      expect(ana.body.tracked).toBe(true);
      expect(ana.body.sendings).toHaveLength(1);
      expect(ana.body.events.map((e) => e.type).sort()).toEqual(['click', 'open']);
      const cy = await t.api<{ sendings: unknown[]; events: unknown[]; tracked: boolean; trackingNotice: string }>('GET', `/api/v1/projects/${pid}/contacts/${ids.cy}`);
      expect(cy.body).toMatchObject({ tracked: false, sendings: [], events: [] });
      expect(cy.body.trackingNotice).toMatch(/not targeted by behavioural tracking/);
    });

    it('exports events with an empty contact column for anonymous rows', async () => {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${pid}/sendings/${sendingId}/events?format=csv`, headers: { authorization: 'Bearer test-admin-key' } });
      expect(res.statusCode).toBe(200);
      const [header, ...lines] = res.body.trim().split('\n');
      const contactCol = header!.split(',').indexOf('contactId');
      const emailCol = header!.split(',').indexOf('email');
      const anonymous = lines.filter((l) => l.split(',')[contactCol] === '');
      expect(anonymous.length).toBeGreaterThan(0);
      for (const line of anonymous) expect(line.split(',')[emailCol]).toBe('');
      expect(res.body).not.toContain('cy@example.com');
      const nd = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${pid}/sendings/${sendingId}/events?format=ndjson`, headers: { authorization: 'Bearer test-admin-key' } });
      const rows = nd.body.trim().split('\n').map((l) => JSON.parse(l) as { contactId: string | null });
      expect(rows.length).toBe(lines.length);
    });

    it('records a withdrawn contact’s later hits as anonymous and unlinks their past events, totals unchanged', async () => {
      const before = await t.api<{ opens: { total: number }; clicks: { total: number } }>('GET', `/api/v1/projects/${pid}/sendings/${sendingId}/report`);
      const res = await t.api('PUT', `/api/v1/projects/${pid}/contacts/${ids.ana}/tracking-consent`, { consent: false });
      expect(res.status).toBe(200);
      const linked = await t.ctx.store.db.selectFrom('events').select('id').where('contact_id', '=', Number(ids.ana)).execute();
      expect(linked).toHaveLength(0);
      await hit(t, mails.get('ana@example.com')!.opens[0]!);
      const after = await t.api<{ opens: { total: number }; clicks: { total: number }; contacts: { contactId: string }[] }>('GET', `/api/v1/projects/${pid}/sendings/${sendingId}/report`);
      expect(after.body.opens.total).toBe(before.body.opens.total + 1);
      expect(after.body.clicks.total).toBe(before.body.clicks.total);
      expect(after.body.contacts.map((c) => c.contactId)).not.toContain(ids.ana);
      const stillLinked = await t.ctx.store.db.selectFrom('events').select('id').where('contact_id', '=', Number(ids.ana)).execute();
      expect(stillLinked).toHaveLength(0);
      const deliveries = await t.ctx.store.db.selectFrom('deliveries').select('contact_id').where('contact_id', '=', Number(ids.ana)).execute();
      expect(deliveries).toHaveLength(0);
    });

    it('never makes an anonymously issued token identified, even after the contact accepts', async () => {
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${ids.cy}/tracking-consent`, { consent: true });
      await hit(t, mails.get('cy@example.com')!.opens[0]!);
      const linked = await t.ctx.store.db.selectFrom('events').select('id').where('contact_id', '=', Number(ids.cy)).execute();
      expect(linked).toHaveLength(0);
    });
  });
}
