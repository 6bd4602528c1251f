// Scores must give untracked contacts no behavioural points (rule 8), and a contact who
// becomes untracked must lose them at once: scores are computed from current consent.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreRule } from '../../src/domain/criteria.js';
import { scoreOf } from '../../src/domain/criteria-evaluator.js';
import { insertEvents, insertSending, loadProjectActivity } from '../helpers/activity.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { bindIds, insertRandomWorld, randomCriteria } from '../helpers/random-criteria.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15, 12);

interface Problem {
  code: string;
  errors?: { field: string; reason: string }[];
}

for (const dialect of dialects()) {
  describe(`scoring (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let mid: string;
    const id = { ana: 0, bob: 0, cai: 0 };
    const base = () => `/api/v1/projects/${pid}`;
    const rules = [
      { criteria: { behavior: 'opened' }, points: 5, perOccurrence: true, max: 12 },
      { criteria: { field: 'fields.plan', op: 'eq', value: 'pro' }, points: 10 },
      { criteria: { behavior: 'clicked' }, points: 7 },
      { criteria: { behavior: 'opened', humanOnly: true }, points: 2, perOccurrence: true, withinDays: 30 },
    ];

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => NOW);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out', anonymizePastOnRefusal: false } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `${base()}/contacts/merge`, {
        records: [
          { email: 'ana@example.com', hasTrackingConsent: true, fields: { plan: 'pro' } },
          { email: 'bob@example.com', hasTrackingConsent: false, fields: { plan: 'pro' } },
          { email: 'cai@example.com' },
        ],
      });
      [id.ana, id.bob, id.cai] = merged.body.results.map((r) => Number(r.contactId)) as [number, number, number];
      const p = Number(pid);
      const s = await insertSending(t.ctx.store.db, p, ['https://ex.com/a']);
      const on = { sendingId: s.sendingId, messageId: s.messageId };
      await insertEvents(t.ctx.store.db, p, [
        { contactId: id.ana, type: 'open', at: NOW - DAY, ...on },
        { contactId: id.ana, type: 'open', at: NOW - 2 * DAY, machine: true, ...on },
        { contactId: id.ana, type: 'open', at: NOW - 100 * DAY, ...on },
        { contactId: id.ana, type: 'click', at: NOW - DAY, linkIdx: 0, ...on },
        { contactId: id.bob, type: 'open', at: NOW - DAY, ...on },
        { contactId: id.bob, type: 'click', at: NOW - DAY, linkIdx: 0, ...on },
        { contactId: id.cai, type: 'open', at: NOW - 5 * DAY, ...on },
        { contactId: null, type: 'open', at: NOW - DAY, ...on },
      ]);
      const created = await t.api<{ id: string; rules: unknown }>('POST', `${base()}/score-models`, { name: 'engagement', rules });
      expect(created.status).toBe(201);
      expect(created.body.rules).toEqual(rules);
      mid = created.body.id;
    });

    afterAll(async () => {
      await t?.close();
    });

    const scores = (contactId: number) => t.ctx.scoring.scoresFor(Number(pid), contactId);

    it('behavioural points per occurrence, capped, windowed; field points for everyone; none of the behavioural ones for untracked contacts', async () => {
      // ana: opens 3×5 capped at 12, plan 10, clicked 7, one human open in 30 days 2
      expect(await scores(id.ana)).toEqual({ [mid]: 31 });
      // bob refused tracking: his identified opens and clicks earn nothing, his plan does
      expect(await scores(id.bob)).toEqual({ [mid]: 10 });
      expect(await scores(id.cai)).toEqual({ [mid]: 7 });
      const card = await t.api<{ scores: Record<string, number> }>('GET', `${base()}/contacts/${id.bob}`);
      expect(card.body.scores).toEqual({ [mid]: 10 });
    });

    it('a contact who becomes untracked loses the behavioural points at once, and gets them back on acceptance', async () => {
      await t.api('PUT', `${base()}/contacts/${id.ana}/tracking-consent`, { consent: false });
      expect(await scores(id.ana)).toEqual({ [mid]: 10 });
      await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-in' } });
      expect(await scores(id.cai)).toEqual({ [mid]: 0 });
      await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-out' } });
      await t.api('PUT', `${base()}/contacts/${id.ana}/tracking-consent`, { consent: true });
      expect(await scores(id.ana)).toEqual({ [mid]: 31 });
    });

    it('score.<modelId> is usable in group criteria, computed in SQL', async () => {
      const group = await t.api<{ id: string }>('POST', `${base()}/groups`, { name: 'hot', criteria: { field: `score.${mid}`, op: 'gt', value: 8 } });
      expect(group.status).toBe(201);
      const count = async () => (await t.api<{ count: number }>('GET', `${base()}/groups/${group.body.id}/count`)).body.count;
      expect(await count()).toBe(2);
      const low = await t.api<{ id: string }>('POST', `${base()}/groups`, { name: 'cold', criteria: { all: [{ field: `score.${mid}`, op: 'lt', value: 8 }, { not: { field: `score.${mid}`, op: 'eq', value: 0 } }] } });
      const members = await t.api<{ items: { email: string }[] }>('GET', `${base()}/groups/${low.body.id}/contacts`);
      expect(members.body.items.map((c) => c.email)).toEqual(['cai@example.com']);
      // A model in use by a group cannot be deleted.
      const refused = await t.api<Problem>('DELETE', `${base()}/score-models/${mid}`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('ScoreModelInUse');
      await t.api('PUT', `${base()}/contacts/${id.ana}/tracking-consent`, { consent: false });
      expect(await count()).toBe(2);
      await t.api('PATCH', `${base()}/score-models/${mid}`, { rules: rules.filter((r) => 'behavior' in r.criteria) });
      expect(await count()).toBe(0);
      await t.api('PATCH', `${base()}/score-models/${mid}`, { rules });
      await t.api('PUT', `${base()}/contacts/${id.ana}/tracking-consent`, { consent: true });
      for (const g of [group, low]) expect((await t.api('DELETE', `${base()}/groups/${g.body.id}`)).status).toBe(204);
    });

    it('score models CRUD, validation paths and project isolation', async () => {
      const bad = async (body: unknown, field: string) => {
        const res = await t.api<Problem>('POST', `${base()}/score-models`, body);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.body.errors?.map((e) => e.field)).toContain(field);
      };
      await bad({ name: 'x', rules: [{ criteria: { all: [{ behavior: 'opened' }] }, points: 1, perOccurrence: true }] }, 'rules[0].perOccurrence');
      await bad({ name: 'x', rules: [{ criteria: { field: `score.${mid}`, op: 'gt', value: 1 }, points: 1 }] }, 'rules[0].criteria.field');
      await bad({ name: 'x', rules: [{ criteria: { behavior: 'opened' }, points: 1.5 }] }, 'rules[0].points');
      await bad({ name: 'x', rules: [{ criteria: { behavior: 'opened' } }] }, 'rules[0].points');
      await bad({ name: 'x', rules: [{ points: 1 }] }, 'rules[0].criteria');
      await bad({ name: 'x', rules: [{ criteria: { any: [{ field: 'email', op: 'gt', value: 1 }] }, points: 1 }] }, 'rules[0].criteria.any[0].op');
      await bad({ name: 'x', rules: [{ criteria: { behavior: 'opened' }, points: 1, withinDays: 0 }] }, 'rules[0].withinDays');
      await bad({ name: 'x', rules: {} }, 'rules');

      const created = await t.api<{ id: string }>('POST', `${base()}/score-models`, { name: 'temp', rules: [] });
      const list = await t.api<{ items: { id: string }[] }>('GET', `${base()}/score-models`);
      expect(list.body.items.map((m) => m.id)).toEqual([mid, created.body.id]);
      expect((await t.api<{ name: string }>('PATCH', `${base()}/score-models/${created.body.id}`, { name: 'renamed' })).body.name).toBe('renamed');
      expect(await scores(id.cai)).toEqual({ [mid]: 7, [created.body.id]: 0 });

      const other = await createProject(t);
      expect((await t.api('GET', `/api/v1/projects/${other}/score-models/${created.body.id}`)).status).toBe(404);
      expect((await t.api('DELETE', `/api/v1/projects/${other}/score-models/${created.body.id}`)).status).toBe(404);
      await expect(t.ctx.scoring.scoresFor(Number(other), id.ana)).rejects.toMatchObject({ code: 'ContactNotFound' });
      const groupInOther = await t.api<Problem>('POST', `/api/v1/projects/${other}/groups`, { name: 'x', criteria: { field: `score.${mid}`, op: 'gt', value: 1 } });
      expect(groupInOther.status).toBe(400);
      expect((await t.api('DELETE', `${base()}/score-models/${created.body.id}`)).status).toBe(204);
      expect((await t.api('GET', `${base()}/score-models/${created.body.id}`)).status).toBe(404);
    });

    it('SQL scores agree with the in-memory scores on random data and random rules', async () => {
      const db = t.ctx.store.db;
      const arb = randomCriteria();
      const rule = fc.oneof(
        fc.record({ criteria: arb.tree, points: fc.integer({ min: -5, max: 20 }), max: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }), withinDays: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }) }),
        fc.record({
          criteria: arb.tree.filter((c) => 'behavior' in c),
          points: fc.integer({ min: 1, max: 9 }),
          perOccurrence: fc.constant(true),
          max: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
          withinDays: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.record({ enabled: fc.boolean(), mode: fc.constantFrom('opt-in' as const, 'opt-out' as const) }),
          fc.array(arb.contact, { minLength: 1, maxLength: 6 }),
          fc.array(arb.event, { maxLength: 25 }),
          fc.array(arb.delivery, { maxLength: 6 }),
          fc.array(rule, { maxLength: 4 }),
          fc.integer({ min: -5, max: 40 }),
          async (tracking, contacts, events, deliveries, generated, threshold) => {
            const project = await t.ctx.projects.create('prop');
            await t.ctx.projects.update(project.id, { settings: { tracking } }, 'admin:test');
            const p = project.id;
            const { sendings } = await insertRandomWorld(db, p, NOW, contacts, events, deliveries);
            const modelRules = generated.map((r) => JSON.parse(JSON.stringify({ ...r, criteria: bindIds(r.criteria, sendings) })) as ScoreRule);
            const model = await t.ctx.scoring.create(p, { name: 'm', rules: modelRules });
            const settings = (await t.ctx.projects.get(p)).settings.tracking;
            const data = await loadProjectActivity(db, p);
            const expected = new Map(data.map((c) => [c.id, scoreOf(modelRules, c.contact, c.activity, { settings, now: NOW })]));
            for (const c of data) expect(await t.ctx.scoring.scoresFor(p, c.id), JSON.stringify(modelRules)).toEqual({ [String(model.id)]: expected.get(c.id) });
            const predicate = await t.ctx.segments.predicate(p, { field: `score.${model.id}`, op: 'gt', value: threshold }, NOW);
            const rows = await db.selectFrom('contacts as c').select('c.id').where('c.project_id', '=', p).where(predicate).orderBy('c.id').execute();
            expect(rows.map((r) => r.id)).toEqual(data.filter((c) => (expected.get(c.id) ?? 0) > threshold).map((c) => c.id));
          },
        ),
        { numRuns: dialect === 'postgres' ? 30 : 60 },
      );
    });
  });
}
