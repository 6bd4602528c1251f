import { type Kysely, sql } from 'kysely';

// SQLite schema of the foundation, sending and tracking tables. Timestamps are
// epoch milliseconds; AUTOINCREMENT keeps ids from being reused after erasure.
const statements = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE projects (
     id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, settings TEXT NOT NULL,
     ledger_salt TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE TABLE api_keys (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
     key_hash TEXT NOT NULL, created_at INTEGER NOT NULL)`,
  `CREATE INDEX api_keys_project ON api_keys (project_id)`,
  `CREATE TABLE contacts (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT,
     email TEXT, external_id TEXT, phone TEXT, fields TEXT NOT NULL DEFAULT '{}',
     status TEXT NOT NULL DEFAULT 'active', has_tracking_consent INTEGER, dt_tracking_consent INTEGER,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE UNIQUE INDEX contacts_email ON contacts (project_id, email)`,
  `CREATE UNIQUE INDEX contacts_external_id ON contacts (project_id, external_id)`,
  `CREATE INDEX contacts_project_id ON contacts (project_id, id)`,
  `CREATE INDEX contacts_consent ON contacts (project_id, has_tracking_consent, id)`,
  `CREATE TABLE consent_history (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL,
     contact_id INTEGER, subject_hash TEXT, action TEXT NOT NULL, date INTEGER NOT NULL,
     recorded_at INTEGER NOT NULL, source TEXT NOT NULL, ip TEXT, user_agent TEXT,
     wording_hash TEXT, detail TEXT, pii_digest TEXT NOT NULL, erased INTEGER NOT NULL DEFAULT 0,
     prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`,
  `CREATE UNIQUE INDEX consent_history_seq ON consent_history (project_id, seq)`,
  `CREATE INDEX consent_history_contact ON consent_history (project_id, contact_id, seq)`,
  `CREATE TABLE ledger_heads (project_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL)`,
  `CREATE TABLE messages (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL,
     name TEXT NOT NULL, communication_type TEXT NOT NULL, subject TEXT, html TEXT, text TEXT,
     push_title TEXT, push_url TEXT, from_address TEXT, injection_rule_ids TEXT NOT NULL DEFAULT '[]',
     created_at INTEGER NOT NULL)`,
  `CREATE INDEX messages_project ON messages (project_id, id)`,
  `CREATE TABLE sendings (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, message_id INTEGER NOT NULL,
     target TEXT NOT NULL, status TEXT NOT NULL, targeted INTEGER NOT NULL DEFAULT 0,
     tracked INTEGER NOT NULL DEFAULT 0, untracked INTEGER NOT NULL DEFAULT 0,
     delivered INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, cursor INTEGER,
     max_contact_id INTEGER NOT NULL DEFAULT 0,
     error TEXT, created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER)`,
  `CREATE INDEX sendings_project ON sendings (project_id, id)`,
  `CREATE TABLE sending_links (
     project_id INTEGER NOT NULL, sending_id INTEGER NOT NULL, idx INTEGER NOT NULL, url TEXT NOT NULL,
     PRIMARY KEY (project_id, sending_id, idx))`,
  `CREATE TABLE deliveries (
     project_id INTEGER NOT NULL, sending_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
     status TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (project_id, sending_id, contact_id))`,
  `CREATE INDEX deliveries_contact ON deliveries (project_id, contact_id)`,
  `CREATE TABLE sending_stats (
     project_id INTEGER NOT NULL, sending_id INTEGER NOT NULL, opens INTEGER NOT NULL DEFAULT 0,
     opens_machine INTEGER NOT NULL DEFAULT 0, clicks INTEGER NOT NULL DEFAULT 0,
     clicks_machine INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (project_id, sending_id))`,
  `CREATE TABLE link_stats (
     project_id INTEGER NOT NULL, sending_id INTEGER NOT NULL, idx INTEGER NOT NULL,
     clicks INTEGER NOT NULL DEFAULT 0, clicks_machine INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (project_id, sending_id, idx))`,
  `CREATE TABLE events (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,
     contact_id INTEGER, nonce TEXT, sending_id INTEGER, message_id INTEGER, link_idx INTEGER,
     channel TEXT, name TEXT, url TEXT, form_id INTEGER, at INTEGER NOT NULL, device TEXT,
     machine INTEGER NOT NULL DEFAULT 0, ip TEXT, user_agent TEXT)`,
  `CREATE INDEX events_contact ON events (project_id, contact_id, type, at)`,
  `CREATE INDEX events_time ON events (project_id, at)`,
  `CREATE TABLE jobs (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
     ref_id INTEGER NOT NULL, state TEXT NOT NULL, run_at INTEGER NOT NULL,
     lease_until INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT, created_at INTEGER NOT NULL)`,
  `CREATE INDEX jobs_due ON jobs (state, run_at)`,
  `CREATE TABLE injection_rules (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
     spec TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE INDEX injection_rules_project ON injection_rules (project_id, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
