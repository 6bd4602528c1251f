// Sending at scale: one sending of a 2 KB email (merge tag, 3 links, pixel) to every contact of a
// project, run by the job runner to the null transport, on a fresh database per dialect. Reports
// messages/s from the sending's creation to its end, the time to the first message handed to the
// transport, and peak RSS. Targets: ≥ 10,000 messages/s (SQLite), ≥ 7,000/s (PostgreSQL), RSS < 300 MB.
// BENCH_SEND_CONTACTS changes the size (default 1,000,000); the contacts are written with one SQL
// statement (90 % accepted tracking, 5 % refused, 5 % unanswered), outside the measurement.
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { type DialectName, freshDatabase } from '../test/helpers/harness.js';
import { startCpuMeter } from './lib/cpu-meter.js';
import { benchDialects } from './lib/dialects.js';
import { record } from './lib/summary.js';

const CONTACTS = Number(process.env.BENCH_SEND_CONTACTS ?? 1_000_000);
const TARGET = { sqlite: 10_000, postgres: 7_000 } as const;
const RSS_LIMIT_MB = 300;
/** TRACKGUARD_SQLITE_SYNC=normal measures SQLite without an fsync per commit (as the server would run with it). */
const SQLITE_SYNC = process.env.TRACKGUARD_SQLITE_SYNC === 'normal' ? 'normal' : 'full';

const HTML = `<html><body><p>Hello {{contact.firstName | "there"}},</p>
<p>${'Our news of the month, in a few lines of text that make the body of a real newsletter. '.repeat(16)}</p>
<p><a href="https://example.com/news?ref=mail">Read the news</a> · <a href="https://example.com/shop">Shop</a></p>
<p><a href="{{unsubscribeUrl}}">unsubscribe</a></p></body></html>`;

async function bench(dialect: DialectName): Promise<void> {
  const database = await freshDatabase(dialect);
  const config = loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, adminKey: 'bench', secrets: ['bench-secret'], transport: 'null', logLevel: 'warn', sqliteSync: SQLITE_SYNC });
  const ctx = await createContext(config);
  const label = dialect === 'sqlite' ? `sqlite (synchronous=${SQLITE_SYNC})` : dialect;
  try {
    const project = await ctx.projects.create('bench');
    await ctx.projects.update(project.id, { settings: { tracking: { enabled: true } } }, 'bench');
    const setup = performance.now();
    const n = sql.lit(CONTACTS);
    const consent = sql.raw('CASE WHEN i % 20 = 0 THEN 0 WHEN i % 20 = 1 THEN NULL ELSE 1 END');
    const rows =
      dialect === 'postgres'
        ? sql`SELECT i FROM generate_series(0, ${n} - 1) AS g(i)`
        : sql`SELECT i FROM (WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < ${n}) SELECT i FROM g)`;
    await sql`INSERT INTO contacts (project_id, email, fields, status, has_tracking_consent, dt_tracking_consent, created_at, updated_at)
      SELECT ${sql.lit(project.id)}, 'r' || i || '@bench.test', '{"firstName":"R' || i || '"}', 'active', ${consent}, 1700000000000, 1700000000000, 1700000000000
      FROM (${rows}) AS s`.execute(ctx.store.db);
    if (dialect === 'postgres') await sql`ANALYZE contacts`.execute(ctx.store.db);
    process.stdout.write(`send ${label}: ${CONTACTS.toLocaleString('en-US')} contacts written in ${((performance.now() - setup) / 1000).toFixed(1)} s\n`);
    const { message } = await ctx.messages.create(project.id, { channel: 'email', name: 'bench', communicationType: 'newsletter', subject: 'Hi {{contact.firstName}}', html: HTML });

    let first: number | undefined;
    const send = ctx.transport.send.bind(ctx.transport);
    ctx.transport.send = (m) => {
      first ??= performance.now();
      return send(m);
    };
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 100);
    const cpu = await startCpuMeter(database.databaseUrl);
    const started = performance.now();
    const sending = await ctx.sendings.create(project.id, { messageId: message.id, target: { all: true } });
    while (await ctx.jobs.runOnce()) {
      // drain the sending job
    }
    const seconds = (performance.now() - started) / 1000;
    const used = await cpu.read();
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const done = await ctx.sendings.get(project.id, sending.id);
    if (done.status !== 'sent' || done.delivered !== CONTACTS) throw new Error(`unexpected sending: ${JSON.stringify(done)}`);
    const rate = Math.round(done.delivered / seconds);
    const firstMs = Math.round((first ?? performance.now()) - started);
    const rssMb = Math.round(peak / 1024 / 1024);
    process.stdout.write(
      `send ${label} ${done.delivered.toLocaleString('en-US')} messages (${done.tracked.toLocaleString('en-US')} tracked) in ${seconds.toFixed(1)} s → ${rate.toLocaleString('en-US')} messages/s, first message after ${firstMs} ms, peak RSS ${rssMb} MB; CPU ${used.node.toFixed(1)} s node + ${used.db.toFixed(1)} s database\n`,
    );
    record({ name: `send ${label}`, size: `${CONTACTS.toLocaleString('en-US')} contacts`, figure: `${rate.toLocaleString('en-US')} messages/s`, target: `≥ ${TARGET[dialect].toLocaleString('en-US')}/s`, pass: rate >= TARGET[dialect] });
    record({ name: `send ${label} peak RSS`, figure: `${rssMb} MB`, target: `< ${RSS_LIMIT_MB} MB`, pass: rssMb < RSS_LIMIT_MB });
    record({ name: `send ${label} first message`, figure: `${firstMs} ms`, target: '(reported)', pass: null });
  } finally {
    await ctx.close();
    await database.drop();
  }
}

export async function run(): Promise<void> {
  for (const dialect of benchDialects('send')) await bench(dialect);
}
