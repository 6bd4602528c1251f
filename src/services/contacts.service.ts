import { type ConsentDecision, isTracked, parseConsentDate, parseConsentValue, trackingStatus } from '../domain/consent.js';
import { CONTACT_STATUSES, type Contact, type ContactStatus, isValidEmail, normalizeEmail } from '../domain/contact.js';
import { AppError, notFound } from '../domain/errors.js';
import { fieldsProblem, textProblem } from '../domain/safe-text.js';
import { subjectHash } from '../domain/ledger.js';
import { appendConsentEntries, lockLedger, type NewConsentEntry } from '../store/consent-history.js';
import { liftSuppression, suppressedSubjects } from '../store/erased-subjects.js';
import { findContactsByKeys, getContact, listContacts, noteContactsCreated, saveContacts } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { type StatusSplit, statusSplit } from '../store/dashboard-stats.js';
import { pageOf } from '../store/paging.js';
import type { AppliedConsentChange, ConsentService } from './consent.service.js';
import type { Project, ProjectService } from './projects.service.js';

export type MergeType = 'upsert' | 'add-only' | 'update-only';

/** One incoming record, as sent to the merge API or read from a CSV row (values not yet validated). */
export interface MergeRecord {
  email?: unknown;
  externalId?: unknown;
  phone?: unknown;
  fields?: unknown;
  status?: unknown;
  hasTrackingConsent?: unknown;
  dtTrackingConsent?: unknown;
  /** true: the person asked to come back after an erasure (recorded in the consent history). */
  returning?: unknown;
}

export interface MergeResult {
  index: number;
  contactId?: string;
  result: 'created' | 'updated' | 'unchanged' | 'rejected';
  consent: ConsentDecision;
  error?: string;
  /** Why a record was rejected, when a client may act on it: `erased` (the address is on the suppression list). */
  reason?: 'erased';
}

export interface MergeOptions {
  type?: MergeType;
  /** History source of consent changes, e.g. `api:3` or `import:12`. */
  source: string;
  /** Per-record history detail (an import's line number). */
  details?: (string | null)[];
  /** Every record is a person who asked to come back after an erasure (an import option; a record may say so itself). */
  returning?: boolean;
}

interface ParsedRecord {
  email?: string;
  externalId?: string;
  phone?: string | null;
  fields?: Record<string, unknown>;
  status?: ContactStatus;
  consent?: { value: boolean | null; date: number };
  returning?: boolean;
}

interface Working {
  contact: Contact;
  isNew: boolean;
  dirty: boolean;
  /** Email or externalId changed: the save must touch their unique indexes. */
  keysChanged?: boolean;
}

export const MAX_MERGE_RECORDS = 10_000;

/** The error of a record whose address was erased (its `reason` is `erased`). */
export const ERASED_ERROR = 'erased: this address was erased from the project; send returning: true (an import: returning=true) if the person asked to come back';

const RECORD_KEYS = new Set(['email', 'externalId', 'phone', 'fields', 'status', 'hasTrackingConsent', 'dtTrackingConsent', 'returning']);

/**
 * Parses one record; throws an AppError naming the field on bad input.
 * A consent value without a date takes `now`.
 */
