// Small-group protection plays the attacker: with k set and fewer than k untracked recipients, nothing the report
// and the exports return may change when those recipients' activity is taken away — so no subtraction gives it back.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newNonce, signToken } from '../../src/domain/token.js';
import type { TokenRecipient } from '../../src/domain/token.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const MINUTE = 60_000;

interface Report {
  opens: { total: number; unique: number; machine: number };
  clicks: { total: number; unique: number; machine: number };
  links: { url: string; total: number; unique: number; machine: number }[];
  timeline: { at: string; opens: number; clicks: number }[];
  contacts: { contactId: string; opens: number; clicks: number }[];
  recipients: { untracked: number };
  suppressed?: { reason: string; k: number };
}

const scenario = fc.record({
  consents: fc.array(fc.constantFrom(true, false, null), { minLength: 1, maxLength: 9 }),
  k: fc.integer({ min: 1, max: 6 }),
  anonymizePast: fc.boolean(),
  /** Indexes (mod the tracked recipients) of contacts who refuse between the two waves of hits. */
  withdrawals: fc.array(fc.nat(20), { maxLength: 3 }),
  hits: fc.array(
    fc.record({ who: fc.nat(40), click: fc.boolean(), link: fc.nat(3), minutes: fc.integer({ min: 0, max: 150 }), late: fc.boolean(), machine: fc.boolean() }),
    { maxLength: 30 },
  ),
});

