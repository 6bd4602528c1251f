import { type Kysely, sql } from 'kysely';

// Sending progress inside a batch (issue 9 item 6). `in_flight` holds the window of recipients handed to the
// transport and not yet recorded as acknowledged — `{"claim":"…","ids":[…]}`, NULL when nothing is in
// flight — so a crash costs at most that window, and the runner that resumes knows exactly which it was.
// `lost` counts the messages a crash left unknown (handed over, never acknowledged). The partial index
// finds, at start, the delivery rows a crash left `pending` without reading every delivery.
const statements = [
  `ALTER TABLE sendings ADD COLUMN lost INTEGER NOT NULL DEFAULT 0`,
  `ALTER TABLE sendings ADD COLUMN in_flight TEXT`,
  `CREATE INDEX deliveries_pending ON deliveries (project_id, sending_id, contact_id) WHERE status = 'pending'`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
