import { type Kysely, sql } from 'kysely';

// Users, their sessions and the audit log of the admin app (SPEC §13), and
// scopes, last use and revocation of API keys (SPEC §15). Users and sessions
// belong to the installation, not to one project (an owner reaches every
// project), so they are the tables that do not lead with project_id; their
// project memberships do. Audit entries of installation-wide actions (users,
// project creation) use project_id 0. Keys issued before this migration keep
// what they could do, less the project settings: read, write and consent.
const statements = [
  `CREATE TABLE users (
     id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, name TEXT, password_hash TEXT,
     role TEXT NOT NULL, language TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE UNIQUE INDEX users_email ON users (email)`,
  `CREATE TABLE user_projects (
     project_id INTEGER NOT NULL, user_id INTEGER NOT NULL, PRIMARY KEY (project_id, user_id)) WITHOUT ROWID`,
  `CREATE INDEX user_projects_user ON user_projects (user_id)`,
  `CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL) WITHOUT ROWID`,
  `CREATE INDEX sessions_user ON sessions (user_id)`,
  `CREATE TABLE audit_log (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
     actor TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, outcome TEXT NOT NULL,
     status INTEGER NOT NULL, detail TEXT)`,
  `CREATE INDEX audit_log_project ON audit_log (project_id, id)`,
  `ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,write,consent'`,
  `ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER`,
  `ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