export function parseMergeRecord(record: MergeRecord, now: number): ParsedRecord {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) throw new AppError('InvalidRecord', 'record must be an object');
  for (const key in record) {
    if (!RECORD_KEYS.has(key)) throw field(key, 'unknown property (custom values go under fields)');
  }
  const parsed: ParsedRecord = {};
  if (record.email !== undefined && record.email !== null && record.email !== '') {
    if (typeof record.email !== 'string') throw field('email', 'must be a string');
    storable('email', record.email);
    const email = normalizeEmail(record.email);
    if (!isValidEmail(email)) throw field('email', `invalid email address ${JSON.stringify(record.email)}`);
    parsed.email = email;
  }
  if (record.externalId !== undefined && record.externalId !== null && record.externalId !== '') {
    if (typeof record.externalId !== 'string' && typeof record.externalId !== 'number') throw field('externalId', 'must be a string');
    parsed.externalId = String(record.externalId).trim();
    storable('externalId', parsed.externalId);
    if (parsed.externalId === '' || parsed.externalId.length > 255) throw field('externalId', 'must be 1 to 255 characters');
  }
  if (parsed.email === undefined && parsed.externalId === undefined) throw field('email', 'email or externalId is required');
  if (record.phone !== undefined) {
    if (record.phone !== null && typeof record.phone !== 'string') throw field('phone', 'must be a string');
    if (record.phone !== null) storable('phone', record.phone);
    parsed.phone = record.phone === null || record.phone.trim() === '' ? null : record.phone.trim();
  }
  if (record.fields !== undefined && record.fields !== null) {
    if (typeof record.fields !== 'object' || Array.isArray(record.fields)) throw field('fields', 'must be an object');
    const problem = fieldsProblem(record.fields);
    if (problem) throw field(problem.path, problem.reason);
    parsed.fields = record.fields as Record<string, unknown>;
  }
  if (record.status !== undefined && record.status !== null && record.status !== '') {
    if (!CONTACT_STATUSES.includes(record.status as ContactStatus)) throw field('status', `must be one of ${CONTACT_STATUSES.join(', ')}`);
    parsed.status = record.status as ContactStatus;
  }
  if (record.returning !== undefined && record.returning !== null) {
    if (typeof record.returning !== 'boolean') throw field('returning', 'must be true or false');
    parsed.returning = record.returning;
  }
  const value = parseConsentValue(record.hasTrackingConsent);
  if (value !== undefined) {
    let date = now;
    const rawDate = record.dtTrackingConsent;
    if (rawDate !== undefined && rawDate !== null && rawDate !== '') {
      if (typeof rawDate !== 'string') throw field('dtTrackingConsent', 'must be a date string');
      date = parseConsentDate(rawDate, now);
    }
    parsed.consent = { value, date };
  } else if (typeof record.dtTrackingConsent === 'string' && record.dtTrackingConsent.trim() !== '') {
    // A date alone changes nothing, but a malformed one is still bad input.
    parseConsentDate(record.dtTrackingConsent, now);
  }
  return parsed;
}

/** NUL bytes and lone surrogates are refused per record (PostgreSQL rejects them, SQLite would store a mangled key). */
function storable(name: string, value: string): void {
  const reason = textProblem(value);
  if (reason) throw field(name, reason);
}

