import type { Kysely } from 'kysely';

// PostgreSQL's events table is partitioned by month from 0022 on (SPEC §8). SQLite has no table partitioning
// and the embedded store does not need it: nothing changes here. The file keeps the two dialects' lists aligned.
export async function up(_db: Kysely<unknown>): Promise<void> {}
