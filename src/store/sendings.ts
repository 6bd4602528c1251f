import type { RawBuilder, Selectable, SelectQueryBuilder } from 'kysely';
import { sql } from 'kysely';
import { type TrackingSettings, trackedSql } from '../domain/consent.js';
import type { Contact } from '../domain/contact.js';
import { toContact } from './contacts.js';
import { idList } from './id-list.js';
import type { Db } from './database.js';
import type { Channel } from './messages.js';
import type { Database, SendingTable } from './schema.js';

/*
 * The sendings repository: a sending's row with its cursor and counts, its
 * rewritten links (`sending_links`) and counters (`sending_stats`), and the
 * query that walks its target's contacts.
 */

export type SendingTarget = { all: true } | { groupId: number } | { contactIds: number[] };
/** `cancelled`: stopped before it started (terminal, like `sent` and `failed`). */
export type SendingStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled';

export interface Sending {
  id: number;
  projectId: number;
  messageId: number;
  target: SendingTarget;
  status: SendingStatus;
  targeted: number;
  /** The target's contacts the sending leaves out, per reason, counted with `targeted` (null: a sending counted before they were recorded). */
  excluded: Excluded | null;
  tracked: number;
  untracked: number;
  delivered: number;
  failed: number;
  /** Messages a crash left unknown: handed to the transport, never acknowledged. */
  lost: number;
  error: string | null;
  createdAt: number;
  /** When a scheduled sending is due; null = as soon as possible. */
  scheduledAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  cancelledAt: number | null;
}

export function toSending(row: Selectable<SendingTable>): Sending {
  return {
    id: row.id,
    projectId: row.project_id,
    messageId: row.message_id,
    target: JSON.parse(row.target) as SendingTarget,
    status: row.status as SendingStatus,
    targeted: row.targeted,
    excluded:
      row.excluded_unsubscribed === null || row.excluded_quarantined === null || row.excluded_no_address === null
        ? null
        : { unsubscribed: row.excluded_unsubscribed, quarantined: row.excluded_quarantined, noAddress: row.excluded_no_address },
    tracked: row.tracked,
    untracked: row.untracked,
    delivered: row.delivered,
    failed: row.failed,
    lost: row.lost,
    error: row.error,
    createdAt: row.created_at,
    scheduledAt: row.scheduled_at ?? null,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    cancelledAt: row.cancelled_at ?? null,
  };
}

/** The contact ids of a group as a subquery (provided by the segments module). */
export type GroupMembers = SelectQueryBuilder<Database & { c: Database['contacts'] }, 'c', { id: number }>;

/** The address a channel sends to. */
function addressColumn(channel: Channel): 'email' | 'phone' | 'external_id' {
  return channel === 'email' ? 'email' : channel === 'sms' ? 'phone' : 'external_id';
}

/** The contacts of a target, whatever their delivery status or address. */
export type TargetMembers = (db: Db) => SelectQueryBuilder<Database, 'contacts', object>;

/** Who a target reaches on a channel: active contacts with an address for it, in the target. */
export type TargetQuery = (db: Db, channel: Channel) => SelectQueryBuilder<Database, 'contacts', object>;

export function targetMembers(projectId: number, target: SendingTarget, members: GroupMembers | undefined): TargetMembers {
  return (db) => {
    let q = db.selectFrom('contacts').where('contacts.project_id', '=', projectId);
    if ('contactIds' in target) q = q.where('contacts.id', 'in', idList(db, target.contactIds));
    if (members) q = q.where('contacts.id', 'in', members);
    return q;
  };
}

/** The members a channel reaches. Its negation, reason by reason, is {@link exclusionFilters}: keep the two together. */
export function reachable(members: TargetMembers): TargetQuery {
  return (db, channel) => members(db).where('contacts.status', '=', 'active').where(addressColumn(channel), 'is not', null);
}

/** Why a member of a target is not sent to (docs/reports.md). */
export type ExclusionReason = 'unsubscribed' | 'quarantined' | 'noAddress';
export type Excluded = Record<ExclusionReason, number>;

/**
 * Which of a target's contacts each reason counts. A contact counts once, under the first reason that
 * holds: its delivery status (quarantined; any other status but active — inactive, that is
 * unsubscribed), then no address for the channel. What none of them counts is what {@link reachable}
 * selects: keep the two together.
 */
