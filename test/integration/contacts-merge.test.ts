// The contact merge and the contact card as a client sees them, on both databases: per-record
// results, matching, newest consent date wins, batch limits, paging without duplicates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { DAY, isoDay, type ContactCard, type MergeResponse, foundationApi } from '../helpers/foundation-api.js';

for (const dialect of dialects()) {
  describe(dialect, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });
    const { expectProblem, merge, card, history } = foundationApi(() => t);


    describe('merge', () => {
      it('reports created / updated / unchanged / rejected per record, and one bad record never fails the others', async () => {
        const pid = await createProject(t, { tracking: { enabled: true } });
        const now = Date.now();
        const first = await merge(pid, [
          { email: '  Ana@Example.COM ' },
          { email: 'bob@example.com', externalId: 'crm-2', hasTrackingConsent: '1', dtTrackingConsent: isoDay(now - 30 * DAY).replaceAll('-', '.') },
          { email: 'not-an-email' },
          { email: 'cy@example.com', hasTrackingConsent: '0', dtTrackingConsent: isoDay(now - 10 * DAY) },
          { email: 'dee@example.com', hasTrackingConsent: true, dtTrackingConsent: new Date(now + 2 * DAY).toISOString() },
          { externalId: 'crm-5', hasTrackingConsent: 'maybe' },
          { phone: '+15550100' },
          { email: 'eve@example.com', hasTrackingConsent: 'TRUE' },
          { externalId: 'crm-8', hasTrackingConsent: 0, dtTrackingConsent: '2026-02-30' },
          { externalId: 9, hasTrackingConsent: 'false', dtTrackingConsent: '2020-01-01T10:00:00+02:00' },
        ]);
        expect(first.status).toBe(200);
        const r = first.body.results;
        expect(r.map((x) => [x.index, x.result, x.consent])).toEqual([
          [0, 'created', 'none'],
          [1, 'created', 'applied'],
          [2, 'rejected', 'none'],
          [3, 'created', 'applied'],
          [4, 'rejected', 'none'],
          [5, 'rejected', 'none'],
          [6, 'rejected', 'none'],
          [7, 'created', 'applied'],
          [8, 'rejected', 'none'],
          [9, 'created', 'applied'],
        ]);
        for (const i of [2, 4, 5, 6, 8]) {
          expect(r[i]?.error).toBeTruthy();
          expect(r[i]?.contactId).toBeUndefined();
        }
        expect(r[2]?.error).toMatch(/email/);
        expect(r[4]?.error).toMatch(/future/);
        expect(r[5]?.error).toMatch(/hasTrackingConsent/);
        expect(r[8]?.error).toMatch(/dtTrackingConsent/);
        expect(first.body.counts).toEqual({ created: 5, updated: 0, unchanged: 0, rejected: 5, consentApplied: 4, consentStale: 0 });

        const ana = await card(pid, r[0]!.contactId!);
        expect(ana.email).toBe('ana@example.com');
        expect(ana.trackingStatus).toBe('unanswered');
        const bob = await card(pid, r[1]!.contactId!);
        expect(bob).toMatchObject({ externalId: 'crm-2', hasTrackingConsent: true, trackingStatus: 'accepted', tracked: true });
        expect(bob.dtTrackingConsent).toBe(`${isoDay(now - 30 * DAY)}T00:00:00.000Z`);
        expect((await card(pid, r[3]!.contactId!)).trackingStatus).toBe('refused');
        const eve = await card(pid, r[7]!.contactId!);
        expect(eve.trackingStatus).toBe('accepted');
        expect(Math.abs(Date.parse(eve.dtTrackingConsent!) - now)).toBeLessThan(60_000);
        const nine = await card(pid, r[9]!.contactId!);
        expect(nine).toMatchObject({ externalId: '9', trackingStatus: 'refused', dtTrackingConsent: '2020-01-01T08:00:00.000Z' });
        const list = await t.api<{ items: unknown[] }>('GET', `/api/v1/projects/${pid}/contacts?limit=100`);
        expect(list.body.items).toHaveLength(5);
      });

      it('matches by normalised email and by externalId; newest consent date wins; replays are unchanged', async () => {
        const pid = await createProject(t, { tracking: { enabled: true } });
        const now = Date.now();
        const created = await merge(pid, [{ email: 'ana@example.com', externalId: 'A1', hasTrackingConsent: 1, dtTrackingConsent: isoDay(now - 5 * DAY) }]);
        const id = created.body.results[0]!.contactId!;
        const step = async (record: Record<string, unknown>) => (await merge(pid, [record])).body.results[0]!;

        expect(await step({ email: ' ANA@example.COM' })).toEqual({ index: 0, contactId: id, result: 'unchanged', consent: 'none' });
        expect(await step({ externalId: 'A1', phone: '+15550101' })).toEqual({ index: 0, contactId: id, result: 'updated', consent: 'none' });
        // Stale: older than the current date, not applied, no history written.
        const historyBefore = (await history(pid, id)).length;
        expect(await step({ externalId: 'A1', hasTrackingConsent: 'false', dtTrackingConsent: isoDay(now - 6 * DAY) })).toEqual({
          index: 0,
          contactId: id,
          result: 'unchanged',
          consent: 'stale',
        });
        expect(await history(pid, id)).toHaveLength(historyBefore);
        expect((await card(pid, id)).trackingStatus).toBe('accepted');
        // Same value, same date: idempotent.
        expect(await step({ email: 'ana@example.com', hasTrackingConsent: true, dtTrackingConsent: isoDay(now - 5 * DAY) })).toMatchObject({
          result: 'unchanged',
          consent: 'none',
        });
        // Newer: applied.
        expect(await step({ email: 'ana@example.com', hasTrackingConsent: '0', dtTrackingConsent: isoDay(now - 4 * DAY) })).toMatchObject({
          result: 'updated',
          consent: 'applied',
        });
        expect(await history(pid, id)).toHaveLength(historyBefore + 1);
        expect((await card(pid, id)).trackingStatus).toBe('refused');
        // An externalId of one contact with the email of another is rejected, not merged.
        await merge(pid, [{ email: 'bo@example.com', externalId: 'B1' }]);
        expect(await step({ email: 'bo@example.com', externalId: 'A1' })).toMatchObject({ result: 'rejected' });
        // Within one batch, the same person twice is one contact.
        const twice = await merge(pid, [{ email: 'new@example.com' }, { email: 'NEW@example.com', phone: '+1' }]);
        expect(twice.body.results[0]!.contactId).toBe(twice.body.results[1]!.contactId);
        expect(twice.body.results.map((x) => x.result)).toEqual(['created', 'updated']);
        expect((await card(pid, twice.body.results[0]!.contactId!)).phone).toBe('+1');
        // A contact may move to a new email while another takes its old one, in one batch.
        const moved = await merge(pid, [
          { externalId: 'B1', email: 'bo.new@example.com' },
          { email: 'bo@example.com', externalId: 'C1' },
        ]);
        expect(moved.body.results.map((x) => x.result)).toEqual(['updated', 'created']);
        // Values outside the record shape are rejected for that record, not silently dropped.
        const unknown = await merge(pid, [{ email: 'z@example.com', firstName: 'Zoe' }, { email: 'y@example.com', fields: { firstName: 'Yan' } }]);
        expect(unknown.body.results.map((x) => x.result)).toEqual(['rejected', 'created']);
        expect(unknown.body.results[0]?.error).toMatch(/firstName/);
      });

      it('add-only never updates and update-only never creates', async () => {
        const pid = await createProject(t);
        await merge(pid, [{ email: 'a@example.com' }]);
        const addOnly = await t.api<MergeResponse>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
          type: 'add-only',
          records: [{ email: 'a@example.com', phone: '+1' }, { email: 'b@example.com' }],
        });
        expect(addOnly.body.results.map((x) => x.result)).toEqual(['unchanged', 'created']);
        const updateOnly = await t.api<MergeResponse>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
          type: 'update-only',
          records: [{ email: 'a@example.com', phone: '+2' }, { email: 'c@example.com' }],
        });
        expect(updateOnly.body.results.map((x) => x.result)).toEqual(['updated', 'rejected']);
        const list = await t.api<{ items: { email: string; phone: string | null }[] }>('GET', `/api/v1/projects/${pid}/contacts`);
        expect(list.body.items.map((c) => [c.email, c.phone])).toEqual([
          ['a@example.com', '+2'],
          ['b@example.com', null],
        ]);
      });

      it('10,000 records are merged in one call; 10,001 are a 400 problem and store nothing', async () => {
        const pid = await createProject(t, { tracking: { enabled: true } });
        const records = Array.from({ length: 10_001 }, (_, i) => ({ email: `u${i}@example.com`, hasTrackingConsent: i % 2 }));
        await expectProblem('POST', `/api/v1/projects/${pid}/contacts/merge`, { records }, 400, { field: 'records' });
        const ok = await merge(pid, records.slice(0, 10_000));
        expect(ok.status).toBe(200);
        expect(ok.body.counts).toMatchObject({ created: 10_000, rejected: 0, consentApplied: 10_000 });
        const accepted = await t.api<{ items: unknown[]; nextCursor: string | null }>('GET', `/api/v1/projects/${pid}/contacts?trackingStatus=accepted&limit=1000`);
        expect(accepted.body.items).toHaveLength(1000);
        expect(accepted.body.nextCursor).not.toBeNull();
      });

      it('malformed JSON, wrong types, unknown properties and an oversized body are problems that store nothing', async () => {
        const pid = await createProject(t);
        const url = `/api/v1/projects/${pid}/contacts/merge`;
        await expectProblem('POST', url, '{"records": [ {"email": "a@example.com"} ', 400);
        await expectProblem('POST', url, 'not json at all', 400);
        await expectProblem('POST', url, { records: { email: 'a@example.com' } }, 400, { field: 'records' });
        await expectProblem('POST', url, { records: 'a@example.com' }, 400, { field: 'records' });
        await expectProblem('POST', url, {}, 400, { field: 'records' });
        await expectProblem('POST', url, { records: [] }, 400, { field: 'records' });
        await expectProblem('POST', url, { records: [{ email: 'a@example.com' }], extra: 1 }, 400, { field: 'extra' });
        await expectProblem('POST', url, { records: [{ email: 'a@example.com' }], type: 'replace' }, 400, { field: 'type' });
        const big = JSON.stringify({ records: [{ email: 'a@example.com', fields: { blob: 'x'.repeat(17 * 1024 * 1024) } }] });
        await expectProblem('POST', url, big, 413);
        await expectProblem('POST', '/api/v1/projects/not-a-number/contacts/merge', { records: [{ email: 'a@example.com' }] }, 400);
      });
    });

    describe('listing and the contact card', () => {
      it('filters by trackingStatus and pages with a cursor, each contact exactly once', async () => {
        const pid = await createProject(t, { tracking: { enabled: true } });
        const values = [true, false, null, true, null, false, null, true, null, null, false];
        const res = await merge(
          pid,
          values.map((v, i) => ({ email: `p${i}@example.com`, ...(v === null ? {} : { hasTrackingConsent: v }) })),
        );
        const ids = res.body.results.map((x) => x.contactId!);
        for (const [status, value] of [
          ['accepted', true],
          ['refused', false],
          ['unanswered', null],
        ] as const) {
          const expected = ids.filter((_, i) => values[i] === value);
          const seen: string[] = [];
          let cursor: string | null = null;
          let pages = 0;
          do {
            const page: { status: number; body: { items: ContactCard[]; nextCursor: string | null } } = await t.api(
              'GET',
              `/api/v1/projects/${pid}/contacts?trackingStatus=${status}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
            );
            expect(page.status).toBe(200);
            expect(page.body.items.length).toBeLessThanOrEqual(2);
            for (const item of page.body.items) expect(item.trackingStatus).toBe(status);
            seen.push(...page.body.items.map((c) => c.id));
            cursor = page.body.nextCursor;
            pages += 1;
          } while (cursor && pages < 20);
          expect(seen).toEqual(expected);
          expect(pages).toBe(Math.max(1, Math.ceil(expected.length / 2)));
        }
        const all = await t.api<{ items: ContactCard[] }>('GET', `/api/v1/projects/${pid}/contacts?limit=1000`);
        expect(all.body.items.map((c) => c.id)).toEqual(ids);
        const byEmail = await t.api<{ items: ContactCard[] }>('GET', `/api/v1/projects/${pid}/contacts?email=%20P3@Example.com`);
        expect(byEmail.body.items.map((c) => c.id)).toEqual([ids[3]]);
        await expectProblem('GET', `/api/v1/projects/${pid}/contacts?trackingStatus=maybe`, undefined, 400, { field: 'trackingStatus' });
        await expectProblem('GET', `/api/v1/projects/${pid}/contacts?limit=0`, undefined, 400);
        await expectProblem('GET', `/api/v1/projects/${pid}/contacts?email=not-an-email`, undefined, 400, { field: 'email' });
      });

      it('the card carries trackingStatus, tracked and the consent history; an unknown contact is 404', async () => {
        const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
        const res = await merge(pid, [{ email: 'card@example.com', hasTrackingConsent: false, dtTrackingConsent: '2025-06-01' }]);
        const c = await card(pid, res.body.results[0]!.contactId!);
        expect(c).toMatchObject({ email: 'card@example.com', trackingStatus: 'refused', tracked: false, hasTrackingConsent: false, dtTrackingConsent: '2025-06-01T00:00:00.000Z' });
        expect(c.consentHistory).toHaveLength(1);
        expect(c.consentHistory[0]).toMatchObject({ action: 'refused', date: '2025-06-01T00:00:00.000Z', source: 'api:admin', contactId: c.id });
        await expectProblem('GET', `/api/v1/projects/${pid}/contacts/987654`, undefined, 404);
        await expectProblem('GET', `/api/v1/projects/${pid}/contacts/abc`, undefined, 400);
      });
    });

  });
}
