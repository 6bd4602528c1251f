import { type Kysely, sql } from 'kysely';

// Issue 12 items 13 and 14. erased_subjects: the suppression list of erasure, salted email hashes
// (the ledger's subject_hash) that an import or merge may not bring back unless the person asked to
// come back. consent_wordings: every consent wording a form showed, stored once, so the proof of a
// consent (its wording_hash) shows what the person read. events.web_type (item 15): the type a web or app
// event was posted with (`purchase`), kept beside its name; the event's own type stays `web`.
const statements = [
  `CREATE TABLE erased_subjects (project_id INTEGER NOT NULL, subject_hash TEXT NOT NULL, erased_at INTEGER NOT NULL,
     ledger_seq INTEGER NOT NULL, PRIMARY KEY (project_id, subject_hash))`,
  `CREATE TABLE consent_wordings (project_id INTEGER NOT NULL, hash TEXT NOT NULL, text TEXT NOT NULL, lang TEXT NOT NULL,
     first_shown_at INTEGER NOT NULL, PRIMARY KEY (project_id, hash))`,
  `ALTER TABLE events ADD COLUMN web_type TEXT`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
