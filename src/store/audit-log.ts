import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { AuditLogTable } from './schema.js';

export type AuditRow = Selectable<AuditLogTable>;

export interface AuditFilter {
  actor?: string;
  action?: string;
  since?: number;
  until?: number;
  /** Entries older than this id (the cursor of the previous page). */
  before?: number;
}

export async function appendAudit(db: Db, entry: Omit<AuditRow, 'id'>): Promise<void> {
  await db.insertInto('audit_log').values(entry).execute();
}

/** A project's audit entries, newest first, keyset-paged by id. */
export async function listAudit(db: Db, projectId: number, filter: AuditFilter, limit: number): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_log').selectAll().where('project_id', '=', projectId);
  if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
  if (filter.action !== undefined) query = query.where('action', '=', filter.action);
  if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('at', '<', filter.until);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  return query.orderBy('id', 'desc').limit(limit).execute();
}
