import { consentAction, decideConsentChange, type ConsentDecision, isTracked } from '../domain/consent.js';
import type { Contact } from '../domain/contact.js';
import { notFound } from '../domain/errors.js';
import { wordingHash } from '../domain/form.js';
import { subjectHash } from '../domain/ledger.js';
import { appendConsentEntries, type ConsentHistoryRow, listContactHistory, lockLedger, type NewConsentEntry } from '../store/consent-history.js';
import { type ConsentWording, getWording, type ShownWording, storeWordings } from '../store/consent-wordings.js';
import { consentOfContact, getContact, updateContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { anonymizeContactEvents } from '../store/events.js';
import type { Change } from './change-notifier.js';
import type { ConsentCache } from './consent-cache.js';
import type { Project, ProjectService } from './projects.service.js';

/** Where and how a person (or system) changed a consent: the proof kept in the history. */
export interface ConsentProvenance {
  source: string;
  ip?: string | null;
  userAgent?: string | null;
  wordingHash?: string | null;
  /**
   * The wording the person was shown, when the change comes from a page: stored once (consent_wordings) in the
   * change's transaction, and its hash becomes the entry's `wordingHash`. `shownAt` defaults to the change's date.
   */
  wording?: { text: string; lang: string; shownAt?: number } | null;
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

  /**
   * Writes history entries and reaches back into past events; the caller holds the ledger lock and has saved the contacts.
   * `subjectHashes` may hold the subject hashes of some addresses already computed (by email), to spare their HMAC.
   */
  async record(trx: Db, project: Project, changes: AppliedConsentChange[], subjectHashes?: ReadonlyMap<string, string>): Promise<void> {
    const now = this.clock();
    const wordings: ShownWording[] = [];
    for (const c of changes) {
      if (!c.wording) continue;
      const hash = wordingHash(c.wording.text);
      wordings.push({ hash, text: c.wording.text, lang: c.wording.lang, shownAt: c.wording.shownAt ?? c.date });
      c.wordingHash = hash;
    }
    await storeWordings(trx, project.id, wordings);
    const entries: NewConsentEntry[] = changes.map((c) => ({
      contactId: c.contact.id,
      subjectHash: (c.contact.email !== null ? subjectHashes?.get(c.contact.email) : undefined) ?? subjectHash(project.ledgerSalt, c.contact.email),
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
    await this.outbox(trx, project, changes);
    if (project.settings.tracking.anonymizePastOnRefusal) {
      const unlinked = new Set<number>();
      for (const c of changes) {
        if (c.wasTracked && !isTracked(c.contact, project.settings.tracking)) unlinked.add(c.contact.id);
      }
      // A contact who refused then accepted again within one batch is tracked at the end: keep their past.
      await anonymizeContactEvents(trx, project.id, [...unlinked]);
    }
  }

  /** Queues what the change tells consent webhooks, in the same transaction (set by the context: WebhookService). */
  outbox: (trx: Db, project: Project, changes: readonly AppliedConsentChange[]) => Promise<void> = async () => undefined;

  /** Tells other processes about a committed change (set by the context when a change channel exists). */
  notify: (change: Change) => void = () => undefined;

  /** Forgets cached consent values once the transaction that changed them has committed, here and on other processes. */
  invalidate(projectId: number, contactIds: Iterable<number>): void {
    const ids = [...contactIds];
    this.cache.invalidate(projectId, ids);
    if (ids.length > 0) this.notify({ kind: 'consent', projectId, contactIds: ids });
  }

  /** Drops what another process changed: some contacts of a project, a whole project (`null`), or everything. */
  forget(projectId: number | null, contactIds: number[] | null): void {
    if (projectId === null || contactIds === null) this.cache.clear();
    else this.cache.invalidate(projectId, contactIds);
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

  /** A wording a form showed, by its hash; throws ConsentWordingNotFound when no page of this project showed it. */
  async wording(projectId: number, hash: string): Promise<ConsentWording> {
    const wording = await getWording(this.db, projectId, hash);
    if (!wording) throw notFound('ConsentWording', hash);
    return wording;
  }

  async history(projectId: number, contactId: number): Promise<ConsentHistoryRow[]> {
    const contact = await getContact(this.db, projectId, contactId);
    if (!contact) throw notFound('Contact', contactId);
    return listContactHistory(this.db, projectId, contactId);
  }

  /**
   * A contact's consent value for a redirect that records no event yet: cache first (unless `fresh`), then one
   * row. Events are decided in their batch's transaction instead (BatchRecorder).
   */
  async consentOf(projectId: number, contactId: number, fresh = false): Promise<{ value: boolean | null; exists: boolean }> {
    const now = this.clock();
    const hit = fresh ? undefined : this.cache.get(projectId, contactId, now);
    if (hit) return hit;
    const readAt = this.cache.generation;
    const { value, exists } = await consentOfContact(this.reader, projectId, contactId);
    this.cache.set(projectId, contactId, value, exists, now, readAt);
    return { value, exists };
  }
}
