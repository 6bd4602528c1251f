import { type Kysely, sql } from 'kysely';

// Hits through NATS JetStream (issue 13 item 1): every batch commit records the queue message ids it
// applied, in the same transaction, so a message redelivered after a crash between commit and
// acknowledgement is acknowledged without being written twice. Keyed by the message id, not per project
// (a batch spans projects and the id is checked before anything else); rows are removed once the stream
// can no longer redeliver them (below the consumer's acknowledgement floor, or older than the stream's max age).
const statements = [
  `CREATE TABLE queue_applied (id TEXT PRIMARY KEY, stream TEXT, seq BIGINT, applied_at BIGINT NOT NULL)`,
  `CREATE INDEX queue_applied_stream_seq ON queue_applied (stream, seq)`,
  `CREATE INDEX queue_applied_at ON queue_applied (applied_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
