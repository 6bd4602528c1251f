import { badInput } from './errors.js';

/** Contact properties a CSV column can feed; custom fields are `fields.<name>`. */
export const IMPORT_TARGETS = ['email', 'externalId', 'phone', 'status', 'hasTrackingConsent', 'dtTrackingConsent'] as const;
export type CoreTarget = (typeof IMPORT_TARGETS)[number];
export type ImportTarget = CoreTarget | `fields.${string}`;

/** One `column:target` pair of a mapping, as the user wrote the column. */
export interface MappingEntry {
  column: string;
  target: ImportTarget;
}

/** A mapping resolved against the header: which cell index feeds which target. */
export interface ResolvedColumn {
  index: number;
  column: string;
  target: ImportTarget;
}

/** A CSV row turned into a merge record (string values, not yet validated). */
export interface ImportRecord {
  email?: string;
  externalId?: string;
  phone?: string;
  status?: string;
  hasTrackingConsent?: string;
  dtTrackingConsent?: string;
  fields?: Record<string, string>;
}

export type Delimiter = ',' | ';' | '\t';

const BOM = /^\uFEFF/;
const TARGET_BY_LOWER = new Map<string, CoreTarget>(IMPORT_TARGETS.map((t) => [t.toLowerCase(), t]));

/** Header cells compare trimmed, case-insensitively and without a byte-order mark. */
function headerKey(name: string): string {
  return name.replace(BOM, '').trim().toLowerCase();
}

function parseTarget(text: string): ImportTarget {
  const trimmed = text.trim();
  const core = TARGET_BY_LOWER.get(trimmed.toLowerCase());
  if (core) return core;
  const custom = /^fields\.(.+)$/i.exec(trimmed);
  if (custom?.[1] && custom[1].trim() !== '') return `fields.${custom[1].trim()}`;
  throw badInput('map', `unknown target ${JSON.stringify(trimmed)} (expected ${IMPORT_TARGETS.join(', ')} or fields.<name>)`);
}

/**
 * Reads a mapping written as `Column:target,Column:target`. Targets are
 * {@link IMPORT_TARGETS} (any case) or `fields.<name>`; the column is
 * everything before the last `:`. Throws a 400 on the `map` field.
 *
 * @example parseMapping('E-mail:email,Consent:hasTrackingConsent') // [{ column: 'E-mail', target: 'email' }, { column: 'Consent', target: 'hasTrackingConsent' }]
 */
export function parseMapping(text: string): MappingEntry[] {
  const entries: MappingEntry[] = [];
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const colon = part.lastIndexOf(':');
    if (colon <= 0) throw badInput('map', `${JSON.stringify(part.trim())} is not Column:target (comma-separated pairs such as Email:email,First name:fields.firstName; encode the query string, e.g. with curl --data-urlencode)`);
    const column = part.slice(0, colon).replace(BOM, '').trim();
    if (column === '') throw badInput('map', `${JSON.stringify(part.trim())} has no column name`);
    const target = parseTarget(part.slice(colon + 1));
    if (seen.has(target)) throw badInput('map', `${target} is mapped twice`);
    seen.add(target);
    entries.push({ column, target });
  }
  if (entries.length === 0) throw badInput('map', 'the mapping is empty');
  return entries;
}

/**
 * Reads the `delimiter` parameter: `,`, `;`, a tab, or the words comma, semicolon, tab.
 *
 * @example parseDelimiter('semicolon') // ';'
 */
export function parseDelimiter(text: string): Delimiter {
  const named: Record<string, Delimiter> = { ',': ',', ';': ';', '\t': '\t', comma: ',', semicolon: ';', tab: '\t', '\\t': '\t' };
  const delimiter = named[text.trim() === '' ? text : text.trim().toLowerCase()];
  if (!delimiter) throw badInput('delimiter', 'must be "," or ";" (or tab)');
  return delimiter;
}

/**
 * Guesses the delimiter from the header line: whichever of `,`, `;` and tab
 * occurs most outside quotes; `,` on a tie.
 *
 * @example detectDelimiter('E-mail;Consent;Date') // ';'
 */
export function detectDelimiter(headerLine: string): Delimiter {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === ',' || char === ';' || char === '\t')) counts[char] += 1;
    else if (!quoted && (char === '\n' || char === '\r')) break;
  }
  if (counts[';'] > counts[','] && counts[';'] >= counts['\t']) return ';';
  if (counts['\t'] > counts[','] && counts['\t'] > counts[';']) return '\t';
  return ',';
}

