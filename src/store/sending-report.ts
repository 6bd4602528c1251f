import { sql } from 'kysely';
import { type TrackingSettings, trackedSql } from '../domain/consent.js';
import type { Db } from './database.js';

/*
 * What a sending's report reads: its counters, its links with their click
 * counters and unique clickers, its hourly timeline and its tracked
 * recipients with what each did.
 */

export const HOUR_MS = 3_600_000;

export async function sendingStats(db: Db, projectId: number, sendingId: number) {
  return db.selectFrom('sending_stats').selectAll().where('project_id', '=', projectId).where('sending_id', '=', sendingId).executeTakeFirst();
}

/** The sending's links in order, with their click counters. */
export async function sendingLinkStats(db: Db, projectId: number, sendingId: number) {
  return db
    .selectFrom('sending_links as l')
    .leftJoin('link_stats as s', (join) => join.onRef('s.project_id', '=', 'l.project_id').onRef('s.sending_id', '=', 'l.sending_id').onRef('s.idx', '=', 'l.idx'))
    .select(['l.idx', 'l.url', 's.clicks', 's.clicks_machine'])
    .where('l.project_id', '=', projectId)
    .where('l.sending_id', '=', sendingId)
    .orderBy('l.idx')
    .execute();
}

/** Unique clickers per link: identified by contact id, anonymous by nonce (the two never overlap). */
export async function uniqueClickersPerLink(db: Db, projectId: number, sendingId: number): Promise<Map<number | null, number>> {
  const rows = await db
    .selectFrom('events')
    .select(['link_idx', sql<number>`COUNT(DISTINCT contact_id) + COUNT(DISTINCT nonce)`.as('unique')])
    .where('project_id', '=', projectId)
    .where('sending_id', '=', sendingId)
    .where('type', '=', 'click')
    .groupBy('link_idx')
    .execute();
  return new Map(rows.map((r) => [r.link_idx, Number(r.unique)]));
}

/** Opens and clicks per hour, oldest first; `at` is the hour's start. */
export async function hourlyTimeline(db: Db, projectId: number, sendingId: number): Promise<{ at: number; opens: number; clicks: number }[]> {
  const bucket = sql<number>`(at / ${sql.lit(HOUR_MS)})`;
  const rows = await db
    .selectFrom('events')
    .select([
      bucket.as('bucket'),
      sql<number>`SUM(CASE WHEN type = 'open' THEN 1 ELSE 0 END)`.as('opens'),
      sql<number>`SUM(CASE WHEN type = 'click' THEN 1 ELSE 0 END)`.as('clicks'),
    ])
    .where('project_id', '=', projectId)
    .where('sending_id', '=', sendingId)
    .where('type', 'in', ['open', 'click'])
    .groupBy(bucket)
    .orderBy(bucket)
    .execute();
  return rows.map((t) => ({ at: Number(t.bucket) * HOUR_MS, opens: Number(t.opens), clicks: Number(t.clicks) }));
}

export interface TrackedRecipientRow {
  id: number;
  email: string | null;
  opens: number;
  clicks: number;
}

/**
 * Up to `limit + 1` of a sending's recipients with a delivery row who are
 * tracked now (rule 6), after contact id `cursor`, with their opens and clicks.
 */
export async function trackedRecipients(
  db: Db,
  projectId: number,
  sendingId: number,
  tracking: TrackingSettings,
  page: { cursor?: number | undefined; limit: number },
): Promise<TrackedRecipientRow[]> {
  let query = db
    .selectFrom('deliveries as d')
    .innerJoin('contacts as c', (join) => join.onRef('c.project_id', '=', 'd.project_id').onRef('c.id', '=', 'd.contact_id'))
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('events')
          .select([
            'contact_id',
            sql<number>`SUM(CASE WHEN type = 'open' THEN 1 ELSE 0 END)`.as('opens'),
            sql<number>`SUM(CASE WHEN type = 'click' THEN 1 ELSE 0 END)`.as('clicks'),
          ])
          .where('project_id', '=', projectId)
          .where('sending_id', '=', sendingId)
          .where('contact_id', 'is not', null)
          .groupBy('contact_id')
          .as('e'),
      (join) => join.onRef('e.contact_id', '=', 'd.contact_id'),
    )
    .select(['c.id', 'c.email', 'e.opens', 'e.clicks'])
    .where('d.project_id', '=', projectId)
    .where('d.sending_id', '=', sendingId)
    .where('d.status', '=', 'sent')
    .where(trackedSql(tracking, 'c.has_tracking_consent'));
  if (page.cursor !== undefined) query = query.where('c.id', '>', page.cursor);
  const rows = await query.orderBy('c.id').limit(page.limit + 1).execute();
  return rows.map((r) => ({ id: r.id, email: r.email, opens: Number(r.opens ?? 0), clicks: Number(r.clicks ?? 0) }));
}

/**
 * How many of a sending's recipients are listed in its report now: delivered,
 * and tracked today (a contact who withdrew since, or was erased, is not).
 */
export async function countTrackedRecipientsNow(db: Db, projectId: number, sendingId: number, tracking: TrackingSettings): Promise<number> {
  const row = await db
    .selectFrom('deliveries as d')
    .innerJoin('contacts as c', (join) => join.onRef('c.project_id', '=', 'd.project_id').onRef('c.id', '=', 'd.contact_id'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('d.project_id', '=', projectId)
    .where('d.sending_id', '=', sendingId)
    .where('d.status', '=', 'sent')
    .where(trackedSql(tracking, 'c.has_tracking_consent'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
