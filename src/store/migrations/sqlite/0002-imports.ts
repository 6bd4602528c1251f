import { type Kysely, sql } from 'kysely';

// CSV imports: one row per import (its mapping, who ran it, the counts) and
// one row per rejected CSV line, kept so the report can be downloaded.
const statements = [
  `CREATE TABLE imports (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, file_name TEXT,
     type TEXT NOT NULL, mapping TEXT NOT NULL, delimiter TEXT NOT NULL, actor TEXT NOT NULL,
     status TEXT NOT NULL, rows INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL DEFAULT 0,
     updated INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,
     consent_applied INTEGER NOT NULL DEFAULT 0, consent_stale INTEGER NOT NULL DEFAULT 0,
     rejected INTEGER NOT NULL DEFAULT 0, error TEXT, started_at INTEGER NOT NULL, finished_at INTEGER)`,
  `CREATE INDEX imports_project ON imports (project_id, id)`,
  `CREATE TABLE import_rejects (
     project_id INTEGER NOT NULL, import_id INTEGER NOT NULL, line INTEGER NOT NULL,
     reason TEXT NOT NULL, raw TEXT NOT NULL)`,
  `CREATE INDEX import_rejects_line ON import_rejects (project_id, import_id, line)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
