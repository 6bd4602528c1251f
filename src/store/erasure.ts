import type { Db } from './database.js';
import { deleteFormRequestsOf } from './form-requests.js';

/*
 * Erasure of one contact (SPEC §7): what goes, in the caller's transaction.
 */

/** What an erasure removed or blanked. */
export interface ErasureResult {
  events: number;
  deliveries: number;
  campaignMemberships: number;
  groupMemberships: number;
  consentEntries: number;
  /** Pending double opt-in requests of the address. */
  formRequests: number;
}

/**
 * Deletes the contact's identified events (taking them out of the counters
 * first), deliveries, campaign and group memberships and the contact row;
 * blanks contact id, IP and user agent of its consent-history entries and
 * flags them `erased`; drops the address's pending double opt-in requests.
 */
export async function eraseContactRows(trx: Db, projectId: number, contactId: number): Promise<ErasureResult> {
  await subtractFromCounters(trx, projectId, contactId);
  const events = await trx.deleteFrom('events').where('project_id', '=', projectId).where('contact_id', '=', contactId).executeTakeFirst();
  const deliveries = await trx.deleteFrom('deliveries').where('project_id', '=', projectId).where('contact_id', '=', contactId).executeTakeFirst();
  const campaigns = await trx.deleteFrom('campaign_contacts').where('project_id', '=', projectId).where('contact_id', '=', contactId).executeTakeFirst();
  const groups = await trx.deleteFrom('group_members').where('project_id', '=', projectId).where('contact_id', '=', contactId).executeTakeFirst();
  const entries = await trx
    .updateTable('consent_history')
    .set({ contact_id: null, ip: null, user_agent: null, erased: 1 })
    .where('project_id', '=', projectId)
    .where('contact_id', '=', contactId)
    .executeTakeFirst();
  // A double opt-in request still pending for the address would bring the contact back when confirmed.
  const contact = await trx.selectFrom('contacts').select('email').where('project_id', '=', projectId).where('id', '=', contactId).executeTakeFirst();
  const formRequests = contact?.email ? await deleteFormRequestsOf(trx, projectId, contact.email) : 0;
  await trx.deleteFrom('contacts').where('project_id', '=', projectId).where('id', '=', contactId).execute();
  return {
    events: Number(events.numDeletedRows),
    deliveries: Number(deliveries.numDeletedRows),
    campaignMemberships: Number(campaigns.numDeletedRows),
    groupMemberships: Number(groups.numDeletedRows),
    consentEntries: Number(entries.numUpdatedRows),
    formRequests,
  };
}

/** Takes the contact's opens and clicks out of sending_stats and link_stats, which count events (see EventWriter). */
async function subtractFromCounters(trx: Db, projectId: number, contactId: number): Promise<void> {
  const perSending = await trx
    .selectFrom('events')
    .select(['sending_id', 'type', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('machine').as('machine')])
    .where('project_id', '=', projectId)
    .where('contact_id', '=', contactId)
    .where('sending_id', 'is not', null)
    .where('type', 'in', ['open', 'click'])
    .groupBy(['sending_id', 'type'])
    .execute();
  for (const row of perSending) {
    const n = Number(row.n);
    const machine = Number(row.machine ?? 0);
    const [total, flagged] = row.type === 'open' ? (['opens', 'opens_machine'] as const) : (['clicks', 'clicks_machine'] as const);
    await trx
      .updateTable('sending_stats')
      .set((eb) => ({ [total]: eb(total, '-', n), [flagged]: eb(flagged, '-', machine) }))
      .where('project_id', '=', projectId)
      .where('sending_id', '=', row.sending_id as number)
      .execute();
  }
  const perLink = await trx
    .selectFrom('events')
    .select(['sending_id', 'link_idx', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('machine').as('machine')])
    .where('project_id', '=', projectId)
    .where('contact_id', '=', contactId)
    .where('sending_id', 'is not', null)
    .where('type', '=', 'click')
    .groupBy(['sending_id', 'link_idx'])
    .execute();
  for (const row of perLink) {
    await trx
      .updateTable('link_stats')
      .set((eb) => ({ clicks: eb('clicks', '-', Number(row.n)), clicks_machine: eb('clicks_machine', '-', Number(row.machine ?? 0)) }))
      .where('project_id', '=', projectId)
      .where('sending_id', '=', row.sending_id as number)
      // EventWriter counts a click without link index under idx 0.
      .where('idx', '=', row.link_idx ?? 0)
      .execute();
  }
}