function exclusionFilters(channel: Channel): Record<ExclusionReason, RawBuilder<boolean>> {
  const address = sql.ref(`contacts.${addressColumn(channel)}`);
  return {
    quarantined: sql<boolean>`contacts.status = 'quarantine'`,
    unsubscribed: sql<boolean>`contacts.status NOT IN ('active', 'quarantine')`,
    noAddress: sql<boolean>`contacts.status = 'active' AND ${address} IS NULL`,
  };
}

/** What a target holds up to contact id `upTo`: how many the channel reaches, and how many are left out, per reason. */
export interface TargetCount {
  targeted: number;
  excluded: Excluded;
}

/** The highest contact id of the project: a sending reaches no contact created after it. */
export async function maxContactId(db: Db, projectId: number): Promise<number> {
  const bound = await db.selectFrom('contacts').select((eb) => eb.fn.max('id').as('max')).where('project_id', '=', projectId).executeTakeFirst();
  return Number(bound?.max ?? 0);
}

/**
 * Counts a target's members up to contact id `upTo` by reason in one pass over the target (one row back,
 * however large it is; no sort, no contact loaded): the reached ones are the sending's `targeted`, so
 * targeted + excluded is the target's size by construction.
 */
export async function countTarget(db: Db, members: TargetMembers, channel: Channel, upTo: number): Promise<TargetCount> {
  const filters = exclusionFilters(channel);
  // COUNT(*) FILTER (WHERE …): both SQLite (3.30+) and PostgreSQL count a condition in the same pass.
  const counted = (reason: ExclusionReason) => sql<number>`COUNT(*) FILTER (WHERE ${filters[reason]})`.as(reason);
  const row = await members(db)
    .where('contacts.id', '<=', upTo)
    .select((eb) => [eb.fn.countAll<number>().as('members'), counted('unsubscribed'), counted('quarantined'), counted('noAddress')])
    .executeTakeFirstOrThrow();
  const excluded = { unsubscribed: Number(row.unsubscribed), quarantined: Number(row.quarantined), noAddress: Number(row.noAddress) };
  return { targeted: Number(row.members) - excluded.unsubscribed - excluded.quarantined - excluded.noAddress, excluded };
}

/** How many contacts a target reaches now, and how many of them are tracked (the one tracked predicate). */
export async function countTargetTracked(db: Db, target: TargetQuery, channel: Channel, tracking: TrackingSettings): Promise<{ targeted: number; tracked: number }> {
  const row = await target(db, channel)
    .select((eb) => [
      eb.fn.countAll<number>().as('targeted'),
      sql<number>`SUM(CASE WHEN ${trackedSql(tracking, 'contacts.has_tracking_consent')} THEN 1 ELSE 0 END)`.as('tracked'),
    ])
    .executeTakeFirstOrThrow();
  return { targeted: Number(row.targeted), tracked: Number(row.tracked ?? 0) };
}

/** The next contacts of a target after `cursor`, up to contact id `upTo`, in id order. */
export async function targetBatch(db: Db, target: TargetQuery, channel: Channel, cursor: number, upTo: number, limit: number): Promise<Contact[]> {
  const rows = await target(db, channel)
    .selectAll('contacts')
    .where('contacts.id', '>', cursor)
    .where('contacts.id', '<=', upTo)
    .orderBy('contacts.id')
    .limit(limit)
    .execute();
  return rows.map(toContact);
}

export interface NewSending {
  messageId: number;
  target: SendingTarget;
  targeted: number;
  excluded: Excluded;
  maxContactId: number;
  /** The message's destinations, stored as links 1…n. */
  links: string[];
  scheduledAt?: number | null;
}

function excludedColumns(excluded: Excluded) {
  return { excluded_unsubscribed: excluded.unsubscribed, excluded_quarantined: excluded.quarantined, excluded_no_address: excluded.noAddress };
}

