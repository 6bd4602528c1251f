// Segment counts on a large project: 1,000,000 contacts (10 % refused) and 10,000,000 events
// (override with BENCH_CONTACTS / BENCH_EVENTS). Target: each count < 1 s on SQLite and PostgreSQL.
// Data is generated inside the database (recursive CTE / generate_series) with the events
// indexes dropped during the load and rebuilt after, so the load itself stays in minutes.
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { type AppContext, createContext } from '../src/context.js';
import type { Criteria } from '../src/domain/criteria.js';
import { type DialectName, freshDatabase } from '../test/helpers/harness.js';
import { record } from './lib/summary.js';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const SENDINGS = 50;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15, 12);
const SPAN = 180 * DAY;

const seconds = (from: number) => ((performance.now() - from) / 1000).toFixed(2);
const log = (line: string) => process.stdout.write(`${line}\n`);

async function load(ctx: AppContext, dialect: DialectName, projectId: number): Promise<number> {
  const db = ctx.store.db;
  const message = await sql<{ id: number }>`INSERT INTO messages (project_id, channel, name, communication_type, created_at) VALUES (${projectId}, 'email', 'bench', 'newsletter', 0) RETURNING id`.execute(db);
  const messageId = Number(message.rows[0]?.id);
  const sendingIds: number[] = [];
  for (let i = 0; i < SENDINGS; i += 1) {
    const row = await sql<{ id: number }>`INSERT INTO sendings (project_id, message_id, target, status, created_at) VALUES (${projectId}, ${messageId}, '{"all":true}', 'sent', 0) RETURNING id`.execute(db);
    const id = Number(row.rows[0]?.id);
    sendingIds.push(id);
    await db.insertInto('sending_links').values({ project_id: projectId, sending_id: id, idx: 0, url: `https://example.com/${i}` }).execute();
  }
  const firstSending = sendingIds[0] as number;

  // Drop the events indexes during the load; rebuilding them once is much faster than maintaining them per row.
  const indexes =
    dialect === 'sqlite'
      ? (await sql<{ name: string; def: string }>`SELECT name, sql AS def FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`.execute(db)).rows
      : (await sql<{ name: string; def: string }>`SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'events' AND indexname NOT LIKE '%pkey'`.execute(db)).rows;
  for (const index of indexes) await sql.raw(`DROP INDEX ${index.name}`).execute(db);

  let started = performance.now();
  const series = (n: number) =>
    dialect === 'sqlite' ? sql`(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${sql.lit(n)}) SELECT i FROM s)` : sql`(SELECT generate_series(1, ${sql.lit(n)}) AS i)`;
  const rand = dialect === 'sqlite' ? sql`(abs(random()) % 1000000000)` : sql`floor(random() * 1000000000)::bigint`;
  await sql`INSERT INTO contacts (project_id, email, fields, status, has_tracking_consent, created_at, updated_at)
    SELECT ${sql.lit(projectId)}, 'user' || s.i || '@example.com',
      CASE s.i % 5 WHEN 0 THEN '{"city":"Montréal","plan":"pro"}' WHEN 1 THEN '{"city":"Québec"}' WHEN 2 THEN '{"city":"Laval","plan":"free"}' ELSE '{}' END,
      'active', CASE WHEN s.i % 10 = 0 THEN 0 WHEN s.i % 10 IN (1, 2, 3) THEN NULL ELSE 1 END, 0, 0
    FROM ${series(CONTACTS)} s`.execute(db);
  const bounds = await db.selectFrom('contacts').select((eb) => [eb.fn.min('id').as('lo')]).where('project_id', '=', projectId).executeTakeFirstOrThrow();
  const lo = Number(bounds.lo);
  log(`segment ${dialect.padEnd(8)} load: ${CONTACTS.toLocaleString('en-US')} contacts in ${seconds(started)} s`);

  started = performance.now();
  // 5 % anonymous; types: 50 % open, 20 % click, 25 % web, 5 % form_submit; 10 % machine; spread over 180 days.
  await sql`INSERT INTO events (project_id, type, contact_id, sending_id, message_id, link_idx, name, form_id, at, machine)
    SELECT ${sql.lit(projectId)},
      CASE WHEN r.t < 50 THEN 'open' WHEN r.t < 70 THEN 'click' WHEN r.t < 95 THEN 'web' ELSE 'form_submit' END,
      CASE WHEN r.a % 20 = 0 THEN NULL ELSE ${sql.lit(lo)} + r.a % ${sql.lit(CONTACTS)} END,
      CASE WHEN r.t < 70 THEN ${sql.lit(firstSending)} + r.b % ${sql.lit(SENDINGS)} END,
      CASE WHEN r.t < 70 THEN ${sql.lit(messageId)} END,
      CASE WHEN r.t >= 50 AND r.t < 70 THEN 0 END,
      CASE WHEN r.t >= 70 AND r.t < 95 THEN 'pageview' END,
      CASE WHEN r.t >= 95 THEN 1 END,
      ${sql.lit(NOW)} - (r.c * 997) % ${sql.lit(SPAN)},
      CASE WHEN r.b % 10 = 0 THEN 1 ELSE 0 END
    FROM (SELECT ${rand} % 100 AS t, ${rand} AS a, ${rand} AS b, ${rand} AS c FROM ${series(EVENTS)} s) r`.execute(db);
  log(`segment ${dialect.padEnd(8)} load: ${EVENTS.toLocaleString('en-US')} events in ${seconds(started)} s`);
  started = performance.now();
  for (const index of indexes) await sql.raw(index.def).execute(db);
  log(`segment ${dialect.padEnd(8)} load: ${indexes.length} events indexes rebuilt in ${seconds(started)} s`);
  started = performance.now();
  // A live server has statistics (PRAGMA optimize / autovacuum) and, on PostgreSQL, an
  // all-visible map so that segment probes are index-only scans: autovacuum sets it after
  // bulk inserts; VACUUM does it now. Without it every probe also reads the table.
  await (dialect === 'postgres' ? sql`VACUUM ANALYZE` : sql`ANALYZE`).execute(db);
  log(`segment ${dialect.padEnd(8)} load: statistics gathered in ${seconds(started)} s`);
  return firstSending;
}

