import { type Selectable, sql } from 'kysely';
import { newNonce } from '../domain/token.js';
import type { Db } from './database.js';
import type { EventTable } from './schema.js';

/** Events (`e`) with their click's destination (`l.url`): the one events ⋈ sending_links join. */
export function eventsWithLinks(db: Db) {
  return db
    .selectFrom('events as e')
    .leftJoin('sending_links as l', (join) => join.onRef('l.project_id', '=', 'e.project_id').onRef('l.sending_id', '=', 'e.sending_id').onRef('l.idx', '=', 'e.link_idx'));
}

export type ContactEventRow = Selectable<EventTable> & { link_url: string | null };

/** A page of a contact's identified events in id order, after event id `after`. */
export function contactEventsPage(db: Db, projectId: number, contactId: number, after: number, limit: number): Promise<ContactEventRow[]> {
  return eventsWithLinks(db)
    .selectAll('e')
    .select('l.url as link_url')
    .where('e.project_id', '=', projectId)
    .where('e.contact_id', '=', contactId)
    .where('e.id', '>', after)
    .orderBy('e.id')
    .limit(limit)
    .execute();
}

/** A contact's newest identified events, for the contact card. */
export function recentContactEvents(db: Db, projectId: number, contactId: number, limit: number) {
  return eventsWithLinks(db)
    .select(['e.id', 'e.type', 'e.sending_id', 'e.message_id', 'e.name', 'e.url', 'e.form_id', 'e.at', 'e.machine', 'e.device', 'l.url as link_url'])
    .where('e.project_id', '=', projectId)
    .where('e.contact_id', '=', contactId)
    .orderBy('e.at', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Unlinks one (contact, sending) pair's events, optionally only those older
 * than `before`: no contact, IP or user agent, time cut to the minute, and one
 * fresh nonce for the pair so unique counts do not move.
 */
async function anonymizePair(db: Db, projectId: number, pair: { contact_id: number | null; sending_id: number | null }, before?: number): Promise<number> {
  let update = db
    .updateTable('events')
    .set({ contact_id: null, ip: null, user_agent: null, nonce: pair.sending_id === null ? null : newNonce(), at: sql<number>`at - (at % 60000)` })
    .where('project_id', '=', projectId)
    .where('contact_id', '=', pair.contact_id)
    .where((eb) => (pair.sending_id === null ? eb('sending_id', 'is', null) : eb('sending_id', '=', pair.sending_id)));
  if (before !== undefined) update = update.where('at', '<', before);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Rule 11: strips the link between contacts and their past events. Each
 * (contact, sending) pair gets a fresh nonce so unique counts do not move;
 * IP and user agent go, times are cut to the minute, and the contacts'
 * delivery rows are removed so nothing shows they received a sending.
 */
export async function anonymizeContactEvents(trx: Db, projectId: number, contactIds: number[]): Promise<number> {
  if (contactIds.length === 0) return 0;
  let changed = 0;
  for (let i = 0; i < contactIds.length; i += 500) {
    const chunk = contactIds.slice(i, i + 500);
    const pairs = await trx
      .selectFrom('events')
      .select(['contact_id', 'sending_id'])
      .distinct()
      .where('project_id', '=', projectId)
      .where('contact_id', 'in', chunk)
      .execute();
    for (const pair of pairs) changed += await anonymizePair(trx, projectId, pair);
    await trx.deleteFrom('deliveries').where('project_id', '=', projectId).where('contact_id', 'in', chunk).execute();
  }
  return changed;
}

/**
 * Retention: anonymises a project's identified events older than `before`,
 * one (contact, sending) pair at a time so each pair keeps one fresh nonce.
 * Returns how many events it changed; call again while it returns > 0.
 */
export async function anonymizeEventsBefore(db: Db, projectId: number, before: number, pairs = 500): Promise<number> {
  const old = await db
    .selectFrom('events')
    .select(['contact_id', 'sending_id'])
    .distinct()
    .where('project_id', '=', projectId)
    .where('contact_id', 'is not', null)
    .where('at', '<', before)
    .limit(pairs)
    .execute();
  let changed = 0;
  for (const pair of old) changed += await anonymizePair(db, projectId, pair, before);
  return changed;
}
