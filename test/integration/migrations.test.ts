// A released migration is never edited: a database created by an earlier release must reach
// today's schema through the migrations that follow it, or it silently keeps the old shape.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openStore, type Store } from '../../src/store/database.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import * as firstPostgres0001 from '../fixtures/first-migrations/postgres/0001-foundation.js';
import * as firstSqlite0001 from '../fixtures/first-migrations/sqlite/0001-foundation.js';
import { type DialectName, dialects, freshDatabase } from '../helpers/harness.js';

/**
 * SHA-256 of every released migration file. A change to one of these is an edit of a released
 * migration: write a new numbered migration instead. A new migration joins this list once landed.
 */
const RELEASED: Record<string, string> = {
  'postgres/0001-foundation.ts': '49c352b0e9372ba1970ef21e12914674beaf9d0c518b39864d5b22204bac07e0',
  'postgres/0002-imports.ts': '43ff250df0368d9e93ea6a34f027f6fe296facb5ce2dbe9eb4e26d9ddba40d34',
  'postgres/0003-segments.ts': '4cb0c5f7687aea49d5e9cd06b5a2299e7c117fdf68753710b9ad07ffa9ab3f92',
  'postgres/0004-forms.ts': 'f2ddc5759f466c0727f4eb159341e7b0bc21910449259e6551825b6b6c5adf37',
  'postgres/0005-campaigns.ts': '1d034267e8ac5603aed069689aad88086b69b9ab7af8873c951da909e8cbf0eb',
  'postgres/0008-users.ts': 'ec6dc84f44e3186a30738eb355eb621038531020ff39e7991258677d242137aa',
  'postgres/0009-form-requests.ts': '8b14287cf3d9a7dd4a82027044fdd96f7442ec2fe8b51a31b5f5f5ce7b6028e7',
  'postgres/0010-foundation-catch-up.ts': 'f71a8e1a2bca47f0e39fc85131d40a4ad505ff17d803a800c8c80b5aed493e53',
  'sqlite/0001-foundation.ts': '7f0c98cfa108ca394ee8e96b105b4573ec86cd8a67fc9255df3c4407a7353077',
  'sqlite/0002-imports.ts': '6811b049942da39513ad6d767bac769e11ae9b3ffe0da602de1a1211a85b0db9',
  'sqlite/0003-segments.ts': 'ba8595d91f94b7d6c66729de2d56b2fc1c990be20637bf939fc591545a9cf265',
  'sqlite/0004-forms.ts': 'a99f16fbb1542f6cc307189b709a455dc5f176cb7a73d100fc29ed16a90e6adb',
  'sqlite/0005-campaigns.ts': 'b0a14d96e42fd2229aa4efeb960a06569b4ee70647d1bb3d4ca5fa166f4fc06b',
  'sqlite/0008-users.ts': '05f367caa457db72163079eaf4625cd2e8c1c61fe359ab70df8d206d32be02bd',
  'sqlite/0009-form-requests.ts': '5863e99120a2b392c46db78fe19ac8e40e6da9e9d154c13ec347fe0a87faa6b0',
  'sqlite/0010-foundation-catch-up.ts': 'd88e4838fffd449f3eb52551f833d6e3eed7a354a6b0754ff5b2324834392807',
};

/**
 * Each migration as its first release shipped it. Only 0001-foundation was
 * ever edited (the hashes above keep the others as they first landed), and
 * migrations from 0010 on came after the fix.
 */
async function firstReleases(dialect: DialectName): Promise<Record<string, Migration>> {
  const current = await migrationProvider(dialect).getMigrations();
  const first: Record<string, Migration> = {};
  for (const [name, migration] of Object.entries(current)) if (name < '0010') first[name] = migration;
  first['0001-foundation'] = dialect === 'sqlite' ? firstSqlite0001 : firstPostgres0001;
  return first;
}

interface Shape {
  columns: string[];
  indexes: string[];
}

