import { type Kysely, sql } from 'kysely';

// 0001-foundation was edited after its first release (columns added to messages and sendings,
// the events_sending index dropped). A database created by that first release never got those
// changes: this brings it to today's shape, and changes nothing on a database created since.

async function hasColumn(db: Kysely<unknown>, table: string, column: string): Promise<boolean> {
  const result = await sql<{ n: number }>`
    SELECT 1 AS n FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table} AND column_name = ${column}`.execute(db);
  return result.rows.length > 0;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE messages ADD COLUMN IF NOT EXISTS from_address TEXT`.execute(db);
  await sql`ALTER TABLE messages ADD COLUMN IF NOT EXISTS injection_rule_ids TEXT NOT NULL DEFAULT '[]'`.execute(db);
  if (!(await hasColumn(db, 'sendings', 'max_contact_id'))) {
    await sql`ALTER TABLE sendings ADD COLUMN max_contact_id BIGINT NOT NULL DEFAULT 0`.execute(db);
    // The first release walked every contact of the project: a sending still running keeps doing so.
    await sql`UPDATE sendings SET max_contact_id = COALESCE((SELECT MAX(c.id) FROM contacts c WHERE c.project_id = sendings.project_id), 0)`.execute(db);
  }
  await sql`DROP INDEX IF EXISTS events_sending`.execute(db);
}
