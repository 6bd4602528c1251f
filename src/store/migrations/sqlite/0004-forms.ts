import { type Kysely, sql } from 'kysely';

// Hosted forms: one row per configured form; its fields, options and texts are
// a JSON document in `spec` (the pages read it whole, nothing queries inside it).
const statements = [
  `CREATE TABLE forms (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
     name TEXT NOT NULL, spec TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE INDEX forms_project_kind ON forms (project_id, kind, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
