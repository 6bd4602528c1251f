import { sql } from 'kysely';
import { type TrackingSettings, trackedSql } from '../domain/consent.js';
import type { Db } from './database.js';

export const DAY_MS = 86_400_000;

/** Consent actions that change a contact's status (not `module-activation`). */
const STATUS_ACTIONS = ['accepted', 'refused', 'reset'] as const;

export interface ConsentTransitionRow {
  day: number;
  action: string;
  /** The contact's previous action, null for its first entry. */
  prev: string | null;
  n: number;
}

/**
 * Every status change of the project's current contacts, counted per UTC day
 * and (previous action → action). The day is the entry's effective date, or
 * the contact's creation when the date is older (an import carrying an old
 * consent date), so a contact is never counted before it exists. Entries are
 * ordered by effective date as "newest date wins" applies them.
 */
export async function consentTransitions(db: Db, projectId: number): Promise<ConsentTransitionRow[]> {
  const result = await sql<ConsentTransitionRow>`
    SELECT t.day AS day, t.action AS action, t.prev AS prev, COUNT(*) AS n FROM (
      SELECT (CASE WHEN h.date > c.created_at THEN h.date ELSE c.created_at END) / ${sql.lit(DAY_MS)} AS day,
             h.action AS action,
             LAG(h.action) OVER (PARTITION BY h.contact_id ORDER BY h.date, h.seq) AS prev
      FROM consent_history h
      JOIN contacts c ON c.project_id = h.project_id AND c.id = h.contact_id
      WHERE h.project_id = ${projectId} AND h.action IN (${sql.join(STATUS_ACTIONS)})
    ) t
    GROUP BY t.day, t.action, t.prev`.execute(db);
  return result.rows.map((r) => ({ day: Number(r.day), action: r.action, prev: r.prev, n: Number(r.n) }));
}

