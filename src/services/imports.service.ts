import { sql } from 'kysely';
import { parseConsentValue } from '../domain/consent.js';
import { normalizeEmail } from '../domain/contact.js';
import { AppError, badInput, notFound } from '../domain/errors.js';
import {
  csvCell,
  type ImportRecord,
  isBlankRow,
  type MappingEntry,
  parseDelimiter,
  parseMapping,
  type ResolvedColumn,
  resolveColumns,
  rowToRecord,
} from '../domain/import-mapping.js';
import { findContactsByKeys } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { getImport, type ImportRow, insertImport, insertImportRejects, iterateImportRejects, updateImport } from '../store/imports.js';
import type { ContactService, MergeType } from './contacts.service.js';
import { clip, type ImportReject, openCsv } from './csv-reader.js';
import type { ProjectService } from './projects.service.js';

export type ImportStatus = 'running' | 'done' | 'failed';

export interface ImportCounts {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  consentApplied: number;
  consentStale: number;
  rejected: number;
}

/** An import as the API and the CLI report it (dates in epoch ms). */
export interface Import {
  id: number;
  projectId: number;
  fileName: string | null;
  type: MergeType;
  mapping: MappingEntry[];
  delimiter: string;
  actor: string;
  status: ImportStatus;
  counts: ImportCounts;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

export interface ImportOptions {
  type?: string | undefined;
  /** `Column:target,…`; without it, columns named like targets map themselves. */
  map?: string | undefined;
  delimiter?: string | undefined;
  fileName?: string | null | undefined;
  /** Who runs it: `api:<keyId>`, `cli:<user>`. */
  actor: string;
  /** Called after each batch with the rows read and the bytes consumed. */
  onProgress?: (progress: { rows: number; bytes: number; counts: ImportCounts }) => void;
}

export type { ImportReject } from './csv-reader.js';

export const IMPORT_TYPES: readonly MergeType[] = ['upsert', 'add-only', 'update-only'];
export const IMPORT_BATCH_SIZE = 1000;
interface PendingRow {
  line: number;
  raw: string;
  record: ImportRecord;
  /** The file gave a consent value but no date (the date is the import's start). */
  undated: boolean;
}

/**
 * CSV imports, streamed from end to end: bytes → csv-parse → batches of
 * {@link IMPORT_BATCH_SIZE} rows → `ContactService.merge`, with backpressure
 * all the way so memory stays bounded whatever the file size. A bad row is
 * stored as a reject with its physical line number and never stops the others.
 */
export class ImportService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly contacts: ContactService,
    private readonly dialect: 'sqlite' | 'postgres' = 'sqlite',
  ) {}

  /**
   * Runs one import to its end and returns its record. A bad mapping or
   * parameter throws (400) before any record is stored; a failure once the
   * import has started is recorded as status `failed`.
   */
  async run(projectId: number, input: AsyncIterable<Buffer | string>, options: ImportOptions): Promise<Import> {
    await this.projects.get(projectId);
    const type = (options.type ?? 'upsert') as MergeType;
    if (!IMPORT_TYPES.includes(type)) throw badInput('type', `must be one of ${IMPORT_TYPES.join(', ')}`);
    const mapping = options.map !== undefined && options.map.trim() !== '' ? parseMapping(options.map) : null;
    const givenDelimiter = options.delimiter !== undefined && options.delimiter !== '' ? parseDelimiter(options.delimiter) : undefined;
    const startedAt = this.clock();
    const startIso = new Date(startedAt).toISOString();
    const csv = await openCsv(input, givenDelimiter);
    const delimiter = csv.delimiter;

    const counts: ImportCounts = { rows: 0, created: 0, updated: 0, unchanged: 0, consentApplied: 0, consentStale: 0, rejected: 0 };
    const base = { projectId, fileName: options.fileName ?? null, type, delimiter, actor: options.actor, startedAt };

    const finishEmpty = async (): Promise<Import> => {
      const finishedAt = this.clock();
      const mappingOut = mapping ?? [];
      const row = { project_id: projectId, file_name: base.fileName, type, mapping: JSON.stringify(mappingOut), delimiter, actor: options.actor };
      const id = await insertImport(this.db, { ...row, ...countColumns(counts), status: 'done', started_at: startedAt, finished_at: finishedAt });
      return { ...base, id, mapping: mappingOut, status: 'done', counts, error: null, finishedAt };
    };
    // An empty file is a finished import of nothing.
    if (csv.empty) return finishEmpty();

    const { records, skipped } = csv;
    let columns: ResolvedColumn[];
    let width: number;
    let mappingOut: MappingEntry[];
    try {
      const first = await records.next();
      if (first.done) throw new AppError('EmptyImport', 'no header row');
      width = first.value.record.length;
      columns = resolveColumns(first.value.record, mapping);
      mappingOut = columns.map((c) => ({ column: c.column, target: c.target }));
    } catch (error) {
      await csv.close();
      // Only unreadable content before the header: nothing to import.
      if (error instanceof AppError && error.code === 'EmptyImport') return finishEmpty();
      throw error;
    }
    const id = await insertImport(this.db, {
      project_id: projectId,
      file_name: base.fileName,
      type,
      mapping: JSON.stringify(mappingOut),
      delimiter,
      actor: options.actor,
      ...countColumns(counts),
      status: 'running',
      started_at: startedAt,
    });
    const source_ = `import:${id}`;

    let batch: PendingRow[] = [];
    let rejects: ImportReject[] = [];
    // PostgreSQL plans the contact lookups from table statistics that autovacuum
    // refreshes only every minute or so; a bulk load outgrows them within seconds
    // and the lookups turn into scans. Refresh them as the import grows (10k, 40k, 160k … rows).
    let analyzeAt = this.dialect === 'postgres' ? 10_000 : Number.POSITIVE_INFINITY;
    const flush = async () => {
      // A record the parser could not read counts as a row, and as rejected.
      const unreadable = skipped.splice(0);
      counts.rows += unreadable.length;
      rejects.push(...unreadable);
      if (batch.length > 0) {
        const rows = batch;
        batch = [];
        await this.dropUndatedRepeats(projectId, type, rows);
        const results = await this.contacts.merge(
          projectId,
          rows.map((r) => r.record),
          { type, source: source_, details: rows.map((r) => `line ${r.line}`) },
        );
        if (counts.rows >= analyzeAt) {
          analyzeAt *= 4;
          await sql`ANALYZE contacts`.execute(this.db);
        }
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
        rejects = [];
        counts.rejected += pending.length;
        await insertImportRejects(
          this.db,
          pending.map((r) => ({ project_id: projectId, import_id: id, line: r.line, reason: r.reason, raw: r.raw })),
        );
      }
      await updateImport(this.db, projectId, id, countColumns(counts));
      options.onProgress?.({ rows: counts.rows, bytes: csv.bytes, counts: { ...counts } });
    };

    let status: ImportStatus = 'done';
    let failure: string | null = null;
    try {
      for (;;) {
        const next = await records.next();
        if (next.done) break;
        const { record, raw, line } = next.value;
        if (isBlankRow(record)) continue;
        counts.rows += 1;
        if (record.length !== width) {
          rejects.push({ line, reason: `wrong column count: expected ${width}, got ${record.length}`, raw: clip(raw) });
        } else {
          const parsed = rowToRecord(record, columns, startIso);
          const undated = parsed.hasTrackingConsent !== undefined && parsed.dtTrackingConsent === startIso;
          batch.push({ line, raw: clip(raw), record: parsed, undated });
        }
        if (batch.length >= IMPORT_BATCH_SIZE || rejects.length + skipped.length >= IMPORT_BATCH_SIZE) await flush();
      }
      const pipeError = await csv.ended();
      if (pipeError) throw pipeError;
      await flush();
    } catch (error) {
      await csv.close();
      status = 'failed';
      failure = error instanceof Error ? error.message : String(error);
      try {
        await flush();
      } catch {
        // The failure being recorded matters more than the rows still pending.
      }
    }
    const finishedAt = this.clock();
    await updateImport(this.db, projectId, id, { ...countColumns(counts), status, error: failure, finished_at: finishedAt });
    return { ...base, id, mapping: mappingOut, status, counts, error: failure, finishedAt };
  }

  /**
   * A row repeating a contact's current consent value without a date confirms
   * nothing new: it is dropped so re-running the same file changes nothing
   * (otherwise the import's later start time would refresh the date).
   */
  private async dropUndatedRepeats(projectId: number, type: MergeType, rows: PendingRow[]): Promise<void> {
    if (type === 'add-only') return;
    const undated = rows.filter((r) => r.undated);
    if (undated.length === 0) return;
    const emails = new Set<string>();
    const externalIds = new Set<string>();
    for (const r of undated) {
      if (r.record.email) emails.add(normalizeEmail(r.record.email));
      if (r.record.externalId) externalIds.add(r.record.externalId.trim());
    }
    const existing = await findContactsByKeys(this.db, projectId, [...emails], [...externalIds]);
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

  async get(projectId: number, importId: number): Promise<Import> {
    const row = await getImport(this.db, projectId, importId);
    if (!row) throw notFound('Import', importId);
    return toImport(row);
  }

  /** The rejected lines as CSV (`line,reason,raw`), streamed a page at a time; 404 for an unknown import. */
  async rejectedCsv(projectId: number, importId: number): Promise<AsyncGenerator<string>> {
    await this.get(projectId, importId);
    const db = this.db;
    return (async function* () {
      yield 'line,reason,raw\n';
      let chunk = '';
      for await (const row of iterateImportRejects(db, projectId, importId)) {
        chunk += `${row.line},${csvCell(row.reason)},${csvCell(row.raw)}\n`;
        if (chunk.length >= 64 * 1024) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    })();
  }

  /** The first `limit` rejected lines, for a report. */
  async rejects(projectId: number, importId: number, limit: number): Promise<ImportReject[]> {
    const rows = await this.db
      .selectFrom('import_rejects')
      .select(['line', 'reason', 'raw'])
      .where('project_id', '=', projectId)
      .where('import_id', '=', importId)
      .orderBy('line')
      .limit(limit)
      .execute();
    return rows;
  }
}

function countColumns(counts: ImportCounts) {
  return {
    rows: counts.rows,
    created: counts.created,
    updated: counts.updated,
    unchanged: counts.unchanged,
    consent_applied: counts.consentApplied,
    consent_stale: counts.consentStale,
    rejected: counts.rejected,
  };
}

export function toImport(row: ImportRow): Import {
  return {
    id: row.id,
    projectId: row.project_id,
    fileName: row.file_name,
    type: row.type as MergeType,
    mapping: JSON.parse(row.mapping) as MappingEntry[],
    delimiter: row.delimiter,
    actor: row.actor,
    status: row.status as ImportStatus,
    counts: {
      rows: row.rows,
      created: row.created,
      updated: row.updated,
      unchanged: row.unchanged,
      consentApplied: row.consent_applied,
      consentStale: row.consent_stale,
      rejected: row.rejected,
    },
    error: row.error,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
