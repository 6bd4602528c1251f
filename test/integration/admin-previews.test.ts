// What the admin app shows before saving or sending must be what really happens, and
// must obey the consent rules: previews reuse the sending and form code, counts use the one tracked predicate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../src/domain/token.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const NOW = Date.UTC(2026, 10, 20, 12);
const DAY = 86_400_000;

interface Problem {
  code: string;
  errors?: { field: string; reason: string }[];
}

const tokenOf = (url: string) => verifyToken(['test-secret'], url.slice(url.lastIndexOf('/') + 1));

for (const dialect of dialects()) {
  describe(`admin previews and counts (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let messageId: string;
    const ids: Record<'ana' | 'bo' | 'cy', string> = { ana: '', bo: '', cy: '' };
    const base = () => `/api/v1/projects/${pid}`;

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => NOW);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `${base()}/contacts/merge`, {
        records: [
          { email: 'ana@example.com', hasTrackingConsent: true, fields: { firstName: 'Ana' } },
          { email: 'bo@example.com' },
          { email: 'cy@example.com', hasTrackingConsent: false, fields: { firstName: 'Cy' } },
        ],
      });
      [ids.ana, ids.bo, ids.cy] = merged.body.results.map((r) => r.contactId) as [string, string, string];
      const message = await t.api<{ id: string }>('POST', `${base()}/messages`, {
        channel: 'email',
        name: 'News',
        communicationType: 'newsletter',
        subject: 'Hello {{contact.firstName | "there"}}',
        html: '<html><body><p>Hi {{contact.firstName}}</p><a href="https://example.com/a">A</a></body></html>',
        text: 'See https://example.com/a',
      });
      messageId = message.body.id;
    });
    afterAll(async () => t?.close());

    it("a preview for a tracked contact fills their values and carries their id in the tracking links and pixel", async () => {
      const res = await t.api<{ subject: string; html: string; links: { url: string; trackingUrl: string }[]; openPixelUrl: string; contact: { tracked: boolean } }>(
        'POST',
        `${base()}/messages/${messageId}/preview`,
        { contactId: ids.ana },
      );
      expect(res.status).toBe(200);
      expect(res.body.subject).toBe('Hello Ana');
      expect(res.body.contact.tracked).toBe(true);
      expect(res.body.links).toHaveLength(1);
      expect(res.body.links[0]?.url).toBe('https://example.com/a');
      expect(res.body.html).toContain(res.body.links[0]?.trackingUrl);
      expect(res.body.html).not.toContain('href="https://example.com/a"');
      expect(res.body.html).toContain(`<img src="${res.body.openPixelUrl}"`);
      expect(tokenOf(res.body.links[0]!.trackingUrl)?.recipient).toEqual({ contactId: Number(ids.ana) });
      expect(tokenOf(res.body.openPixelUrl)?.kind).toBe('open');
    });

    it('a preview for a refused contact carries only a nonce, as the sending would (rule 3)', async () => {
      const res = await t.api<{ links: { trackingUrl: string }[]; contact: { tracked: boolean } }>('POST', `${base()}/messages/${messageId}/preview`, { contactId: ids.cy });
      expect(res.body.contact.tracked).toBe(false);
      expect(tokenOf(res.body.links[0]!.trackingUrl)?.recipient).toHaveProperty('nonce');
    });

    it('a preview link records nothing when followed: it names no sending', async () => {
      const res = await t.api<{ links: { trackingUrl: string }[] }>('POST', `${base()}/messages/${messageId}/preview`, { contactId: ids.ana });
      const hit = await t.app.inject({ method: 'GET', url: new URL(res.body.links[0]!.trackingUrl).pathname });
      expect(hit.statusCode).toBe(404);
    });

    it('a draft with a bad merge tag is a problem naming its field and line', async () => {
      const res = await t.api<Problem>('POST', `${base()}/messages/preview`, { channel: 'email', subject: 'Hi', html: '<p>\n{{contact.}}</p>' });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]).toEqual({ field: 'html', reason: expect.stringContaining('line 2') });
    });

    it('an SMS draft has its link rewritten and no pixel', async () => {
      const res = await t.api<{ text: string; openPixelUrl: string | null }>('POST', `${base()}/messages/preview`, { channel: 'sms', text: 'Sale https://example.com/s' });
      expect(res.status).toBe(200);
      expect(res.body.text).toMatch(/^Sale http:\/\/.+\/t\/c\/[A-Za-z0-9_-]+$/);
      expect(res.body.openPixelUrl).toBeNull();
    });

    it('the recipient count splits the target with the tracked predicate: a refused contact is untracked', async () => {
      const all = await t.api('POST', `${base()}/messages/${messageId}/recipients`, { target: { all: true } });
      expect(all.body).toEqual({ targeted: 3, tracked: 2, untracked: 1 });
      const some = await t.api('POST', `${base()}/messages/${messageId}/recipients`, { target: { contactIds: [ids.cy, ids.bo] } });
      expect(some.body).toEqual({ targeted: 2, tracked: 1, untracked: 1 });
      const inOptIn = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
      await t.api('POST', `/api/v1/projects/${inOptIn}/contacts/merge`, { records: [{ email: 'x@example.com' }, { email: 'y@example.com', hasTrackingConsent: true }] });
      const m = await t.api<{ id: string }>('POST', `/api/v1/projects/${inOptIn}/messages`, { channel: 'email', name: 'n', communicationType: 'newsletter', subject: 's', text: 't' });
      const optIn = await t.api('POST', `/api/v1/projects/${inOptIn}/messages/${m.body.id}/recipients`, { target: { all: true } });
      expect(optIn.body).toEqual({ targeted: 2, tracked: 1, untracked: 1 });
    });

    it('a recipient count for an unknown group is a 404 problem', async () => {
      const res = await t.api<Problem>('POST', `${base()}/messages/${messageId}/recipients`, { target: { groupId: '999' } });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('GroupNotFound');
    });

    it('"did not open in 90 days" counted live leaves out the contact who refused tracking (rule 7)', async () => {
      const criteria = { not: { behavior: 'opened', withinDays: 90 } };
      const res = await t.api('POST', `${base()}/groups/count`, { criteria });
      expect(res.body).toEqual({ count: 2 });
      const fieldOnly = await t.api('POST', `${base()}/groups/count`, { criteria: { field: 'email', op: 'endsWith', value: '@example.com' } });
      expect(fieldOnly.body).toEqual({ count: 3 });
    });

    it('an invalid criteria tree is a problem with the path of the bad clause', async () => {
      const res = await t.api<Problem>('POST', `${base()}/groups/count`, { criteria: { all: [{ field: 'email', op: 'gt', value: 1 }] } });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.field).toBe('criteria.all[0].op');
    });

    it('an injection example fills contact values for a tracked click and never for an anonymous one (rule 10)', async () => {
      const rule = { name: 'utm', domains: ['example.com'], params: [{ name: 'utm_source', value: 'newsletter' }, { name: 'cid', value: '{{contact.id}}' }], onlyTrackedContacts: false };
      const res = await t.api<{ matches: boolean; tracked: string; anonymous: string; withheldFromAnonymous: string[] }>('POST', `${base()}/injection-rules/example`, {
        rule,
        url: 'https://shop.example.com/sale?x=1',
        contactId: ids.ana,
      });
      expect(res.status).toBe(200);
      expect(res.body.matches).toBe(true);
      expect(res.body.tracked).toBe(`https://shop.example.com/sale?x=1&utm_source=newsletter&cid=${ids.ana}`);
      expect(res.body.anonymous).toBe('https://shop.example.com/sale?x=1&utm_source=newsletter');
      expect(res.body.withheldFromAnonymous).toEqual(['cid']);
    });

    it('with "apply only to tracked contacts" an anonymous click gets no parameter at all', async () => {
      const created = await t.api<{ id: string }>('POST', `${base()}/injection-rules`, {
        name: 'utm',
        domains: ['example.com'],
        params: [{ name: 'utm_source', value: 'newsletter' }],
        onlyTrackedContacts: true,
      });
      const res = await t.api<{ tracked: string; anonymous: string; withheldFromAnonymous: string[] }>('POST', `${base()}/injection-rules/example`, {
        ruleId: created.body.id,
        url: 'https://example.com/',
      });
      expect(res.body.tracked).toBe('https://example.com/?utm_source=newsletter');
      expect(res.body.anonymous).toBe('https://example.com/');
      expect(res.body.withheldFromAnonymous).toEqual(['utm_source']);
      const other = await t.api<{ matches: boolean; tracked: string }>('POST', `${base()}/injection-rules/example`, { ruleId: created.body.id, url: 'https://elsewhere.org/' });
      expect(other.body.matches).toBe(false);
      expect(other.body.tracked).toBe('https://elsewhere.org/');
    });

    it('an injection example with a bad URL or a bad draft names the field', async () => {
      const bad = await t.api<Problem>('POST', `${base()}/injection-rules/example`, { rule: { name: 'x', domains: ['example.com'], params: [{ name: 'a', value: 'b' }] }, url: 'javascript:alert(1)' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors?.[0]?.field).toBe('url');
      const draft = await t.api<Problem>('POST', `${base()}/injection-rules/example`, { rule: { name: 'x', domains: ['https://x.com'], params: [] }, url: 'https://x.com/' });
      expect(draft.status).toBe(400);
      expect(draft.body.errors?.map((e) => e.field)).toContain('domains[0]');
    });

    it('a saved subscription form previews as exactly the page its public URL serves', async () => {
      const form = await t.api<{ id: string; url: string }>('POST', `${base()}/forms`, { kind: 'subscription', name: 'Join', fields: ['email', 'fields.firstName'], trackingConsentField: true });
      for (const lang of ['en', 'fr'] as const) {
        const preview = await t.api<{ html: string; path: string }>('POST', `${base()}/forms/preview`, { formId: form.body.id, lang });
        expect(preview.status).toBe(200);
        const page = await t.app.inject({ method: 'GET', url: `/f/subscribe/${form.body.id}?lang=${lang}` });
        // Each page shown gets its own single-use form token (issue 9 item 5): everything else is identical.
        const token = (html: string) => html.replace(/name="csrf" value="[^"]+"/, 'name="csrf" value="…"');
        expect(token(preview.body.html)).toBe(token(page.body));
      }
    });

    it('the unsubscribe form with the offer shows the tracking opt-out text and link in the French preview', async () => {
      const without = await t.api<{ html: string }>('POST', `${base()}/forms/preview`, { kind: 'unsubscribe', lang: 'fr', offerTrackingOptOut: false });
      expect(without.body.html).not.toContain('class="offer"');
      const withOffer = await t.api<{ html: string }>('POST', `${base()}/forms/preview`, { kind: 'unsubscribe', lang: 'fr', offerTrackingOptOut: true });
      expect(withOffer.body.html).toContain('<html lang="fr">');
      expect(withOffer.body.html).toMatch(/class="offer".*href="\/f\/tracking-optout\/[^"]+\?lang=fr"/s);
    });

    it('a form preview refuses an option its kind does not have', async () => {
      const res = await t.api<Problem>('POST', `${base()}/forms/preview`, { kind: 'tracking-optout', lang: 'en', offerTrackingOptOut: true });
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.field).toBe('offerTrackingOptOut');
    });
  });

  describe(`dashboards and results figures (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let now = NOW - 10 * DAY;
    const base = () => `/api/v1/projects/${pid}`;
    const ids: Record<'ana' | 'bo' | 'cy', string> = { ana: '', bo: '', cy: '' };
    let sendingId: string;

    async function runJobs(): Promise<void> {
      while (await t.ctx.jobs.runOnce()) {
        // drain
      }
    }

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => now);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out', anonymizePastOnRefusal: false } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `${base()}/contacts/merge`, {
        records: [{ email: 'ana@example.com', hasTrackingConsent: true }, { email: 'bo@example.com' }, { email: 'cy@example.com', hasTrackingConsent: false }],
      });
      [ids.ana, ids.bo, ids.cy] = merged.body.results.map((r) => r.contactId) as [string, string, string];
      const message = await t.api<{ id: string }>('POST', `${base()}/messages`, {
        channel: 'email',
        name: 'News',
        communicationType: 'newsletter',
        subject: 'Hi',
        html: '<a href="https://example.com/a">A</a>',
      });
      now += DAY;
      const sending = await t.api<{ id: string }>('POST', `${base()}/sendings`, { messageId: message.body.id, target: { all: true } });
      sendingId = sending.body.id;
      await runJobs();
      // Ana and Bo open; Bo (tracked when sent) then refuses, so their open stays identified but they are untracked now.
      const deliveries = await t.ctx.store.db.selectFrom('deliveries').select('contact_id').where('sending_id', '=', Number(sendingId)).execute();
      expect(deliveries.map((d) => String(d.contact_id)).sort()).toEqual([ids.ana, ids.bo].sort());
      for (const cid of [ids.ana, ids.bo]) {
        const url = t.ctx.sendings.trackingUrl('open', Number(sendingId), 0, { contactId: Number(cid) });
        const hit = await t.app.inject({ method: 'GET', url: new URL(url).pathname, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0' } });
        expect(hit.statusCode).toBe(200);
      }
      const anonymousClick = t.ctx.sendings.trackingUrl('click', Number(sendingId), 1, { nonce: 'AAAAAAAAAAA' });
      expect((await t.app.inject({ method: 'GET', url: new URL(anonymousClick).pathname })).statusCode).toBe(302);
      await t.ctx.events.flush();
      now += DAY;
      const refused = await t.api('PUT', `${base()}/contacts/${ids.bo}/tracking-consent`, { consent: false });
      expect(refused.status).toBe(200);
      now = NOW;
    });
    afterAll(async () => t?.close());

    it('the report splits events into tracked and anonymous, adding up to the totals', async () => {
      const report = await t.api<{ opens: { total: number }; clicks: { total: number }; tracking: { opens: { tracked: number; anonymous: number }; clicks: { tracked: number; anonymous: number } } }>(
        'GET',
        `${base()}/sendings/${sendingId}/report`,
      );
      expect(report.body.tracking).toEqual({ opens: { tracked: 2, anonymous: 0 }, clicks: { tracked: 0, anonymous: 1 } });
      expect(report.body.opens.total).toBe(2);
      expect(report.body.clicks.total).toBe(1);
    });

    it("the paged tracked-contacts list never lists a contact untracked now, even with identified events (rule 6)", async () => {
      const page = await t.api<{ items: { contactId: string; email: string }[]; nextCursor: string | null }>('GET', `${base()}/sendings/${sendingId}/contacts?limit=1`);
      expect(page.body.items).toEqual([{ contactId: ids.ana, email: 'ana@example.com', opens: 1, clicks: 0 }]);
      expect(page.body.nextCursor).toBeNull();
    });

    it("the events export leaves out the contact of an event whose contact is untracked now", async () => {
      for (const format of ['csv', 'ndjson']) {
        const res = await t.app.inject({ method: 'GET', url: `${base()}/sendings/${sendingId}/events?format=${format}`, headers: { authorization: 'Bearer test-admin-key' } });
        expect(res.body).toContain('ana@example.com');
        expect(res.body).not.toContain('bo@example.com');
        expect(res.body).not.toContain('cy@example.com');
      }
    });

    it('the consent over time ends on the split of today and starts before the contacts existed at zero', async () => {
      const res = await t.api<{
        now: { accepted: number; refused: number; unanswered: number; tracked: number; untracked: number };
        overTime: { date: string; accepted: number; refused: number; unanswered: number }[];
      }>('GET', `${base()}/consent-dashboard?days=30`);
      expect(res.status).toBe(200);
      expect(res.body.now).toMatchObject({ accepted: 1, refused: 2, unanswered: 0, tracked: 1, untracked: 2 });
      expect(res.body.overTime).toHaveLength(30);
      const last = res.body.overTime.at(-1)!;
      expect(last).toEqual({ date: new Date(NOW).toISOString().slice(0, 10), accepted: 1, refused: 2, unanswered: 0 });
      expect(res.body.overTime[0]).toMatchObject({ accepted: 0, refused: 0, unanswered: 0 });
      const created = new Date(NOW - 10 * DAY).toISOString().slice(0, 10);
      expect(res.body.overTime.find((p) => p.date === created)).toEqual({ date: created, accepted: 1, refused: 1, unanswered: 1 });
    });

    it('sources, refusals per sending and the tracked share come out as counts, with no contact in them', async () => {
      const res = await t.api<{ sources: { source: string; accepted: number; refused: number }[]; sendings: { sendingId: string; refusals: number; trackedShare: number }[] }>(
        'GET',
        `${base()}/consent-dashboard?days=30`,
      );
      expect(res.body.sources.find((s) => s.source === 'api')).toMatchObject({ accepted: 1, refused: 2 });
      expect(res.body.sendings).toEqual([expect.objectContaining({ sendingId, refusals: 1, optOuts: 0, tracked: 2, untracked: 1 })]);
      expect(res.body.sendings[0]?.trackedShare).toBeCloseTo(2 / 3);
      expect(JSON.stringify(res.body)).not.toContain('@');
    });

    it('the dashboard home gives the last sendings with totals and unique counts, and the consent split', async () => {
      const res = await t.api<{ consent: { contacts: number }; sendings: { sendingId: string; opens: { total: number; unique: number }; clicks: { total: number; unique: number } }[] }>(
        'GET',
        `${base()}/dashboard`,
      );
      expect(res.body.consent.contacts).toBe(3);
      expect(res.body.sendings[0]).toMatchObject({ sendingId, opens: { total: 2, unique: 2 }, clicks: { total: 1, unique: 1 } });
      expect(JSON.stringify(res.body)).not.toContain('@');
    });

    it('the score distribution counts every contact once and gives untracked contacts no behavioural points (rule 8)', async () => {
      const model = await t.api<{ id: string }>('POST', `${base()}/score-models`, {
        name: 'engagement',
        rules: [
          { criteria: { behavior: 'opened' }, points: 10 },
          { criteria: { field: 'email', op: 'contains', value: 'example' }, points: 1 },
        ],
      });
      expect(model.status).toBe(201);
      const res = await t.api<{ contacts: number; min: number; max: number; buckets: { from: number; to: number; count: number }[] }>('GET', `${base()}/score-models/${model.body.id}/distribution?buckets=5`);
      expect(res.status).toBe(200);
      expect(res.body.contacts).toBe(3);
      expect(res.body.min).toBe(1);
      expect(res.body.max).toBe(11);
      expect(res.body.buckets.reduce((s, b) => s + b.count, 0)).toBe(3);
      expect(res.body.buckets[0]).toEqual({ from: 1, to: 4, count: 2 });
      expect(res.body.buckets.at(-1)).toEqual({ from: 10, to: 13, count: 1 });
    });
  });
}
