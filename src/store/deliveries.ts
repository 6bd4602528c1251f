import { sql } from 'kysely';
import type { Db } from './database.js';

/*
 * The deliveries repository: one row per tracked recipient of a sending
 * (rule 3: an untracked recipient has none).
 */

/** `lost`: handed to the transport when a crash stopped its runner, and never acknowledged. */
export type DeliveryStatus = 'pending' | 'sent' | 'failed' | 'lost';

/**
 * The delivery rows of recipients whose outcome is known, for those of `contactIds` that still exist:
 * a contact erased while their message was in flight gets no row back.
 */
export async function insertDeliveries(trx: Db, projectId: number, sendingId: number, contactIds: number[], status: Exclude<DeliveryStatus, 'pending'>, at: number): Promise<void> {
  if (contactIds.length === 0) return;
  // Cast parameters: PostgreSQL types a bare parameter in a SELECT list as text, not as the target column. Not
  // literals: a timestamp in the text made every statement new, to be parsed (and on SQLite prepared) again per window.
  await trx
    .insertInto('deliveries')
    .columns(['project_id', 'sending_id', 'contact_id', 'status', 'at'])
    .expression((eb) =>
      eb
        .selectFrom('contacts')
        .select(['project_id', sql<number>`CAST(${sendingId} AS BIGINT)`.as('sending_id'), 'id', sql<string>`CAST(${status} AS TEXT)`.as('status'), sql<number>`CAST(${at} AS BIGINT)`.as('at')])
        .where('project_id', '=', projectId)
        .where('id', 'in', contactIds),
    )
    .onConflict((oc) => oc.columns(['project_id', 'sending_id', 'contact_id']).doNothing())
    .execute();
}

export async function setDeliveryStatus(trx: Db, projectId: number, sendingId: number, contactIds: number[], status: Exclude<DeliveryStatus, 'pending'>, at: number): Promise<void> {
  if (contactIds.length === 0) return;
  await trx
    .updateTable('deliveries')
    .set({ status, at })
    .where('project_id', '=', projectId)
    .where('sending_id', '=', sendingId)
    .where('contact_id', 'in', contactIds)
    .execute();
}

/**
 * The contacts of `sendingId` whose delivery row is still `pending`: rows an earlier release wrote
 * before handing a batch over, which a crash left so.
 */
export async function pendingDeliveryIds(db: Db, projectId: number, sendingId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select('contact_id')
    .where('project_id', '=', projectId)
    .where('sending_id', '=', sendingId)
    .where('status', '=', 'pending')
    .orderBy('contact_id')
    .execute();
  return rows.map((r) => r.contact_id);
}

/** The sendings, in any project, that a `pending` delivery row is left for. */
export async function sendingsWithPendingDeliveries(db: Db): Promise<{ projectId: number; sendingId: number }[]> {
  const rows = await db.selectFrom('deliveries').select(['project_id', 'sending_id']).where('status', '=', 'pending').distinct().execute();
  return rows.map((r) => ({ projectId: r.project_id, sendingId: r.sending_id }));
}

/** The contacts a sending has a delivery row for (its tracked recipients). */
export async function deliveryContactIds(db: Db, projectId: number, sendingId: number): Promise<number[]> {
  const rows = await db.selectFrom('deliveries').select('contact_id').where('project_id', '=', projectId).where('sending_id', '=', sendingId).execute();
  return rows.map((r) => r.contact_id);
}

export interface ContactDelivery {
  sending_id: number;
  status: string;
  at: number;
  message_id: number | null;
  message_name: string | null;
  channel: string | null;
}

/**
 * A contact's deliveries with their message, for the contact card (newest
 * first, 200) and the contact's data export (oldest first, all).
 */
export async function contactDeliveries(db: Db, projectId: number, contactId: number, order: { newestFirst: boolean; limit?: number }): Promise<ContactDelivery[]> {
  const direction = order.newestFirst ? 'desc' : 'asc';
  let query = db
    .selectFrom('deliveries as d')
    .leftJoin('sendings as s', (join) => join.onRef('s.project_id', '=', 'd.project_id').onRef('s.id', '=', 'd.sending_id'))
    .leftJoin('messages as m', (join) => join.onRef('m.project_id', '=', 's.project_id').onRef('m.id', '=', 's.message_id'))
    .select(['d.sending_id', 'd.status', 'd.at', 'm.id as message_id', 'm.name as message_name', 'm.channel'])
    .where('d.project_id', '=', projectId)
    .where('d.contact_id', '=', contactId)
    .orderBy('d.at', direction)
    .orderBy('d.sending_id', direction);
  if (order.limit !== undefined) query = query.limit(order.limit);
  return query.execute();
}

export async function deleteContactDeliveries(trx: Db, projectId: number, contactId: number): Promise<number> {
  const result = await trx.deleteFrom('deliveries').where('project_id', '=', projectId).where('contact_id', '=', contactId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
