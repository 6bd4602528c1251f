import { type RawBuilder, sql } from 'kysely';
import { NUMERIC_TEXT, type SqlDialect } from './criteria.js';

export type Sql = RawBuilder<unknown>;

/** A custom field `c.fields -> name` read four ways. */
export interface CustomAccess {
  /** Its text: strings, booleans as `true`/`false`, safe integers; NULL for anything else. */
  text: Sql;
  /** Its number: JSON numbers and decimal strings; NULL for anything else. */
  number: Sql;
  /** Whether it has a value (not absent, null or ''). */
  exists: Sql;
  /** The field read without its type check (see `rawEqualsText`). */
  raw: Sql;
}

/**
 * The pieces of the criteria compiler whose SQL differs between the engines,
 * one object per dialect (as Kysely keeps its dialects apart). Each piece
 * means the same on both; only the spelling or the fastest shape differs.
 */
export interface CriteriaSqlDialect {
  /** The JSON-path access to a custom field (`name` is validated and still bound). */
  customAccess(name: string): CustomAccess;
  /**
   * Whether `raw = value` (the field read without its type check) is exactly `text = value` for
   * this value: true when no value of another JSON type can read as it. It saves parsing the
   * JSON a second time per contact (a third of a 1M-contact count). The raw read gives a
   * string's text, JSON text for an object or array, NULL for null.
   */
  rawEqualsText(value: string): boolean;
  /** `column` contains `value` (byte-wise, no pattern characters). */
  contains(column: Sql, value: string): Sql;
  /**
   * Whether a behavioural clause narrowed to one sending, message, form, link or event name is
   * compiled as an uncorrelated `c.id IN (…)` list rather than a correlated EXISTS (see `behaviorSql`).
   */
  narrowAsInList: boolean;
  /**
   * A list of values as one bound JSON-array parameter, for `x IN (…)`: one placeholder whatever the
   * length (SQLite fails at 1,000 ORs deep or 32,766 placeholders), and one statement text.
   */
  valueList(values: readonly (string | number)[], as: 'text' | 'number'): Sql;
}

const notJsonText = (value: string): boolean => !value.startsWith('{') && !value.startsWith('[');

/**
 * SQLite keeps JSON in TEXT and reads it with json_type/json_extract ('$.name' paths);
 * json_extract turns true/false into 1/0, so booleans are spelled out from json_type.
 */
const sqlite: CriteriaSqlDialect = {
  customAccess(name) {
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
  },
  // SQLite gives numbers and booleans as SQL numbers (never equal to text).
  rawEqualsText: (value) => notJsonText(value) && value !== 'true' && value !== 'false' && !/^-?[0-9]+$/.test(value),
  contains: (column, value) => sql`(instr(${column}, ${value}) > 0)`,
  // A narrow clause selects few rows: the list is built once per query and probed in memory,
  // half the cost of a probe per contact (measured on 1M contacts / 10M events).
  narrowAsInList: true,
  valueList: (values) => sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`,
};

/**
 * PostgreSQL stores the same TEXT column and reads it as jsonb (->> yields text, true/false as words).
 * COLLATE "C" makes text comparisons byte order, like SQLite and JavaScript.
 */
const postgres: CriteriaSqlDialect = {
  customAccess(name) {
    const node = sql`(c.fields::jsonb -> ${name})`;
    const type = sql`jsonb_typeof(${node})`;
    const value = sql`(c.fields::jsonb ->> ${name})`;
    return {
      text: sql`((CASE ${type} WHEN 'string' THEN ${value} WHEN 'boolean' THEN ${value} WHEN 'number' THEN (CASE WHEN ${value} ~ '^-?[0-9]+$' AND length(${value}) <= 16 THEN ${value} END) END) COLLATE "C")`,
      number: sql`(CASE WHEN ${type} = 'number' THEN ${value}::double precision WHEN ${type} = 'string' AND ${value} ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN ${value}::double precision END)`,
      exists: sql`(${type} IS NOT NULL AND ${type} <> 'null' AND NOT (${type} = 'string' AND ${value} = ''))`,
      raw: sql`(${value} COLLATE "C")`,
    };
  },
  // PostgreSQL gives numbers and booleans as text ('true', '-12', '1.5'), of which `text`
  // keeps only the booleans and integers of ≤ 16 characters.
  rawEqualsText: (value) => notJsonText(value) && (!NUMERIC_TEXT.test(value) || (/^-?[0-9]+$/.test(value) && value.length <= 16)),
  contains: (column, value) => sql`(strpos(${column}, ${value}) > 0)`,
  // PostgreSQL plans a correlated EXISTS as a semi/anti join or a nested loop as it sees fit.
  narrowAsInList: false,
  valueList: (values, as) =>
    as === 'number'
      ? sql`(SELECT CAST(value AS double precision) FROM jsonb_array_elements_text(CAST(${JSON.stringify(values)} AS jsonb)))`
      : sql`(SELECT value FROM jsonb_array_elements_text(CAST(${JSON.stringify(values)} AS jsonb)))`,
};

/** The compiler's dialect pieces by engine. */
export const CRITERIA_SQL: Record<SqlDialect, CriteriaSqlDialect> = { sqlite, postgres };
