// Retention anonymises identified events past a project's retention, without
// moving totals, and the outbox is purged like a mail queue.
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const DAY = 86_400_000;

for (const dialect of dialects()) {
  describe(`housekeeping (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, { outboxRetentionDays: 7 });
    });
    afterAll(async () => t?.close());

    it('anonymises identified events older than the retention and leaves newer ones and other projects alone', async () => {
      const now = Date.now();
      const kept = Number(await createProject(t, { retentionDays: 30 }));
      const forever = Number(await createProject(t));
      const event = (projectId: number, contactId: number, sendingId: number, age: number) => ({
        project_id: projectId, type: 'open', contact_id: contactId, sending_id: sendingId, at: now - age * DAY + 1234, machine: 0, ip: '198.51.100.4', user_agent: 'UA',
      });
      await t.ctx.store.db.insertInto('events').values([event(kept, 1, 9, 40), event(kept, 1, 9, 41), event(kept, 2, 9, 45), event(kept, 1, 9, 5), event(forever, 3, 8, 400)]).execute();
      const result = await t.ctx.housekeeping.run(now);
      expect(result.anonymized).toBe(3);
      const rows = await t.ctx.store.db.selectFrom('events').selectAll().where('project_id', 'in', [kept, forever]).orderBy('at').execute();
      expect(rows).toHaveLength(5);
      const old = rows.filter((r) => r.project_id === kept && r.at < now - 30 * DAY);
      expect(old).toHaveLength(3);
      for (const r of old) expect(r).toMatchObject({ contact_id: null, ip: null, user_agent: null });
      for (const r of old) expect(r.at % 60_000).toBe(0);
      // One nonce per (contact, sending): the two old opens of contact 1 stay one unique opener.
      expect(new Set(old.map((r) => r.nonce)).size).toBe(2);
      expect(rows.find((r) => r.project_id === kept && r.at > now - 30 * DAY)?.contact_id).toBe(1);
      expect(rows.find((r) => r.project_id === forever)?.contact_id).toBe(3);
    });

    it('purges outbox files older than the configured days', async () => {
      const dir = join(t.config.dataDir, 'outbox', '77');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'old.eml'), 'x');
      writeFileSync(join(dir, 'new.eml'), 'y');
      const tenDaysAgo = (Date.now() - 10 * DAY) / 1000;
      utimesSync(join(dir, 'old.eml'), tenDaysAgo, tenDaysAgo);
      const result = await t.ctx.housekeeping.run();
      expect(result.purged).toBe(1);
      expect(existsSync(join(dir, 'old.eml'))).toBe(false);
      expect(existsSync(join(dir, 'new.eml'))).toBe(true);
    });

    it('keeps one pending housekeeping job', async () => {
      await t.ctx.housekeeping.schedule();
      await t.ctx.housekeeping.schedule();
      const jobs = await t.ctx.store.db.selectFrom('jobs').select('id').where('kind', '=', 'housekeeping').where('state', '=', 'pending').execute();
      expect(jobs).toHaveLength(1);
      expect(await t.ctx.jobs.runOnce()).toBe(true);
      const after = await t.ctx.store.db.selectFrom('jobs').select(['state', 'run_at']).where('kind', '=', 'housekeeping').orderBy('id').execute();
      expect(after.map((j) => j.state)).toEqual(['done', 'pending']);
      expect(after[1]!.run_at).toBeGreaterThan(Date.now() + 50 * 60_000);
    });
  });
}
