import { type Kysely, sql } from 'kysely';

// A sending says why it reaches fewer contacts than its target holds (issue 12 item 9): the target's
// contacts left out when it was counted, per reason (docs/reports.md). NULL on sendings counted before.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('ALTER TABLE sendings ADD COLUMN excluded_unsubscribed BIGINT').execute(db);
  await sql.raw('ALTER TABLE sendings ADD COLUMN excluded_quarantined BIGINT').execute(db);
  await sql.raw('ALTER TABLE sendings ADD COLUMN excluded_no_address BIGINT').execute(db);
}
