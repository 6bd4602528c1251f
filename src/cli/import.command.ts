import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createContext } from '../context.js';
import { AppError } from '../domain/errors.js';
import { trackingModuleHint } from '../domain/tracking-module.js';
import type { Import } from '../services/imports.service.js';

interface ImportCommandOptions {
  project: string;
  map?: string;
  type: string;
  delimiter?: string;
  encoding?: string;
  returning?: boolean;
  progress: boolean;
}

const SHOWN_REJECTS = 20;

/** `trackguard import FILE --project P [--map …] [--type …] [--delimiter ;]`: same environment as the server. */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('import contacts from a CSV file (UTF-8, windows-1252 or UTF-16; "," or ";"; a header row), streaming it; prints a report with the rejected lines')
    .argument('<file>', 'the CSV file')
    .requiredOption('--project <id>', 'project id')
    .option('--map <mapping>', 'Column:target pairs, e.g. "E-mail:email,Consent:hasTrackingConsent,Date:dtTrackingConsent"')
    .option('--type <type>', 'upsert, add-only or update-only', 'upsert')
    .option('--delimiter <delimiter>', '"," or ";" (detected from the header when absent)')
    .option('--encoding <encoding>', 'utf-8 (default), windows-1252, latin1, utf-16 (with a byte-order mark), utf-16le or utf-16be; a byte-order mark overrides it')
    .option('--returning', 'the file lists people who asked to come back after an erasure: their erased addresses are imported (recorded in the history)')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, opts: ImportCommandOptions) => {
      process.exitCode = await runImport(file, opts);
    });
}

async function runImport(file: string, opts: ImportCommandOptions): Promise<number> {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return usage(`${file} is not a file`);
    size = stat.size;
  } catch {
    return usage(`cannot read ${file}`);
  }
  if (!/^[0-9]{1,15}$/.test(opts.project)) return usage('--project must be a project id');
  const ctx = await createContext(loadConfig());
  const bar =
    opts.progress && process.stderr.isTTY
      ? new SingleBar({
          stream: process.stderr,
          format: ' {bar} {percentage}% | {rows} rows | {speed} rows/s | ETA {eta_formatted}',
          hideCursor: true,
          etaBuffer: 20,
        })
      : null;
  const started = Date.now();
  try {
    bar?.start(size, 0, { rows: 0, speed: 0 });
    const record = await ctx.imports.run(Number(opts.project), createReadStream(file, { highWaterMark: 256 * 1024 }), {
      type: opts.type,
      map: opts.map,
      delimiter: opts.delimiter,
      encoding: opts.encoding,
      returning: opts.returning === true,
      fileName: basename(file),
      actor: `cli:${userInfo().username}`,
      onProgress: ({ rows, bytes }) => {
        const seconds = (Date.now() - started) / 1000;
        bar?.update(bytes, { rows, speed: seconds > 0 ? Math.round(rows / seconds) : 0 });
      },
    });
    bar?.update(size);
    bar?.stop();
    await printReport(ctx.imports, record, (Date.now() - started) / 1000);
    const project = await ctx.projects.get(Number(opts.project));
    const notice = trackingModuleHint(project.settings.tracking, project.id);
    if (notice) process.stderr.write(`warning: ${notice}\n`);
    return record.status === 'failed' ? 1 : 0;
  } catch (error) {
    bar?.stop();
    if (error instanceof AppError) return usage(error.message);
    throw error;
  } finally {
    await ctx.close();
  }
}

function usage(message: string): number {
  process.stderr.write(`trackguard import: ${message}\n`);
  return 2;
}

async function printReport(imports: { rejects(projectId: number, importId: number, limit: number): Promise<{ line: number; reason: string }[]> }, record: Import, seconds: number): Promise<void> {
  const c = record.counts;
  const out = process.stdout;
  const rate = seconds > 0 ? Math.round(c.rows / seconds) : c.rows;
  out.write(`import ${record.id} ${record.status}: ${record.fileName ?? ''} (${record.type}, delimiter ${JSON.stringify(record.delimiter)}) in ${seconds.toFixed(1)} s, ${rate} rows/s\n`);
  out.write(`  mapping          ${record.mapping.map((m) => `${m.column} → ${m.target}`).join(', ')}\n`);
  const lines: [string, number][] = [
    ['rows', c.rows],
    ['created', c.created],
    ['updated', c.updated],
    ['unchanged', c.unchanged],
    ['consent applied', c.consentApplied],
    ['consent stale', c.consentStale],
    ['rejected', c.rejected],
  ];
  for (const [label, value] of lines) out.write(`  ${label.padEnd(16)} ${value}\n`);
  if (record.error) out.write(`  error            ${record.error}\n`);
  if (c.rejected > 0) {
    out.write('rejected lines:\n');
    for (const reject of await imports.rejects(record.projectId, record.id, SHOWN_REJECTS)) out.write(`  line ${reject.line}: ${reject.reason}\n`);
    if (c.rejected > SHOWN_REJECTS) {
      out.write(`  … and ${c.rejected - SHOWN_REJECTS} more (GET /api/v1/projects/${record.projectId}/imports/${record.id}/rejected)\n`);
    }
  }
}