/** A queued sending with its links and zeroed counters; returns its id. */
export async function insertSending(trx: Db, projectId: number, sending: NewSending, now: number): Promise<number> {
  const row = await trx
    .insertInto('sendings')
    .values({
      project_id: projectId,
      message_id: sending.messageId,
      target: JSON.stringify(sending.target),
      status: 'queued',
      targeted: sending.targeted,
      ...excludedColumns(sending.excluded),
      tracked: 0,
      untracked: 0,
      delivered: 0,
      failed: 0,
      max_contact_id: sending.maxContactId,
      cursor: 0,
      created_at: now,
      scheduled_at: sending.scheduledAt ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (sending.links.length > 0) {
    await trx
      .insertInto('sending_links')
      .values(sending.links.map((url, i) => ({ project_id: projectId, sending_id: row.id, idx: i + 1, url })))
      .execute();
  }
  await trx.insertInto('sending_stats').values({ project_id: projectId, sending_id: row.id, opens: 0, opens_machine: 0, clicks: 0, clicks_machine: 0 }).execute();
  return row.id;
}

export async function getSending(db: Db, projectId: number, sendingId: number): Promise<Sending | undefined> {
  const row = await db.selectFrom('sendings').selectAll().where('project_id', '=', projectId).where('id', '=', sendingId).executeTakeFirst();
  return row && toSending(row);
}

/** The newest 500 sendings, newest first. */
export async function listSendings(db: Db, projectId: number): Promise<Sending[]> {
  const rows = await db.selectFrom('sendings').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(500).execute();
  return rows.map(toSending);
}

export async function markSendingStarted(db: Db, projectId: number, sendingId: number, now: number): Promise<void> {
  await db.updateTable('sendings').set({ status: 'sending', started_at: now }).where('project_id', '=', projectId).where('id', '=', sendingId).execute();
}

/** A scheduled sending reaches the contacts that exist when it starts: its bound and count are taken again then. */
export async function retarget(db: Db, projectId: number, sendingId: number, target: { maxContactId: number } & TargetCount): Promise<void> {
  await db
    .updateTable('sendings')
    .set({ max_contact_id: target.maxContactId, targeted: target.targeted, ...excludedColumns(target.excluded) })
    .where('project_id', '=', projectId)
    .where('id', '=', sendingId)
    .where('status', '=', 'queued')
    .execute();
}

/** Cancels a sending that has not started; false when it had (or was already ended). */
export async function cancelQueuedSending(db: Db, projectId: number, sendingId: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('sendings')
    .set({ status: 'cancelled', cancelled_at: now, finished_at: now, cursor: null })
    .where('project_id', '=', projectId)
    .where('id', '=', sendingId)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Recipients handed to the transport and not yet recorded: their contact ids, which of them are tracked
 * (they get a delivery row once their outcome is known), and the claim that names this handing-over (a
 * runner that took the job over replaces it, so the first one's late record changes nothing).
 */
export interface InFlight {
  claim: string;
  ids: number[];
  tracked: number[];
}

/**
 * Where the walk of the target stands: the last contact id claimed (null before the first window), the
 * bound, and the window in flight, if a runner stopped (crashed) between handing it over and recording it.
 */
export async function sendingCursor(db: Db, projectId: number, sendingId: number): Promise<{ cursor: number | null; maxContactId: number; inFlight: InFlight | null }> {
  const row = await db
    .selectFrom('sendings')
    .select(['cursor', 'max_contact_id', 'in_flight'])
    .where('project_id', '=', projectId)
    .where('id', '=', sendingId)
    .executeTakeFirstOrThrow();
  return { cursor: row.cursor, maxContactId: row.max_contact_id, inFlight: row.in_flight === null ? null : (JSON.parse(row.in_flight) as InFlight) };
}

/** What joined or left the window in flight: counted on the sending. */
export interface WindowCounts {
  tracked?: number;
  untracked?: number;
  delivered?: number;
  failed?: number;
  lost?: number;
}

/**
 * Moves the sending's window in flight from `held` — the claim a runner holds, or `{ cursor }` when
 * nothing is in flight and the walk stands at that cursor — to `next` (null: nothing in flight any
 * more), the cursor to `cursor` when recipients join the window, and counts what joined (tracked,
 * untracked) and what left (delivered, failed, lost). A compare-and-set: false, and nothing changed,
 * when the sending is no longer as `held` says (another runner took it over).
 */
export async function moveInFlight(
  trx: Db,
  projectId: number,
  sendingId: number,
  move: { held: InFlight | { cursor: number | null }; next: InFlight | null; cursor?: number; counts: WindowCounts },
): Promise<boolean> {
  const { held, counts } = move;
  const moved = await trx
    .updateTable('sendings')
    .set((eb) => ({
      ...(move.cursor === undefined ? {} : { cursor: move.cursor }),
      in_flight: move.next === null ? null : JSON.stringify(move.next),
      tracked: eb('tracked', '+', counts.tracked ?? 0),
      untracked: eb('untracked', '+', counts.untracked ?? 0),
      delivered: eb('delivered', '+', counts.delivered ?? 0),
      failed: eb('failed', '+', counts.failed ?? 0),
      lost: eb('lost', '+', counts.lost ?? 0),
    }))
    .where('project_id', '=', projectId)
    .where('id', '=', sendingId)
    .where((eb) =>
      'claim' in held
        ? eb('in_flight', '=', JSON.stringify(held))
        : eb.and([eb('in_flight', 'is', null), held.cursor === null ? eb('cursor', 'is', null) : eb('cursor', '=', held.cursor)]),
    )
    .executeTakeFirst();
  return Number(moved.numUpdatedRows) === 1;
}

/** Counts outcomes found after the fact (delivery rows a crash of an earlier release left pending). */
export async function countSendingOutcomes(trx: Db, projectId: number, sendingId: number, outcome: { delivered: number; lost: number }): Promise<void> {
  await trx
    .updateTable('sendings')
    .set((eb) => ({ delivered: eb('delivered', '+', outcome.delivered), lost: eb('lost', '+', outcome.lost) }))
    .where('project_id', '=', projectId)
    .where('id', '=', sendingId)
    .execute();
}

/** The sendings, in any project, a job is still walking (queued or sending): their leftovers are theirs to recover. */
export async function unfinishedSendingIds(db: Db): Promise<Set<number>> {
  const rows = await db.selectFrom('sendings').select('id').where('status', 'in', ['queued', 'sending']).execute();
  return new Set(rows.map((r) => r.id));
}

/** Ends a sending: its final status, the target as kept (see SendingService.finalTarget), no cursor any more. */
export async function finishSending(
  db: Db,
  projectId: number,
  sendingId: number,
  end: { status: 'sent' | 'failed'; error?: string; finishedAt: number; target: SendingTarget },
): Promise<void> {
  await db
    .updateTable('sendings')
    .set({
      status: end.status,
      ...(end.error === undefined ? {} : { error: end.error }),
      finished_at: end.finishedAt,
      cursor: null,
      in_flight: null,
      target: JSON.stringify(end.target),
    })
    .where('project_id', '=', projectId)
    .where('id', '=', sendingId)
    .execute();
}

/** What the tracking hot path needs of a sending: its message's name, channel and rules, and its links in order. */
export interface SendingForTracking {
  projectId: number;
  messageId: number;
  messageName: string;
  channel: string;
  communicationType: string;
  injectionRuleIds: number[];
  /** Destinations of links 1…n. */
  links: string[];
  startedAt: number | null;
}

export async function sendingForTracking(db: Db, sendingId: number): Promise<SendingForTracking | undefined> {
  const row = await db
    .selectFrom('sendings as s')
    .innerJoin('messages as m', (join) => join.onRef('m.project_id', '=', 's.project_id').onRef('m.id', '=', 's.message_id'))
    .select(['s.project_id', 's.message_id', 's.started_at', 'm.name', 'm.channel', 'm.communication_type', 'm.injection_rule_ids'])
    .where('s.id', '=', sendingId)
    .executeTakeFirst();
  if (!row) return undefined;
  const links = await db
    .selectFrom('sending_links')
    .select(['idx', 'url'])
    .where('project_id', '=', row.project_id)
    .where('sending_id', '=', sendingId)
    .orderBy('idx')
    .execute();
  return {
    projectId: row.project_id,
    messageId: row.message_id,
    messageName: row.name,
    channel: row.channel,
    communicationType: row.communication_type,
    injectionRuleIds: JSON.parse(row.injection_rule_ids) as number[],
    links: links.map((l) => l.url),
    startedAt: row.started_at,
  };
}