function field(name: string, reason: string): AppError {
  return new AppError('InvalidRecord', `${name}: ${reason}`, [{ field: name, reason }]);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface ContactListQuery {
  trackingStatus?: 'accepted' | 'refused' | 'unanswered';
  email?: string;
  /** Part of the email, external id or phone, any case. */
  search?: string;
  cursor?: number;
  limit: number;
}

/** Contacts: batch merge (API and imports), listing and the contact card. */
export class ContactService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly consent: ConsentService,
  ) {}

  /**
   * Upserts a batch in one transaction. Each record gets its own result; a bad
   * record is rejected with its reason and never fails the others.
   */
  async merge(projectId: number, records: MergeRecord[], options: MergeOptions): Promise<MergeResult[]> {
    const project = await this.projects.get(projectId);
    const type = options.type ?? 'upsert';
    const now = this.clock();
    const parsed: (ParsedRecord | AppError)[] = records.map((record) => {
      try {
        return parseMergeRecord(record, now);
      } catch (error) {
        if (error instanceof AppError) return error;
        throw error;
      }
    });
    const results: MergeResult[] = [];
    const changed = await this.db.transaction().execute(async (trx) => {
      await lockLedger(trx, projectId);
      const emails = new Set<string>();
      const externalIds = new Set<string>();
      for (const p of parsed) {
        if (p instanceof AppError) continue;
        if (p.email) emails.add(p.email);
        if (p.externalId) externalIds.add(p.externalId);
      }
      const byEmail = new Map<string, Working>();
      const byExternalId = new Map<string, Working>();
      for (let i = 0; i < Math.max(emails.size, externalIds.size); i += 1000) {
        const existing = await findContactsByKeys(trx, projectId, [...emails].slice(i, i + 1000), [...externalIds].slice(i, i + 1000));
        for (const contact of existing) {
          const working = { contact, isNew: false, dirty: false };
          if (contact.email) byEmail.set(contact.email, working);
          if (contact.externalId) byExternalId.set(contact.externalId, working);
        }
      }
      // Each address's subject hash (an HMAC) is computed once per batch: for the suppression list and the history entries.
      const subjectHashes = new Map<string, string>();
      for (const email of emails) subjectHashes.set(email, subjectHash(project.ledgerSalt, email) as string);
      const erased = await this.erasedAmong(trx, project, subjectHashes);
      const comebacks = new Map<string, Working>();
      const consentChanges: AppliedConsentChange[] = [];
      const touched = new Set<Working>();
      const resultWorking = new Map<number, Working>();
      parsed.forEach((p, index) => {
        if (p instanceof AppError) {
          results.push({ index, result: 'rejected', consent: 'none', error: p.message });
          return;
        }
        // An erased address comes back only when the request says the person asked to (SPEC §7, issue 12 item 13).
        const comingBack = p.email !== undefined && erased.has(p.email) && !byEmail.has(p.email);
        if (comingBack && !(p.returning ?? options.returning === true)) {
          results.push({ index, result: 'rejected', consent: 'none', reason: 'erased', error: ERASED_ERROR });
          return;
        }
        const outcome = this.applyRecord(project, p, type, byEmail, byExternalId, now, options, index);
        if ('error' in outcome) {
          results.push({ index, result: 'rejected', consent: 'none', error: outcome.error });
          return;
        }
        if (comingBack && p.email !== undefined) comebacks.set(p.email, outcome.working);
        const { working, result, consent, applied } = outcome;
        if (applied) consentChanges.push(applied);
        if (result !== 'unchanged') touched.add(working);
        resultWorking.set(index, working);
        results.push({ index, result, consent });
      });
      // Updates go first: a contact whose email moved frees the old address for a contact created in the same batch.
      const updated = [...touched].filter((w) => !w.isNew && w.dirty).map((w) => ({ contact: w.contact, keysChanged: w.keysChanged === true }));
      const created = [...touched].filter((w) => w.isNew);
      const ids = await saveContacts(trx, projectId, updated, created.map((w) => w.contact));
      created.forEach((w, i) => {
        w.contact.id = ids[i] as number;
      });
      await this.recordComebacks(trx, project, comebacks, now, options);
      await this.consent.record(trx, project, consentChanges, subjectHashes);
      for (const r of results) {
        const w = resultWorking.get(r.index);
        if (w) r.contactId = String(w.contact.id);
      }
      return consentChanges.map((c) => c.contact.id);
    });
    this.consent.invalidate(projectId, changed);
    await noteContactsCreated(this.db, results.reduce((n, r) => n + (r.result === 'created' ? 1 : 0), 0));
    return results;
  }

  /** Whether an address was erased from the project and not brought back since. */
  async isErased(project: Project, email: string): Promise<boolean> {
    const normalized = normalizeEmail(email);
    return (await this.erasedAmong(this.db, project, new Map([[normalized, subjectHash(project.ledgerSalt, normalized) as string]]))).size > 0;
  }

  /** The batch's addresses that are on the project's suppression list. */
  private async erasedAmong(trx: Db, project: Project, subjectHashes: ReadonlyMap<string, string>): Promise<Set<string>> {
    if (subjectHashes.size === 0) return new Set();
    const hashOf = new Map<string, string>();
    for (const [email, hash] of subjectHashes) hashOf.set(hash, email);
    const found = await suppressedSubjects(trx, project.id, [...hashOf.keys()]);
    return new Set([...found].map((hash) => hashOf.get(hash) as string));
  }

  /** Erased addresses brought back on request: a `returning` history entry each, and off the suppression list. */
  private async recordComebacks(trx: Db, project: Project, comebacks: Map<string, Working>, now: number, options: MergeOptions): Promise<void> {
    if (comebacks.size === 0) return;
    const hashes: string[] = [];
    const entries: NewConsentEntry[] = [];
    for (const [email, working] of comebacks) {
      const hash = subjectHash(project.ledgerSalt, email) as string;
      hashes.push(hash);
      entries.push({ contactId: working.contact.id, subjectHash: hash, action: 'returning', date: now, recordedAt: now, source: options.source, detail: 'the person asked to come back after an erasure' });
    }
    await appendConsentEntries(trx, project.id, entries);
    await liftSuppression(trx, project.id, hashes);
  }

  private applyRecord(
    project: Project,
    p: ParsedRecord,
    type: MergeType,
    byEmail: Map<string, Working>,
    byExternalId: Map<string, Working>,
    now: number,
    options: MergeOptions,
    index: number,
  ): { error: string } | { working: Working; result: MergeResult['result']; consent: ConsentDecision; applied?: AppliedConsentChange } {
    const viaExternal = p.externalId !== undefined ? byExternalId.get(p.externalId) : undefined;
    const viaEmail = p.email !== undefined ? byEmail.get(p.email) : undefined;
    if (viaExternal && viaEmail && viaExternal !== viaEmail) {
      return { error: `email: ${p.email} already belongs to another contact` };
    }
    let working = viaExternal ?? viaEmail;
    if (working && !viaExternal && p.externalId !== undefined && working.contact.externalId !== null) {
      return { error: `externalId: the contact with email ${p.email} has externalId ${working.contact.externalId}` };
    }
    let isCreate = false;
    if (!working) {
      if (type === 'update-only') return { error: 'no existing contact matches this record (update-only import)' };
      working = {
        isNew: true,
        dirty: true,
        contact: {
          id: 0,
          projectId: project.id,
          email: p.email ?? null,
          externalId: p.externalId ?? null,
          phone: null,
          fields: {},
          status: 'active',
          hasTrackingConsent: null,
          dtTrackingConsent: null,
          createdAt: now,
          updatedAt: now,
        },
      };
      isCreate = true;
    } else if (type === 'add-only') {
      return { working, result: 'unchanged', consent: 'none' };
    }
    const contact = working.contact;
    let changed = false;
    if (p.email !== undefined && contact.email !== p.email) {
      if (contact.email) byEmail.delete(contact.email);
      contact.email = p.email;
      working.keysChanged = true;
      changed = true;
    }
    if (p.externalId !== undefined && contact.externalId !== p.externalId) {
      contact.externalId = p.externalId;
      working.keysChanged = true;
      changed = true;
    }
    if (p.phone !== undefined && contact.phone !== p.phone) {
      contact.phone = p.phone;
      changed = true;
    }
    if (p.fields !== undefined) {
      const merged = { ...contact.fields, ...p.fields };
      if (!sameJson(merged, contact.fields)) {
        contact.fields = merged;
        changed = true;
      }
    }
    if (p.status !== undefined && contact.status !== p.status) {
      contact.status = p.status;
      changed = true;
    }
    if (contact.email) byEmail.set(contact.email, working);
    if (contact.externalId) byExternalId.set(contact.externalId, working);
    let consent: ConsentDecision = 'none';
    let applied: AppliedConsentChange | undefined;
    if (p.consent) {
      const planned = this.consent.plan(project, contact, {
        value: p.consent.value,
        date: p.consent.date,
        source: options.source,
        detail: options.details?.[index] ?? null,
      });
      consent = planned.decision;
      applied = planned.applied;
      if (isCreate && applied) applied.wasTracked = false;
    }
    if (changed) contact.updatedAt = now;
    working.dirty = working.dirty || changed || applied !== undefined;
    const result = isCreate ? 'created' : changed || applied ? 'updated' : 'unchanged';
    return applied ? { working, result, consent, applied } : { working, result, consent };
  }

  async list(projectId: number, query: ContactListQuery): Promise<{ items: Contact[]; nextCursor: string | null }> {
    const filter = { trackingStatus: query.trackingStatus, email: query.email ? normalizeEmail(query.email) : undefined, search: query.search };
    const rows = await listContacts(this.db, projectId, filter, query);
    const { items, nextCursor } = pageOf(rows, query.limit, (c) => c.id);
    return { items, nextCursor };
  }

  /** How many contacts the project has per tracking status now, and how many of them are tracked. */
  async counts(project: Project): Promise<StatusSplit & { contacts: number; untracked: number }> {
    const split = await statusSplit(this.db, project.id, project.settings.tracking);
    const contacts = split.accepted + split.refused + split.unanswered;
    return { contacts, ...split, untracked: contacts - split.tracked };
  }

  async get(projectId: number, contactId: number): Promise<Contact> {
    const contact = await getContact(this.db, projectId, contactId);
    if (!contact) throw notFound('Contact', contactId);
    return contact;
  }

  /** What the card says about tracking, from the one `isTracked` rule. */
  trackingOf(project: Project, contact: Contact): { trackingStatus: ReturnType<typeof trackingStatus>; tracked: boolean } {
    return { trackingStatus: trackingStatus(contact.hasTrackingConsent), tracked: isTracked(contact, project.settings.tracking) };
  }
}
