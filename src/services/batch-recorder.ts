import { anonymousEvent } from '../domain/anonymous-event.js';
import { isTracked, type TrackingSettings } from '../domain/consent.js';
import { readSettings } from '../domain/project-settings.js';
import { consentValue } from '../store/consent-column.js';
import type { Store } from '../store/database.js';
import { batchQueries, type NewEvent } from '../store/event-batch.js';
import { compileSetMeta, deleteMeta } from '../store/meta.js';
import { type AppliedMessage, compileApplied, compileAppliedRead } from '../store/queue-applied.js';
import { type ConsentSubjects, type ConsentView, consentKey, consentLocks, consentReads, readConsentView, rowsOfView, viewOfRows } from '../store/tracking-consent.js';
import type { ConsentCache } from './consent-cache.js';

/** How often a batch is decided again because a consent or settings change committed under it, before giving up. */
const MAX_ATTEMPTS = 20;

/** What a batch's transaction records as applied besides its events. */
export interface BatchMark {
  /** The hit journal's key and this batch's number in it (SPEC §8: a replay applies what the database lacks). */
  journal?: { key: string; batch: number };
  /** Per event, the queue message it came in (null: none); a message already applied is left out of the batch. */
  messages?: readonly (AppliedMessage | null)[];
}

/**
 * Records a batch of tracking and web events in one transaction, deciding
 * each event's identified vs anonymous form inside that transaction (SPEC §2
 * rule 4, §8). An event offered with a `contact_id` is a candidate: it is
 * stored identified only if the contact exists and is tracked under its
 * project's settings as the database holds them at commit; otherwise it is
 * stored in its anonymous form (rule 5). The decision is made on values from
 * the caches, and the transaction checks them under lock (see BatchPlan):
 * when a consent or settings change committed in between, the batch writes
 * nothing, the caches learn the new values and the batch is decided again.
 * So a stale cache costs a retry, never a wrongly identified event.
 */
export class BatchRecorder {
  /** Projects' settings as last seen, by id: refreshed whenever a batch finds them changed. */
  private readonly settings = new Map<number, string>();
  /** Events left out because their queue message was applied already (redeliveries), for /metrics. */
  readonly stats = { alreadyApplied: 0 };