/** Tables, columns (name, type, nullability, default) and indexes, in a stable order. */
async function shapeOf(store: Store): Promise<Shape> {
  const db = store.db as unknown as Kysely<unknown>;
  if (store.dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%'`.execute(db);
    const columns: string[] = [];
    for (const { name } of tables.rows) {
      const info = await sql<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>`SELECT * FROM pragma_table_info(${name})`.execute(db);
      for (const c of info.rows) columns.push(`${name}.${c.name} ${c.type} notnull=${c.notnull} default=${c.dflt_value} pk=${c.pk}`);
    }
    const indexes = await sql<{ name: string; sql: string | null }>`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' AND tbl_name NOT LIKE 'kysely_%'`.execute(db);
    return { columns: columns.sort(), indexes: indexes.rows.map((i) => `${i.name}: ${i.sql}`).sort() };
  }
  const columns = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null; is_identity: string }>`
    SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name NOT LIKE 'kysely_%'`.execute(db);
  const indexes = await sql<{ indexname: string; indexdef: string }>`
    SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename NOT LIKE 'kysely_%'`.execute(db);
  return {
    columns: columns.rows.map((c) => `${c.table_name}.${c.column_name} ${c.data_type} nullable=${c.is_nullable} default=${c.column_default} identity=${c.is_identity}`).sort(),
    indexes: indexes.rows.map((i) => `${i.indexname}: ${i.indexdef}`).sort(),
  };
}

describe('released migrations', () => {
  it('are never edited: every released file still has the hash it was released with', () => {
    const dir = join(import.meta.dirname, '../../src/store/migrations');
    for (const [file, hash] of Object.entries(RELEASED)) {
      const actual = createHash('sha256').update(readFileSync(join(dir, file))).digest('hex');
      expect(actual, `${file} was edited after its release: add a new migration instead`).toBe(hash);
    }
  });
});

for (const dialect of dialects()) {
  describe(`migrations (${dialect})`, () => {
    const databases: Awaited<ReturnType<typeof freshDatabase>>[] = [];
    const stores: Store[] = [];
    const open = async () => {
      const database = await freshDatabase(dialect);
      databases.push(database);
      const store = openStore({ dataDir: database.dataDir, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
      stores.push(store);
      return store;
    };
    let fresh: Shape;

    beforeAll(async () => {
      const store = await open();
      await migrate(store);
      fresh = await shapeOf(store);
    });

    afterAll(async () => {
      for (const store of stores) await store.close();
      for (const database of databases) await database.drop();
    });

    it('run from an empty database, twice without change', async () => {
      const store = await open();
      await migrate(store);
      await migrate(store);
      expect(await shapeOf(store)).toEqual(fresh);
      expect(fresh.columns.some((c) => c.startsWith('sendings.max_contact_id '))).toBe(true);
    });

    it('bring a database created by the first release of each migration to the same schema, its data kept', async () => {
      const store = await open();
      const old = await firstReleases(dialect);
      const result = await new Migrator({ db: store.db, provider: { getMigrations: async () => old } }).migrateToLatest();
      expect(result.error).toBeUndefined();
      const before = await shapeOf(store);
      expect(before.indexes.some((i) => i.startsWith('events_sending:'))).toBe(true);
      expect(before.columns.some((c) => c.startsWith('sendings.max_contact_id '))).toBe(false);
      // A sending left running by that release, over a project's three contacts.
      const db = store.db as unknown as Kysely<unknown>;
      await sql`INSERT INTO projects (name, settings, ledger_salt, created_at, updated_at) VALUES ('old', '{}', 'salt', 1, 1)`.execute(db);
      for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
        await sql`INSERT INTO contacts (project_id, email, created_at, updated_at) VALUES (1, ${email}, 1, 1)`.execute(db);
      }
      await sql`INSERT INTO messages (project_id, channel, name, communication_type, subject, text, created_at) VALUES (1, 'email', 'm', 'newsletter', 's', 't', 1)`.execute(db);
      await sql`INSERT INTO sendings (project_id, message_id, target, status, cursor, created_at) VALUES (1, 1, '{"all":true}', 'sending', 1, 1)`.execute(db);

      await migrate(store);
      expect(await shapeOf(store)).toEqual(fresh);
      const sending = await store.db.selectFrom('sendings').select(['cursor', 'max_contact_id', 'status']).executeTakeFirstOrThrow();
      expect(sending).toEqual({ cursor: 1, max_contact_id: 3, status: 'sending' });
      const message = await store.db.selectFrom('messages').select(['from_address', 'injection_rule_ids']).executeTakeFirstOrThrow();
      expect(message).toEqual({ from_address: null, injection_rule_ids: '[]' });
    });
  });
}
