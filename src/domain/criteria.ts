import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import { normalizeEmail } from './contact.js';
import { isTracked, type TrackingSettings, trackedSql } from './consent.js';
import { AppError, type FieldProblem } from './errors.js';

/*
 * Criteria: the tree shared by groups, campaign conditions and score rules
 * (SPEC §11), its validation, its reference evaluator and its SQL compiler.
 *
 * Semantics (the in-memory evaluator and the SQL compiler implement exactly this):
 * - The tree is read in negation normal form: `not` is pushed down to the
 *   leaves with De Morgan (`not all[a,b]` = `any[not a, not b]`, `not not a` = `a`).
 * - A field clause and its negation are complements: every contact matches
 *   exactly one of them, tracked or not (rule 7: field clauses match everyone).
 * - A behavioural clause is `tracked AND happened`; its negation is
 *   `tracked AND NOT happened`. An untracked contact matches NEITHER, at any
 *   depth, so "did not open in 90 days" never pulls in contacts who refused
 *   tracking (rule 7), while `not all[field, behaviour]` still matches an
 *   untracked contact through the negated field clause.
 * - `all: []` is true and `any: []` is false.
 * - Behavioural clauses count every recorded identified event, machine-flagged
 *   ones included, unless `humanOnly`. `received` counts delivery rows.
 */

export type SqlDialect = 'sqlite' | 'postgres';
export type Behavior = 'received' | 'opened' | 'clicked' | 'visited' | 'submitted';
export type FieldOp = 'eq' | 'neq' | 'contains' | 'startsWith' | 'endsWith' | 'in' | 'gt' | 'lt' | 'exists' | 'before' | 'after' | 'withinDays';
export type Scalar = string | number | boolean;

export interface FieldClause {
  field: string;
  op: FieldOp;
  value?: Scalar | Scalar[];
}

export interface BehaviorClause {
  behavior: Behavior;
  sendingId?: string;
  messageId?: string;
  linkUrl?: string;
  eventName?: string;
  formId?: string;
  withinDays?: number;
  minCount?: number;
  humanOnly?: boolean;
}

export type Criteria = { all: Criteria[] } | { any: Criteria[] } | { not: Criteria } | FieldClause | BehaviorClause;

export interface ScoreRule {
  criteria: Criteria;
  points: number;
  perOccurrence?: boolean;
  max?: number;
  withinDays?: number;
}

export const CRITERIA_LIMITS = { maxDepth: 12, maxNodes: 300, maxInValues: 1000, maxString: 1000, maxDays: 36_500, maxCount: 1_000_000, maxPoints: 1_000_000 } as const;

const BEHAVIORS: readonly Behavior[] = ['received', 'opened', 'clicked', 'visited', 'submitted'];
const EVENT_TYPE: Record<Exclude<Behavior, 'received'>, string> = { opened: 'open', clicked: 'click', visited: 'web', submitted: 'form_submit' };
/** The optional keys each behaviour accepts besides `behavior`. */
const BEHAVIOR_KEYS: Record<Behavior, readonly string[]> = {
  received: ['sendingId', 'messageId', 'withinDays', 'minCount'],
  opened: ['sendingId', 'messageId', 'withinDays', 'minCount', 'humanOnly'],
  clicked: ['sendingId', 'messageId', 'linkUrl', 'withinDays', 'minCount', 'humanOnly'],
  visited: ['eventName', 'linkUrl', 'withinDays', 'minCount', 'humanOnly'],
  submitted: ['formId', 'withinDays', 'minCount', 'humanOnly'],
};
const FIELD_OPS: Record<'email' | 'status' | 'trackingStatus' | 'custom' | 'score', readonly FieldOp[]> = {
  email: ['eq', 'neq', 'contains', 'startsWith', 'endsWith', 'in', 'exists'],
  status: ['eq', 'neq', 'in'],
  trackingStatus: ['eq', 'neq', 'in'],
  custom: ['eq', 'neq', 'contains', 'startsWith', 'endsWith', 'in', 'gt', 'lt', 'exists', 'before', 'after', 'withinDays'],
  score: ['eq', 'neq', 'in', 'gt', 'lt'],
};
const ENUMS: Record<'status' | 'trackingStatus', readonly string[]> = {
  status: ['active', 'inactive', 'quarantine'],
  trackingStatus: ['accepted', 'refused', 'unanswered'],
};
const CUSTOM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ID = /^[0-9]{1,15}$/;
const DATE_VALUE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;
const NUMERIC_TEXT = /^-?[0-9]+(?:\.[0-9]+)?$/;
const DATE_SHAPE = /^[\s\S]{4}-[\s\S]{2}-[\s\S]{2}/u;
const DAY_MS = 86_400_000;

