import type { Db } from './database.js';

/*
 * Queries on the `jobs` table made by the services that own a job (a
 * campaign keeps one job however often it is resumed or fed contacts).
 */

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
