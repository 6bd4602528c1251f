import { consentAction, decideConsentChange, type ConsentDecision, isTracked } from '../domain/consent.js';
import type { Contact } from '../domain/contact.js';
import { notFound } from '../domain/errors.js';
import { subjectHash } from '../domain/ledger.js';
import { appendConsentEntries, type ConsentHistoryRow, listContactHistory, lockLedger, type NewConsentEntry } from '../store/consent-history.js';
import { getContact, updateContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { anonymizeContactEvents } from '../store/events.js';
import type { ConsentCache } from './consent-cache.js';
import type { Project, ProjectService } from './projects.service.js';

/** Where and how a person (or system) changed a consent: the proof kept in the history. */
export interface ConsentProvenance {
  source: string;
  ip?: string | null;
  userAgent?: string | null;
  wordingHash?: string | null;
  detail?: string | null;
}

export interface ConsentChange extends ConsentProvenance {
  value: boolean | null;
  date: number;
}

/** A consent change applied to a contact inside a caller's transaction. */
export interface AppliedConsentChange extends ConsentProvenance {
  contact: Contact;
  date: number;
  action: string;
  wasTracked: boolean;
}

/**
 * Applies consent changes (newest date wins), appends them to the hash-chained
 * history and, with `anonymizePastOnRefusal`, unlinks the past events of
 * contacts who just became untracked — all in the caller's transaction.
 */
export class ConsentService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly cache: ConsentCache,
    /** Read-only connection for the tracking hot path (see Store.reader). */
    private readonly reader: Db = db,
  ) {}

  /** Mutates `contact` when the change applies and returns what it did; writes nothing. */
  plan(project: Project, contact: Contact, change: ConsentChange): { decision: ConsentDecision; applied?: AppliedConsentChange } {
    const decision = decideConsentChange(contact, { value: change.value, date: change.date });
    if (decision !== 'applied') return { decision };
    const wasTracked = isTracked(contact, project.settings.tracking);
    contact.hasTrackingConsent = change.value;
    contact.dtTrackingConsent = change.date;
    contact.updatedAt = this.clock();
    return { decision, applied: { ...change, contact, action: consentAction(change.value), wasTracked } };
  }

  /** Writes history entries and reaches back into past events; the caller holds the ledger lock and has saved the contacts. */
  async record(trx: Db, project: Project, changes: AppliedConsentChange[]): Promise<void> {
    const now = this.clock();
    const entries: NewConsentEntry[] = changes.map((c) => ({
      contactId: c.contact.id,
      subjectHash: subjectHash(project.ledgerSalt, c.contact.email),
      action: c.action,
      date: c.date,
      recordedAt: now,
      source: c.source,
      ip: c.ip ?? null,
      userAgent: c.userAgent ?? null,
      wordingHash: c.wordingHash ?? null,
      detail: c.detail ?? null,
    }));
    await appendConsentEntries(trx, project.id, entries);
    if (project.settings.tracking.anonymizePastOnRefusal) {
      const unlinked = new Set<number>();
      for (const c of changes) {
        if (c.wasTracked && !isTracked(c.contact, project.settings.tracking)) unlinked.add(c.contact.id);
      }
      // A contact who refused then accepted again within one batch is tracked at the end: keep their past.
      await anonymizeContactEvents(trx, project.id, [...unlinked]);
    }
  }

  /** Forgets cached consent values once the transaction that changed them has committed. */
  invalidate(projectId: number, contactIds: Iterable<number>): void {
    this.cache.invalidate(projectId, contactIds);
  }

  /** One contact's consent, in its own transaction (API, forms, admin). */
  async setConsent(projectId: number, contactId: number, change: ConsentChange): Promise<{ decision: ConsentDecision; contact: Contact }> {
    const project = await this.projects.get(projectId);
    const result = await this.db.transaction().execute(async (trx) => {
      await lockLedger(trx, projectId);
      const contact = await getContact(trx, projectId, contactId);
      if (!contact) throw notFound('Contact', contactId);
      const { decision, applied } = this.plan(project, contact, change);
      if (applied) {
        await updateContact(trx, contact);
        await this.record(trx, project, [applied]);
      }
      return { decision, contact };
    });
    if (result.decision === 'applied') this.invalidate(projectId, [contactId]);
    return result;
  }

  async history(projectId: number, contactId: number): Promise<ConsentHistoryRow[]> {
    const contact = await getContact(this.db, projectId, contactId);
    if (!contact) throw notFound('Contact', contactId);
    return listContactHistory(this.db, projectId, contactId);
  }

  /** Looks up a contact's consent value for the tracking hot path: cache first, then one row. */
  async consentOf(projectId: number, contactId: number): Promise<{ value: boolean | null; exists: boolean }> {
    const now = this.clock();
    const hit = this.cache.get(projectId, contactId, now);
    if (hit) return hit;
    const readAt = this.cache.generation;
    const row = await this.reader
      .selectFrom('contacts')
      .select('has_tracking_consent')
      .where('project_id', '=', projectId)
      .where('id', '=', contactId)
      .executeTakeFirst();
    const value = row ? (row.has_tracking_consent === null ? null : row.has_tracking_consent === 1) : null;
    this.cache.set(projectId, contactId, value, row !== undefined, now, readAt);
    return { value, exists: row !== undefined };
  }
}
