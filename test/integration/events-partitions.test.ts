// PostgreSQL's events table is partitioned by month (SPEC §8, migration 0022): a database holding events from
// before the conversion must keep every row and id, a hit must never fail for lack of a partition, and a read
// bounded in time must not scan the months outside its range — or retention scans the whole table again.
import { type Kysely, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, migrate, openStore, type Store } from '../../src/store/database.js';
import { monthPartition, monthPartitions } from '../../src/store/event-partitions.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { anonymizeEventsBefore } from '../../src/store/events.js';
import { dialects, freshDatabase, startTestApp, type TestApp } from '../helpers/harness.js';

const DAY = 86_400_000;
const onPostgres = dialects().includes('postgres');
const suite = onPostgres ? describe : describe.skip;
const title = onPostgres ? 'events partitioned by month (postgres)' : 'events partitioned by month (PostgreSQL only: skipped, SQLite has no partitions; set TEST_DATABASE_URL)';

/** Which table (partition) holds each event, by id. */
async function homes(db: Db): Promise<Map<number, string>> {
  const rows = await sql<{ id: string; home: string }>`SELECT id, tableoid::regclass::text AS home FROM events`.execute(db);
  return new Map(rows.rows.map((r) => [Number(r.id), r.home]));
}

/** The partitions a query's plan reads. */
async function scanned(db: Db, query: string): Promise<string[]> {
  const plan = await sql<{ 'QUERY PLAN': string }>`EXPLAIN (COSTS OFF) ${sql.raw(query)}`.execute(db);
  const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
  return [...new Set(text.match(/events_(\d{4}_\d{2}|default)/g) ?? [])].sort();
}

const event = (projectId: number, at: number, contactId: number | null = 1) => ({
  project_id: projectId, type: 'open', contact_id: contactId, sending_id: 7, at, machine: 0, ip: '198.51.100.4', user_agent: 'UA',
});