type FieldKind = keyof typeof FIELD_OPS;

function fieldKind(field: string): FieldKind | undefined {
  if (field === 'email' || field === 'status' || field === 'trackingStatus') return field;
  if (field.startsWith('fields.') && CUSTOM_NAME.test(field.slice(7))) return 'custom';
  if (field.startsWith('score.') && ID.test(field.slice(6))) return 'score';
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1e15;
const isPositiveInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;
const isId = (v: unknown): boolean => (typeof v === 'string' && ID.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);

export interface ValidateOptions {
  /** Score rules may not refer to scores (no recursion). */
  allowScore?: boolean;
}

/**
 * Checks an untrusted criteria tree and returns every problem with its path
 * (empty when valid). Pure: model existence is checked by the caller.
 *
 * @example validateCriteria({ all: [{ field: 'email', op: 'gt', value: 1 }] })
 * // [{ field: 'criteria.all[0].op', reason: 'op gt is not valid for field email (use eq, neq, …)' }]
 */
export function validateCriteria(tree: unknown, path = 'criteria', options: ValidateOptions = {}): FieldProblem[] {
  const problems: FieldProblem[] = [];
  let nodes = 0;
  const walk = (node: unknown, at: string, depth: number): void => {
    nodes += 1;
    if (nodes > CRITERIA_LIMITS.maxNodes) {
      if (nodes === CRITERIA_LIMITS.maxNodes + 1) problems.push({ field: at, reason: `a criteria tree holds at most ${CRITERIA_LIMITS.maxNodes} nodes` });
      return;
    }
    if (depth > CRITERIA_LIMITS.maxDepth) {
      problems.push({ field: at, reason: `criteria nest at most ${CRITERIA_LIMITS.maxDepth} levels deep` });
      return;
    }
    if (!isObject(node)) {
      problems.push({ field: at, reason: 'must be an object: {all}, {any}, {not}, a field clause or a behavioural clause' });
      return;
    }
    const keys = Object.keys(node);
    for (const group of ['all', 'any'] as const) {
      if (group in node) {
        extraKeys(node, [group], at);
        const children = node[group];
        if (!Array.isArray(children)) problems.push({ field: `${at}.${group}`, reason: 'must be an array of criteria' });
        else
          children.forEach((child, i) => {
            walk(child, `${at}.${group}[${i}]`, depth + 1);
          });
        return;
      }
    }
    if ('not' in node) {
      extraKeys(node, ['not'], at);
      walk(node.not, `${at}.not`, depth + 1);
      return;
    }
    if ('behavior' in node) behaviorClause(node, at);
    else if ('field' in node) fieldClause(node, at);
    else problems.push({ field: at, reason: `unknown node with keys ${keys.join(', ') || '(none)'}: expected all, any, not, field or behavior` });
  };
  const extraKeys = (node: Record<string, unknown>, allowed: readonly string[], at: string): void => {
    for (const key of Object.keys(node)) if (!allowed.includes(key)) problems.push({ field: `${at}.${key}`, reason: 'unknown property' });
  };
  const behaviorClause = (node: Record<string, unknown>, at: string): void => {
    const behavior = node.behavior as Behavior;
    if (!BEHAVIORS.includes(behavior)) {
      problems.push({ field: `${at}.behavior`, reason: `unknown behavior ${JSON.stringify(node.behavior)} (use ${BEHAVIORS.join(', ')})` });
      return;
    }
    const allowed = BEHAVIOR_KEYS[behavior];
    for (const key of Object.keys(node)) {
      if (key === 'behavior') continue;
      const value = node[key];
      const field = `${at}.${key}`;
      if (!allowed.includes(key)) {
        problems.push({ field, reason: `unknown property for behavior ${behavior} (allowed: ${allowed.join(', ')})` });
      } else if (key === 'sendingId' || key === 'messageId' || key === 'formId') {
        if (!isId(value)) problems.push({ field, reason: 'must be an id (a string of digits)' });
      } else if (key === 'linkUrl' || key === 'eventName') {
        if (typeof value !== 'string' || value === '' || value.length > CRITERIA_LIMITS.maxString) problems.push({ field, reason: `must be a non-empty string of at most ${CRITERIA_LIMITS.maxString} characters` });
      } else if (key === 'withinDays') {
        if (!isPositiveInt(value, CRITERIA_LIMITS.maxDays)) problems.push({ field, reason: `must be an integer from 1 to ${CRITERIA_LIMITS.maxDays}` });
      } else if (key === 'minCount') {
        if (!isPositiveInt(value, CRITERIA_LIMITS.maxCount)) problems.push({ field, reason: `must be an integer from 1 to ${CRITERIA_LIMITS.maxCount}` });
      } else if (key === 'humanOnly' && typeof value !== 'boolean') {
        problems.push({ field, reason: 'must be a boolean' });
      }
    }
  };
  const fieldClause = (node: Record<string, unknown>, at: string): void => {
    extraKeys(node, ['field', 'op', 'value'], at);
    const field = node.field;
    const kind = typeof field === 'string' ? fieldKind(field) : undefined;
    if (kind === undefined) {
      problems.push({ field: `${at}.field`, reason: `unknown field ${JSON.stringify(field)} (use email, status, trackingStatus, fields.<name> or score.<modelId>)` });
      return;
    }
    if (kind === 'score' && options.allowScore === false) {
      problems.push({ field: `${at}.field`, reason: 'score rules cannot refer to scores' });
      return;
    }
    const op = node.op as FieldOp;
    if (!FIELD_OPS[kind].includes(op)) {
      const known = FIELD_OPS.custom.includes(op);
      problems.push({ field: `${at}.op`, reason: `${known ? `op ${op} is not valid for field ${field}` : `unknown op ${JSON.stringify(node.op)}`} (use ${FIELD_OPS[kind].join(', ')})` });
      return;
    }
    const reason = valueProblem(kind, op, node.value, 'value' in node);
    if (reason) problems.push({ field: `${at}.value`, reason });
  };
  walk(tree, path, 1);
  return problems;
}

function scalarProblem(kind: FieldKind, value: unknown): string | undefined {
  if (kind === 'score') return isFiniteNumber(value) ? undefined : 'must be a number';
  if (kind === 'status' || kind === 'trackingStatus') {
    return typeof value === 'string' && ENUMS[kind].includes(value) ? undefined : `must be one of ${ENUMS[kind].join(', ')}`;
  }
  if (kind === 'email') return typeof value === 'string' && value.length <= CRITERIA_LIMITS.maxString ? undefined : 'must be a string';
  if (typeof value === 'string') return value.length <= CRITERIA_LIMITS.maxString ? undefined : `at most ${CRITERIA_LIMITS.maxString} characters`;
  if (typeof value === 'boolean' || isFiniteNumber(value)) return undefined;
  return 'must be a string, a number or a boolean';
}

function valueProblem(kind: FieldKind, op: FieldOp, value: unknown, present: boolean): string | undefined {
  switch (op) {
    case 'eq':
    case 'neq':
      return present ? scalarProblem(kind, value) : 'is required';
    case 'in': {
      if (!Array.isArray(value) || value.length === 0 || value.length > CRITERIA_LIMITS.maxInValues) return `must be an array of 1 to ${CRITERIA_LIMITS.maxInValues} values`;
      for (const [i, item] of value.entries()) {
        const problem = scalarProblem(kind, item);
        if (problem) return `item ${i} ${problem}`;
      }
      return undefined;
    }
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return typeof value === 'string' && value !== '' && value.length <= CRITERIA_LIMITS.maxString ? undefined : 'must be a non-empty string';
    case 'gt':
    case 'lt':
      return isFiniteNumber(value) ? undefined : 'must be a number';
    case 'exists':
      return !present || typeof value === 'boolean' ? undefined : 'must be a boolean (true: has a value, false: has none)';
    case 'before':
    case 'after':
      return typeof value === 'string' && DATE_VALUE.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'must be a date (YYYY-MM-DD or ISO 8601)';
    case 'withinDays':
      return isPositiveInt(value, CRITERIA_LIMITS.maxDays) ? undefined : `must be an integer from 1 to ${CRITERIA_LIMITS.maxDays}`;
  }
}

/**
 * Validates and returns the tree, or throws a 400 `InvalidCriteria` listing every problem.
 *
 * @example parseCriteria({ behavior: 'opened', withinDays: 30 }) // the same tree, typed
 */
export function parseCriteria(tree: unknown, path = 'criteria', options: ValidateOptions = {}): Criteria {
  const problems = validateCriteria(tree, path, options);
  if (problems.length > 0) throw invalidCriteria(problems);
  return tree as Criteria;
}

export function invalidCriteria(problems: FieldProblem[]): AppError {
  const detail = problems
    .slice(0, 5)
    .map((p) => `${p.field}: ${p.reason}`)
    .join('; ');
  return new AppError('InvalidCriteria', detail, problems);
}

/**
 * Validates score rules (criteria without `score.*`; `perOccurrence` needs a single behavioural clause).
 *
 * @example validateScoreRules([{ criteria: { behavior: 'opened' }, points: 5, perOccurrence: true, max: 50 }]) // []
 */
export function validateScoreRules(rules: unknown, path = 'rules'): FieldProblem[] {
  if (!Array.isArray(rules)) return [{ field: path, reason: 'must be an array of rules' }];
  if (rules.length > 100) return [{ field: path, reason: 'a model holds at most 100 rules' }];
  const problems: FieldProblem[] = [];
  rules.forEach((rule, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(rule)) {
      problems.push({ field: at, reason: 'must be an object {criteria, points, perOccurrence?, max?, withinDays?}' });
      return;
    }
    for (const key of Object.keys(rule)) {
      if (!['criteria', 'points', 'perOccurrence', 'max', 'withinDays'].includes(key)) problems.push({ field: `${at}.${key}`, reason: 'unknown property' });
    }
    if (!('criteria' in rule)) problems.push({ field: `${at}.criteria`, reason: 'is required' });
    else problems.push(...validateCriteria(rule.criteria, `${at}.criteria`, { allowScore: false }));
    const { points, max, perOccurrence, withinDays } = rule;
    if (typeof points !== 'number' || !Number.isInteger(points) || Math.abs(points) > CRITERIA_LIMITS.maxPoints) {
      problems.push({ field: `${at}.points`, reason: `must be an integer from -${CRITERIA_LIMITS.maxPoints} to ${CRITERIA_LIMITS.maxPoints}` });
    }
    if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || Math.abs(max) > CRITERIA_LIMITS.maxPoints * 1000)) {
      problems.push({ field: `${at}.max`, reason: 'must be an integer' });
    }
    if (perOccurrence !== undefined && typeof perOccurrence !== 'boolean') problems.push({ field: `${at}.perOccurrence`, reason: 'must be a boolean' });
    if (perOccurrence === true && !(isObject(rule.criteria) && 'behavior' in rule.criteria)) {
      problems.push({ field: `${at}.perOccurrence`, reason: 'points per occurrence need criteria that are one behavioural clause' });
    }
    if (withinDays !== undefined && !isPositiveInt(withinDays, CRITERIA_LIMITS.maxDays)) {
      problems.push({ field: `${at}.withinDays`, reason: `must be an integer from 1 to ${CRITERIA_LIMITS.maxDays}` });
    }
  });
  return problems;
}

