import { isTracked, type TrackingSettings, trackingStatus } from './consent.js';
import { normalizeEmail } from './contact.js';
import {
  type BehaviorClause,
  type Criteria,
  capped,
  DATE_SHAPE,
  DAY_MS,
  dateBound,
  EVENT_TYPE,
  type FieldClause,
  type FieldOp,
  fieldDay,
  missingModel,
  NUMERIC_TEXT,
  type Scalar,
  type ScoreRule,
  withDefaultWindow,
} from './criteria.js';

/*
 * The reference (in-memory) evaluator of criteria: the semantics written
 * plainly, one contact at a time (see `criteria.ts`). It is the oracle the SQL
 * compiler is tested against, and what a reader checks the rules by.
 */

export interface CriteriaContact {
  email: string | null;
  status: string;
  hasTrackingConsent: boolean | null;
  fields: Record<string, unknown>;
}

/** What a contact did, as the evaluator needs it: identified events (link URL resolved) and deliveries. */
export interface ContactActivity {
  events: readonly {
    type: string;
    sendingId: number | null;
    messageId: number | null;
    linkUrl: string | null;
    name: string | null;
    url: string | null;
    formId: number | null;
    at: number;
    machine: boolean;
  }[];
  deliveries: readonly { sendingId: number; messageId: number | null; at: number }[];
}

export interface EvaluateOptions {
  settings: TrackingSettings;
  now: number;
  /** Rules of the score models that `score.<id>` clauses refer to. */
  scoreModels?: ReadonlyMap<string, readonly ScoreRule[]>;
}

/**
 * The reference semantics of a criteria tree for one contact (see the notes at the top of this file).
 *
 * @example evaluateCriteria({ not: { behavior: 'opened' } }, refused, { events: [], deliveries: [] }, { settings, now }) // false
 */
export function evaluateCriteria(tree: Criteria, contact: CriteriaContact, activity: ContactActivity, options: EvaluateOptions): boolean {
  const tracked = isTracked(contact, options.settings);
  const ev = (node: Criteria, negated: boolean): boolean => {
    if ('all' in node) return negated ? node.all.some((c) => ev(c, true)) : node.all.every((c) => ev(c, false));
    if ('any' in node) return negated ? node.any.every((c) => ev(c, true)) : node.any.some((c) => ev(c, false));
    if ('not' in node) return ev(node.not, !negated);
    if ('behavior' in node) return tracked && (occurrences(node, activity, options.now) >= (node.minCount ?? 1)) !== negated;
    return fieldMatches(node, contact, activity, options) !== negated;
  };
  return ev(tree, false);
}

/**
 * A contact's score in a model: the sum of its rules. Behavioural points need a tracked contact (rule 8),
 * from their current consent.
 *
 * @example scoreOf([{ criteria: { behavior: 'opened' }, points: 5, perOccurrence: true, max: 12 }], c, threeOpens, options) // 12
 */
export function scoreOf(rules: readonly ScoreRule[], contact: CriteriaContact, activity: ContactActivity, options: EvaluateOptions): number {
  let total = 0;
  for (const rule of rules) {
    const criteria = withDefaultWindow(rule.criteria, rule.withinDays);
    if (rule.perOccurrence && 'behavior' in criteria) {
      if (!isTracked(contact, options.settings)) continue;
      const count = occurrences(criteria, activity, options.now);
      if (count < (criteria.minCount ?? 1)) continue;
      total += capped(count * rule.points, rule.max);
    } else if (evaluateCriteria(criteria, contact, activity, options)) {
      total += capped(rule.points, rule.max);
    }
  }
  return total;
}

