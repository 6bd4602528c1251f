import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csvCell } from '../domain/csv-cell.js';
import { badInput, notFound } from '../domain/errors.js';
import { isBlankRow, type MappingEntry, parseDelimiter, parseEncoding, parseMapping, type ResolvedColumn, resolveColumns, rowToRecord } from '../domain/import-mapping.js';
import type { Db } from '../store/database.js';
import { firstImportRejects, getImport, insertImport, iterateImportRejects, listImports, updateImport } from '../store/imports.js';
import type { ContactService, MergeType } from './contacts.service.js';
import { clip, type CsvSource, type ImportReject, openCsv } from './csv-reader.js';
import { countColumns, type Import, type ImportCounts, type ImportStatus, toImport } from './import-record.js';
import { ImportWriter } from './import-writer.js';
import type { ProjectService } from './projects.service.js';

export type { Import, ImportCounts, ImportStatus } from './import-record.js';
export { IMPORT_BATCH_SIZE } from './import-writer.js';

export interface ImportOptions {
  type?: string | undefined;
  /** `Column:target,…`; without it, columns named like targets map themselves. */
  map?: string | undefined;
  delimiter?: string | undefined;
  /** `utf-8` (default), `windows-1252`, `latin1`, `utf-16` (with a byte-order mark), `utf-16le`, `utf-16be`. */
  encoding?: string | undefined;
  fileName?: string | null | undefined;
  /** The file lists people who asked to come back after an erasure: their erased addresses are imported (see ContactService.merge). */
  returning?: boolean | undefined;
  /** Who runs it: `api:<keyId>`, `cli:<user>`. */
  actor: string;
  /** Called once the import record exists (status `running`), with its id. */
  onStart?: (importId: number) => void;
  /** Called after each batch with the rows read and the bytes consumed. */
  onProgress?: (progress: { rows: number; bytes: number; counts: ImportCounts }) => void;
}

export type { ImportReject } from './csv-reader.js';

export const IMPORT_TYPES: readonly MergeType[] = ['upsert', 'add-only', 'update-only'];

/**
 * CSV imports, streamed from end to end: bytes → records of at most 1 MiB
 * (`openCsv`) → batches of rows → `ContactService.merge` (`ImportWriter`),
 * with backpressure all the way so memory stays bounded whatever the file. A
 * bad row is stored as a reject with its physical line number and never stops
 * the others.
 */
