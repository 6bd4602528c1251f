import { parseConsentValue } from '../domain/consent.js';
import { normalizeEmail } from '../domain/contact.js';
import type { ImportRecord } from '../domain/import-mapping.js';
import { findContactsByKeys } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { insertImportRejects, updateImport } from '../store/imports.js';
import type { ContactService, MergeType } from './contacts.service.js';
import type { ImportReject } from './csv-reader.js';
import { countColumns, type ImportCounts } from './import-record.js';

export const IMPORT_BATCH_SIZE = 1000;

interface PendingRow {
  line: number;
  raw: string;
  record: ImportRecord;
  /** The file gave a consent value but no date (the date is the import's start). */
  undated: boolean;
}

/**
 * The writing half of one running import: rows and rejects gather into
 * batches of {@link IMPORT_BATCH_SIZE}, each batch is merged through
 * `ContactService.merge`, its rejects stored with their line numbers and the
 * import's counts updated, so memory holds one batch whatever the file.
 */
export class ImportWriter {
  readonly counts: ImportCounts = { rows: 0, created: 0, updated: 0, unchanged: 0, consentApplied: 0, consentStale: 0, rejected: 0 };
  private batch: PendingRow[] = [];
  private rejects: ImportReject[] = [];
  /** Rows and rejects added since the last flush began: they count once a flush takes them. */
  private added = 0;

  constructor(
    private readonly db: Db,
    private readonly contacts: ContactService,
    private readonly target: { projectId: number; importId: number; type: MergeType; returning?: boolean },
  ) {}

  /** A row to merge; a consent value without a date is `undated`. */
  addRow(line: number, raw: string, record: ImportRecord, undated: boolean): void {
    this.added += 1;
    this.batch.push({ line, raw, record, undated });
  }

  /** A line that is not imported: it counts as a row, and as rejected. */
  addReject(reject: ImportReject): void {
    this.added += 1;
    this.rejects.push(reject);
  }

  /** Forgets what was added since the last flush began (read ahead of a batch that failed, so never to be written). */
  discard(): void {
    this.batch = [];
    this.rejects = [];
    this.added = 0;
  }

  /** A batch is full: time to `flush`. */
  get full(): boolean {
    return this.batch.length >= IMPORT_BATCH_SIZE || this.rejects.length >= IMPORT_BATCH_SIZE;
  }

  /**
   * Writes what was added so far. It takes the pending rows before its first
   * await, so the next batch may be added while this one is written (one
   * flush at a time: batches are merged in file order).
   */
  async flush(): Promise<void> {
    const { projectId, importId, type } = this.target;
    const counts = this.counts;
    const rows = this.batch;
    const rejects = this.rejects;
    this.batch = [];
    this.rejects = [];
    counts.rows += this.added;
    this.added = 0;
    if (rows.length > 0) {
      await this.dropUndatedRepeats(rows);
      const results = await this.contacts.merge(
        projectId,
        rows.map((r) => r.record),
        { type, source: `import:${importId}`, details: rows.map((r) => `line ${r.line}`), returning: this.target.returning === true },
      );
      for (const result of results) {
        if (result.result !== 'rejected') counts[result.result] += 1;
        if (result.consent === 'applied') counts.consentApplied += 1;
        if (result.consent === 'stale') counts.consentStale += 1;
        if (result.result === 'rejected') {
          const row = rows[result.index]!;
          rejects.push({ line: row.line, reason: result.error ?? 'rejected', raw: row.raw });
        }
      }
    }
    if (rejects.length > 0) {
      const pending = rejects;
      counts.rejected += pending.length;
      await insertImportRejects(
        this.db,
        pending.map((r) => ({ project_id: projectId, import_id: importId, line: r.line, reason: r.reason, raw: r.raw })),
      );
    }
    await updateImport(this.db, projectId, importId, countColumns(counts));
  }

  /**
   * A row repeating a contact's current consent value without a date confirms
   * nothing new: it is dropped so re-running the same file changes nothing
   * (otherwise the import's later start time would refresh the date).
   */
  private async dropUndatedRepeats(rows: PendingRow[]): Promise<void> {
    if (this.target.type === 'add-only') return;
    const undated = rows.filter((r) => r.undated);
    if (undated.length === 0) return;
    const emails = new Set<string>();
    const externalIds = new Set<string>();
    for (const r of undated) {
      if (r.record.email) emails.add(normalizeEmail(r.record.email));
      if (r.record.externalId) externalIds.add(r.record.externalId.trim());
    }
    const existing = await findContactsByKeys(this.db, this.target.projectId, [...emails], [...externalIds]);
    if (existing.length === 0) return;
    const byEmail = new Map(existing.filter((c) => c.email).map((c) => [c.email as string, c]));
    const byExternal = new Map(existing.filter((c) => c.externalId).map((c) => [c.externalId as string, c]));
    for (const r of undated) {
      const contact = (r.record.externalId ? byExternal.get(r.record.externalId.trim()) : undefined) ?? (r.record.email ? byEmail.get(normalizeEmail(r.record.email)) : undefined);
      if (!contact) continue;
      let value: boolean | null | undefined;
      try {
        value = parseConsentValue(r.record.hasTrackingConsent);
      } catch {
        continue; // merge rejects it with its reason
      }
      if (value !== undefined && value === contact.hasTrackingConsent) {
        delete r.record.hasTrackingConsent;
        delete r.record.dtTrackingConsent;
      }
    }
  }
}
