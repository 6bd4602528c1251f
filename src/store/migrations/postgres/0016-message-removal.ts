import { type Kysely, sql } from 'kysely';

// Messages can be removed (issue 12 item 7): a removed message leaves the lists and the API, but the
// row stays as the immutable copy its sendings, reports and events refer to.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('ALTER TABLE messages ADD COLUMN deleted_at BIGINT').execute(db);
}
