import { type Kysely, sql } from 'kysely';

// Pending subscription requests of the double opt-in (issue 9, issue 15 item 4): what a public
// form asked for, kept until the person confirms from the email or the link expires (purged then).
// `nonce_hash` is the SHA-256 of the link's one-time nonce; the row is deleted when confirmed.
const statements = [
  `CREATE TABLE form_requests (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, form_id INTEGER NOT NULL,
     email TEXT NOT NULL, values_json TEXT NOT NULL, consent INTEGER NOT NULL, lang TEXT NOT NULL,
     wording_hash TEXT, ip TEXT, user_agent TEXT, nonce_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
  `CREATE INDEX form_requests_address ON form_requests (project_id, form_id, email, created_at)`,
  `CREATE INDEX form_requests_expiry ON form_requests (expires_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