for (const dialect of dialects()) {
  describe(`small-group protection (${dialect})`, () => {
    let t: TestApp;
    let now = Date.UTC(2026, 10, 29, 6, 0, 0);

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => now);
    });
    afterAll(async () => {
      await t?.close();
    });

    async function runJobs(): Promise<void> {
      while (await t.ctx.jobs.runOnce()) {
        // drain
      }
    }

    async function text(url: string): Promise<string> {
      const res = await t.app.inject({ method: 'GET', url, headers: { authorization: 'Bearer test-admin-key' } });
      expect(res.statusCode).toBe(200);
      return res.body;
    }

    async function observe(pid: string, sid: string) {
      const report = await t.api<Report>('GET', `/api/v1/projects/${pid}/sendings/${sid}/report`);
      expect(report.status).toBe(200);
      return {
        report: report.body,
        events: await text(`/api/v1/projects/${pid}/sendings/${sid}/events?format=ndjson`),
        bi: await text(`/api/v1/projects/${pid}/exports/events?format=ndjson`),
        home: (await t.api<{ sendings: unknown[] }>('GET', `/api/v1/projects/${pid}/dashboard`)).body.sendings,
      };
    }

    /** The world without the anonymous group: its events gone and the counters recounted. */
    async function removeAnonymousActivity(pid: number, sid: number): Promise<void> {
      const db = t.ctx.store.db;
      const untracked = db.selectFrom('contacts').select('id').where('project_id', '=', pid).where('has_tracking_consent', '=', 0);
      await db
        .deleteFrom('events')
        .where('project_id', '=', pid)
        .where('sending_id', '=', sid)
        .where((eb) => eb.or([eb('contact_id', 'is', null), eb('contact_id', 'in', untracked)]))
        .execute();
      const events = await db.selectFrom('events').select(['type', 'machine', 'link_idx']).where('project_id', '=', pid).where('sending_id', '=', sid).execute();
      const count = (type: string, machine?: boolean) => events.filter((e) => e.type === type && (machine === undefined || e.machine === 1)).length;
      await db
        .updateTable('sending_stats')
        .set({ opens: count('open'), opens_machine: count('open', true), clicks: count('click'), clicks_machine: count('click', true) })
        .where('project_id', '=', pid)
        .where('sending_id', '=', sid)
        .execute();
      const links = await db.selectFrom('link_stats').select('idx').where('project_id', '=', pid).where('sending_id', '=', sid).execute();
      for (const { idx } of links) {
        const clicks = events.filter((e) => e.type === 'click' && e.link_idx === idx);
        await db
          .updateTable('link_stats')
          .set({ clicks: clicks.length, clicks_machine: clicks.filter((e) => e.machine === 1).length })
          .where('project_id', '=', pid)
          .where('sending_id', '=', sid)
          .where('idx', '=', idx)
          .execute();
      }
    }

    it('minAnonymousGroup defaults to 0 (off), is set by PATCH and refuses a negative k naming the field', async () => {
      const pid = await createProject(t);
      const read = await t.api<{ tracking: { minAnonymousGroup: number; honorGpc: boolean } }>('GET', `/api/v1/projects/${pid}`);
      expect(read.body.tracking).toMatchObject({ minAnonymousGroup: 0, honorGpc: true });
      const set = await t.api<{ tracking: { minAnonymousGroup: number } }>('PATCH', `/api/v1/projects/${pid}`, { tracking: { minAnonymousGroup: 5 } });
      expect(set.body.tracking.minAnonymousGroup).toBe(5);
      const bad = await t.api<{ errors?: { field: string }[] }>('PATCH', `/api/v1/projects/${pid}`, { tracking: { minAnonymousGroup: -1 } });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('minAnonymousGroup');
    });

    it('no combination of report and export figures reveals the activity of fewer than k untracked recipients', async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          now += 24 * 60 * MINUTE;
          const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out', anonymizePastOnRefusal: s.anonymizePast, minAnonymousGroup: s.k } });
          const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
            records: s.consents.map((c, i) => ({ email: `c${i}@example.com`, ...(c === null ? {} : { hasTrackingConsent: c }) })),
          });
          expect(merged.status).toBe(200);
          const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, {
            channel: 'email',
            name: 'n',
            communicationType: 'newsletter',
            subject: 's',
            html: '<p><a href="https://example.com/a">A</a> <a href="https://example.com/b">B</a></p>',
          });
          const sending = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { all: true } });
          await runJobs();
          const sid = Number(sending.body.id);
          const row = await t.ctx.store.db.selectFrom('sendings').select(['tracked', 'untracked']).where('id', '=', sid).executeTakeFirstOrThrow();
          const deliveries = await t.ctx.store.db.selectFrom('deliveries').select('contact_id').where('sending_id', '=', sid).orderBy('contact_id').execute();
          const trackedIds = deliveries.map((d) => d.contact_id);
          // An untracked recipient's token names only a random nonce, never stored: one made here is indistinguishable.
          const recipients: TokenRecipient[] = [
            ...trackedIds.map((contactId) => ({ contactId })),
            ...Array.from({ length: row.untracked }, () => ({ nonce: newNonce() })),
          ];
          const withdrawn = new Set(trackedIds.length === 0 ? [] : s.withdrawals.map((w) => trackedIds[w % trackedIds.length] as number));
          const start = now;
          const wave = async (late: boolean) => {
            for (const h of s.hits.filter((x) => x.late === late).sort((a, b) => a.minutes - b.minutes)) {
              const recipient = recipients[h.who % Math.max(1, recipients.length)];
              if (!recipient) continue;
              now = Math.max(now, start + (late ? 200 : 0) * MINUTE + h.minutes * MINUTE);
              const token = signToken('test-secret', { kind: h.click ? 'click' : 'open', sendingId: sid, linkIdx: h.click ? 1 + (h.link % 2) : 0, recipient });
              const outcome = await t.ctx.tracking.hit(h.click ? 'click' : 'open', token, {
                method: 'GET',
                userAgent: h.machine ? 'Mozilla/5.0 (compatible; bingbot/2.0)' : HUMAN_UA,
                ip: '203.0.113.7',
                headers: {},
              });
              expect(outcome.found).toBe(true);
            }
          };
          await wave(false);
          await t.ctx.events.flush();
          now += MINUTE;
          for (const contactId of withdrawn) await t.ctx.consent.setConsent(Number(pid), contactId, { value: false, date: now, source: 'test' });
          await wave(true);
          await t.ctx.events.flush();

          const group = row.untracked + withdrawn.size;
          const before = await observe(pid, String(sid));
          const report = before.report;
          if (group < s.k) {
            expect(report.suppressed).toEqual({ reason: 'fewer than k untracked recipients', k: s.k });
            // The direct attack: totals minus everything listed per contact, per link, per hour leaves nothing.
            const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
            expect(report.opens.total).toBe(sum(report.contacts.map((c) => c.opens)));
            expect(report.clicks.total).toBe(sum(report.contacts.map((c) => c.clicks)));
            expect(sum(report.links.map((l) => l.total))).toBe(report.clicks.total);
            expect(sum(report.timeline.map((b) => b.opens))).toBe(report.opens.total);
            expect(sum(report.timeline.map((b) => b.clicks))).toBe(report.clicks.total);
            // Any other combination: nothing returned depends on the anonymous activity at all.
            await removeAnonymousActivity(Number(pid), sid);
            const after = await observe(pid, String(sid));
            expect(after.report).toEqual(report);
            expect(after.events).toBe(before.events);
            expect(after.bi).toBe(before.bi);
            expect(after.home).toEqual(before.home);
            expect(before.home[0]).toMatchObject({ opens: { total: report.opens.total }, suppressed: { k: s.k } });
          } else {
            expect(report.suppressed).toBeUndefined();
            // At or above k the report is exactly what it is with the protection off.
            await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { minAnonymousGroup: 0 } });
            const off = await observe(pid, String(sid));
            expect(off.report).toEqual(report);
            expect(off.home).toEqual(before.home);
          }
        }),
        { numRuns: dialect === 'sqlite' ? 40 : 20 },
      );
    }, 240_000);
  });
}
