import { type Kysely, sql } from 'kysely';

// Sendings can be scheduled and cancelled before they start (issue 12 item 7, SPEC §6): when a sending is
// due, and when it was cancelled (status `cancelled`, a terminal state like `sent`).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('ALTER TABLE sendings ADD COLUMN scheduled_at INTEGER').execute(db);
  await sql.raw('ALTER TABLE sendings ADD COLUMN cancelled_at INTEGER').execute(db);
}
