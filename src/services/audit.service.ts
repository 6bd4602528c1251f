import { type AuditFilter, type AuditRow, appendAudit, listAudit } from '../store/audit-log.js';
import type { Db } from '../store/database.js';

export interface AuditEntry {
  /** 0 for installation-wide actions (users, project creation). */
  projectId: number;
  actor: string;
  action: string;
  object: string;
  status: number;
  detail?: string;
}

/** `ok` below 400, `refused` for 401/403, `failed` otherwise. */
export function outcomeOf(status: number): string {
  if (status < 400) return 'ok';
  return status === 401 || status === 403 ? 'refused' : 'failed';
}

/**
 * The append-only audit log of SPEC §13: who (actor), what (action, object),
 * when, and how it ended. Entries carry ids and actor emails only, never a
 * contact's data.
 */
export class AuditService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await appendAudit(this.db, {
      project_id: entry.projectId,
      at: this.clock(),
      actor: entry.actor,
      action: entry.action,
      object: entry.object,
      outcome: outcomeOf(entry.status),
      status: entry.status,
      detail: entry.detail ?? null,
    });
  }

  /** A page of entries, newest first, and the cursor of the next page (null on the last). */
  async page(projectId: number, filter: Omit<AuditFilter, 'before'>, cursor: string | undefined, limit: number): Promise<{ items: AuditRow[]; nextCursor: string | null }> {
    const before = cursor === undefined ? undefined : Number(cursor);
    const rows = await listAudit(this.db, projectId, { ...filter, ...(before === undefined ? {} : { before }) }, limit + 1);
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]?.id) : null };
  }
}