suite(title, () => {
  describe('migration 0022 on a database with events', () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let store: Store;
    beforeAll(async () => {
      database = await freshDatabase('postgres');
      store = openStore({ dataDir: database.dataDir, databaseUrl: database.databaseUrl });
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });

    it('moves every event, id and column into monthly partitions, keeps ids going on, and recreates the indexes', async () => {
      const all = await migrationProvider('postgres').getMigrations();
      const before = Object.fromEntries(Object.entries(all).filter(([name]) => name < '0022'));
      const result = await new Migrator({ db: store.db, provider: { getMigrations: async () => before } }).migrateToLatest();
      expect(result.error).toBeUndefined();
      const db = store.db as unknown as Kysely<unknown>;
      await sql`INSERT INTO projects (name, settings, ledger_salt, created_at, updated_at) VALUES ('old', '{}', 'salt', 1, 1)`.execute(db);
      const now = Date.now();
      const march2025 = Date.UTC(2025, 2, 14, 10, 30);
      const times = [march2025, march2025 + DAY, now, now - 40 * DAY, Date.UTC(1990, 0, 1), Date.UTC(2080, 5, 1)];
      await store.db.insertInto('events').values(times.map((at) => event(1, at))).execute();
      await store.db.insertInto('events').values({ ...event(1, now, null), web_type: 'purchase', type: 'web', name: 'n', url: 'https://x.test/' }).execute();
      // An id gap, as deletions (erasure) leave.
      await store.db.deleteFrom('events').where('at', '=', march2025 + DAY).execute();
      const rowsBefore = await store.db.selectFrom('events').selectAll().orderBy('id').execute();
      const maxId = Math.max(...rowsBefore.map((r) => r.id));

      await migrate(store);

      const kind = await sql<{ relkind: string }>`SELECT relkind FROM pg_class WHERE relname = 'events'`.execute(db);
      expect(kind.rows[0]?.relkind).toBe('p');
      expect(await store.db.selectFrom('events').selectAll().orderBy('id').execute()).toEqual(rowsBefore);
      const partitions = await monthPartitions(store.db);
      expect(partitions).toEqual(
        expect.arrayContaining(['events_2025_03', monthPartition(now, -2).name, monthPartition(now).name, monthPartition(now, 1).name, monthPartition(now, 2).name]),
      );
      const home = await homes(store.db);
      const byTime = new Map(rowsBefore.map((r) => [r.at, r.id]));
      expect(home.get(byTime.get(march2025)!)).toBe('events_2025_03');
      expect(home.get(byTime.get(now)!)).toBe(monthPartition(now).name);
      // Outside ten years back and a year ahead: the default partition, not a partition per stray month.
      expect(home.get(byTime.get(Date.UTC(1990, 0, 1))!)).toBe('events_default');
      expect(home.get(byTime.get(Date.UTC(2080, 5, 1))!)).toBe('events_default');
      expect(partitions.some((p) => p.startsWith('events_1990') || p.startsWith('events_2080'))).toBe(false);

      const inserted = await store.db.insertInto('events').values(event(1, now)).returning('id').executeTakeFirstOrThrow();
      expect(inserted.id).toBe(maxId + 1);
      const key = await sql<{ def: string }>`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p'`.execute(db);
      expect(key.rows[0]?.def).toBe('PRIMARY KEY (project_id, id, at)');
      const parentIndexes = await sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname`.execute(db);
      expect(parentIndexes.rows.map((r) => r.indexname)).toEqual(['events_contact', 'events_pkey', 'events_segment', 'events_segment_sending', 'events_time']);
      const partitionIndexes = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = ${monthPartition(now).name}`.execute(db);
      expect(Number(partitionIndexes.rows[0]?.n)).toBe(5);
      const leftovers = await sql<{ relname: string }>`SELECT relname FROM pg_class WHERE relname LIKE 'events_unpartitioned%'`.execute(db);
      expect(leftovers.rows).toEqual([]);
    });
  });

  describe('partitions in use', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp('postgres');
    });
    afterAll(async () => t?.close());

    it('a hit dated where no monthly partition exists lands in the default partition and never fails', async () => {
      const far = Date.UTC(2099, 6, 4);
      const row = await t.ctx.store.db.insertInto('events').values(event(1, far)).returning('id').executeTakeFirstOrThrow();
      expect((await homes(t.ctx.store.db)).get(row.id)).toBe('events_default');
    });

    it('housekeeping creates this month and the two after it, moving events of those months out of the default partition', async () => {
      const later = Date.now() + 200 * DAY;
      const early = await t.ctx.store.db.insertInto('events').values(event(1, monthPartition(later, 1).from + 5)).returning('id').executeTakeFirstOrThrow();
      expect((await homes(t.ctx.store.db)).get(early.id)).toBe('events_default');

      const first = await t.ctx.housekeeping.run(later);
      expect(first.partitions).toEqual({ created: [0, 1, 2].map((n) => monthPartition(later, n).name), failed: [] });
      expect((await homes(t.ctx.store.db)).get(early.id)).toBe(monthPartition(later, 1).name);
      expect((await t.ctx.housekeeping.run(later)).partitions).toEqual({ created: [], failed: [] });
      // A new partition gets the parent's indexes.
      const indexes = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = ${monthPartition(later, 2).name}`.execute(t.ctx.store.db);
      expect(Number(indexes.rows[0]?.n)).toBe(5);
    });

    it('a read bounded in time scans only the partitions of its months', async () => {
      const now = Date.now();
      const month = monthPartition(now);
      const next = monthPartition(now, 1);
      expect(await scanned(t.ctx.store.db, `SELECT COUNT(*) FROM events WHERE project_id = 1 AND at >= ${month.from} AND at < ${month.to}`)).toEqual([month.name]);
      // Retention's "older than" read leaves every later month alone.
      const old = await scanned(t.ctx.store.db, `SELECT DISTINCT contact_id, sending_id FROM events WHERE project_id = 1 AND contact_id IS NOT NULL AND at < ${month.from}`);
      expect(old).not.toContain(month.name);
      expect(old).not.toContain(next.name);
      expect(old).toContain('events_default');
    });

    it('retention anonymises exactly the events before its cut, across partitions', async () => {
      const now = Date.now();
      const cut = monthPartition(now).from + 1000;
      const projectId = 42;
      await t.ctx.store.db.insertInto('events').values([event(projectId, cut - 1), event(projectId, cut - 40 * DAY), event(projectId, cut), event(projectId, cut + DAY)]).execute();
      let changed = 0;
      for (let n = -1; n !== 0; changed += n) n = await anonymizeEventsBefore(t.ctx.store.db, projectId, cut);
      expect(changed).toBe(2);
      const rows = await t.ctx.store.db.selectFrom('events').select(['contact_id', 'at']).where('project_id', '=', projectId).orderBy('at').execute();
      expect(rows.map((r) => r.contact_id)).toEqual([null, null, 1, 1]);
    });
  });
});
