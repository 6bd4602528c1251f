// The foundation's contract as a client sees it, on both databases: projects and keys, the contact
// merge, and the consent core (newest date wins, module activation, modes, reaching back on refusal).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface MergeResponse {
  results: { index: number; contactId?: string; result: string; consent: string; error?: string }[];
  counts: Record<string, number>;
}
interface ContactCard {
  id: string;
  email: string | null;
  externalId: string | null;
  phone: string | null;
  hasTrackingConsent: boolean | null;
  dtTrackingConsent: string | null;
  trackingStatus: string;
  tracked: boolean;
  consentHistory: HistoryEntry[];
}
interface HistoryEntry {
  id: string;
  contactId: string | null;
  action: string;
  date: string;
  source: string;
  hash: string;
  prevHash: string;
}
interface ProjectView {
  id: string;
  name: string;
  tracking: { enabled: boolean; mode: string; anonymizePastOnRefusal: boolean };
  settings: { tracking: { enabled: boolean; mode: string; anonymizePastOnRefusal: boolean } };
}

const DAY = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

for (const dialect of dialects()) {
  describe(dialect, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });

    /** Row counts of every table the foundation writes, to prove an error changed nothing. */
    async function snapshot() {
      const db = t.ctx.store.db;
      const count = async (table: 'projects' | 'api_keys' | 'contacts' | 'consent_history' | 'events') =>
        Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const heads = await db.selectFrom('ledger_heads').select(['project_id', 'seq', 'hash']).orderBy('project_id').execute();
      const projects = await db.selectFrom('projects').select(['id', 'name', 'settings']).orderBy('id').execute();
      const contacts = await db.selectFrom('contacts').selectAll().orderBy('id').execute();
      return {
        projects: await count('projects'),
        keys: await count('api_keys'),
        contacts: await count('contacts'),
        history: await count('consent_history'),
        events: await count('events'),
        heads,
        projectRows: projects,
        contactRows: contacts,
      };
    }

    /** Sends a request that must fail with problem+json and leave the database as it was. */
    async function expectProblem(
      method: 'GET' | 'POST' | 'PATCH' | 'PUT',
      url: string,
      body: unknown,
      status: number,
      options: { key?: string | null; field?: string } = {},
    ) {
      const before = await snapshot();
      const res = await t.api<{ type: string; title: string; status: number; detail: string; errors?: { field: string }[] }>(
        method,
        url,
        body,
        options.key === undefined ? ADMIN_KEY : options.key,
      );
      expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(status);
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(res.body.status).toBe(status);
      expect(res.body.type).toMatch(/^https?:\/\//);
      expect(typeof res.body.title).toBe('string');
      if (options.field) expect(res.body.errors?.map((e) => e.field)).toContain(options.field);
      expect(await snapshot()).toEqual(before);
      return res.body;
    }

    const merge = (pid: string, records: unknown[], key?: string) =>
      t.api<MergeResponse>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records }, key);
    const card = async (pid: string, cid: string) => {
      const res = await t.api<ContactCard>('GET', `/api/v1/projects/${pid}/contacts/${cid}`);
      expect(res.status).toBe(200);
      return res.body;
    };
    const putConsent = (pid: string, cid: string, body: unknown) =>
      t.api<ContactCard & { consent: string }>('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, body);
    const history = async (pid: string, cid: string) => {
      const res = await t.api<HistoryEntry[]>('GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`);
      expect(res.status).toBe(200);
      return res.body;
    };
    const issueKey = async (pid: string) => {
      const res = await t.api<{ id: string; key: string }>('POST', `/api/v1/projects/${pid}/keys`, { name: 'ci' });
      expect(res.status).toBe(201);
      return res.body;
    };

    describe('projects', () => {
      it('a new project has the tracking module off, opt-out, and anonymizePastOnRefusal on, small-group protection off and Global Privacy Control honoured', async () => {
        const res = await t.api<ProjectView>('POST', '/api/v1/projects', { name: 'Shop' });
        expect(res.status).toBe(201);
        expect(res.body.id).toMatch(/^\d+$/);
        expect(res.body.tracking).toEqual({ enabled: false, mode: 'opt-out', anonymizePastOnRefusal: true, optOutFooter: true, minAnonymousGroup: 0, honorGpc: true });
        const got = await t.api<ProjectView>('GET', `/api/v1/projects/${res.body.id}`);
        expect(got.status).toBe(200);
        expect(got.body.name).toBe('Shop');
        expect(got.body.settings.tracking.enabled).toBe(false);
      });

      it('PATCH changes tracking.enabled, tracking.mode and tracking.anonymizePastOnRefusal, top-level or nested under settings', async () => {
        const pid = await createProject(t);
        const top = await t.api<ProjectView>('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true, mode: 'opt-in', anonymizePastOnRefusal: false } });
        expect(top.status).toBe(200);
        expect(top.body.tracking).toMatchObject({ enabled: true, mode: 'opt-in', anonymizePastOnRefusal: false });
        const nested = await t.api<ProjectView>('PATCH', `/api/v1/projects/${pid}`, { settings: { tracking: { mode: 'opt-out' } } });
        expect(nested.status).toBe(200);
        expect(nested.body.tracking).toMatchObject({ enabled: true, mode: 'opt-out', anonymizePastOnRefusal: false });
        const got = await t.api<ProjectView>('GET', `/api/v1/projects/${pid}`);
        expect(got.body.settings.tracking).toMatchObject({ enabled: true, mode: 'opt-out', anonymizePastOnRefusal: false });
      });

      it('POST /projects accepts initial settings', async () => {
        const res = await t.api<ProjectView>('POST', '/api/v1/projects', { name: 'With settings', settings: { tracking: { enabled: true, mode: 'opt-in' } } });
        expect(res.status).toBe(201);
        expect(res.body.tracking).toMatchObject({ enabled: true, mode: 'opt-in' });
      });

      it('unknown or mistyped settings are a 400 problem naming the field, and change nothing', async () => {
        const pid = await createProject(t);
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true, colour: 'red' } }, 400, { field: 'tracking.colour' });
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { settings: { tracking: { bogus: 1 } } }, 400, { field: 'settings.tracking.bogus' });
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { trackingEnabled: true }, 400, { field: 'trackingEnabled' });
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: 'yes' } }, 400, { field: 'tracking.enabled' });
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'sometimes' } }, 400, { field: 'tracking.mode' });
        await expectProblem('POST', '/api/v1/projects', { name: 'x', settings: { nope: true } }, 400, { field: 'settings.nope' });
        await expectProblem('POST', '/api/v1/projects', {}, 400, { field: 'name' });
        await expectProblem('POST', '/api/v1/projects', { name: 42 }, 400, { field: 'name' });
        await expectProblem('GET', '/api/v1/projects/999999', undefined, 404);
      });
    });

    describe('keys', () => {
      it('a project key is shown once and stored only as a hash', async () => {
        const pid = await createProject(t);
        const issued = await issueKey(pid);
        expect(issued.key.length).toBeGreaterThanOrEqual(40);
        const rows = await t.ctx.store.db.selectFrom('api_keys').selectAll().execute();
        const stored = rows.find((r) => String(r.id) === issued.id);
        expect(stored?.key_hash).toBe(createHash('sha256').update(issued.key).digest('hex'));
        const everything = JSON.stringify([rows, await t.ctx.store.db.selectFrom('meta').selectAll().execute()]);
        expect(everything).not.toContain(issued.key);
        expect(everything).not.toContain(issued.key.split('_').at(-1));
        expect(everything).not.toContain(ADMIN_KEY);
        const project = await t.api('GET', `/api/v1/projects/${pid}`);
        expect(JSON.stringify(project.body)).not.toContain(issued.key);
      });

      it('a project key reaches its own project only: other projects answer 404, admin operations 403', async () => {
        const mine = await createProject(t);
        const other = await createProject(t);
        const { key } = await issueKey(mine);
        const otherContact = (await merge(other, [{ email: 'other@example.com' }])).body.results[0]!.contactId!;

        expect((await t.api('GET', `/api/v1/projects/${mine}`, undefined, key)).status).toBe(200);
        const own = await merge(mine, [{ email: 'own@example.com' }], key);
        expect(own.status).toBe(200);
        expect(own.body.results[0]?.result).toBe('created');
        expect((await t.api('GET', `/api/v1/projects/${mine}/contacts`, undefined, key)).status).toBe(200);

        await expectProblem('GET', `/api/v1/projects/${other}`, undefined, 404, { key });
        await expectProblem('PATCH', `/api/v1/projects/${other}`, { tracking: { enabled: true } }, 404, { key });
        await expectProblem('POST', `/api/v1/projects/${other}/contacts/merge`, { records: [{ email: 'x@example.com' }] }, 404, { key });
        await expectProblem('GET', `/api/v1/projects/${other}/contacts`, undefined, 404, { key });
        await expectProblem('GET', `/api/v1/projects/${other}/contacts/${otherContact}`, undefined, 404, { key });
        await expectProblem('PUT', `/api/v1/projects/${other}/contacts/${otherContact}/tracking-consent`, { consent: false }, 404, { key });
        await expectProblem('GET', `/api/v1/projects/${other}/contacts/${otherContact}/consent-history`, undefined, 404, { key });
        await expectProblem('POST', `/api/v1/projects/${other}/keys`, {}, 404, { key });
        // A contact id of another project is not found through one's own project either.
        await expectProblem('GET', `/api/v1/projects/${mine}/contacts/${otherContact}`, undefined, 404, { key });
        await expectProblem('POST', '/api/v1/projects', { name: 'sneaky' }, 403, { key });
        await expectProblem('POST', `/api/v1/projects/${mine}/keys`, {}, 403, { key });
        // The admin key reaches every project.
        expect((await t.api('GET', `/api/v1/projects/${other}/contacts/${otherContact}`)).status).toBe(200);
      });

      it('a missing, malformed or wrong key is a 401 problem', async () => {
        const pid = await createProject(t);
        await expectProblem('GET', `/api/v1/projects/${pid}`, undefined, 401, { key: null });
        await expectProblem('GET', `/api/v1/projects/${pid}`, undefined, 401, { key: 'wrong-key' });
        await expectProblem('GET', `/api/v1/projects/${pid}`, undefined, 401, { key: 'tgk_1_forgedforgedforgedforgedforgedforged' });
        await expectProblem('GET', `/api/v1/projects/${pid}`, undefined, 401, { key: 'tgk_999999_forged' });
        await expectProblem('POST', '/api/v1/projects', { name: 'x' }, 401, { key: null });
        await expectProblem('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'x@example.com' }] }, 401, { key: 'nope' });
        const res = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${pid}`, headers: { authorization: `Basic ${ADMIN_KEY}` } });
        expect(res.statusCode).toBe(401);
      });
    });

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

    describe('tracking consent', () => {
      it('PUT applies a newer change, reports an older one as stale without history, and rejects a future date', async () => {
        const pid = await createProject(t, { tracking: { enabled: true } });
        const id = (await merge(pid, [{ email: 'put@example.com' }])).body.results[0]!.contactId!;
        const now = Date.now();

        const applied = await putConsent(pid, id, { consent: false, date: new Date(now - 2 * DAY).toISOString() });
        expect(applied.status).toBe(200);
        expect(applied.body).toMatchObject({ consent: 'applied', trackingStatus: 'refused', tracked: false });

        const stale = await putConsent(pid, id, { consent: true, date: isoDay(now - 3 * DAY) });
        expect(stale.status).toBe(200);
        expect(stale.body).toMatchObject({ consent: 'stale', trackingStatus: 'refused' });
        expect(await history(pid, id)).toHaveLength(1);

        const same = await putConsent(pid, id, { consent: false, date: new Date(now - 2 * DAY).toISOString() });
        expect(same.body.consent).toBe('none');
        expect(await history(pid, id)).toHaveLength(1);

        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, { consent: true, date: new Date(now + DAY).toISOString() }, 400, {
          field: 'date',
        });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, { consent: true, date: '2026-02-30' }, 400, { field: 'date' });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, { consent: 'yes' }, 400, { field: 'consent' });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, {}, 400, { field: 'consent' });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, { consent: true, source: 'import:1' }, 400, { field: 'source' });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/999999/tracking-consent`, { consent: true }, 404);

        const undated = await putConsent(pid, id, { consent: true, source: 'admin:alice' });
        expect(undated.body).toMatchObject({ consent: 'applied', trackingStatus: 'accepted', tracked: true });
        expect(Math.abs(Date.parse(undated.body.dtTrackingConsent!) - Date.now())).toBeLessThan(60_000);
        const entries = await history(pid, id);
        expect(entries.map((e) => [e.action, e.source])).toEqual([
          ['refused', 'api:admin'],
          ['accepted', 'admin:alice'],
        ]);
      });

      it('the history is oldest first and hash-chained to the previous entry of the project', async () => {
        const pid = await createProject(t, { tracking: { enabled: true } });
        const id = (await merge(pid, [{ email: 'chain@example.com', hasTrackingConsent: 1, dtTrackingConsent: '2024-01-01' }])).body.results[0]!.contactId!;
        await putConsent(pid, id, { consent: false, date: '2024-02-01' });
        await putConsent(pid, id, { consent: null, date: '2024-03-01' });
        await putConsent(pid, id, { consent: true, date: '2024-04-01' });
        const entries = await history(pid, id);
        expect(entries.map((e) => [e.action, e.date.slice(0, 10)])).toEqual([
          ['accepted', '2024-01-01'],
          ['refused', '2024-02-01'],
          ['reset', '2024-03-01'],
          ['accepted', '2024-04-01'],
        ]);
        for (const e of entries) {
          expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
          expect(e.prevHash).toMatch(/^[0-9a-f]{64}$/);
        }
        for (let i = 1; i < entries.length; i += 1) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
        // The first contact entry chains to the project's module-activation entry.
        const activation = await t.ctx.store.db
          .selectFrom('consent_history')
          .select(['hash', 'prev_hash', 'contact_id'])
          .where('project_id', '=', Number(pid))
          .where('action', '=', 'module-activation')
          .executeTakeFirstOrThrow();
        expect(activation.prev_hash).toBe('0'.repeat(64));
        expect(entries[0]!.prevHash).toBe(activation.hash);
        expect((await card(pid, id)).consentHistory).toEqual(entries);
      });
    });

    describe('the tracking module', () => {
      const activations = async (pid: string) =>
        t.ctx.store.db
          .selectFrom('consent_history')
          .select(['contact_id', 'action', 'source'])
          .where('project_id', '=', Number(pid))
          .where('action', '=', 'module-activation')
          .execute();

      it('activation writes one module-activation entry per activation, not per contact; deactivating keeps consents', async () => {
        const pid = await createProject(t);
        const res = await merge(pid, [
          { email: 'm1@example.com', hasTrackingConsent: false, dtTrackingConsent: '2025-01-01' },
          { email: 'm2@example.com', hasTrackingConsent: true, dtTrackingConsent: '2025-01-01' },
          { email: 'm3@example.com' },
        ]);
        const [refused, accepted] = res.body.results.map((x) => x.contactId!) as [string, string];
        // Module off: everyone is tracked, but the consent values are kept.
        expect(await card(pid, refused)).toMatchObject({ trackingStatus: 'refused', tracked: true });
        expect(await activations(pid)).toHaveLength(0);

        const before = (await snapshot()).history;
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true } });
        expect(await activations(pid)).toEqual([{ contact_id: null, action: 'module-activation', source: 'module-activation' }]);
        expect((await snapshot()).history).toBe(before + 1);
        expect(await card(pid, refused)).toMatchObject({ trackingStatus: 'refused', tracked: false });

        // Enabling what is already enabled, and changing other settings, writes nothing.
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true, anonymizePastOnRefusal: true } });
        expect(await activations(pid)).toHaveLength(1);

        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: false } });
        expect(await activations(pid)).toHaveLength(1);
        expect(await card(pid, refused)).toMatchObject({ hasTrackingConsent: false, trackingStatus: 'refused', tracked: true });
        expect(await card(pid, accepted)).toMatchObject({ hasTrackingConsent: true, trackingStatus: 'accepted' });

        await t.api('PATCH', `/api/v1/projects/${pid}`, { settings: { tracking: { enabled: true } } });
        expect(await activations(pid)).toHaveLength(2);
        expect(await card(pid, refused)).toMatchObject({ hasTrackingConsent: false, dtTrackingConsent: '2025-01-01T00:00:00.000Z', tracked: false });
        expect(await card(pid, accepted)).toMatchObject({ hasTrackingConsent: true, tracked: true });
      });

      it('switching between opt-out and opt-in changes who is tracked at once', async () => {
        const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
        const res = await merge(pid, [{ email: 'u@example.com' }, { email: 'a@example.com', hasTrackingConsent: true }, { email: 'r@example.com', hasTrackingConsent: false }]);
        const [u, a, r] = res.body.results.map((x) => x.contactId!) as [string, string, string];
        const tracked = async () => [(await card(pid, u)).tracked, (await card(pid, a)).tracked, (await card(pid, r)).tracked];
        expect(await tracked()).toEqual([true, true, false]);
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-in' } });
        expect(await tracked()).toEqual([false, true, false]);
        const list = await t.api<{ items: ContactCard[] }>('GET', `/api/v1/projects/${pid}/contacts`);
        expect(list.body.items.map((c) => c.tracked)).toEqual([false, true, false]);
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-out' } });
        expect(await tracked()).toEqual([true, true, false]);
      });
    });

    describe('anonymizePastOnRefusal', () => {
      async function withEvent(anonymize: boolean) {
        const pid = await createProject(t, { tracking: { enabled: true, anonymizePastOnRefusal: anonymize } });
        const id = (await merge(pid, [{ email: `ev-${anonymize}@example.com` }])).body.results[0]!.contactId!;
        const db = t.ctx.store.db;
        const at = Date.now() - DAY + 12_345;
        const event = await db
          .insertInto('events')
          .values({
            project_id: Number(pid),
            type: 'web',
            contact_id: Number(id),
            nonce: null,
            sending_id: null,
            message_id: null,
            link_idx: null,
            channel: null,
            name: 'page',
            url: 'https://example.com/',
            form_id: null,
            at,
            device: 'desktop',
            machine: 0,
            ip: '203.0.113.7',
            user_agent: 'Mozilla/5.0 (X11)',
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const total = async () => Number((await db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', Number(pid)).executeTakeFirstOrThrow()).n);
        const countBefore = await total();
        const res = await putConsent(pid, id, { consent: false });
        expect(res.body.consent).toBe('applied');
        const row = await db.selectFrom('events').selectAll().where('project_id', '=', Number(pid)).where('id', '=', event.id).executeTakeFirstOrThrow();
        expect(await total()).toBe(countBefore);
        return row;
      }

      it('on: refusing consent unlinks the contact past events (contact id, IP, user agent) and keeps their count', async () => {
        const row = await withEvent(true);
        expect(row).toMatchObject({ contact_id: null, ip: null, user_agent: null, type: 'web', name: 'page' });
      });

      it('off: refusing consent leaves past events as they were', async () => {
        const row = await withEvent(false);
        expect(row.contact_id).not.toBeNull();
        expect(row).toMatchObject({ ip: '203.0.113.7', user_agent: 'Mozilla/5.0 (X11)' });
      });
    });
  });
}