/** Auto-mapping compares headers without case, spaces, dashes or underscores: `E-mail` → email, `external_id` → externalId. */
function looseKey(name: string): string {
  return headerKey(name).replace(/[\s_-]+/g, '');
}

/**
 * Matches a mapping to the header row. Without a mapping, columns named like a
 * target map to it (`email`, `E-mail`, `hasTrackingConsent`, `fields.city`)
 * and every other named column becomes `fields.<header>`. Throws a 400 on
 * `map` for a column missing from the header or when neither email nor
 * externalId is mapped.
 *
 * @example resolveColumns(['E-mail', 'City'], null) // [{ index: 0, column: 'E-mail', target: 'email' }, { index: 1, column: 'City', target: 'fields.City' }]
 */
export function resolveColumns(header: string[], mapping: MappingEntry[] | null): ResolvedColumn[] {
  const columns: ResolvedColumn[] = [];
  if (mapping) {
    const keys = header.map(headerKey);
    for (const entry of mapping) {
      const index = keys.indexOf(headerKey(entry.column));
      if (index < 0) throw badInput('map', `column ${JSON.stringify(entry.column)} is not in the header (${header.map((h) => JSON.stringify(h.trim())).join(', ')})`);
      columns.push({ index, column: entry.column, target: entry.target });
    }
  } else {
    const loose = new Map<string, CoreTarget>(IMPORT_TARGETS.map((t) => [t.toLowerCase(), t]));
    const taken = new Set<string>();
    header.forEach((cell, index) => {
      const column = cell.replace(BOM, '').trim();
      if (column === '') return;
      const core = loose.get(looseKey(column));
      const custom = /^fields\.(.+)$/i.exec(column)?.[1]?.trim();
      const target: ImportTarget = core && !taken.has(core) ? core : `fields.${custom || column}`;
      if (taken.has(target)) return;
      taken.add(target);
      columns.push({ index, column, target });
    });
  }
  if (!columns.some((c) => c.target === 'email' || c.target === 'externalId')) {
    throw badInput('map', mapping ? 'no column is mapped to email or externalId' : 'no email or externalId column in the header; give a mapping (map=Column:email,…)');
  }
  return columns;
}

/** A row whose every cell is empty (a trailing `;;;` line) carries nothing to import. */
export function isBlankRow(row: readonly string[]): boolean {
  return row.every((cell) => cell.trim() === '');
}

/**
 * Turns one CSV row into a merge record. Cells are trimmed; empty cells are
 * left out (they never clear a value). A consent value without a date gets
 * `defaultConsentDate` — the import's start time.
 *
 * @example rowToRecord(['ana@example.com', '1', ''], columns, '2026-01-01T00:00:00.000Z') // { email: 'ana@example.com', hasTrackingConsent: '1', dtTrackingConsent: '2026-01-01T00:00:00.000Z' }
 */
export function rowToRecord(row: readonly string[], columns: readonly ResolvedColumn[], defaultConsentDate: string): ImportRecord {
  const record: ImportRecord = {};
  for (const { index, target } of columns) {
    const value = (row[index] ?? '').trim();
    if (value === '') continue;
    if (target.startsWith('fields.')) {
      record.fields ??= {};
      record.fields[target.slice('fields.'.length)] = value;
    } else {
      record[target as CoreTarget] = value;
    }
  }
  if (record.hasTrackingConsent !== undefined && record.dtTrackingConsent === undefined) record.dtTrackingConsent = defaultConsentDate;
  return record;
}

/**
 * The text encodings an import reads, as spreadsheets export them. `latin1` is
 * read as windows-1252, as the WHATWG Encoding Standard (and every browser)
 * does; `utf-16` needs a byte-order mark to know its byte order. A byte-order
 * mark at the start of the file overrides the encoding given.
 */
export const IMPORT_ENCODINGS = ['utf-8', 'windows-1252', 'latin1', 'utf-16', 'utf-16le', 'utf-16be'] as const;
export type ImportEncoding = (typeof IMPORT_ENCODINGS)[number];

/**
 * Reads the `encoding` parameter (any case); `utf-8` when absent. Throws a 400 on `encoding`.
 *
 * @example parseEncoding('Windows-1252') // 'windows-1252'
 */
export function parseEncoding(text: string | undefined): ImportEncoding {
  if (text === undefined || text.trim() === '') return 'utf-8';
  const wanted = text.trim().toLowerCase();
  const found = IMPORT_ENCODINGS.find((e) => e === wanted);
  if (!found) throw badInput('encoding', `must be one of ${IMPORT_ENCODINGS.join(', ')}`);
  return found;
}