/** Score model ids (`score.<id>`) a tree refers to. */
export function referencedScoreModels(tree: Criteria): string[] {
  const ids = new Set<string>();
  const walk = (node: Criteria): void => {
    if ('all' in node) node.all.forEach(walk);
    else if ('any' in node) node.any.forEach(walk);
    else if ('not' in node) walk(node.not);
    else if ('field' in node && node.field.startsWith('score.')) ids.add(node.field.slice(6));
  };
  walk(tree);
  return [...ids];
}

/** Whether a tree holds a behavioural clause (campaign conditions drop untracked contacts there, rule 9). */
export function hasBehavioralClause(tree: Criteria): boolean {
  if ('all' in tree) return tree.all.some(hasBehavioralClause);
  if ('any' in tree) return tree.any.some(hasBehavioralClause);
  if ('not' in tree) return hasBehavioralClause(tree.not);
  return 'behavior' in tree;
}

/** Gives every behavioural clause without its own window the rule's `withinDays`. */
function withDefaultWindow(tree: Criteria, days: number | undefined): Criteria {
  if (days === undefined) return tree;
  if ('all' in tree) return { all: tree.all.map((c) => withDefaultWindow(c, days)) };
  if ('any' in tree) return { any: tree.any.map((c) => withDefaultWindow(c, days)) };
  if ('not' in tree) return { not: withDefaultWindow(tree.not, days) };
  if ('behavior' in tree && tree.withinDays === undefined) return { ...tree, withinDays: days };
  return tree;
}

