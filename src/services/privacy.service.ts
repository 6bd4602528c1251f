import type { Contact } from '../domain/contact.js';
import { notFound } from '../domain/errors.js';
import { subjectHash } from '../domain/ledger.js';
import { appendConsentEntries, type ConsentHistoryRow, ledgerHead, listContactHistory, lockLedger } from '../store/consent-history.js';
import { suppressSubject } from '../store/erased-subjects.js';
import { getContact, lockContact } from '../store/contacts.js';
import { type ContactCampaign, contactCampaigns } from '../store/campaigns.js';
import type { Db } from '../store/database.js';
import { type ContactDelivery, contactDeliveries } from '../store/deliveries.js';
import { type ErasureResult, eraseContactRows } from '../store/erasure.js';
import { type ContactEventRow, contactEventsPage } from '../store/events.js';
import { type ContactGroup, contactGroups } from '../store/groups.js';
import { allPages } from '../store/paging.js';
import type { ConsentService } from './consent.service.js';
import type { EventWriter } from './event-writer.js';
import type { ProjectService } from './projects.service.js';
import type { ScoringService } from './scoring.service.js';

const EVENT_PAGE = 5000;

/** Everything held about one contact, as rows (SPEC §7, access request). */
export interface ContactExport {
  contact: Contact;
  consentHistory: ConsentHistoryRow[];
  deliveries: ContactDelivery[];
  events: ContactEventRow[];
  campaigns: ContactCampaign[];
  groups: ContactGroup[];
  scores: Record<string, number>;
}

/** What an erasure answers (issue 12 item 13): what went, when, and where the ledger keeps the proof. */
export interface ErasureReceipt {
  contactId: number;
  erasedAt: number;
  removed: ErasureResult;
  /** The address is on the suppression list: an import or merge brings it back only with `returning`. */
  suppressed: boolean;
  /** The erasure's own history entry: its sequence and hash in the project's chain. */
  ledger: { seq: number; hash: string };
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
 * those columns enter the hash only through `pii_digest`. The erasure itself
 * is appended to the history (action `erased`, the salted email hash, no
 * contact id) and the salted hash goes on the suppression list, so the next
 * import or merge of the address does not silently bring the person back.
 */
export class PrivacyService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly consent: ConsentService,
    private readonly scoring: ScoringService,
    private readonly events: EventWriter,
  ) {}

  /** Queues the `contact.erased` webhook deliveries in the erasure's transaction (set by the context). */
  outbox: (trx: Db, projectId: number, contactId: number) => Promise<void> = async () => undefined;

  async exportContact(projectId: number, contactId: number): Promise<ContactExport> {
    const contact = await getContact(this.db, projectId, contactId);
    if (!contact) throw notFound('Contact', contactId);
    const consentHistory = await listContactHistory(this.db, projectId, contactId);
    const deliveries = await contactDeliveries(this.db, projectId, contactId, { newestFirst: false });
    const campaigns = await contactCampaigns(this.db, projectId, contactId);
    const groups = await contactGroups(this.db, projectId, contactId);
    const scores = await this.scoring.scoresFor(projectId, contactId);
    return { contact, consentHistory, deliveries, events: await this.allEvents(projectId, contactId), campaigns, groups, scores };
  }

  /** Every identified event of the contact, oldest first, read a page at a time by id. */
  private allEvents(projectId: number, contactId: number): Promise<ContactEventRow[]> {
    return allPages((after, size) => contactEventsPage(this.db, projectId, contactId, after, size), (row) => row.id, EVENT_PAGE);
  }

  /** Erases the contact in one transaction and says what went; throws ContactNotFound when it does not exist (any more). */
  async eraseContact(projectId: number, contactId: number, actor = 'api'): Promise<ErasureReceipt> {
    const project = await this.projects.get(projectId);
    // Hits already acknowledged for this contact reach the table before we delete: fewer stragglers after erasure.
    await this.events.flush();
    const receipt = await this.db.transaction().execute(async (trx): Promise<ErasureReceipt> => {
      await lockLedger(trx, projectId);
      // Before the events are deleted: a batch still recording this contact's hits commits first, or sees no contact.
      if (!(await lockContact(trx, projectId, contactId))) throw notFound('Contact', contactId);
      const contact = await getContact(trx, projectId, contactId);
      const hash = subjectHash(project.ledgerSalt, contact?.email ?? null);
      await this.outbox(trx, projectId, contactId);
      const removed = await eraseContactRows(trx, projectId, contactId);
      const erasedAt = this.clock();
      // The entry is hashed into the chain for good: it names the subject by its salted hash only, never by
      // the erased contact's id, which would link it to backups and exports made before the erasure.
      await appendConsentEntries(trx, projectId, [
        { contactId: null, subjectHash: hash, action: 'erased', date: erasedAt, recordedAt: erasedAt, source: actor, detail: 'erasure of the contact' },
      ]);
      const head = await ledgerHead(trx, projectId);
      if (!head) throw new Error(`project ${projectId} has no ledger head`);
      if (hash !== null) await suppressSubject(trx, projectId, hash, erasedAt, head.seq);
      return { contactId, erasedAt, removed, suppressed: hash !== null, ledger: { seq: head.seq, hash: head.hash } };
    });
    this.consent.invalidate(projectId, [contactId]);
    return receipt;
  }
}
