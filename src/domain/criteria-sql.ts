import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import { type TrackingStatus, trackedSql, trackingStatusSql } from './consent.js';
import { normalizeEmail } from './contact.js';
import type { EvaluateOptions } from './criteria-evaluator.js';
import { CRITERIA_SQL, type CriteriaSqlDialect, type Sql } from './criteria-sql-dialects.js';
import {
  type BehaviorClause,
  type Criteria,
  capped,
  DAY_MS,
  dateBound,
  EVENT_TYPE,
  type FieldClause,
  type FieldOp,
  fieldDay,
  missingModel,
  type Scalar,
  type ScoreRule,
  type SqlDialect,
  withDefaultWindow,
} from './criteria.js';

/*
 * The SQL compiler of criteria: the semantics of `criteria-evaluator.ts`
 * (the oracle it is tested against) as one predicate over `contacts as c`.
 * What differs between SQLite and PostgreSQL is kept in `criteria-sql-dialects.ts`.
 */

export interface CompileOptions extends EvaluateOptions {
  projectId: number;
  dialect: SqlDialect;
}

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
 * - on SQLite (`narrowAsInList`), a clause narrowed to one sending, message, form, link or event name selects
 *   few rows, so an uncorrelated `c.id [NOT] IN (SELECT contact_id …)` (NULLs excluded) is
 *   built once per query and probed in memory, half the cost of a probe per contact.
 * At least K times counts at most K rows per contact (`LIMIT`), so a busy contact costs no more than K.
 */
function behaviorSql(clause: BehaviorClause, options: CompileOptions, negated: boolean): Sql {
  const minCount = clause.minCount ?? 1;
  const not = negated ? sql`NOT ` : sql``;
  if (!CRITERIA_SQL[options.dialect].narrowAsInList || !isNarrow(clause)) {
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

function stringSql(op: FieldOp, column: Sql, value: string, dialect: CriteriaSqlDialect): Sql {
  const length = [...value].length;
  switch (op) {
    case 'contains':
      return dialect.contains(column, value);
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

/**
 * `in` as `x IN (one bound list)`, never one OR per value: the same meaning as `eq` per value (numbers
 * compare as numbers, other values as their text), whatever the length of the list.
 */
function inListSql(clause: FieldClause, options: CompileOptions): Expression<SqlBool> {
  const { field } = clause;
  const values = [...new Set(clause.value as Scalar[])];
  const dialect = CRITERIA_SQL[options.dialect];
  if (field === 'trackingStatus') {
    return sql<SqlBool>`(${sql.join(values.map((value) => fieldSql({ field, op: 'eq', value }, options)), sql` OR `)})`;
  }
  if (field === 'email') return sql<SqlBool>`(c.email IN ${dialect.valueList([...new Set(values.map((v) => normalizeEmail(String(v))))], 'text')})`;
  if (field === 'status') return sql<SqlBool>`(c.status IN ${dialect.valueList(values.map(String), 'text')})`;
  if (field.startsWith('score.')) {
    const rules = options.scoreModels?.get(field.slice(6));
    if (!rules) throw missingModel(field.slice(6));
    return sql<SqlBool>`(${compileScore(rules, options)} IN ${dialect.valueList(values as number[], 'number')})`;
  }
  const access = dialect.customAccess(field.slice(7));
  const numbers = values.filter((v): v is number => typeof v === 'number');
  const texts = values.filter((v) => typeof v !== 'number').map(String);
  const parts: Sql[] = [];
  if (numbers.length > 0) parts.push(sql`(${access.number} IN ${dialect.valueList(numbers, 'number')})`);
  if (texts.length > 0) parts.push(sql`(${access.text} IN ${dialect.valueList(texts, 'text')})`);
  return sql<SqlBool>`(${sql.join(parts, sql` OR `)})`;
}

function fieldSql(clause: FieldClause, options: CompileOptions): Expression<SqlBool> {
  const { field, op } = clause;
  if (op === 'neq') return sql<SqlBool>`((${fieldSql({ field, op: 'eq', value: clause.value as Scalar }, options)}) IS NOT TRUE)`;
  if (op === 'in') return inListSql(clause, options);
  if (field === 'email') {
    if (op === 'exists') return (clause.value ?? true) ? sql<SqlBool>`(c.email IS NOT NULL)` : sql<SqlBool>`(c.email IS NULL)`;
    return stringSql(op, sql`c.email`, normalizeEmail(String(clause.value)), CRITERIA_SQL[options.dialect]) as RawBuilder<SqlBool>;
  }
  if (field === 'status') return sql<SqlBool>`(c.status = ${String(clause.value)})`;
  if (field === 'trackingStatus') return trackingStatusSql(clause.value as TrackingStatus, 'c.has_tracking_consent');
  if (field.startsWith('score.')) {
    const id = field.slice(6);
    const rules = options.scoreModels?.get(id);
    if (!rules) throw missingModel(id);
    return numberSql(op, compileScore(rules, options), clause.value as number) as RawBuilder<SqlBool>;
  }
  const dialect = CRITERIA_SQL[options.dialect];
  const access = dialect.customAccess(field.slice(7));
  const value = clause.value;
  switch (op) {
    case 'exists':
      return ((value ?? true) ? access.exists : sql`(${access.exists}) IS NOT TRUE`) as RawBuilder<SqlBool>;
    case 'eq':
    case 'gt':
    case 'lt':
      if (typeof value === 'number') return numberSql(op, access.number, value) as RawBuilder<SqlBool>;
      if (op === 'eq' && dialect.rawEqualsText(String(value))) return sql<SqlBool>`(${access.raw} = ${String(value)})`;
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
      return stringSql(op, access.text, String(value), dialect) as RawBuilder<SqlBool>;
  }
}