// ---------------------------------------------------------------------------
// The reference (in-memory) evaluator

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

const capped = (value: number, max: number | undefined): number => (max !== undefined && value > max ? max : value);

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

const fieldDay = (now: number, days: number): string => new Date(now - days * DAY_MS).toISOString().slice(0, 10);
const dateBound = (value: string): string => (value.length === 10 ? value : new Date(value).toISOString());

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
    const status = contact.hasTrackingConsent === true ? 'accepted' : contact.hasTrackingConsent === false ? 'refused' : 'unanswered';
    return status === clause.value;
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

function missingModel(id: string): AppError {
  return new AppError('ScoreModelNotFound', `score.${id}: no score model ${id} in this project`, [{ field: `score.${id}`, reason: 'unknown score model' }]);
}

// ---------------------------------------------------------------------------
// The SQL compiler

export interface CompileOptions extends EvaluateOptions {
  projectId: number;
  dialect: SqlDialect;
}

type Sql = RawBuilder<unknown>;
const TRUE = sql<SqlBool>`1 = 1`;
const FALSE = sql<SqlBool>`1 = 0`;

/**
 * Compiles a criteria tree to a predicate over a `contacts as c` row, with the
 * semantics of {@link evaluateCriteria}. Behavioural clauses become (NOT) EXISTS
 * subqueries on `events` / `deliveries`, each AND-ed with {@link trackedSql}.
 * Every user value is a bound parameter or a validated number literal.
 *
 * @example db.selectFrom('contacts as c').where('c.project_id', '=', pid).where(compileCriteria(tree, options)).select((eb) => eb.fn.countAll().as('n'))
 */
