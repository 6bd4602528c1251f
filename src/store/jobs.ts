import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { JobTable } from './schema.js';

/*
 * The `jobs` table: the runner's queue with its leases (JobRunner), and the
 * queries of the services that own a job (a campaign keeps one job however
 * often it is resumed or fed contacts).
 */

export type Job = Selectable<JobTable>;

export async function insertJob(trx: Db, projectId: number, kind: string, refId: number, runAt: number, now: number): Promise<void> {
  await trx
    .insertInto('jobs')
    .values({ project_id: projectId, kind, ref_id: refId, state: 'pending', run_at: runAt, lease_until: 0, attempts: 0, created_at: now })
    .execute();
}

/**
 * Claims the oldest due job no runner holds: one `UPDATE … WHERE lease_until
 * < now`, so two processes never claim the same job. The claim counts an attempt.
 */
export async function claimDueJob(db: Db, now: number, leaseMs: number): Promise<Job | undefined> {
  return db
    .updateTable('jobs')
    .set((eb) => ({ lease_until: now + leaseMs, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', (eb) =>
      eb
        .selectFrom('jobs')
        .select('id')
        .where('state', '=', 'pending')
        .where('run_at', '<=', now)
        .where('lease_until', '<', now)
        .orderBy('run_at')
        .orderBy('id')
        .limit(1),
    )
    // Checked again on the row itself: on PostgreSQL a concurrent claim re-evaluates only these conditions
    // (not the subquery) once the row is free, and the job may have finished in between.
    .where('state', '=', 'pending')
    .where('lease_until', '<', now)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Extends a held lease to `until` (the runner's heartbeat): false when the lease is no longer the one
 * claimed (it lapsed and another runner took the job, or the job was released).
 */
export async function renewLease(db: Db, job: Job, until: number): Promise<boolean> {
  const renewed = await db
    .updateTable('jobs')
    .set({ lease_until: until })
    .where('project_id', '=', job.project_id)
    .where('id', '=', job.id)
    .where('state', '=', 'pending')
    .where('lease_until', '=', job.lease_until)
    .executeTakeFirst();
  return Number(renewed.numUpdatedRows) === 1;
}

/** Releases a job after a successful step (while the claimed lease holds): done, or pending again with its attempts reset. */
export async function releaseJob(db: Db, job: Job, done: boolean): Promise<void> {
  await db
    .updateTable('jobs')
    .set(done ? { state: 'done', lease_until: 0 } : { lease_until: 0, attempts: 0 })
    .where('project_id', '=', job.project_id)
    .where('id', '=', job.id)
    // Only while our lease holds: a step that outlived it must not release the lease of the runner that took over.
    .where('lease_until', '=', job.lease_until)
    .execute();
}

/** Releases a job after a failed step (while the claimed lease holds): retried at `retryAt`, or failed for good. */
export async function failJob(db: Db, job: Job, failure: { final: boolean; retryAt: number; error: string }): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ state: failure.final ? 'failed' : 'pending', lease_until: 0, run_at: failure.retryAt, last_error: failure.error })
    .where('project_id', '=', job.project_id)
    .where('id', '=', job.id)
    .where('lease_until', '=', job.lease_until)
    .execute();
}

/** Whether any job of `kind` is pending, in any project. */
export async function hasPendingJobOfKind(db: Db, kind: string): Promise<boolean> {
  const row = await db.selectFrom('jobs').select('id').where('kind', '=', kind).where('state', '=', 'pending').executeTakeFirst();
  return row !== undefined;
}

/** The pending job of `kind` for `refId` that no runner holds now, if any. */
export async function idlePendingJob(db: Db, projectId: number, kind: string, refId: number, now: number): Promise<{ id: number; runAt: number } | undefined> {
  const row = await db
    .selectFrom('jobs')
    .select(['id', 'run_at'])
    .where('project_id', '=', projectId)
    .where('kind', '=', kind)
    .where('ref_id', '=', refId)
    .where('state', '=', 'pending')
    .where('lease_until', '<', now)
    .executeTakeFirst();
  return row ? { id: row.id, runAt: row.run_at } : undefined;
}

/** Whether a pending job of the same kind and ref was enqueued after job `jobId`. */
export async function hasNewerPendingJob(db: Db, projectId: number, kind: string, refId: number, jobId: number): Promise<boolean> {
  const row = await db
    .selectFrom('jobs')
    .select('id')
    .where('project_id', '=', projectId)
    .where('kind', '=', kind)
    .where('ref_id', '=', refId)
    .where('state', '=', 'pending')
    .where('id', '>', jobId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function setJobRunAt(db: Db, projectId: number, jobId: number, runAt: number): Promise<void> {
  await db.updateTable('jobs').set({ run_at: runAt }).where('project_id', '=', projectId).where('id', '=', jobId).execute();
}
