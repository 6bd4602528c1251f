import { type Expression, type SqlBool, sql } from 'kysely';
import { AppError } from './errors.js';

export type TrackingStatus = 'accepted' | 'refused' | 'unanswered';
export type TrackingMode = 'opt-out' | 'opt-in';
export type ConsentAction = 'accepted' | 'refused' | 'reset';
/** Outcome of one incoming consent change. */
export type ConsentDecision = 'applied' | 'stale' | 'none';

export interface TrackingSettings {
  enabled: boolean;
  mode: TrackingMode;
}

/** A contact's administrative consent fields: `true`/`false`/`null` and the date (epoch ms) they were set. */
export interface ConsentState {
  hasTrackingConsent: boolean | null;
  dtTrackingConsent: number | null;
}

/** Clock skew tolerated on a date a client sends (consent date, event time) before it counts as "in the future". */
export const FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * `true` → accepted, `false` → refused, `null` → unanswered.
 *
 * @example trackingStatus(null) // 'unanswered'
 */
export function trackingStatus(hasTrackingConsent: boolean | null): TrackingStatus {
  if (hasTrackingConsent === true) return 'accepted';
  if (hasTrackingConsent === false) return 'refused';
  return 'unanswered';
}

/**
 * The one rule deciding whether a contact's behaviour may be linked to them.
 * Module off → tracked; opt-out → not refused; opt-in → accepted only.
 * Its SQL face is {@link trackedSql}; the two must agree.
 *
 * @example isTracked({ hasTrackingConsent: null }, { enabled: true, mode: 'opt-in' }) // false
 */
export function isTracked(contact: Pick<ConsentState, 'hasTrackingConsent'>, settings: TrackingSettings): boolean {
  if (!settings.enabled) return true;
  if (settings.mode === 'opt-in') return contact.hasTrackingConsent === true;
  return contact.hasTrackingConsent !== false;
}

/**
 * {@link isTracked} as a SQL predicate over a contact's `has_tracking_consent`
 * column (stored as 1 / 0 / NULL), for segments, scoring and campaigns.
 *
 * @example db.selectFrom('contacts as c').where(trackedSql(settings, 'c.has_tracking_consent'))
 */
export function trackedSql(settings: TrackingSettings, column = 'has_tracking_consent'): Expression<SqlBool> {
  const ref = sql.ref(column);
  if (!settings.enabled) return sql<SqlBool>`1 = 1`;
  if (settings.mode === 'opt-in') return sql<SqlBool>`${ref} = 1`;
  return sql<SqlBool>`(${ref} IS NULL OR ${ref} <> 0)`;
}

/**
 * {@link trackingStatus} as a SQL predicate over a contact's `has_tracking_consent`
 * column (1 / 0 / NULL): the contacts whose status is `status`.
 *
 * @example db.selectFrom('contacts').where(trackingStatusSql('refused'))
 */
export function trackingStatusSql(status: TrackingStatus, column = 'has_tracking_consent'): Expression<SqlBool> {
  const ref = sql.ref(column);
  if (status === 'accepted') return sql<SqlBool>`(${ref} = 1)`;
  if (status === 'refused') return sql<SqlBool>`(${ref} = 0)`;
  return sql<SqlBool>`(${ref} IS NULL)`;
}

/** The history action recorded for a new consent value. */
export function consentAction(value: boolean | null): ConsentAction {
  if (value === true) return 'accepted';
  if (value === false) return 'refused';
  return 'reset';
}

/**
 * Newest date wins: an incoming change dated D applies when the current date
 * is null or ≤ D. The same value with the same date changes nothing, so
 * replaying an import or a merge is idempotent.
 *
 * @example decideConsentChange({ hasTrackingConsent: false, dtTrackingConsent: 200 }, { value: true, date: 100 }) // 'stale'
 */
export function decideConsentChange(current: ConsentState, incoming: { value: boolean | null; date: number }): ConsentDecision {
  if (current.dtTrackingConsent !== null && current.dtTrackingConsent > incoming.date) return 'stale';
  if (current.dtTrackingConsent === incoming.date && current.hasTrackingConsent === incoming.value) return 'none';
  return 'applied';
}

const TRUE_VALUES = new Set(['1', 'true', 'yes', 'y', 'oui']);
const FALSE_VALUES = new Set(['0', 'false', 'no', 'n', 'non']);

/**
 * Reads `hasTrackingConsent` as given by the API or a CSV file:
 * `1`/`0`/`true`/`false` (booleans, numbers or strings, any case).
 * Returns `undefined` for an absent or empty value (no change), `null` for an explicit JSON null (reset).
 *
 * @example parseConsentValue('1') // true
 */
export function parseConsentValue(input: unknown): boolean | null | undefined {
  if (input === undefined || input === '') return undefined;
  if (input === null) return null;
  if (typeof input === 'boolean') return input;
  if (input === 1) return true;
  if (input === 0) return false;
  if (typeof input === 'string') {
    const text = input.trim().toLowerCase();
    if (text === '') return undefined;
    if (TRUE_VALUES.has(text)) return true;
    if (FALSE_VALUES.has(text)) return false;
  }
  throw new AppError('InvalidConsentValue', `hasTrackingConsent: unknown consent value ${JSON.stringify(input)} (expected 1, 0, true or false)`, [
    { field: 'hasTrackingConsent', reason: `unknown consent value ${JSON.stringify(input)}` },
  ]);
}

// The date separator must be the same twice (`2026.03.04`, `2026-03-04`), so `2026.03-04` is not a date.
const DATE_TIME = /^(\d{4})([.-])(\d{2})\2(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Reads `dtTrackingConsent`: ISO 8601, `YYYY.MM.DD` or `YYYY-MM-DD` (optionally
 * followed by a time; no zone means UTC). Rejects impossible calendar dates and
 * dates more than five minutes after `now`. Returns epoch milliseconds.
 *
 * @example parseConsentDate('2026.11.02', Date.now()) // Date.UTC(2026, 10, 2)
 */
export function parseConsentDate(input: string, now: number, field = 'dtTrackingConsent'): number {
  const parts = DATE_TIME.exec(input.trim());
  if (!parts) throw invalidDate(field, input);
  const [, y, , mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = parts;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  const calendar = new Date(0);
  calendar.setUTCFullYear(year, month - 1, day);
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw invalidDate(field, input);
  }
  let ms = calendar.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + Number((fraction.slice(1) + '000').slice(0, 3));
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const [zoneHours, zoneMinutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (zoneHours > 23 || zoneMinutes > 59) throw invalidDate(field, input);
    ms -= sign * (zoneHours * 60 + zoneMinutes) * 60_000;
  }
  // Epoch-ms dates before 1970 are negative: no consent was ever given then, and stores and exports assume positive dates.
  if (ms < 0) throw new AppError('InvalidConsentDate', `${field}: ${input} is before 1970`, [{ field, reason: 'date is before 1970' }]);
  if (ms > now + FUTURE_SKEW_MS) {
    throw new AppError('FutureConsentDate', `${field}: ${input} is in the future`, [{ field, reason: 'date is in the future' }]);
  }
  return ms;
}

function invalidDate(field: string, input: string): AppError {
  return new AppError('InvalidConsentDate', `${field}: cannot read ${JSON.stringify(input)} as a date (ISO 8601, YYYY.MM.DD or YYYY-MM-DD)`, [
    { field, reason: 'invalid date' },
  ]);
}