export function compileCriteria(tree: Criteria, options: CompileOptions): Expression<SqlBool> {
  const tracked = trackedSql(options.settings, 'c.has_tracking_consent');
  const join = (parts: Expression<SqlBool>[], glue: 'AND' | 'OR'): Expression<SqlBool> => {
    if (parts.length === 0) return glue === 'AND' ? TRUE : FALSE;
    return sql<SqlBool>`(${sql.join(parts, sql.raw(` ${glue} `))})`;
  };
  const compile = (node: Criteria, negated: boolean): Expression<SqlBool> => {
    if ('all' in node) return join(node.all.map((c) => compile(c, negated)), negated ? 'OR' : 'AND');
    if ('any' in node) return join(node.any.map((c) => compile(c, negated)), negated ? 'AND' : 'OR');
    if ('not' in node) return compile(node.not, !negated);
    if ('behavior' in node) return sql<SqlBool>`(${tracked} AND ${behaviorSql(node, options, negated)})`;
    const predicate = fieldSql(node, options);
    // Field predicates may be NULL (a missing custom field); a negated leaf must still be its exact complement.
    return negated ? sql<SqlBool>`((${predicate}) IS NOT TRUE)` : predicate;
  };
  return compile(tree, false);
}

/**
 * A contact's score in a model as a SQL expression over `contacts as c` (never NULL).
 * Behavioural points are gated by {@link trackedSql} on the contact's current consent (rule 8).
 */
export function compileScore(rules: readonly ScoreRule[], options: CompileOptions): RawBuilder<number> {
  if (rules.length === 0) return sql<number>`0`;
  const tracked = trackedSql(options.settings, 'c.has_tracking_consent');
  const parts = rules.map((rule) => {
    const criteria = withDefaultWindow(rule.criteria, rule.withinDays);
    if (rule.perOccurrence && 'behavior' in criteria) {
      const count = sql`COUNT(*)`;
      const points = sql`${count} * ${sql.lit(rule.points)}`;
      const value = rule.max === undefined ? points : sql`CASE WHEN ${points} > ${sql.lit(rule.max)} THEN ${sql.lit(rule.max)} ELSE ${points} END`;
      const source = behaviorSource(criteria, options, 'correlated');
      return sql`CASE WHEN ${tracked} THEN (SELECT CASE WHEN ${count} < ${sql.lit(criteria.minCount ?? 1)} THEN 0 ELSE ${value} END ${source}) ELSE 0 END`;
    }
    return sql`CASE WHEN ${compileCriteria(criteria, options)} THEN ${sql.lit(capped(rule.points, rule.max))} ELSE 0 END`;
  });
  return sql<number>`(${sql.join(parts, sql` + `)})`;
}

