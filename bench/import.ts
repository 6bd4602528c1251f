// CSV import throughput and memory: a 1,000,000-row file with consent columns, streamed from disk
// through ImportService on a fresh database. Targets (issue 14): ≥ 60,000 rows/s (SQLite) with peak
// RSS < 250 MB, ≥ 40,000 rows/s (PostgreSQL, through COPY). BENCH_IMPORT_ROWS changes the size.
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { type DialectName, freshDatabase } from '../test/helpers/harness.js';
import { startCpuMeter } from './lib/cpu-meter.js';
import { benchDialects } from './lib/dialects.js';
import { record as recordFigure } from './lib/summary.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);

/** Writes the file a chunk at a time, waiting on the stream, so the generator never holds it whole. */
async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('E-mail;Consent;Date;First name;City\r\n');
  let chunk = '';
  for (let i = 0; i < ROWS; i += 1) {
    const consent = i % 3 === 0 ? '1' : i % 3 === 1 ? '0' : '';
    const date = consent === '' ? '' : `2025.${String((i % 12) + 1).padStart(2, '0')}.${String((i % 28) + 1).padStart(2, '0')}`;
    const city = i % 50 === 0 ? '"Saint-Denis; La Réunion"' : 'Lyon';
    chunk += `user${i}@example.com;${consent};${date};First${i};${city}\r\n`;
    if (chunk.length > 64 * 1024) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

async function bench(dialect: DialectName, file: string): Promise<void> {
  const database = await freshDatabase(dialect);
  const ctx = await createContext(loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, secrets: ['bench'], logLevel: 'warn' }));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  try {
    const project = await ctx.projects.create('bench');
    await ctx.projects.update(project.id, { settings: { tracking: { enabled: true } } }, 'bench');
    const cpu = await startCpuMeter(database.databaseUrl);
    const started = performance.now();
    const record = await ctx.imports.run(project.id, createReadStream(file, { highWaterMark: 256 * 1024 }), {
      map: 'E-mail:email,Consent:hasTrackingConsent,Date:dtTrackingConsent,First name:fields.firstName,City:fields.city',
      fileName: 'bench.csv',
      actor: 'bench',
    });
    const seconds = (performance.now() - started) / 1000;
    const used = await cpu.read();
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (record.status !== 'done' || record.counts.rejected > 0 || record.counts.created !== ROWS) {
      throw new Error(`unexpected import result: ${JSON.stringify(record)}`);
    }
    const rate = Math.round(ROWS / seconds);
    const rssMb = Math.round(peak / 1024 / 1024);
    const size = `${ROWS.toLocaleString('en-US')} rows`;
    const target = dialect === 'sqlite' ? 60_000 : 40_000;
    recordFigure({ name: `import ${dialect}`, size, figure: `${rate.toLocaleString('en-US')} rows/s`, target: `≥ ${target.toLocaleString('en-US')}/s`, pass: rate >= target });
    if (dialect === 'sqlite') recordFigure({ name: 'import sqlite peak RSS', size, figure: `${rssMb} MB`, target: '< 250 MB', pass: rssMb < 250 });
    process.stdout.write(
      `import ${dialect.padEnd(8)} ${ROWS.toLocaleString('en-US')} rows (${record.counts.consentApplied.toLocaleString('en-US')} consent changes) in ${seconds.toFixed(1)} s → ${rate.toLocaleString('en-US')} rows/s, peak RSS ${rssMb} MB; CPU ${used.node.toFixed(1)} s node + ${used.db.toFixed(1)} s database\n`,
    );
  } finally {
    clearInterval(sampler);
    await ctx.close();
    await database.drop();
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-bench-import-'));
  const file = join(dir, 'contacts.csv');
  try {
    await writeCsv(file);
    process.stdout.write(`import: generated ${ROWS.toLocaleString('en-US')} rows, ${Math.round(statSync(file).size / 1024 / 1024)} MB\n`);
    for (const dialect of benchDialects('import')) await bench(dialect, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
