import { sql } from 'kysely';
import { type TrackingSettings, trackedSql } from '../domain/consent.js';
import { mayBeSmallGroup, type Suppression, smallGroupSuppression } from '../domain/small-group.js';
import type { Db } from './database.js';

const HOUR = 3_600_000;

/** A sending's recipient counters, as the sendings table keeps them. */
export interface SendingCounts {
  id: number;
  tracked: number;
  untracked: number;
}

/**
 * How many of a sending's recipients are not listed under their name now:
 * untracked when it was sent, plus tracked recipients whose delivery row is
 * gone (withdrawal with `anonymizePastOnRefusal`, erasure) or whose contact
 * is untracked today.
 */
export async function anonymousGroupSize(db: Db, projectId: number, sending: SendingCounts, tracking: TrackingSettings): Promise<number> {
  const row = await db
    .selectFrom('deliveries as d')
    .innerJoin('contacts as c', (join) => join.onRef('c.project_id', '=', 'd.project_id').onRef('c.id', '=', 'd.contact_id'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('d.project_id', '=', projectId)
    .where('d.sending_id', '=', sending.id)
    .where(trackedSql(tracking, 'c.has_tracking_consent'))
    .executeTakeFirst();
  return sending.untracked + Math.max(0, sending.tracked - Number(row?.n ?? 0));
}

/** Small-group protection for one sending: the suppression in force, or null (the one check reports, exports and dashboards use). */
export async function sendingSuppression(db: Db, projectId: number, sending: SendingCounts, tracking: TrackingSettings & { minAnonymousGroup: number }): Promise<Suppression | null> {
  const k = tracking.minAnonymousGroup;
  if (!mayBeSmallGroup(sending, k)) return null;
  return smallGroupSuppression(await anonymousGroupSize(db, projectId, sending, tracking), k);
}

/** The project's sendings whose anonymous group is smaller than `k` (none when `k` is 0). */
export async function smallGroupSendingIds(db: Db, projectId: number, tracking: TrackingSettings, k: number): Promise<Set<number>> {
  const small = new Set<number>();
  if (k <= 0) return small;
  // A sending with k recipients untracked at sending time can never be small: only the others need counting.
  const candidates = await db.selectFrom('sendings').select(['id', 'tracked', 'untracked']).where('project_id', '=', projectId).where('untracked', '<', k).execute();
  for (const sending of candidates) {
    if (mayBeSmallGroup(sending, k) && (await anonymousGroupSize(db, projectId, sending, tracking)) < k) small.add(sending.id);
  }
  return small;
}

/** Contacts of a project untracked now: the anonymous group of its events that belong to no sending. */
export async function untrackedContactCount(db: Db, projectId: number, tracking: TrackingSettings): Promise<number> {
  if (!tracking.enabled) return 0;
  const row = await db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .where(sql<boolean>`NOT (${trackedSql(tracking, 'has_tracking_consent')})`)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export interface ListedFigures {
  opens: { total: number; machine: number; unique: number };
  clicks: { total: number; machine: number; unique: number };
  /** Per link index: clicks, machine clicks, distinct contacts. */
  links: Map<number, { total: number; machine: number; unique: number }>;
  /** Hour buckets (epoch ms of the hour) in order. */
  timeline: { at: number; opens: number; clicks: number }[];
}

/**
 * A sending's opens and clicks counted over the events of its listed
 * recipients only: identified events whose contact is tracked now. What a
 * suppressed report shows, so its figures add up to the contacts it lists.
 */
export async function listedRecipientFigures(db: Db, projectId: number, sendingId: number, tracking: TrackingSettings): Promise<ListedFigures> {
  const listed = db
    .selectFrom('events as e')
    .innerJoin('contacts as c', (join) => join.onRef('c.project_id', '=', 'e.project_id').onRef('c.id', '=', 'e.contact_id'))
    .where('e.project_id', '=', projectId)
    .where('e.sending_id', '=', sendingId)
    .where('e.type', 'in', ['open', 'click'])
    .where(trackedSql(tracking, 'c.has_tracking_consent'));
  const totals = await listed
    .select([
      'e.type',
      sql<number>`COUNT(*)`.as('total'),
      sql<number>`SUM(e.machine)`.as('machine'),
      sql<number>`COUNT(DISTINCT e.contact_id)`.as('unique'),
    ])
    .groupBy('e.type')
    .execute();
  const perLink = await listed
    .select(['e.link_idx', sql<number>`COUNT(*)`.as('total'), sql<number>`SUM(e.machine)`.as('machine'), sql<number>`COUNT(DISTINCT e.contact_id)`.as('unique')])
    .where('e.type', '=', 'click')
    .groupBy('e.link_idx')
    .execute();
  const bucket = sql<number>`(e.at / ${sql.lit(HOUR)})`;
  const timeline = await listed
    .select([
      bucket.as('bucket'),
      sql<number>`SUM(CASE WHEN e.type = 'open' THEN 1 ELSE 0 END)`.as('opens'),
      sql<number>`SUM(CASE WHEN e.type = 'click' THEN 1 ELSE 0 END)`.as('clicks'),
    ])
    .groupBy(bucket)
    .orderBy(bucket)
    .execute();
  const of = (type: string) => {
    const row = totals.find((t) => t.type === type);
    return { total: Number(row?.total ?? 0), machine: Number(row?.machine ?? 0), unique: Number(row?.unique ?? 0) };
  };
  return {
    opens: of('open'),
    clicks: of('click'),
    links: new Map(perLink.map((l) => [Number(l.link_idx), { total: Number(l.total), machine: Number(l.machine ?? 0), unique: Number(l.unique) }])),
    timeline: timeline.map((t) => ({ at: Math.floor(Number(t.bucket)) * HOUR, opens: Number(t.opens), clicks: Number(t.clicks) })),
  };
}