  constructor(
    private readonly store: Pick<Store, 'db' | 'reader' | 'dialect' | 'runBatch'>,
    private readonly cache: ConsentCache,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Forgets a project's settings (another process changed them); `null`: every project's. */
  forgetProject(projectId: number | null): void {
    if (projectId === null) this.settings.clear();
    else this.settings.delete(projectId);
  }

  /** Removes a journal's committed-batch row once that journal is gone. */
  async forget(journalKey: string): Promise<void> {
    await deleteMeta(this.store.db, journalKey);
  }

  /**
   * Records `events` in one transaction with `mark`; returns, per event,
   * whether it was stored identified. An event whose queue message the
   * database already holds as applied (a redelivery, or a publish whose
   * acknowledgement was lost and that was also written directly) is left
   * out, and reported as not identified.
   */
  async record(events: NewEvent[], mark: BatchMark = {}): Promise<boolean[]> {
    const subjects = subjectsOf(events);
    const readAt = this.cache.generation;
    let view = await this.viewOf(subjects);
    /** Indexes of the events still to write: a message found applied drops out. */
    let kept = events.map((_, i) => i);
    const messageOf = (i: number) => mark.messages?.[i] ?? null;
    for (let attempt = 1; ; attempt++) {
      const batch = kept.map((i) => events[i]!);
      const messages = kept.map(messageOf).filter((m): m is AppliedMessage => m !== null);
      const identified = decide(batch, view);
      const marks = [
        ...(mark.journal ? [compileSetMeta(this.store.db, mark.journal.key, String(mark.journal.batch))] : []),
        ...compileApplied(this.store.db, messages, this.clock()),
      ];
      const reads = consentReads(this.store.db, subjects);
      const expected = rowsOfView(subjects, view);
      if (messages.length > 0) {
        reads.push(compileAppliedRead(this.store.db, messages.map((m) => m.id)));
        expected.push([]);
      }
      if (batch.length === 0 && marks.length === 0) return events.map(() => false);
      let outcome: Awaited<ReturnType<Store['runBatch']>>;
      try {
        outcome = await this.store.runBatch({
          locks: consentLocks(this.store.db, this.store.dialect, subjects),
          reads,
          expected,
          writes: batchQueries(
            this.store.db,
            batch.map((e, i) => (identified[i] ? e : anonymousForm(e))),
            marks,
          ),
        });
      } catch (error) {
        // Another process committed one of these messages between our read and our insert (PostgreSQL):
        // read again, which leaves it out.
        if (messages.length === 0 || !isAppliedConflict(error) || attempt >= MAX_ATTEMPTS) throw error;
        continue;
      }
      if (outcome.written) {
        this.remember(subjects, view, readAt);
        const result = events.map(() => false);
        kept.forEach((index, i) => {
          result[index] = identified[i] ?? false;
        });
        return result;
      }
      const consentRows = outcome.rows.slice(0, expected.length - (messages.length > 0 ? 1 : 0));
      const applied = new Set((messages.length > 0 ? (outcome.rows[consentRows.length] ?? []) : []).map((row) => String(row[0])));
      if (applied.size > 0) {
        kept = kept.filter((i) => !applied.has(messageOf(i)?.id ?? ''));
        this.stats.alreadyApplied += applied.size;
      }
      view = viewOfRows(subjects, consentRows);
      this.remember(subjects, view, this.cache.generation);
      if (attempt >= MAX_ATTEMPTS) throw new Error('tracking batch: consent kept changing under it');
    }
  }

  /** The values the caches hold, completed from the database for what they lack. */
  private async viewOf(subjects: ConsentSubjects): Promise<ConsentView> {
    const now = this.clock();
    const view: ConsentView = { settings: new Map(), consent: new Map() };
    const missing: ConsentSubjects = { projects: [], contacts: new Map() };
    for (const id of subjects.projects) {
      const text = this.settings.get(id);
      if (text === undefined) missing.projects.push(id);
      else view.settings.set(id, text);
    }
    for (const [projectId, ids] of subjects.contacts) {
      for (const id of ids) {
        const cached = this.cache.get(projectId, id, now);
        if (!cached) {
          const list = missing.contacts.get(projectId) ?? [];
          list.push(id);
          missing.contacts.set(projectId, list);
        } else if (cached.exists) {
          view.consent.set(consentKey(projectId, id), cached.value === null ? null : cached.value ? 1 : 0);
        }
      }
    }
    if (missing.projects.length === 0 && missing.contacts.size === 0) return view;
    const read = await readConsentView(this.store.reader, missing);
    for (const [id, text] of read.settings) view.settings.set(id, text);
    for (const [key, value] of read.consent) view.consent.set(key, value);
    return view;
  }

  /** Puts values seen in the database into the caches (unless an invalidation came in since `readAt`). */
  private remember(subjects: ConsentSubjects, view: ConsentView, readAt: number): void {
    const now = this.clock();
    for (const id of subjects.projects) {
      const text = view.settings.get(id);
      if (text === undefined) this.settings.delete(id);
      else this.settings.set(id, text);
    }
    if (this.settings.size > 10_000) this.settings.clear();
    for (const [projectId, ids] of subjects.contacts) {
      for (const id of ids) {
        const key = consentKey(projectId, id);
        const exists = view.consent.has(key);
        this.cache.set(projectId, id, exists ? consentValue(view.consent.get(key) ?? null) : null, exists, now, readAt);
      }
    }
  }
}

/** A unique violation on queue_applied's key: PostgreSQL's 23505, SQLite's constraint message. */
function isAppliedConflict(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '23505' || (typeof message === 'string' && message.includes('queue_applied'));
}

function subjectsOf(events: NewEvent[]): ConsentSubjects {
  const contacts = new Map<number, Set<number>>();
  for (const e of events) {
    if (e.contact_id === null || e.contact_id === undefined) continue;
    let ids = contacts.get(e.project_id);
    if (!ids) {
      ids = new Set();
      contacts.set(e.project_id, ids);
    }
    ids.add(e.contact_id);
  }
  const sorted = new Map<number, number[]>();
  for (const [projectId, ids] of contacts) sorted.set(projectId, [...ids].sort((a, b) => a - b));
  return { projects: [...contacts.keys()].sort((a, b) => a - b), contacts: sorted };
}

/** Per event: identified when it names a contact who exists and is tracked in `view` (isTracked, the one rule). */
function decide(events: NewEvent[], view: ConsentView): boolean[] {
  const settings = new Map<number, TrackingSettings | null>();
  const trackingOf = (projectId: number): TrackingSettings | null => {
    if (!settings.has(projectId)) {
      const text = view.settings.get(projectId);
      settings.set(projectId, text === undefined ? null : readSettings(text).tracking);
    }
    return settings.get(projectId) ?? null;
  };
  return events.map((e) => {
    if (e.contact_id === null || e.contact_id === undefined) return false;
    const tracking = trackingOf(e.project_id);
    const key = consentKey(e.project_id, e.contact_id);
    if (tracking === null || !view.consent.has(key)) return false;
    return isTracked({ hasTrackingConsent: consentValue(view.consent.get(key) ?? null) }, tracking);
  });
}

/** The event as stored when its contact is not tracked: rule 5's anonymous form. */
export function anonymousForm(event: NewEvent): NewEvent {
  if (event.contact_id === null || event.contact_id === undefined) return event;
  const kept = anonymousEvent({ contactId: null, at: event.at, url: event.url, nonce: event.nonce });
  return { ...event, contact_id: kept.contactId, at: kept.at, ip: kept.ip, user_agent: kept.userAgent, url: kept.url, nonce: kept.nonce };
}
