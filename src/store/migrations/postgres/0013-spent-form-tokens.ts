import { type Kysely, sql } from 'kysely';

// Form CSRF tokens already used for a state change (issue 9 item 5): a replayed token is refused.
// A row lives until the token would have expired anyway (the housekeeping job purges it then).
// Keyed by the token's MAC; not per project (the token is checked before the page's form is read).
const statements = [
  `CREATE TABLE spent_form_tokens (id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)`,
  `CREATE INDEX spent_form_tokens_expiry ON spent_form_tokens (expires_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
