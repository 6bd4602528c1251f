import { type Kysely, sql } from 'kysely';

// Campaigns and the durable state of each contact in one: the node it is at,
// when it is next due and a lease, so the scheduler survives a restart and a
// step never runs twice. Sends record their batch before the sending exists,
// so a retry finds it instead of sending again.
const statements = [
  `CREATE TABLE campaigns (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
     spec TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL, started_at INTEGER)`,
  `CREATE INDEX campaigns_project ON campaigns (project_id, id)`,
  `CREATE TABLE campaign_contacts (
     project_id INTEGER NOT NULL, campaign_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
     node_id TEXT NOT NULL, state TEXT NOT NULL, next_run_at INTEGER NOT NULL,
     lease_until INTEGER NOT NULL DEFAULT 0, entered_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
     PRIMARY KEY (project_id, campaign_id, contact_id)) WITHOUT ROWID`,
  `CREATE INDEX campaign_contacts_due ON campaign_contacts (project_id, campaign_id, state, next_run_at)`,
  `CREATE TABLE campaign_nodes (
     project_id INTEGER NOT NULL, campaign_id INTEGER NOT NULL, node_id TEXT NOT NULL,
     reached INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (project_id, campaign_id, node_id)) WITHOUT ROWID`,
  `CREATE TABLE campaign_sends (
     project_id INTEGER NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT, campaign_id INTEGER NOT NULL,
     node_id TEXT NOT NULL, message_id INTEGER NOT NULL, contact_ids TEXT NOT NULL,
     sending_id INTEGER, created_at INTEGER NOT NULL)`,
  `CREATE INDEX campaign_sends_pending ON campaign_sends (project_id, campaign_id, sending_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