/**
 * `FROM … WHERE …` of the rows (events or deliveries) that make a behavioural clause happen.
 * `correlated` ties them to the outer contact `c`; `uncorrelated` selects
 * the contact ids of one project (used for `c.id IN (…)` on SQLite).
 */
function behaviorSource(clause: BehaviorClause, options: CompileOptions, mode: 'correlated' | 'uncorrelated'): Sql {
  const since = clause.withinDays === undefined ? undefined : options.now - clause.withinDays * DAY_MS;
  const conditions: Sql[] = [];
  if (clause.behavior === 'received') {
    conditions.push(mode === 'correlated' ? sql`d.project_id = c.project_id AND d.contact_id = c.id` : sql`d.project_id = ${options.projectId}`);
    if (clause.sendingId !== undefined) conditions.push(sql`d.sending_id = ${Number(clause.sendingId)}`);
    if (since !== undefined) conditions.push(sql`d.at >= ${since}`);
    const from =
      clause.messageId === undefined
        ? sql`FROM deliveries d`
        : sql`FROM deliveries d JOIN sendings s ON s.project_id = d.project_id AND s.id = d.sending_id AND s.message_id = ${Number(clause.messageId)}`;
    return sql`${from} WHERE ${sql.join(conditions, sql` AND `)}`;
  }
  conditions.push(
    mode === 'correlated' ? sql`e.project_id = c.project_id AND e.contact_id = c.id` : sql`e.project_id = ${options.projectId} AND e.contact_id IS NOT NULL`,
  );
  conditions.push(sql`e.type = ${EVENT_TYPE[clause.behavior]}`);
  if (clause.sendingId !== undefined) conditions.push(sql`e.sending_id = ${Number(clause.sendingId)}`);
  if (clause.messageId !== undefined) conditions.push(sql`e.message_id = ${Number(clause.messageId)}`);
  if (clause.formId !== undefined) conditions.push(sql`e.form_id = ${Number(clause.formId)}`);
  if (clause.eventName !== undefined) conditions.push(sql`e.name = ${clause.eventName}`);
  if (clause.linkUrl !== undefined && clause.behavior !== 'clicked') conditions.push(sql`e.url = ${clause.linkUrl}`);
  if (clause.humanOnly) conditions.push(sql`e.machine = 0`);
  if (since !== undefined) conditions.push(sql`e.at >= ${since}`);
  const from =
    clause.behavior === 'clicked' && clause.linkUrl !== undefined
      ? sql`FROM events e JOIN sending_links sl ON sl.project_id = e.project_id AND sl.sending_id = e.sending_id AND sl.idx = e.link_idx AND sl.url = ${clause.linkUrl}`
      : sql`FROM events e`;
  return sql`${from} WHERE ${sql.join(conditions, sql` AND `)}`;
}

/**
 * Whether the behaviour happened (or, negated, did not) — without the tracked gate.
 * The query shape differs for speed, not meaning (measured on 1M contacts / 10M events):
 * - a correlated `[NOT] EXISTS` probes the `(project_id, contact_id, type, at)` index (or
 *   `deliveries_contact`) once per candidate contact, after the cheaper terms of the row.
 *   PostgreSQL plans it as a hash semi/anti join or a nested loop as it sees fit; on SQLite
 *   it suits broad clauses ("opened in the last 90 days"), whose rows may be millions.
 * - on SQLite, a clause narrowed to one sending, message, form, link or event name selects
 *   few rows, so an uncorrelated `c.id [NOT] IN (SELECT contact_id …)` (NULLs excluded) is
 *   built once per query and probed in memory, half the cost of a probe per contact.
 * At least K times counts at most K rows per contact (`LIMIT`), so a busy contact costs no more than K.
 */
