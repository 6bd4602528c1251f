// Groups must obey rule 7 in SQL on both dialects: a behavioural clause, positive or
// negated, never matches an untracked contact, while field clauses match everyone.
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTracked, type TrackingSettings, trackedSql } from '../../src/domain/consent.js';
import type { Criteria } from '../../src/domain/criteria.js';
import { evaluateCriteria } from '../../src/domain/criteria-evaluator.js';
import { insertEvents, insertSending, loadProjectActivity } from '../helpers/activity.js';
import { bindIds, insertRandomWorld, randomCriteria } from '../helpers/random-criteria.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15, 12);
const NAMES = ['ana', 'bob', 'cai', 'dee', 'eve'] as const;
type Name = (typeof NAMES)[number];

interface Problem {
  code: string;
  errors?: { field: string; reason: string }[];
}

for (const dialect of dialects()) {
  describe(`segments (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    const id: Record<Name, number> = { ana: 0, bob: 0, cai: 0, dee: 0, eve: 0 };
    const nameOf = new Map<number, Name>();
    let S1: { sendingId: number; messageId: number };
    let S2: { sendingId: number; messageId: number };
    let S3: { sendingId: number; messageId: number };

    const base = () => `/api/v1/projects/${pid}`;
    const settings = async (): Promise<TrackingSettings> => (await t.ctx.projects.get(Number(pid))).settings.tracking;

    /** Members through the API (group, count, paged contacts), checked against the reference evaluator. */
    async function members(criteria: unknown, type: 'dynamic' | 'static' = 'dynamic'): Promise<Name[]> {
      const created = await t.api<{ id: string }>('POST', `${base()}/groups`, { name: 'g', type, criteria });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const gid = created.body.id;
      const count = await t.api<{ count: number }>('GET', `${base()}/groups/${gid}/count`);
      const seen: Name[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.api('GET', `${base()}/groups/${gid}/contacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        for (const item of page.body.items) seen.push(nameOf.get(Number(item.id)) as Name);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(count.body.count).toBe(seen.length);
      await t.api('DELETE', `${base()}/groups/${gid}`);
      const reference = (await loadProjectActivity(t.ctx.store.db, Number(pid)))
        .filter((c) => evaluateCriteria(criteria as Criteria, c.contact, c.activity, { settings: settingsNow, now: NOW }))
        .map((c) => nameOf.get(c.id) as Name);
      expect(seen.sort()).toEqual(reference.sort());
      return seen;
    }
    let settingsNow: TrackingSettings;

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => NOW);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out', anonymizePastOnRefusal: false } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `${base()}/contacts/merge`, {
        records: [
          { email: 'ana@example.com', hasTrackingConsent: true, fields: { city: 'Montréal', age: 34, plan: 'pro', joined: '2025-12-20', vip: true } },
          { email: 'bob@example.com', hasTrackingConsent: false, fields: { city: 'Québec', age: '41', plan: 'free', joined: '2024-03-01' } },
          { email: 'cai@test.org', fields: { city: 'Montréal', age: 19, joined: '2026-01-10T08:00:00Z' } },
          { email: 'dee@example.com', hasTrackingConsent: true, fields: { plan: 'pro', age: 52.5, note: '50% off_now' } },
          { email: 'eve@sample.net', hasTrackingConsent: false },
        ],
      });
      NAMES.forEach((name, i) => {
        id[name] = Number(merged.body.results[i]?.contactId);
        nameOf.set(id[name], name);
      });
      const db = t.ctx.store.db;
      const p = Number(pid);
      S1 = await insertSending(db, p, ['https://ex.com/a', 'https://ex.com/b']);
      S2 = await insertSending(db, p);
      S3 = await insertSending(db, p, [], S1.messageId);
      const s1 = { sendingId: S1.sendingId, messageId: S1.messageId };
      await insertEvents(db, p, [
        { contactId: id.ana, type: 'open', at: NOW - 2 * DAY, ...s1 },
        { contactId: id.ana, type: 'open', at: NOW - DAY, machine: true, ...s1 },
        { contactId: id.ana, type: 'click', at: NOW - DAY, linkIdx: 0, ...s1 },
        // Identified events of a refused contact (e.g. kept with anonymizePastOnRefusal off) must still never count.
        { contactId: id.bob, type: 'open', at: NOW - 3 * DAY, ...s1 },
        { contactId: id.bob, type: 'click', at: NOW - 3 * DAY, linkIdx: 0, ...s1 },
        { contactId: id.bob, type: 'web', at: NOW - 3 * DAY, name: 'pricing', url: 'https://site/pricing' },
        { contactId: id.cai, type: 'open', at: NOW - 100 * DAY, sendingId: S2.sendingId, messageId: S2.messageId },
        { contactId: id.cai, type: 'web', at: NOW - 5 * DAY, name: 'pricing', url: 'https://site/pricing' },
        { contactId: id.dee, type: 'form_submit', at: NOW - DAY, formId: 7 },
        { contactId: id.dee, type: 'open', at: NOW - 10 * DAY, machine: true, sendingId: S3.sendingId, messageId: S3.messageId },
        { contactId: null, type: 'open', at: NOW - DAY, ...s1 },
      ]);
      for (const [who, sending, days] of [
        ['ana', S1, 2],
        ['cai', S1, 2],
        ['dee', S2, 40],
        ['bob', S1, 2],
      ] as const) {
        await db.insertInto('deliveries').values({ project_id: p, sending_id: sending.sendingId, contact_id: id[who], status: 'sent', at: NOW - days * DAY }).execute();
      }
      settingsNow = await settings();
    });

    afterAll(async () => {
      await t?.close();
    });

    it('behavioural clauses match tracked contacts only, with every filter', async () => {
      const S = (s: { sendingId: number }) => String(s.sendingId);
      expect(await members({ behavior: 'opened' })).toEqual(['ana', 'cai', 'dee']);
      expect(await members({ behavior: 'opened', withinDays: 30 })).toEqual(['ana', 'dee']);
      expect(await members({ behavior: 'opened', humanOnly: true })).toEqual(['ana', 'cai']);
      expect(await members({ behavior: 'opened', sendingId: S(S1) })).toEqual(['ana']);
      expect(await members({ behavior: 'opened', messageId: String(S1.messageId) })).toEqual(['ana', 'dee']);
      expect(await members({ behavior: 'opened', minCount: 2 })).toEqual(['ana']);
      expect(await members({ behavior: 'opened', minCount: 2, humanOnly: true })).toEqual([]);
      expect(await members({ behavior: 'clicked', linkUrl: 'https://ex.com/a' })).toEqual(['ana']);
      expect(await members({ behavior: 'clicked', linkUrl: 'https://ex.com/b' })).toEqual([]);
      expect(await members({ behavior: 'visited', eventName: 'pricing' })).toEqual(['cai']);
      expect(await members({ behavior: 'visited', linkUrl: 'https://site/pricing', withinDays: 7 })).toEqual(['cai']);
      expect(await members({ behavior: 'submitted', formId: '7' })).toEqual(['dee']);
      expect(await members({ behavior: 'submitted', formId: '8' })).toEqual([]);
      expect(await members({ behavior: 'received', sendingId: S(S1) })).toEqual(['ana', 'cai']);
      expect(await members({ behavior: 'received', messageId: String(S2.messageId) })).toEqual(['dee']);
      expect(await members({ behavior: 'received', withinDays: 30 })).toEqual(['ana', 'cai']);
      expect(await members({ behavior: 'received', minCount: 2 })).toEqual([]);
    });

    it('a negated behavioural clause never matches contacts who refused tracking', async () => {
      // "Did not open in 90 days" must not pull in bob and eve, who refused tracking (rule 7),
      // even though bob has no recent open and eve has no event at all.
      expect(await members({ not: { behavior: 'opened', withinDays: 90 } })).toEqual(['cai']);
      expect(await members({ not: { behavior: 'clicked', sendingId: String(S1.sendingId) } })).toEqual(['cai', 'dee']);
      expect(await members({ not: { behavior: 'received' } })).toEqual([]);
      expect(await members({ not: { not: { behavior: 'opened' } } })).toEqual(['ana', 'cai', 'dee']);
    });

    it('negation over a mixed subtree: field parts still match untracked contacts, behavioural parts never do', async () => {
      // not(all[plan = pro, opened]) = any[plan ≠ pro, tracked and not opened]
      expect(await members({ not: { all: [{ field: 'fields.plan', op: 'eq', value: 'pro' }, { behavior: 'opened' }] } })).toEqual(['bob', 'cai', 'eve']);
      // not(any[refused, submitted]) = all[not refused, tracked and not submitted]
      expect(await members({ not: { any: [{ field: 'trackingStatus', op: 'eq', value: 'refused' }, { behavior: 'submitted' }] } })).toEqual(['ana', 'cai']);
      expect(await members({ any: [{ field: 'fields.city', op: 'eq', value: 'Québec' }, { behavior: 'submitted' }] })).toEqual(['bob', 'dee']);
      expect(await members({ all: [{ field: 'fields.city', op: 'startsWith', value: 'Mon' }, { not: { behavior: 'clicked' } }] })).toEqual(['cai']);
      expect(await members({ all: [] })).toEqual([...NAMES]);
      expect(await members({ any: [] })).toEqual([]);
      expect(await members({ not: { all: [] } })).toEqual([]);
    });

    it('field clauses: every operator, on email, status, tracking status and custom fields', async () => {
      const f = (field: string, op: string, value?: unknown) => members(value === undefined ? { field, op } : { field, op, value });
      expect(await f('email', 'eq', 'ANA@Example.com')).toEqual(['ana']);
      expect(await f('email', 'neq', 'ana@example.com')).toEqual(['bob', 'cai', 'dee', 'eve']);
      expect(await f('email', 'endsWith', '@EXAMPLE.com')).toEqual(['ana', 'bob', 'dee']);
      expect(await f('email', 'contains', 'test')).toEqual(['cai']);
      expect(await f('email', 'startsWith', 'e')).toEqual(['eve']);
      expect(await f('email', 'in', ['bob@example.com', 'EVE@sample.net'])).toEqual(['bob', 'eve']);
      expect(await f('email', 'exists')).toEqual([...NAMES]);
      expect(await f('status', 'eq', 'active')).toEqual([...NAMES]);
      expect(await f('status', 'neq', 'active')).toEqual([]);
      expect(await f('trackingStatus', 'eq', 'unanswered')).toEqual(['cai']);
      expect(await f('trackingStatus', 'in', ['accepted', 'refused'])).toEqual(['ana', 'bob', 'dee', 'eve']);
      expect(await f('trackingStatus', 'neq', 'refused')).toEqual(['ana', 'cai', 'dee']);
      expect(await f('fields.city', 'eq', 'Montréal')).toEqual(['ana', 'cai']);
      expect(await f('fields.city', 'contains', 'bec')).toEqual(['bob']);
      expect(await f('fields.city', 'endsWith', 'réal')).toEqual(['ana', 'cai']);
      expect(await f('fields.city', 'neq', 'Montréal')).toEqual(['bob', 'dee', 'eve']);
      expect(await f('fields.age', 'gt', 40)).toEqual(['bob', 'dee']);
      expect(await f('fields.age', 'lt', 20)).toEqual(['cai']);
      expect(await f('fields.age', 'eq', 34)).toEqual(['ana']);
      expect(await f('fields.age', 'eq', '34')).toEqual(['ana']);
      expect(await f('fields.vip', 'eq', true)).toEqual(['ana']);
      expect(await f('fields.plan', 'exists')).toEqual(['ana', 'bob', 'dee']);
      expect(await f('fields.plan', 'exists', false)).toEqual(['cai', 'eve']);
      expect(await f('fields.plan', 'in', ['pro', 'free'])).toEqual(['ana', 'bob', 'dee']);
      expect(await f('fields.joined', 'before', '2025-01-01')).toEqual(['bob']);
      expect(await f('fields.joined', 'after', '2025-12-31')).toEqual(['cai']);
      expect(await f('fields.joined', 'withinDays', 30)).toEqual(['ana', 'cai']);
      // Wildcards of LIKE are plain characters in values.
      expect(await f('fields.note', 'contains', '0% o')).toEqual(['dee']);
      expect(await f('fields.note', 'contains', '%_')).toEqual([]);
      expect(await f('fields.note', 'endsWith', '_now')).toEqual(['dee']);
    });

    it('opt-in mode: unanswered contacts are untracked, in positive and negated behavioural clauses', async () => {
      await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-in' } });
      settingsNow = await settings();
      try {
        expect(await members({ behavior: 'received', sendingId: String(S1.sendingId) })).toEqual(['ana']);
        expect(await members({ not: { behavior: 'opened', withinDays: 90 } })).toEqual([]);
        expect(await members({ behavior: 'visited' })).toEqual([]);
        expect(await members({ field: 'fields.city', op: 'eq', value: 'Montréal' })).toEqual(['ana', 'cai']);
      } finally {
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-out' } });
        settingsNow = await settings();
      }
    });

    it('with the tracking module off everyone is tracked', async () => {
      await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: false } });
      settingsNow = await settings();
      try {
        expect(await members({ behavior: 'opened', sendingId: String(S1.sendingId) })).toEqual(['ana', 'bob']);
        expect(await members({ not: { behavior: 'opened' } })).toEqual(['eve']);
      } finally {
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true } });
        settingsNow = await settings();
      }
    });

    it('a contact who refuses between two evaluations drops out of dynamic groups; a static group keeps its snapshot', async () => {
      const opened = await t.api<{ id: string }>('POST', `${base()}/groups`, { name: 'recent openers', criteria: { behavior: 'opened', withinDays: 30 } });
      const notClicked = await t.api<{ id: string }>('POST', `${base()}/groups`, { name: 'no click', criteria: { not: { behavior: 'clicked' } } });
      const snapshot = await t.api<{ id: string; type: string; refreshedAt: string }>('POST', `${base()}/groups`, {
        name: 'snapshot',
        type: 'static',
        criteria: { behavior: 'opened', withinDays: 30 },
      });
      expect(snapshot.body.type).toBe('static');
      const count = async (gid: string) => (await t.api<{ count: number }>('GET', `${base()}/groups/${gid}/count`)).body.count;
      expect([await count(opened.body.id), await count(notClicked.body.id), await count(snapshot.body.id)]).toEqual([2, 2, 2]);

      await t.api('PUT', `${base()}/contacts/${id.ana}/tracking-consent`, { consent: false });
      await t.api('PUT', `${base()}/contacts/${id.cai}/tracking-consent`, { consent: false });
      expect([await count(opened.body.id), await count(notClicked.body.id), await count(snapshot.body.id)]).toEqual([1, 1, 2]);
      const refreshed = await t.api('POST', `${base()}/groups/${snapshot.body.id}/refresh`);
      expect(refreshed.status).toBe(200);
      expect(await count(snapshot.body.id)).toBe(1);
      expect((await t.api('POST', `${base()}/groups/${opened.body.id}/refresh`)).status).toBe(400);

      await t.api('PUT', `${base()}/contacts/${id.ana}/tracking-consent`, { consent: true });
      await t.api('PUT', `${base()}/contacts/${id.cai}/tracking-consent`, { consent: null });
      expect(await count(opened.body.id)).toBe(2);
      for (const g of [opened, notClicked, snapshot]) await t.api('DELETE', `${base()}/groups/${g.body.id}`);
    });

    it('groups CRUD, and the contact-id query a sending targets', async () => {
      const created = await t.api<{ id: string; name: string; type: string; criteria: unknown }>('POST', `${base()}/groups`, {
        name: 'Montréal',
        criteria: { field: 'fields.city', op: 'eq', value: 'Montréal' },
      });
      expect(created.body).toMatchObject({ name: 'Montréal', type: 'dynamic', criteria: { field: 'fields.city', op: 'eq', value: 'Montréal' } });
      const gid = created.body.id;
      expect((await t.api<{ items: { id: string }[] }>('GET', `${base()}/groups`)).body.items.map((g) => g.id)).toContain(gid);
      const patched = await t.api<{ name: string }>('PATCH', `${base()}/groups/${gid}`, { name: 'Pro', criteria: { field: 'fields.plan', op: 'eq', value: 'pro' } });
      expect(patched.body.name).toBe('Pro');
      const query = await t.ctx.segments.contactIdsQuery(Number(pid), Number(gid));
      const rows = await query.orderBy('c.id').execute();
      expect(rows.map((r) => nameOf.get(r.id))).toEqual(['ana', 'dee']);
      const page = await query.where('c.id', '>', id.ana).orderBy('c.id').limit(10).execute();
      expect(page.map((r) => r.id)).toEqual([id.dee]);
      expect((await t.api('DELETE', `${base()}/groups/${gid}`)).status).toBe(204);
      expect((await t.api<Problem>('GET', `${base()}/groups/${gid}`)).body.code).toBe('GroupNotFound');
    });

    it('criteria are validated on save, with the path of each problem', async () => {
      const post = (criteria: unknown) => t.api<Problem>('POST', `${base()}/groups`, { name: 'bad', criteria });
      const cases: [unknown, string][] = [
        [{ all: [{ field: 'email', op: 'eq', value: 'x' }, { field: 'email', op: 'gt', value: 3 }] }, 'criteria.all[1].op'],
        [{ behavior: 'bought' }, 'criteria.behavior'],
        [{ any: [{ field: 'fields.age', op: 'gt', value: 'ten' }] }, 'criteria.any[0].value'],
        [{ field: 'phone', op: 'eq', value: 'x' }, 'criteria.field'],
        [{ field: 'fields.a b', op: 'eq', value: 'x' }, 'criteria.field'],
        [{ field: "fields.x') OR 1=1 --", op: 'exists' }, 'criteria.field'],
        [{ field: 'email', op: 'like', value: 'x' }, 'criteria.op'],
        [{ not: { behavior: 'opened', withinDays: -1 } }, 'criteria.not.withinDays'],
        [{ behavior: 'opened', formId: '3' }, 'criteria.formId'],
        [{ behavior: 'clicked', sendingId: 'abc' }, 'criteria.sendingId'],
        [{ field: 'status', op: 'eq', value: 'gone' }, 'criteria.value'],
        [{ field: 'fields.d', op: 'before', value: 'yesterday' }, 'criteria.value'],
        [{ field: 'score.999', op: 'gt', value: 1 }, 'criteria'],
        [{ all: { field: 'email', op: 'exists' } }, 'criteria.all'],
        [{ foo: 1 }, 'criteria'],
        [{ not: { not: { not: { not: { not: { not: { not: { not: { not: { not: { not: { not: { behavior: 'opened' } } } } } } } } } } } } }, 'criteria.not.not.not.not.not.not.not.not.not.not.not.not'],
        [{ any: Array.from({ length: 400 }, () => ({ field: 'email', op: 'exists' })) }, 'criteria.any[299]'],
      ];
      for (const [criteria, field] of cases) {
        const res = await post(criteria);
        expect(res.status, JSON.stringify(criteria).slice(0, 80)).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body.code).toBe('InvalidCriteria');
        expect(res.body.errors?.map((e) => e.field)).toContain(field);
      }
      const missing = await t.api<Problem>('POST', `${base()}/groups`, { name: 'x' });
      expect(missing.status).toBe(400);
      const patch = await t.api<Problem>('POST', `${base()}/groups`, { name: 'ok', criteria: { all: [] } });
      const badPatch = await t.api<Problem>('PATCH', `${base()}/groups/${(patch.body as unknown as { id: string }).id}`, { criteria: { not: { field: 'email', op: 'gt', value: 1 } } });
      expect(badPatch.body.errors?.[0]?.field).toBe('criteria.not.op');
    });

    it("another project's groups are not found, by path or with its own key", async () => {
      const other = await createProject(t, { tracking: { enabled: true } });
      const created = await t.api<{ id: string }>('POST', `${base()}/groups`, { name: 'mine', criteria: { all: [] } });
      expect((await t.api('GET', `/api/v1/projects/${other}/groups/${created.body.id}`)).status).toBe(404);
      expect((await t.api('GET', `/api/v1/projects/${other}/groups/${created.body.id}/count`)).status).toBe(404);
      expect((await t.api('DELETE', `/api/v1/projects/${other}/groups/${created.body.id}`)).status).toBe(404);
      const key = await t.api<{ key: string }>('POST', `/api/v1/projects/${other}/keys`, { name: 'k' });
      expect((await t.api('GET', `${base()}/groups/${created.body.id}`, undefined, key.body.key)).status).toBe(404);
      expect((await t.api('GET', `${base()}/groups`, undefined, key.body.key)).status).toBe(404);
      const own = await t.api<{ items: unknown[] }>('GET', `/api/v1/projects/${other}/groups`, undefined, key.body.key);
      expect(own.body.items).toEqual([]);
    });

    it('trackedSql agrees with isTracked on random contacts and settings', async () => {
      const db = t.ctx.store.db;
      await fc.assert(
        fc.asyncProperty(
          fc.record({ enabled: fc.boolean(), mode: fc.constantFrom('opt-in' as const, 'opt-out' as const) }),
          fc.array(fc.constantFrom<boolean | null>(true, false, null), { minLength: 1, maxLength: 8 }),
          async (tracking, consents) => {
            const values = consents.map((c) => (c === null ? sql`CAST(NULL AS INTEGER)` : sql.lit(c ? 1 : 0)));
            const rows = await sql<{ i: number }>`SELECT i FROM (${sql.join(
              values.map((v, i) => sql`SELECT ${sql.lit(i)} AS i, ${v} AS has_tracking_consent`),
              sql` UNION ALL `,
            )}) AS c WHERE ${trackedSql(tracking, 'c.has_tracking_consent')}`.execute(db);
            const viaSql = rows.rows.map((r) => Number(r.i)).sort((a, b) => a - b);
            const viaJs = consents.flatMap((c, i) => (isTracked({ hasTrackingConsent: c }, tracking) ? [i] : []));
            expect(viaSql).toEqual(viaJs);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('the SQL evaluation agrees with the in-memory evaluation on random data and random criteria', async () => {
      const db = t.ctx.store.db;
      const arbitraries = randomCriteria();
      await fc.assert(
        fc.asyncProperty(
          fc.record({ enabled: fc.boolean(), mode: fc.constantFrom('opt-in' as const, 'opt-out' as const) }),
          fc.array(arbitraries.contact, { minLength: 1, maxLength: 7 }),
          fc.array(arbitraries.event, { maxLength: 25 }),
          fc.array(arbitraries.delivery, { maxLength: 8 }),
          fc.array(arbitraries.tree, { minLength: 1, maxLength: 6 }),
          async (tracking, contacts, events, deliveries, trees) => {
            const project = await t.ctx.projects.create('prop');
            await t.ctx.projects.update(project.id, { settings: { tracking } }, 'admin:test');
            const p = project.id;
            const { sendings } = await insertRandomWorld(db, p, NOW, contacts, events, deliveries);
            const settingsOfP = (await t.ctx.projects.get(p)).settings.tracking;
            const data = await loadProjectActivity(db, p);
            for (const raw of trees) {
              // Ids in the generated trees are indexes; map them onto the rows just inserted.
              const tree = bindIds(raw, sendings);
              const predicate = await t.ctx.segments.predicate(p, tree, NOW);
              const rows = await db.selectFrom('contacts as c').select('c.id').where('c.project_id', '=', p).where(predicate).orderBy('c.id').execute();
              const expected = data.filter((c) => evaluateCriteria(tree, c.contact, c.activity, { settings: settingsOfP, now: NOW })).map((c) => c.id);
              expect(rows.map((r) => r.id), JSON.stringify({ tree, tracking })).toEqual(expected);
            }
          },
        ),
        { numRuns: dialect === 'postgres' ? 30 : 60 },
      );
    });
  });
}
