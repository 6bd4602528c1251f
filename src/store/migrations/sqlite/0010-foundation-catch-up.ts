import { type Kysely, sql } from 'kysely';

// 0001-foundation was edited after its first release (columns added to messages and sendings,
// the events_sending index dropped). A database created by that first release never got those
// changes: this brings it to today's shape, and changes nothing on a database created since.

async function hasColumn(db: Kysely<unknown>, table: string, column: string): Promise<boolean> {
  const result = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table}) WHERE name = ${column}`.execute(db);
  return result.rows.length > 0;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(await hasColumn(db, 'messages', 'from_address'))) await sql`ALTER TABLE messages ADD COLUMN from_address TEXT`.execute(db);
  if (!(await hasColumn(db, 'messages', 'injection_rule_ids'))) {
    await sql`ALTER TABLE messages ADD COLUMN injection_rule_ids TEXT NOT NULL DEFAULT '[]'`.execute(db);
  }
  if (!(await hasColumn(db, 'sendings', 'max_contact_id'))) {
    await sql`ALTER TABLE sendings ADD COLUMN max_contact_id INTEGER NOT NULL DEFAULT 0`.execute(db);
    // The first release walked every contact of the project: a sending still running keeps doing so.
    await sql`UPDATE sendings SET max_contact_id = COALESCE((SELECT MAX(c.id) FROM contacts c WHERE c.project_id = sendings.project_id), 0)`.execute(db);
  }
  await sql`DROP INDEX IF EXISTS events_sending`.execute(db);
}
