// Several job runners on one database (as several worker processes are) must never run one step twice or two
// steps of a job at once: sendings, imports and campaign steps rely on it for "never one message twice" (SPEC §9, §12).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, type JobHandler, JobRunner } from '../../src/services/jobs.js';
import { migrate, openStore, type Store } from '../../src/store/database.js';
import { dialects, freshDatabase } from '../helpers/harness.js';

const RUNNERS = 4;

/** Polls `check` until it gives a value (10 s at most). */
async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
const JOBS = 24;
const STEPS = 4;

for (const dialect of dialects()) {
  describe(`job leases (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    const stores: Store[] = [];

    beforeAll(async () => {
      database = await freshDatabase(dialect);
      // One store per runner: on PostgreSQL its own pool, on SQLite its own connection, like separate processes.
      for (let i = 0; i < RUNNERS; i++) stores.push(openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 3 }));
      await migrate(stores[0]!);
    });
    afterAll(async () => {
      for (const store of stores) await store.close();
      await database?.drop();
    });

    it('runs every step of every job exactly once, one step of a job at a time, whichever runner claims it', async () => {
      const db = stores[0]!.db;
      const now = Date.now();
      await db.insertInto('projects').values({ name: 'p', settings: '{}', ledger_salt: 'x', created_at: now, updated_at: now }).execute();
      const project = await db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
      for (let i = 0; i < JOBS; i++) {
        await db.insertInto('jobs').values({ project_id: project.id, kind: 'test', ref_id: i, state: 'pending', run_at: now, lease_until: 0, attempts: 0, created_at: now }).execute();
      }
      const steps = new Map<number, number>();
      const inFlight = new Set<number>();
      const overlaps: number[] = [];
      const byRunner = new Map<number, number>();
      const handler = (runner: number): JobHandler => ({
        async step(job: Job) {
          if (inFlight.has(job.id)) overlaps.push(job.id);
          inFlight.add(job.id);
          await new Promise((r) => setTimeout(r, Math.random() * 4));
          const done = (steps.get(job.id) ?? 0) + 1;
          steps.set(job.id, done);
          byRunner.set(runner, (byRunner.get(runner) ?? 0) + 1);
          inFlight.delete(job.id);
          return done >= STEPS ? 'done' : 'continue';
        },
      });
      const runners = stores.map((store, i) => new JobRunner(store.db, Date.now, { test: handler(i) }, { pollMs: 5, leaseMs: 10_000 }));
      for (const runner of runners) runner.start();
      const deadline = Date.now() + 30_000;
      for (;;) {
        const left = await db.selectFrom('jobs').select('id').where('state', '!=', 'done').execute();
        if (left.length === 0) break;
        if (Date.now() > deadline) throw new Error(`${left.length} jobs left`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.all(runners.map((r) => r.stop()));
      expect(overlaps).toEqual([]);
      expect([...steps.values()]).toEqual(Array.from({ length: JOBS }, () => STEPS));
      // The runners really competed: more than one of them ran steps.
      expect(byRunner.size).toBeGreaterThan(1);
    });

    it("does not release the lease of a runner that took over from one whose step outlived its lease", async () => {
      const db = stores[0]!.db;
      const project = await db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
      const now = Date.now();
      await db.insertInto('jobs').values({ project_id: project.id, kind: 'slow', ref_id: 1, state: 'pending', run_at: now, lease_until: 0, attempts: 0, created_at: now }).execute();
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => {
        release = r;
      });
      // A runner that stalls: its heartbeat renews nothing, as when its process hangs.
      const slow = new JobRunner(stores[1]!.db, Date.now, { slow: { step: () => held.then(() => 'continue' as const) } }, { leaseMs: 50, heartbeatMs: 0 });
      const first = slow.runOnce();
      // Waits on the row, not on the clock: a loaded machine may take longer than a lease to claim.
      const claimed = await until(async () => {
        const job = await db.selectFrom('jobs').select(['attempts', 'lease_until']).where('kind', '=', 'slow').executeTakeFirstOrThrow();
        return job.attempts >= 1 ? job : undefined;
      });
      await until(async () => Date.now() > claimed.lease_until + 5 || undefined);
      // The lease ran out: a second runner claims the job and is still in its step.
      let second: () => void = () => undefined;
      const secondHeld = new Promise<void>((r) => {
        second = r;
      });
      const other = new JobRunner(stores[2]!.db, Date.now, { slow: { step: () => secondHeld.then(() => 'done' as const) } }, { leaseMs: 60_000 });
      const took = other.runOnce();
      await until(async () => {
        const job = await db.selectFrom('jobs').select('attempts').where('kind', '=', 'slow').executeTakeFirstOrThrow();
        return job.attempts >= 2 || undefined;
      });
      release();
      await first;
      const row = await db.selectFrom('jobs').select(['lease_until', 'state']).where('kind', '=', 'slow').executeTakeFirstOrThrow();
      expect(row.lease_until).toBeGreaterThan(Date.now());
      // So a third runner cannot claim it while the second one works.
      const third = new JobRunner(stores[3]!.db, Date.now, { slow: { step: async () => 'done' as const } });
      expect(await third.runOnce()).toBe(false);
      second();
      expect(await took).toBe(true);
      expect((await db.selectFrom('jobs').select('state').where('kind', '=', 'slow').executeTakeFirstOrThrow()).state).toBe('done');
    });

    it('keeps the job of a step that outlives its short lease while the heartbeat renews it', async () => {
      const db = stores[0]!.db;
      const project = await db.selectFrom('projects').select('id').executeTakeFirstOrThrow();
      const now = Date.now();
      await db.insertInto('jobs').values({ project_id: project.id, kind: 'long', ref_id: 1, state: 'pending', run_at: now, lease_until: 0, attempts: 0, created_at: now }).execute();
      let lost: boolean | undefined;
      const long = new JobRunner(stores[1]!.db, Date.now, { long: { step: async (_job, lease) => {
        await new Promise((r) => setTimeout(r, 600));
        lost = lease.lost;
        return 'done' as const;
      } } }, { leaseMs: 150, heartbeatMs: 30 });
      const running = long.runOnce();
      // Four leases later the step still holds the job: no other runner may claim it.
      await new Promise((r) => setTimeout(r, 450));
      const other = new JobRunner(stores[2]!.db, Date.now, { long: { step: async () => 'done' as const } }, { leaseMs: 150 });
      expect(await other.runOnce()).toBe(false);
      expect(await running).toBe(true);
      expect(lost).toBe(false);
      expect((await db.selectFrom('jobs').select('state').where('kind', '=', 'long').executeTakeFirstOrThrow()).state).toBe('done');
    });
  });
}