export class ImportService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly contacts: ContactService,
    /** Where `start` keeps an upload while its import runs (`<dataDir>/uploads`). */
    private readonly spoolDir: string = join(tmpdir(), 'trackguard-uploads'),
  ) {}

  /** Imports started by `start` that are still running (awaited by `drain`). */
  private readonly background = new Set<Promise<unknown>>();

  /**
   * Receives the whole upload into a file under the spool directory, then runs
   * the import from that file in the background and answers as soon as its
   * record exists (status `running`), so a client can poll its progress. A bad
   * mapping or parameter still throws (400) before any record is stored; an
   * empty file answers its finished record.
   */
  async start(projectId: number, input: AsyncIterable<Buffer | string>, options: ImportOptions): Promise<Import> {
    await this.projects.get(projectId);
    await mkdir(this.spoolDir, { recursive: true });
    const file = join(this.spoolDir, `import-${projectId}-${randomBytes(12).toString('hex')}.csv`);
    try {
      await pipeline(Readable.from(input), createWriteStream(file, { flags: 'wx' }));
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    return new Promise<Import>((resolve, reject) => {
      let started = false;
      const running = this.run(projectId, createReadStream(file), {
        ...options,
        onStart: (id) => {
          started = true;
          options.onStart?.(id);
          this.get(projectId, id).then(resolve, reject);
        },
      })
        .then(
          (record) => {
            if (!started) resolve(record);
          },
          (error: unknown) => {
            if (!started) reject(error);
          },
        )
        .finally(async () => {
          await rm(file, { force: true });
          this.background.delete(running);
        });
      this.background.add(running);
    });
  }

  /** Waits for the imports running in the background (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /**
   * Runs one import to its end and returns its record. A bad mapping or
   * parameter, or a header that cannot be read, throws (400) before any record
   * is stored; a failure once the import has started is recorded as status `failed`.
   */
  async run(projectId: number, input: AsyncIterable<Buffer | string>, options: ImportOptions): Promise<Import> {
    await this.projects.get(projectId);
    const type = (options.type ?? 'upsert') as MergeType;
    if (!IMPORT_TYPES.includes(type)) throw badInput('type', `must be one of ${IMPORT_TYPES.join(', ')}`);
    const mapping = options.map !== undefined && options.map.trim() !== '' ? parseMapping(options.map) : null;
    const givenDelimiter = options.delimiter !== undefined && options.delimiter !== '' ? parseDelimiter(options.delimiter) : undefined;
    const encoding = parseEncoding(options.encoding);
    const startedAt = this.clock();
    const startIso = new Date(startedAt).toISOString();
    const csv = await openCsv(input, { delimiter: givenDelimiter, encoding });
    const base = { projectId, fileName: options.fileName ?? null, type, delimiter: csv.delimiter, actor: options.actor, startedAt };
    const row = { project_id: projectId, file_name: base.fileName, type, delimiter: csv.delimiter, actor: options.actor };

    // An empty file is a finished import of nothing.
    if (!csv.header) {
      const counts: ImportCounts = { rows: 0, created: 0, updated: 0, unchanged: 0, consentApplied: 0, consentStale: 0, rejected: 0 };
      const finishedAt = this.clock();
      const mappingOut = mapping ?? [];
      const id = await insertImport(this.db, { ...row, mapping: JSON.stringify(mappingOut), ...countColumns(counts), status: 'done', started_at: startedAt, finished_at: finishedAt });
      return { ...base, id, mapping: mappingOut, status: 'done', counts, error: null, finishedAt };
    }
    let columns: ResolvedColumn[];
    try {
      columns = resolveColumns(csv.header.record, mapping);
    } catch (error) {
      await csv.close();
      throw error;
    }
    const mappingOut: MappingEntry[] = columns.map((c) => ({ column: c.column, target: c.target }));
    const zero = { rows: 0, created: 0, updated: 0, unchanged: 0, consent_applied: 0, consent_stale: 0, rejected: 0 };
    const id = await insertImport(this.db, { ...row, mapping: JSON.stringify(mappingOut), ...zero, status: 'running', started_at: startedAt });
    options.onStart?.(id);

    const writer = new ImportWriter(this.db, this.contacts, { projectId, importId: id, type, returning: options.returning === true });
    const flush = async () => {
      const bytes = csv.bytes;
      await writer.flush();
      options.onProgress?.({ rows: writer.counts.rows, bytes, counts: { ...writer.counts } });
    };
    let status: ImportStatus = 'done';
    let failure: string | null = null;
    try {
      await this.readRows(csv, columns, startIso, writer, flush);
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
    const counts = { ...writer.counts };
    await updateImport(this.db, projectId, id, { ...countColumns(counts), status, error: failure, finished_at: finishedAt });
    return { ...base, id, mapping: mappingOut, status, counts, error: failure, finishedAt };
  }

  /**
   * Reads the lines after the header into `writer`, flushing each full batch
   * and the last one. A full batch is written while the next one is read, so
   * parsing overlaps the database's work; one flush at a time. When a flush
   * fails, what was read ahead of it is dropped, as if reading had stopped there.
   */
  private async readRows(csv: CsvSource, columns: ResolvedColumn[], startIso: string, writer: ImportWriter, flush: () => Promise<void>): Promise<void> {
    const width = csv.header?.record.length ?? 0;
    let writing: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | undefined;
    const settle = async () => {
      await writing;
      if (failure) {
        writer.discard();
        throw failure.error;
      }
    };
    try {
      for await (const item of csv.items) {
        if (item.kind === 'reject') {
          writer.addReject(item);
        } else if (isBlankRow(item.record)) {
          continue;
        } else if (item.record.length !== width) {
          writer.addReject({ line: item.line, reason: `wrong column count: expected ${width}, got ${item.record.length}`, raw: clip(item.raw) });
        } else {
          const parsed = rowToRecord(item.record, columns, startIso);
          writer.addRow(item.line, clip(item.raw), parsed, parsed.hasTrackingConsent !== undefined && parsed.dtTrackingConsent === startIso);
        }
        if (writer.full) {
          await settle();
          writing = flush().catch((error: unknown) => {
            failure = { error };
          });
        }
      }
    } catch (error) {
      // A reading error: the batch being written finishes first (run() then flushes what was read).
      await writing;
      if (failure) writer.discard();
      throw error;
    }
    await settle();
    await flush();
  }

  /** The project's imports, newest first; `nextCursor` is the id to pass as `cursor` for the next page. */
  async list(projectId: number, options: { cursor?: number | undefined; limit: number }): Promise<{ items: Import[]; nextCursor: string | null }> {
    await this.projects.get(projectId);
    const rows = await listImports(this.db, projectId, { before: options.cursor, limit: options.limit + 1 });
    const items = rows.slice(0, options.limit).map(toImport);
    return { items, nextCursor: rows.length > options.limit ? String(items[items.length - 1]!.id) : null };
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
    return firstImportRejects(this.db, projectId, importId, limit);
  }
}