/** How many of the project's current contacts were created each UTC day. */
export async function contactsCreatedPerDay(db: Db, projectId: number): Promise<{ day: number; n: number }[]> {
  const day = sql<number>`created_at / ${sql.lit(DAY_MS)}`;
  const rows = await db
    .selectFrom('contacts')
    .select([day.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .groupBy(day)
    .execute();
  return rows.map((r) => ({ day: Number(r.day), n: Number(r.n) }));
}

export interface StatusSplit {
  accepted: number;
  refused: number;
  unanswered: number;
  /** Contacts tracked now under the project's settings (the one tracked predicate). */
  tracked: number;
}

/** The project's contacts by tracking status now, and how many are tracked. */
export async function statusSplit(db: Db, projectId: number, settings: TrackingSettings): Promise<StatusSplit> {
  const row = await db
    .selectFrom('contacts')
    .select([
      sql<number>`SUM(CASE WHEN has_tracking_consent = 1 THEN 1 ELSE 0 END)`.as('accepted'),
      sql<number>`SUM(CASE WHEN has_tracking_consent = 0 THEN 1 ELSE 0 END)`.as('refused'),
      sql<number>`SUM(CASE WHEN has_tracking_consent IS NULL THEN 1 ELSE 0 END)`.as('unanswered'),
      sql<number>`SUM(CASE WHEN ${trackedSql(settings)} THEN 1 ELSE 0 END)`.as('tracked'),
    ])
    .where('project_id', '=', projectId)
    .executeTakeFirstOrThrow();
  return { accepted: Number(row.accepted ?? 0), refused: Number(row.refused ?? 0), unanswered: Number(row.unanswered ?? 0), tracked: Number(row.tracked ?? 0) };
}

export type SourceKind = 'import' | 'form' | 'tracking-optout-form' | 'api' | 'admin' | 'other';

/** Consent changes since `since` (effective date) by where they came from and what they did. */
export async function consentSources(db: Db, projectId: number, since: number): Promise<{ source: SourceKind; action: string; n: number }[]> {
  const kind = sql<SourceKind>`CASE
    WHEN source LIKE 'import:%' THEN 'import'
    WHEN source = 'tracking-optout-form' THEN 'tracking-optout-form'
    WHEN source LIKE 'form:%' THEN 'form'
    WHEN source LIKE 'api:%' THEN 'api'
    WHEN source LIKE 'admin:%' THEN 'admin'
    ELSE 'other' END`;
  const rows = await db
    .selectFrom('consent_history')
    .select([kind.as('source'), 'action', (eb) => eb.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .where('action', 'in', [...STATUS_ACTIONS])
    .where('date', '>=', since)
    .groupBy([kind, 'action'])
    .execute();
  return rows.map((r) => ({ source: r.source, action: r.action, n: Number(r.n) }));
}

/**
 * Refusals of tracking attributed to a sending: a refusal counts for the
 * latest of the given sendings delivered to that contact before the refusal's
 * date. `optOuts` is the part made on the tracking opt-out page.
 */
export async function refusalsBySending(db: Db, projectId: number, sendingIds: readonly number[]): Promise<{ sendingId: number; refusals: number; optOuts: number }[]> {
  if (sendingIds.length === 0) return [];
  const result = await sql<{ sending_id: number; refusals: number; opt_outs: number }>`
    SELECT d.sending_id AS sending_id, COUNT(*) AS refusals,
           SUM(CASE WHEN h.source = 'tracking-optout-form' THEN 1 ELSE 0 END) AS opt_outs
    FROM consent_history h
    JOIN deliveries d ON d.project_id = h.project_id AND d.contact_id = h.contact_id
    WHERE h.project_id = ${projectId} AND h.action = 'refused'
      AND d.sending_id IN (${sql.join(sendingIds)})
      AND d.at <= h.date
      AND d.sending_id = (
        SELECT MAX(d2.sending_id) FROM deliveries d2
        WHERE d2.project_id = h.project_id AND d2.contact_id = h.contact_id AND d2.at <= h.date
          AND d2.sending_id IN (${sql.join(sendingIds)}))
    GROUP BY d.sending_id`.execute(db);
  return result.rows.map((r) => ({ sendingId: Number(r.sending_id), refusals: Number(r.refusals), optOuts: Number(r.opt_outs ?? 0) }));
}

export interface SendingSummaryRow {
  id: number;
  messageId: number;
  messageName: string;
  channel: string;
  status: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  targeted: number;
  tracked: number;
  untracked: number;
  delivered: number;
  opens: number;
  opensMachine: number;
  clicks: number;
  clicksMachine: number;
}

/** The project's latest sendings with their message and counters, newest first. */
export async function latestSendings(db: Db, projectId: number, limit: number): Promise<SendingSummaryRow[]> {
  const rows = await db
    .selectFrom('sendings as s')
    .innerJoin('messages as m', (join) => join.onRef('m.project_id', '=', 's.project_id').onRef('m.id', '=', 's.message_id'))
    .leftJoin('sending_stats as st', (join) => join.onRef('st.project_id', '=', 's.project_id').onRef('st.sending_id', '=', 's.id'))
    .select([
      's.id',
      's.message_id',
      'm.name',
      'm.channel',
      's.status',
      's.created_at',
      's.started_at',
      's.finished_at',
      's.targeted',
      's.tracked',
      's.untracked',
      's.delivered',
      'st.opens',
      'st.opens_machine',
      'st.clicks',
      'st.clicks_machine',
    ])
    .where('s.project_id', '=', projectId)
    .orderBy('s.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    messageId: r.message_id,
    messageName: r.name,
    channel: r.channel,
    status: r.status,
    createdAt: Number(r.created_at),
    startedAt: r.started_at === null ? null : Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    targeted: r.targeted,
    tracked: r.tracked,
    untracked: r.untracked,
    delivered: r.delivered,
    opens: Number(r.opens ?? 0),
    opensMachine: Number(r.opens_machine ?? 0),
    clicks: Number(r.clicks ?? 0),
    clicksMachine: Number(r.clicks_machine ?? 0),
  }));
}

/**
 * Opens and clicks per sending: distinct recipients (tracked ones by contact
 * id, untracked ones by nonce: the report's unique count), and how many of
 * the events are anonymous (no contact id).
 */
export async function uniqueRecipients(
  db: Db,
  projectId: number,
  sendingIds: readonly number[],
): Promise<{ sendingId: number; type: string; unique: number; events: number; anonymous: number }[]> {
  if (sendingIds.length === 0) return [];
  const rows = await db
    .selectFrom('events')
    .select([
      'sending_id',
      'type',
      sql<number>`COUNT(DISTINCT contact_id) + COUNT(DISTINCT nonce)`.as('unique'),
      sql<number>`COUNT(*)`.as('events'),
      sql<number>`SUM(CASE WHEN contact_id IS NULL THEN 1 ELSE 0 END)`.as('anonymous'),
    ])
    .where('project_id', '=', projectId)
    .where('sending_id', 'in', [...sendingIds])
    .where('type', 'in', ['open', 'click'])
    .groupBy(['sending_id', 'type'])
    .execute();
  return rows.map((r) => ({ sendingId: Number(r.sending_id), type: r.type, unique: Number(r.unique), events: Number(r.events), anonymous: Number(r.anonymous ?? 0) }));
}