function occurrences(clause: BehaviorClause, activity: ContactActivity, now: number): number {
  const since = clause.withinDays === undefined ? undefined : now - clause.withinDays * DAY_MS;
  if (clause.behavior === 'received') {
    return activity.deliveries.filter(
      (d) =>
        (clause.sendingId === undefined || d.sendingId === Number(clause.sendingId)) &&
        (clause.messageId === undefined || d.messageId === Number(clause.messageId)) &&
        (since === undefined || d.at >= since),
    ).length;
  }
  const type = EVENT_TYPE[clause.behavior];
  const urlOf = clause.behavior === 'clicked' ? 'linkUrl' : 'url';
  return activity.events.filter(
    (e) =>
      e.type === type &&
      (clause.sendingId === undefined || e.sendingId === Number(clause.sendingId)) &&
      (clause.messageId === undefined || e.messageId === Number(clause.messageId)) &&
      (clause.formId === undefined || e.formId === Number(clause.formId)) &&
      (clause.eventName === undefined || e.name === clause.eventName) &&
      (clause.linkUrl === undefined || e[urlOf] === clause.linkUrl) &&
      (!clause.humanOnly || !e.machine) &&
      (since === undefined || e.at >= since),
  ).length;
}

/** A custom field as text: strings, safe integers and booleans; anything else has no text. */
function customText(raw: unknown): string | null {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'boolean') return String(raw);
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return String(raw);
  return null;
}

/** A custom field as a number: JSON numbers and decimal strings like "-12.5". */
function customNumber(raw: unknown): number | null {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  if (typeof raw === 'string' && NUMERIC_TEXT.test(raw)) return Number(raw);
  return null;
}

function fieldMatches(clause: FieldClause, contact: CriteriaContact, activity: ContactActivity, options: EvaluateOptions): boolean {
  const { field, op } = clause;
  if (op === 'neq') return !fieldMatches({ field, op: 'eq', value: clause.value as Scalar }, contact, activity, options);
  if (op === 'in') return (clause.value as Scalar[]).some((value) => fieldMatches({ field, op: 'eq', value }, contact, activity, options));
  if (field === 'email') {
    const email = contact.email;
    if (op === 'exists') return (email !== null) === (clause.value ?? true);
    const value = normalizeEmail(String(clause.value));
    return email !== null && stringOp(op, email, value);
  }
  if (field === 'status') return contact.status === clause.value;
  if (field === 'trackingStatus') {
    return trackingStatus(contact.hasTrackingConsent) === clause.value;
  }
  if (field.startsWith('score.')) {
    const rules = options.scoreModels?.get(field.slice(6));
    if (!rules) throw missingModel(field.slice(6));
    return numberOp(op, scoreOf(rules, contact, activity, options), clause.value as number);
  }
  const raw = contact.fields[field.slice(7)];
  const value = clause.value;
  switch (op) {
    case 'exists': {
      const has = raw !== undefined && raw !== null && raw !== '';
      return has === (value ?? true);
    }
    case 'eq':
    case 'gt':
    case 'lt':
      if (typeof value === 'number') {
        const n = customNumber(raw);
        return n !== null && numberOp(op, n, value);
      }
      return customText(raw) === String(value);
    case 'before':
    case 'after':
    case 'withinDays': {
      const text = customText(raw);
      if (text === null || !DATE_SHAPE.test(text)) return false;
      if (op === 'before') return text < dateBound(String(value));
      if (op === 'after') return text > dateBound(String(value));
      return text >= fieldDay(options.now, value as number) && text <= new Date(options.now).toISOString();
    }
    default: {
      const text = customText(raw);
      return text !== null && stringOp(op, text, String(value));
    }
  }
}

function stringOp(op: FieldOp, text: string, value: string): boolean {
  if (op === 'eq') return text === value;
  if (op === 'contains') return text.includes(value);
  if (op === 'startsWith') return text.startsWith(value);
  if (op === 'endsWith') return text.endsWith(value);
  return false;
}

function numberOp(op: FieldOp, n: number, value: number): boolean {
  if (op === 'gt') return n > value;
  if (op === 'lt') return n < value;
  return n === value;
}