function behaviorSql(clause: BehaviorClause, options: CompileOptions, negated: boolean): Sql {
  const minCount = clause.minCount ?? 1;
  const not = negated ? sql`NOT ` : sql``;
  if (options.dialect === 'postgres' || !isNarrow(clause)) {
    const source = behaviorSource(clause, options, 'correlated');
    if (minCount <= 1) return sql`${not}EXISTS (SELECT 1 ${source})`;
    return sql`${not}((SELECT COUNT(*) FROM (SELECT 1 AS one ${source} LIMIT ${sql.lit(minCount)}) k) >= ${sql.lit(minCount)})`;
  }
  const alias = clause.behavior === 'received' ? sql`d` : sql`e`;
  const source = behaviorSource(clause, options, 'uncorrelated');
  const having = minCount <= 1 ? sql`` : sql` GROUP BY ${alias}.contact_id HAVING COUNT(*) >= ${sql.lit(minCount)}`;
  return sql`c.id ${not}IN (SELECT ${alias}.contact_id ${source}${having})`;
}

/** Whether a clause is narrowed to rows of one sending, message, form, link or event name (few rows per project). */
const isNarrow = (clause: BehaviorClause): boolean =>
  clause.sendingId !== undefined || clause.messageId !== undefined || clause.formId !== undefined || clause.linkUrl !== undefined || clause.eventName !== undefined;

/** The JSON-path access to a custom field: the one place where the dialects' SQL differs in meaning-preserving syntax. */
function customAccess(name: string, dialect: SqlDialect): { text: Sql; number: Sql; exists: Sql; raw: Sql } {
  // `name` is validated against CUSTOM_NAME and still passed as a bound parameter.
  if (dialect === 'sqlite') {
    // SQLite keeps JSON in TEXT and reads it with json_type/json_extract ('$.name' paths);
    // json_extract turns true/false into 1/0, so booleans are spelled out from json_type.
    const path = `$.${name}`;
    const type = sql`json_type(c.fields, ${path})`;
    const value = sql`json_extract(c.fields, ${path})`;
    const unsigned = sql`(CASE WHEN substr(${value}, 1, 1) = '-' THEN substr(${value}, 2) ELSE ${value} END)`;
    const numericText = sql`(${unsigned} GLOB '[0-9]*' AND ${unsigned} NOT GLOB '*[^0-9.]*' AND ${unsigned} NOT GLOB '*.*.*' AND ${unsigned} NOT GLOB '*.')`;
    return {
      text: sql`(CASE ${type} WHEN 'text' THEN ${value} WHEN 'integer' THEN CAST(${value} AS TEXT) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END)`,
      number: sql`(CASE WHEN ${type} IN ('integer', 'real') THEN ${value} WHEN ${type} = 'text' AND ${numericText} THEN CAST(${value} AS REAL) END)`,
      exists: sql`(${type} IS NOT NULL AND ${type} <> 'null' AND NOT (${type} = 'text' AND ${value} = ''))`,
      raw: value,
    };
  }
  // PostgreSQL stores the same TEXT column and reads it as jsonb (->> yields text, true/false as words).
  // COLLATE "C" makes text comparisons byte order, like SQLite and JavaScript.
  const node = sql`(c.fields::jsonb -> ${name})`;
  const type = sql`jsonb_typeof(${node})`;
  const value = sql`(c.fields::jsonb ->> ${name})`;
  return {
    text: sql`((CASE ${type} WHEN 'string' THEN ${value} WHEN 'boolean' THEN ${value} WHEN 'number' THEN (CASE WHEN ${value} ~ '^-?[0-9]+$' AND length(${value}) <= 16 THEN ${value} END) END) COLLATE "C")`,
    number: sql`(CASE WHEN ${type} = 'number' THEN ${value}::double precision WHEN ${type} = 'string' AND ${value} ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN ${value}::double precision END)`,
    exists: sql`(${type} IS NOT NULL AND ${type} <> 'null' AND NOT (${type} = 'string' AND ${value} = ''))`,
    raw: sql`(${value} COLLATE "C")`,
  };
}

/**
 * Whether `raw = value` (the field read without its type check) is exactly `text = value` for
 * this value: true when no value of another JSON type can read as it. It saves parsing the
 * JSON a second time per contact (a third of a 1M-contact count). The raw read gives a
 * string's text, JSON text for an object or array, NULL for null; SQLite gives numbers and
 * booleans as SQL numbers (never equal to text), PostgreSQL gives them as text
 * ('true', '-12', '1.5'), of which `text` keeps only the booleans and integers of ≤ 16 characters.
 */
