import { type Kysely, sql } from 'kysely';

// Consent webhooks (issue 15 item 5, SPEC §14). `webhooks`: a receiving URL, the events it wants and the
// secret that signs its deliveries (kept in clear: it must be recoverable to sign; never returned after
// creation). `webhook_deliveries` is the outbox: a row is written in the transaction of the consent change,
// erasure or unsubscribe it tells about, with the job that delivers it; `attempt_log` keeps every attempt.
const statements = [
  `CREATE TABLE webhooks (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, secret TEXT NOT NULL,
     events TEXT NOT NULL, active INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE INDEX webhooks_project ON webhooks (project_id, id)`,
  `CREATE TABLE webhook_deliveries (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id INTEGER NOT NULL,
     event_id TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,
     attempts INTEGER NOT NULL, last_error TEXT, last_status_code INTEGER, next_attempt_at INTEGER,
     delivered_at INTEGER, attempt_log TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (project_id, webhook_id, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
