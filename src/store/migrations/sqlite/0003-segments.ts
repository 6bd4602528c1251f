import { type Kysely, sql } from 'kysely';

// Groups (segments), static group snapshots and score models. Scores are not
// stored: they are computed from current events and consent when read, so a
// contact who becomes untracked loses behavioural points at once (rule 8).
const statements = [
  `CREATE TABLE groups (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
     type TEXT NOT NULL, criteria TEXT NOT NULL, refreshed_at INTEGER,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE INDEX groups_project ON groups (project_id, id)`,
  `CREATE TABLE group_members (
     project_id INTEGER NOT NULL, group_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
     PRIMARY KEY (project_id, group_id, contact_id)) WITHOUT ROWID`,
  `CREATE TABLE score_models (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
     rules TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE INDEX score_models_project ON score_models (project_id, id)`,
  // Segment subqueries read "contacts who did X (since T)" without touching the table rows.
  `CREATE INDEX events_segment ON events (project_id, type, at, contact_id)`,
  `CREATE INDEX events_segment_sending ON events (project_id, sending_id, type, contact_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
