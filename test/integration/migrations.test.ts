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
  'postgres/0011-sending-progress.ts': '6fc41c259b23eb2108d00a04f8666bfd008b85bb1b5c4b88a451d42e6332cd78',
  'postgres/0012-queue-applied.ts': '4d0b30eb0b3403cdf15b5a4c932b5cee34c1736a238616937e426e787c9be30e',
  'postgres/0013-spent-form-tokens.ts': '27f073cee89468a5b5d5f6f06bfb95a4a3c5382105efca57b273e847117d4512',
  'postgres/0015-erasure-wordings.ts': 'abe925715937e9f16162d6a07f873efecee2496694bf33d436fc334d09352874',
  'postgres/0016-message-removal.ts': 'b8cfe8219ce656e9376430721a24b20baaf11cd8fd8aa6416ab18d55155f7567',
  'postgres/0017-default-forms.ts': '6786cb94c2e545d0af450d5923245ad59d6b0503fca999d9032c0a5e66a2f3e5',
  'postgres/0018-webhooks.ts': '174f5eac224974f266b391e9bd83efe0c8cb21ffd5c4eabeab9f8d6fb5c4455c',
  'postgres/0020-sending-schedule.ts': '0bfb0d49138db33f0cbac6f547d8dfffa00407dc47be42de7eef44bac1808608',
  'postgres/0021-sending-exclusions.ts': '9445c352b08d77324f00fd5444048e1394372f49483828cb51ecafa50fd3bbd6',
  'postgres/0022-events-partitions.ts': '819b41035cbb8acfc366f0ba890cb6fb6a47cea57304a6e0613ac72d4a333481',
  'sqlite/0001-foundation.ts': '7f0c98cfa108ca394ee8e96b105b4573ec86cd8a67fc9255df3c4407a7353077',
  'sqlite/0002-imports.ts': '6811b049942da39513ad6d767bac769e11ae9b3ffe0da602de1a1211a85b0db9',
  'sqlite/0003-segments.ts': 'ba8595d91f94b7d6c66729de2d56b2fc1c990be20637bf939fc591545a9cf265',
  'sqlite/0004-forms.ts': 'a99f16fbb1542f6cc307189b709a455dc5f176cb7a73d100fc29ed16a90e6adb',
  'sqlite/0005-campaigns.ts': 'b0a14d96e42fd2229aa4efeb960a06569b4ee70647d1bb3d4ca5fa166f4fc06b',
  'sqlite/0008-users.ts': '05f367caa457db72163079eaf4625cd2e8c1c61fe359ab70df8d206d32be02bd',
  'sqlite/0009-form-requests.ts': '5863e99120a2b392c46db78fe19ac8e40e6da9e9d154c13ec347fe0a87faa6b0',
  'sqlite/0010-foundation-catch-up.ts': 'd88e4838fffd449f3eb52551f833d6e3eed7a354a6b0754ff5b2324834392807',
  'sqlite/0011-sending-progress.ts': '6fc41c259b23eb2108d00a04f8666bfd008b85bb1b5c4b88a451d42e6332cd78',
  'sqlite/0012-queue-applied.ts': '668cb14c2f114a87cafa894f990cc7743ec2b1e8bc265a5f9286f0fa44bd7f99',
  'sqlite/0013-spent-form-tokens.ts': '564fa1b7f4590161636582afe006d2d7a50c12a70cf1ef9c4a893cc87201c5b7',
  'sqlite/0015-erasure-wordings.ts': '02c11b9ad19902b394b790a94b142aaf5ffac614d133d2ce5c6fe00b8f2b419b',
  'sqlite/0016-message-removal.ts': '5200a8889b7c6214bd5a1f7b523eb2c1fd097340ba3d51c94e70387bc6835456',
  'sqlite/0017-default-forms.ts': 'bd5300ac45fee0f41256fddb38e3eaa05d2de358f52f61592f433fdae83fe278',
  'sqlite/0018-webhooks.ts': 'ee8f988945d18d435c6944a7c0dc73428977f24f1cca9fd12e4167fd815e84b5',
  'sqlite/0020-sending-schedule.ts': 'e0edc7dbdf8fa56df44bfc019c2e4baf1d3a8019e39ec558f097594a63ef736b',
  'sqlite/0021-sending-exclusions.ts': '709928dd4c7571e2b92fc98581d3f990181a7eee8ec00e3b4448c3d615db383d',
  'sqlite/0022-events-partitions.ts': 'fd08794f75b8d8ff7ddd22f21d6845d070a39ffceb0b9576999a8d1874bd89cd',
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
