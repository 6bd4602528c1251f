import { sql } from 'kysely';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type CsvError, type Options, parse } from 'csv-parse';
import { parseConsentValue } from '../domain/consent.js';
import { normalizeEmail } from '../domain/contact.js';
import { AppError, badInput, notFound } from '../domain/errors.js';
import {
  csvCell,
  type Delimiter,
  detectDelimiter,
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

export interface ImportReject {
  line: number;
  reason: string;
  raw: string;
}

export const IMPORT_TYPES: readonly MergeType[] = ['upsert', 'add-only', 'update-only'];
export const IMPORT_BATCH_SIZE = 1000;
/** A record longer than this is almost always an unclosed quote swallowing the file; parsing stops there. */
const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_RAW_CHARS = 2000;
const HEAD_LIMIT = 1024 * 1024;

interface ParsedLine {
  record: string[];
  raw: string;
  /** Physical line where the record starts (the header is line 1). */
  line: number;
}

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

    const source = input[Symbol.asyncIterator]();
    let bytes = 0;
    // Read up to the end of the header line to guess the delimiter; the rest streams on.
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    while (headBytes < HEAD_LIMIT) {
      const next = await source.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      head.push(chunk);
      headBytes += chunk.length;
      if (chunk.includes(0x0a)) break;
    }
    const headText = Buffer.concat(head).toString('utf8').replace(/^\uFEFF/, '');
    const delimiter: Delimiter = givenDelimiter ?? detectDelimiter(headText);

    const counts: ImportCounts = { rows: 0, created: 0, updated: 0, unchanged: 0, consentApplied: 0, consentStale: 0, rejected: 0 };
    const base = { projectId, fileName: options.fileName ?? null, type, delimiter, actor: options.actor, startedAt };

    const finishEmpty = async (): Promise<Import> => {
      const finishedAt = this.clock();
      const mappingOut = mapping ?? [];
      const row = { project_id: projectId, file_name: base.fileName, type, mapping: JSON.stringify(mappingOut), delimiter, actor: options.actor };
      const id = await insertImport(this.db, { ...row, ...countColumns(counts), status: 'done', started_at: startedAt, finished_at: finishedAt });
      return { ...base, id, mapping: mappingOut, status: 'done', counts, error: null, finishedAt };
    };
    if (headText.trim() === '') {
      // An empty file is a finished import of nothing.
      await drain(source);
      return finishEmpty();
    }

    const skipped: ImportReject[] = [];
    // csv-parse's own line counter counts a CRLF inside quotes twice, so lines
    // are counted here: empty lines are kept as records (and skipped below) and
    // every record or unreadable chunk advances the counter by the breaks it spans.
    // on_record and on_skip run in file order, before records are read.
    let nextLine = 1;
    const parserOptions: Options<unknown, unknown> = {
      bom: true,
      delimiter,
      raw: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      skip_records_with_error: true,
      max_record_size: MAX_RECORD_BYTES,
      on_record: (parsed: unknown): ParsedLine => {
        // With `raw: true` and no `columns`, csv-parse hands over { record, raw }.
        const line = nextLine;
        const { record, raw: rawText } = parsed as { record: string[]; raw: string };
        const raw = trimRaw(rawText);
        nextLine += countBreaks(raw) + 1;
        return { record, raw, line };
      },
      on_skip: (error: CsvError | undefined, raw: string | undefined): undefined => {
        const line = nextLine;
        const text = trimRaw(raw ?? '');
        nextLine += countBreaks(text) + 1;
        if (error) skipped.push(parseErrorReject(error, line, line + countBreaks(text), text));
        return undefined;
      },
    };
    const parser = parse(parserOptions as Options);
    const feed = Readable.from(
      (async function* () {
        for (const chunk of head) {
          bytes += chunk.length;
          yield chunk;
        }
        if (ended) return;
        for (;;) {
          const next = await source.next();
          if (next.done) return;
          const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
          bytes += chunk.length;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
    const piped = pipeline(feed, parser).then(
      () => null,
      (error: unknown) => error,
    );

    const records = parser[Symbol.asyncIterator]() as AsyncIterator<ParsedLine>;
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
      parser.destroy();
      feed.destroy();
      await piped;
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
      options.onProgress?.({ rows: counts.rows, bytes, counts: { ...counts } });
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
      const pipeError = await piped;
      if (pipeError) throw pipeError;
      await flush();
    } catch (error) {
      parser.destroy();
      feed.destroy();
      await piped;
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

/** A record's raw text without its record delimiter. */
function trimRaw(raw: string): string {
  return raw.replace(/[\r\n]+$/, '');
}

/** Physical line breaks in a text: CRLF, LF or a lone CR each count once. */
function countBreaks(text: string): number {
  if (!text.includes('\n') && !text.includes('\r')) return 0;
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

function clip(text: string): string {
  return text.length > MAX_RAW_CHARS ? `${text.slice(0, MAX_RAW_CHARS)}…` : text;
}

function parseErrorReject(error: CsvError, line: number, endLine: number, raw: string): ImportReject {
  let reason: string;
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') reason = `unclosed quote: lines ${line} to ${endLine} (the end of the file) could not be read`;
  else if (error.code === 'CSV_MAX_RECORD_SIZE') reason = 'a record longer than 1 MiB starts here (most likely an unclosed quote): the rest of the file was not read';
  else reason = `unreadable CSV: ${error.message.replace(/ at line \d+.*$/, '')}`;
  return { line, reason, raw: clip(raw) };
}

async function drain(source: AsyncIterator<unknown>): Promise<void> {
  for (;;) {
    const next = await source.next();
    if (next.done) return;
  }
}
