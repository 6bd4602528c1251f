import type { Selectable } from 'kysely';
import type { Contact } from '../domain/contact.js';
import { notFound } from '../domain/errors.js';
import { type ConsentHistoryRow, listContactHistory, lockLedger } from '../store/consent-history.js';
import { getContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import type { EventTable } from '../store/schema.js';
import type { ConsentService } from './consent.service.js';
import type { EventWriter } from './event-writer.js';
import type { ScoringService } from './scoring.service.js';

const EVENT_PAGE = 5000;

export type ContactEventRow = Selectable<EventTable> & { link_url: string | null };

/** Everything held about one contact, as rows (SPEC §7, access request). */
export interface ContactExport {
  contact: Contact;
  consentHistory: ConsentHistoryRow[];
  deliveries: { sending_id: number; status: string; at: number; message_id: number | null; message_name: string | null; channel: string | null }[];
  events: ContactEventRow[];
  campaigns: { campaign_id: number; campaign_name: string | null; node_id: string; state: string; entered_at: number; updated_at: number }[];
  groups: { group_id: number; group_name: string | null }[];
  scores: Record<string, number>;
}

/** What an erasure removed or blanked. */
export interface ErasureResult {
  events: number;
  deliveries: number;
  campaignMemberships: number;
  groupMemberships: number;
  consentEntries: number;
}

/**
 * Access request and erasure of one contact (SPEC §7).
 *
 * Erasure deletes the contact's identified events and takes them out of the
 * sending and link counters too, so a report's totals stay equal to what the
 * events table holds. Aggregate sending counts (targeted, tracked, delivered)
 * are not per person and stay as they were. Consent-history entries keep
 * their hash, chain links and salted email hash (`subject_hash`): the proof
 * survives without the person; contact id, IP and user agent are blanked and
 * the entry is flagged `erased`, which the chain verifier accepts because
 * those columns enter the hash only through `pii_digest`.
 */
export class PrivacyService {
  constructor(
    private readonly db: Db,
    private readonly consent: ConsentService,
    private readonly scoring: ScoringService,
    private readonly events: EventWriter,
  ) {}

  async exportContact(projectId: number, contactId: number): Promise<ContactExport> {
    const contact = await getContact(this.db, projectId, contactId);
    if (!contact) throw notFound('Contact', contactId);
    const consentHistory = await listContactHistory(this.db, projectId, contactId);
    const deliveries = await this.db
      .selectFrom('deliveries as d')
      .leftJoin('sendings as s', (join) => join.onRef('s.project_id', '=', 'd.project_id').onRef('s.id', '=', 'd.sending_id'))
      .leftJoin('messages as m', (join) => join.onRef('m.project_id', '=', 's.project_id').onRef('m.id', '=', 's.message_id'))
      .select(['d.sending_id', 'd.status', 'd.at', 'm.id as message_id', 'm.name as message_name', 'm.channel'])
      .where('d.project_id', '=', projectId)
      .where('d.contact_id', '=', contactId)
      .orderBy('d.at')
      .orderBy('d.sending_id')
      .execute();
    const campaigns = await this.db
      .selectFrom('campaign_contacts as cc')
      .leftJoin('campaigns as k', (join) => join.onRef('k.project_id', '=', 'cc.project_id').onRef('k.id', '=', 'cc.campaign_id'))
      .select(['cc.campaign_id', 'k.name as campaign_name', 'cc.node_id', 'cc.state', 'cc.entered_at', 'cc.updated_at'])
      .where('cc.project_id', '=', projectId)
      .where('cc.contact_id', '=', contactId)
      .orderBy('cc.campaign_id')
      .execute();
    const groups = await this.db
      .selectFrom('group_members as gm')
      .leftJoin('groups as g', (join) => join.onRef('g.project_id', '=', 'gm.project_id').onRef('g.id', '=', 'gm.group_id'))
      .select(['gm.group_id', 'g.name as group_name'])
      .where('gm.project_id', '=', projectId)
      .where('gm.contact_id', '=', contactId)
      .orderBy('gm.group_id')
      .execute();
    const scores = await this.scoring.scoresFor(projectId, contactId);
    return { contact, consentHistory, deliveries, events: await this.allEvents(projectId, contactId), campaigns, groups, scores };
  }

  /** Every identified event of the contact, oldest first, read a page at a time by id. */
  private async allEvents(projectId: number, contactId: number): Promise<ContactEventRow[]> {
    const all: ContactEventRow[] = [];
    let after = 0;
    for (;;) {
      const page = await this.db
        .selectFrom('events as e')
        .leftJoin('sending_links as l', (join) =>
          join.onRef('l.project_id', '=', 'e.project_id').onRef('l.sending_id', '=', 'e.sending_id').onRef('l.idx', '=', 'e.link_idx'),
        )
        .selectAll('e')
        .select('l.url as link_url')
        .where('e.project_id', '=', projectId)
        .where('e.contact_id', '=', contactId)
        .where('e.id', '>', after)
        .orderBy('e.id')
        .limit(EVENT_PAGE)
        .execute();
      all.push(...page);
      if (page.length < EVENT_PAGE) return all;
      after = page[page.length - 1]!.id;
    }
  }

  /** Erases the contact in one transaction; throws ContactNotFound when it does not exist (any more). */
  async eraseContact(projectId: number, contactId: number): Promise<ErasureResult> {
    // Hits already acknowledged for this contact reach the table before we delete: fewer stragglers after erasure.
    await this.events.flush();
    const result = await this.db.transaction().execute(async (trx) => {
      await lockLedger(trx, projectId);
      const contact = await getContact(trx, projectId, contactId);
      if (!contact) throw notFound('Contact', contactId);
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
      await trx.deleteFrom('contacts').where('project_id', '=', projectId).where('id', '=', contactId).execute();
      return {
        events: Number(events.numDeletedRows),
        deliveries: Number(deliveries.numDeletedRows),
        campaignMemberships: Number(campaigns.numDeletedRows),
        groupMemberships: Number(groups.numDeletedRows),
        consentEntries: Number(entries.numUpdatedRows),
      };
    });
    this.consent.invalidate(projectId, [contactId]);
    return result;
  }
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