function rawEqualsText(value: string, dialect: SqlDialect): boolean {
  if (value.startsWith('{') || value.startsWith('[')) return false;
  if (dialect === 'sqlite') return value !== 'true' && value !== 'false' && !/^-?[0-9]+$/.test(value);
  return !NUMERIC_TEXT.test(value) || (/^-?[0-9]+$/.test(value) && value.length <= 16);
}

function stringSql(op: FieldOp, column: Sql, value: string, dialect: SqlDialect): Sql {
  const length = [...value].length;
  switch (op) {
    case 'contains':
      return dialect === 'sqlite' ? sql`(instr(${column}, ${value}) > 0)` : sql`(strpos(${column}, ${value}) > 0)`;
    case 'startsWith':
      return sql`(substr(${column}, 1, ${sql.lit(length)}) = ${value})`;
    case 'endsWith':
      return sql`(length(${column}) >= ${sql.lit(length)} AND substr(${column}, length(${column}) - ${sql.lit(length - 1)}) = ${value})`;
    default:
      return sql`(${column} = ${value})`;
  }
}

const numberSql = (op: FieldOp, expression: Sql | Expression<number>, value: number): Sql =>
  sql`(${expression} ${sql.raw(op === 'gt' ? '>' : op === 'lt' ? '<' : '=')} ${sql.lit(value)})`;

function fieldSql(clause: FieldClause, options: CompileOptions): Expression<SqlBool> {
  const { field, op } = clause;
  if (op === 'neq') return sql<SqlBool>`((${fieldSql({ field, op: 'eq', value: clause.value as Scalar }, options)}) IS NOT TRUE)`;
  if (op === 'in') {
    const parts = (clause.value as Scalar[]).map((value) => fieldSql({ field, op: 'eq', value }, options));
    return sql<SqlBool>`(${sql.join(parts, sql` OR `)})`;
  }
  if (field === 'email') {
    if (op === 'exists') return (clause.value ?? true) ? sql<SqlBool>`(c.email IS NOT NULL)` : sql<SqlBool>`(c.email IS NULL)`;
    return stringSql(op, sql`c.email`, normalizeEmail(String(clause.value)), options.dialect) as RawBuilder<SqlBool>;
  }
  if (field === 'status') return sql<SqlBool>`(c.status = ${String(clause.value)})`;
  if (field === 'trackingStatus') {
    if (clause.value === 'accepted') return sql<SqlBool>`(c.has_tracking_consent = 1)`;
    if (clause.value === 'refused') return sql<SqlBool>`(c.has_tracking_consent = 0)`;
    return sql<SqlBool>`(c.has_tracking_consent IS NULL)`;
  }
  if (field.startsWith('score.')) {
    const id = field.slice(6);
    const rules = options.scoreModels?.get(id);
    if (!rules) throw missingModel(id);
    return numberSql(op, compileScore(rules, options), clause.value as number) as RawBuilder<SqlBool>;
  }
  const access = customAccess(field.slice(7), options.dialect);
  const value = clause.value;
  switch (op) {
    case 'exists':
      return ((value ?? true) ? access.exists : sql`(${access.exists}) IS NOT TRUE`) as RawBuilder<SqlBool>;
    case 'eq':
    case 'gt':
    case 'lt':
      if (typeof value === 'number') return numberSql(op, access.number, value) as RawBuilder<SqlBool>;
      if (op === 'eq' && rawEqualsText(String(value), options.dialect)) return sql<SqlBool>`(${access.raw} = ${String(value)})`;
      return sql<SqlBool>`(${access.text} = ${String(value)})`;
    case 'before':
    case 'after':
    case 'withinDays': {
      const dated = sql`${access.text} LIKE '____-__-__%'`;
      if (op === 'before') return sql<SqlBool>`(${dated} AND ${access.text} < ${dateBound(String(value))})`;
      if (op === 'after') return sql<SqlBool>`(${dated} AND ${access.text} > ${dateBound(String(value))})`;
      const from = fieldDay(options.now, value as number);
      return sql<SqlBool>`(${dated} AND ${access.text} >= ${from} AND ${access.text} <= ${new Date(options.now).toISOString()})`;
    }
    default:
      return stringSql(op, access.text, String(value), options.dialect) as RawBuilder<SqlBool>;
  }
}
