import { AppError, type FieldProblem } from './errors.js';
import { textProblem } from './safe-text.js';

/*
 * Criteria: the tree shared by groups, campaign conditions and score rules
 * (SPEC §11) and its validation. The reference evaluator is in
 * `criteria-evaluator.ts`, the SQL compiler in `criteria-sql.ts`.
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
/** The `events.type` of each behaviour but `received` (which counts deliveries). */
export const EVENT_TYPE: Record<Exclude<Behavior, 'received'>, string> = { opened: 'open', clicked: 'click', visited: 'web', submitted: 'form_submit' };
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
export const NUMERIC_TEXT = /^-?[0-9]+(?:\.[0-9]+)?$/;
export const DATE_SHAPE = /^[\s\S]{4}-[\s\S]{2}-[\s\S]{2}/u;
export const DAY_MS = 86_400_000;

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
  if (kind === 'email') return typeof value === 'string' && value.length <= CRITERIA_LIMITS.maxString ? (textProblem(value) ?? undefined) : 'must be a string';
  if (typeof value === 'string') return value.length <= CRITERIA_LIMITS.maxString ? (textProblem(value) ?? undefined) : `at most ${CRITERIA_LIMITS.maxString} characters`;
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
      return typeof value === 'string' && value !== '' && value.length <= CRITERIA_LIMITS.maxString ? (textProblem(value) ?? undefined) : 'must be a non-empty string';
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

/**
 * The sendings, messages and forms a tree's behavioural clauses name, so a
 * group can be refused when one of them is not its project's.
 *
 * @example referencedObjects({ behavior: 'clicked', sendingId: '4' }) // { sendings: [4], messages: [], forms: [] }
 */
export function referencedObjects(tree: Criteria): { sendings: number[]; messages: number[]; forms: number[] } {
  const found = { sendings: new Set<number>(), messages: new Set<number>(), forms: new Set<number>() };
  const walk = (node: Criteria): void => {
    if ('all' in node) node.all.forEach(walk);
    else if ('any' in node) node.any.forEach(walk);
    else if ('not' in node) walk(node.not);
    else if ('behavior' in node) {
      const clause = node as { sendingId?: string; messageId?: string; formId?: string };
      if (clause.sendingId !== undefined) found.sendings.add(Number(clause.sendingId));
      if (clause.messageId !== undefined) found.messages.add(Number(clause.messageId));
      if (clause.formId !== undefined) found.forms.add(Number(clause.formId));
    }
  };
  walk(tree);
  return { sendings: [...found.sendings], messages: [...found.messages], forms: [...found.forms] };
}

/**
 * Whether a tree holds a behavioural clause, at any depth: untracked contacts
 * leave a campaign at such a condition (rule 9).
 *
 * @example hasBehaviorClause({ not: { behavior: 'opened' } }) // true
 */
export function hasBehaviorClause(tree: Criteria): boolean {
  if ('all' in tree) return tree.all.some(hasBehaviorClause);
  if ('any' in tree) return tree.any.some(hasBehaviorClause);
  if ('not' in tree) return hasBehaviorClause(tree.not);
  return 'behavior' in tree;
}

/** Gives every behavioural clause without its own window the rule's `withinDays`. */
export function withDefaultWindow(tree: Criteria, days: number | undefined): Criteria {
  if (days === undefined) return tree;
  if ('all' in tree) return { all: tree.all.map((c) => withDefaultWindow(c, days)) };
  if ('any' in tree) return { any: tree.any.map((c) => withDefaultWindow(c, days)) };
  if ('not' in tree) return { not: withDefaultWindow(tree.not, days) };
  if ('behavior' in tree && tree.withinDays === undefined) return { ...tree, withinDays: days };
  return tree;
}

/** A rule's points, capped at its `max`. */
export const capped = (value: number, max: number | undefined): number => (max !== undefined && value > max ? max : value);

/** The day (YYYY-MM-DD) `days` before `now`: the lower bound of a custom date field's `withinDays`. */
export const fieldDay = (now: number, days: number): string => new Date(now - days * DAY_MS).toISOString().slice(0, 10);
/** A `before`/`after` bound: a bare date stays a date, a date-time becomes UTC ISO 8601. */
export const dateBound = (value: string): string => (value.length === 10 ? value : new Date(value).toISOString());

/** A `score.<id>` clause names a model the caller did not provide. */
export function missingModel(id: string): AppError {
  return new AppError('ScoreModelNotFound', `score.${id}: no score model ${id} in this project`, [{ field: `score.${id}`, reason: 'unknown score model' }]);
}
