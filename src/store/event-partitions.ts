import { sql } from 'kysely';
import type { Db } from './database.js';

/*
 * PostgreSQL's monthly partitions of `events` (SPEC §8, migration 0022): one
 * per UTC month on `at` (epoch ms), named `events_YYYY_MM`, plus
 * `events_default` for a time whose month has none, so no hit ever fails for
 * lack of a partition. The housekeeping job creates the months ahead.
 */

const YEAR_MONTHS = 12;

/** A month's partition: its name and its bounds [from, to) in epoch ms. */
export interface MonthPartition {
  name: string;
  from: number;
  to: number;
}

/** The partition of the month `offset` months after the one holding `at` (UTC). */
export function monthPartition(at: number, offset = 0): MonthPartition {
  const date = new Date(at);
  const month = date.getUTCFullYear() * YEAR_MONTHS + date.getUTCMonth() + offset;
  const year = Math.floor(month / YEAR_MONTHS);
  const index = month - year * YEAR_MONTHS;
  return { name: `events_${year}_${String(index + 1).padStart(2, '0')}`, from: Date.UTC(year, index, 1), to: Date.UTC(year, index + 1, 1) };
}

/** The names of the monthly partitions that exist now (the default one aside), oldest first. */
export async function monthPartitions(db: Db): Promise<string[]> {
  const result = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events'::regclass AND c.relname <> 'events_default' ORDER BY c.relname`.execute(db);
  return result.rows.map((r) => r.name);
}

/**
 * Makes sure the partitions of the month holding `now` and the `ahead` months
 * after it exist. Events of such a month already in the default partition
 * (a hit dated ahead of its partition) move into the new one in the same
 * transaction. One process at a time (an advisory lock); a month whose locks
 * it cannot get within 5 s is left to the next run (`failed`), its hits
 * landing in the default partition meanwhile.
 */
export async function ensureMonthPartitions(db: Db, now: number, ahead = 2): Promise<{ created: string[]; failed: string[] }> {
  const existing = new Set(await monthPartitions(db));
  const created: string[] = [];
  const failed: string[] = [];
  for (let offset = 0; offset <= ahead; offset++) {
    const month = monthPartition(now, offset);
    if (existing.has(month.name)) continue;
    const made = await createMonthPartition(db, month).catch(() => {
      failed.push(month.name);
      return false;
    });
    if (made) created.push(month.name);
  }
  return { created, failed };
}

async function createMonthPartition(db: Db, month: MonthPartition): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
      await sql`SET LOCAL lock_timeout = '5s'`.execute(trx);
      await sql`SELECT pg_advisory_xact_lock(hashtext('trackguard.events.partitions'))`.execute(trx);
      if ((await monthPartitions(trx)).includes(month.name)) return false;
      // Held until the partition is attached: no hit of that month enters the default partition in between.
      await sql`LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE`.execute(trx);
      await sql.raw(`CREATE TABLE ${month.name} (LIKE events INCLUDING DEFAULTS)`).execute(trx);
      const columns = await sql<{ name: string }>`
        SELECT attname AS name FROM pg_attribute WHERE attrelid = 'events'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`.execute(trx);
      const list = columns.rows.map((c) => `"${c.name}"`).join(', ');
      await sql
        .raw(
          `WITH moved AS (DELETE FROM events_default WHERE at >= ${month.from} AND at < ${month.to} RETURNING ${list})
           INSERT INTO ${month.name} (${list}) SELECT ${list} FROM moved`,
        )
        .execute(trx);
      // Attaching builds the parent's indexes on the partition and checks its rows and the default partition's.
      await sql.raw(`ALTER TABLE events ATTACH PARTITION ${month.name} FOR VALUES FROM (${month.from}) TO (${month.to})`).execute(trx);
      return true;
    });
}