async function bench(dialect: DialectName): Promise<void> {
  const database = await freshDatabase(dialect);
  const ctx = await createContext(loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, secrets: ['bench'], logLevel: 'warn' }), () => NOW);
  try {
    if (dialect === 'sqlite') await sql`PRAGMA analysis_limit = 2000`.execute(ctx.store.db);
    const project = await ctx.projects.create('bench');
    await ctx.projects.update(project.id, { settings: { tracking: { enabled: true, mode: 'opt-out' } } }, 'bench');
    const sending = String(await load(ctx, dialect, project.id));
    const cases: [string, Criteria][] = [
      ['(a) opened any sending in the last 30 days', { behavior: 'opened', withinDays: 30 }],
      [`(b) did not click sending ${sending}`, { not: { behavior: 'clicked', sendingId: sending } }],
      [
        '(c) city = Montréal AND opened in 90 days AND did not click S',
        { all: [{ field: 'fields.city', op: 'eq', value: 'Montréal' }, { behavior: 'opened', withinDays: 90 }, { not: { behavior: 'clicked', sendingId: sending } }] },
      ],
    ];
    for (const [label, criteria] of cases) {
      const times: number[] = [];
      let count = 0;
      for (let run = 0; run < 3; run += 1) {
        const started = performance.now();
        const predicate = await ctx.segments.predicate(project.id, criteria, NOW);
        const row = await ctx.store.db
          .selectFrom('contacts as c')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('c.project_id', '=', project.id)
          .where(predicate)
          .executeTakeFirstOrThrow();
        times.push(performance.now() - started);
        count = Number(row.n);
      }
      const rss = Math.round(process.resourceUsage().maxRSS / 1024);
      const first = times[0] as number;
      record({ name: `segment ${dialect} ${label}`, size: `${CONTACTS.toLocaleString('en-US')} contacts, ${EVENTS.toLocaleString('en-US')} events`, figure: `${first.toFixed(0)} ms`, target: '< 1,000 ms', pass: first < 1000 });
      log(
        `segment ${dialect.padEnd(8)} ${label}: count ${count.toLocaleString('en-US')} in ${(times[0] as number).toFixed(0)} ms (best of 3: ${Math.min(...times).toFixed(0)} ms), peak RSS ${rss} MB`,
      );
    }
  } finally {
    await ctx.close();
    await database.drop();
  }
}

export async function run(): Promise<void> {
  await bench('sqlite');
  if (process.env.TEST_DATABASE_URL) await bench('postgres');
  else log('segment postgres: skipped (set TEST_DATABASE_URL)');
}
