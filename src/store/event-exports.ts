import { type TrackingSettings, trackedSql } from '../domain/consent.js';
import type { Db } from './database.js';
import type { Contact } from '../domain/contact.js';
import { toContact } from './contacts.js';
import { eventsWithLinks } from './events.js';

/*
 * The pages the streamed exports read: events in id order with their link
 * and their contact's row (if the contact still exists), and contacts in id order.
 */

/**
 * A page of a sending's events after event id `after`. `listedOnly` keeps the
 * identified events of contacts tracked now (small-group protection).
 */
export function sendingEventsPage(
  db: Db,
  projectId: number,
  sendingId: number,
  filter: { listedOnly: boolean; tracking: TrackingSettings },
  after: number,
  limit: number,
) {
  let query = eventsWithLinks(db)
    .leftJoin('contacts as c', (join) => join.onRef('c.project_id', '=', 'e.project_id').onRef('c.id', '=', 'e.contact_id'))
    .select(['e.id', 'e.type', 'e.at', 'e.sending_id', 'e.message_id', 'l.url', 'e.channel', 'e.contact_id', 'c.id as known_contact', 'c.email', 'c.has_tracking_consent', 'e.device', 'e.machine'])
    .where('e.project_id', '=', projectId)
    .where('e.sending_id', '=', sendingId)
    .where('e.id', '>', after);
  if (filter.listedOnly) query = query.where('e.contact_id', 'is not', null).where(trackedSql(filter.tracking, 'c.has_tracking_consent'));
  return query.orderBy('e.id').limit(limit).execute();
}

/** A page of the project's events after event id `after`, optionally within [from, to). */
export function projectEventsPage(db: Db, projectId: number, range: { from?: number | undefined; to?: number | undefined }, after: number, limit: number) {
  let query = eventsWithLinks(db)
    .leftJoin('contacts as c', (join) => join.onRef('c.project_id', '=', 'e.project_id').onRef('c.id', '=', 'e.contact_id'))
    .select(['e.id', 'e.type', 'e.at', 'e.sending_id', 'e.message_id', 'e.url as event_url', 'l.url as link_url', 'e.channel', 'e.contact_id', 'e.name', 'e.web_type', 'e.device', 'e.machine'])
    .select(['c.email', 'c.external_id', 'c.phone', 'c.status', 'c.has_tracking_consent', 'c.fields'])
    .where('e.project_id', '=', projectId)
    .where('e.id', '>', after);
  if (range.from !== undefined) query = query.where('e.at', '>=', range.from);
  if (range.to !== undefined) query = query.where('e.at', '<', range.to);
  return query.orderBy('e.id').limit(limit).execute();
}

/** A page of the project's contacts after contact id `after`, in id order (the contacts export). */
export async function projectContactsPage(db: Db, projectId: number, after: number, limit: number): Promise<Contact[]> {
  const rows = await db.selectFrom('contacts').selectAll().where('project_id', '=', projectId).where('id', '>', after).orderBy('id').limit(limit).execute();
  return rows.map(toContact);
}
