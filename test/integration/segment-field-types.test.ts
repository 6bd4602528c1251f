// Custom fields hold any JSON type and SQL compares them differently from JavaScript: the SQL
// compiler must agree with the in-memory reference evaluator for every stored type, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Criteria, Scalar } from '../../src/domain/criteria.js';
import { evaluateCriteria } from '../../src/domain/criteria-evaluator.js';
import { loadProjectActivity } from '../helpers/activity.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const NOW = Date.UTC(2026, 0, 15, 12);

// A custom field read as text must keep its JSON type: "true", "2.5", "12" or '{"a":1}' as a
// string is not the boolean, the number or the object. The compiler reads a field without its
// type check for values no other type can read as, so each confusable pair is checked here.
const STORED: unknown[] = [
  'true', true, 'false', false, '2.5', 2.5, '12', 12, '-3', -3, '1.0', 1.5e300, '12345678901234567',
  '{"a":1}', { a: 1 }, '[1]', [1], 'null', null, '', 'Montréal', 'montréal', 'Montréal ', 'a"b', 'a\\b', 'é\u00e9',
];
const COMPARED: Scalar[] = [
  'true', true, 'false', false, '2.5', '12', '-3', '1.0', '12345678901234567', '{"a":1}', '{"a": 1}', '[1]', 'null', 'Montréal', 'a"b', 'a\\b', 'é\u00e9', '1e2',
];

for (const dialect of dialects()) {
  describe(dialect, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => NOW);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('eq, neq and in on a custom field match the in-memory evaluation for every JSON type of the stored value', async () => {
      const p = Number(await createProject(t, { tracking: { enabled: true } }));
      const db = t.ctx.store.db;
      await db
        .insertInto('contacts')
        .values(
          [...STORED.map((v) => JSON.stringify({ v })), '{}'].map((fields, i) => ({
            project_id: p,
            email: `c${i}@x.org`,
            external_id: null,
            phone: null,
            fields,
            status: 'active',
            has_tracking_consent: 1,
            dt_tracking_consent: null,
            created_at: 0,
            updated_at: 0,
          })),
        )
        .execute();
      const data = await loadProjectActivity(db, p);
      const settings = (await t.ctx.projects.get(p)).settings.tracking;
      const trees: Criteria[] = COMPARED.flatMap((value): Criteria[] => [
        { field: 'fields.v', op: 'eq', value },
        { field: 'fields.v', op: 'neq', value },
        { field: 'fields.v', op: 'in', value: [value, 'x'] },
      ]);
      let matched = 0;
      for (const tree of trees) {
        const predicate = await t.ctx.segments.predicate(p, tree, NOW);
        const rows = await db.selectFrom('contacts as c').select('c.id').where('c.project_id', '=', p).where(predicate).orderBy('c.id').execute();
        const expected = data.filter((c) => evaluateCriteria(tree, c.contact, c.activity, { settings, now: NOW })).map((c) => c.id);
        expect(
          rows.map((r) => r.id),
          JSON.stringify(tree),
        ).toEqual(expected);
        if ('op' in tree && tree.op === 'eq') matched += expected.length;
      }
      // The comparison is not vacuous: most compared values match some stored value.
      expect(matched).toBeGreaterThan(COMPARED.length);
    });
  });
}
