import Papa from 'papaparse';
import { type Delimiter, detectDelimiter, resolveColumns } from '../../../../src/domain/import-mapping';

/** The start of a CSV file, read in the browser before anything is sent. */
export interface CsvPreview {
  header: string[];
  /** The first rows after the header (at most PREVIEW_ROWS). */
  rows: string[][];
  /** What the server would detect from the header line. */
  detected: Delimiter;
}

export const PREVIEW_ROWS = 5;
// Enough for the header and the first rows of any real export; the file itself is streamed to the server whole.
const PREVIEW_BYTES = 256 * 1024;

/** Reads the header and first rows with the chosen delimiter (or the one the server would detect). */
export async function readPreview(file: File, delimiter: Delimiter | ''): Promise<CsvPreview> {
  // Blob.text() decodes UTF-8 and drops a byte-order mark, as the server does.
  const text = await file.slice(0, PREVIEW_BYTES).text();
  const detected = detectDelimiter(text);
  const parsed = Papa.parse<string[]>(text, { delimiter: delimiter || detected, preview: PREVIEW_ROWS + 1, skipEmptyLines: 'greedy' });
  const [header = [], ...rows] = parsed.data;
  return { header: header.map((cell) => cell.replace(/^\uFEFF/, '').trim()), rows, detected };
}

/** What a column can feed; `skip` leaves it out, `fields.<name>` is a custom field. */
export type ColumnTarget = 'skip' | 'email' | 'externalId' | 'phone' | 'status' | 'hasTrackingConsent' | 'dtTrackingConsent' | `fields.${string}`;
export const CORE_TARGETS = ['email', 'externalId', 'phone', 'status', 'hasTrackingConsent', 'dtTrackingConsent'] as const;

// Words an export often uses for the two administrative fields (English and French), beyond the server's own names.
const CONSENT_WORDS = new Set(['consent', 'trackingconsent', 'consentement', 'consentementsuivi']);
const DATE_WORDS = new Set(['consentdate', 'dateconsent', 'trackingconsentdate', 'dateconsentement', 'dateduconsentement']);
const EMAIL_WORDS = new Set(['mail', 'courriel', 'adressecourriel', 'emailaddress']);
const loose = (name: string) => name.toLowerCase().replace(/[\s_-]+/g, '');

/** A column name the `map` parameter cannot carry (it separates pairs with commas). */
export const unmappable = (column: string): boolean => column.includes(',') || column.trim() === '';

/**
 * The mapping the server would make without one (domain/import-mapping.ts `resolveColumns`), plus the
 * usual names of the consent columns; every other named column becomes a custom field.
 */
export function defaultMapping(header: string[]): ColumnTarget[] {
  let server: ColumnTarget[];
  try {
    const resolved = resolveColumns(header, null);
    server = header.map((_, index) => (resolved.find((c) => c.index === index)?.target as ColumnTarget | undefined) ?? 'skip');
  } catch {
    server = header.map((column) => (column.trim() ? (`fields.${column.trim()}` as ColumnTarget) : 'skip'));
  }
  const taken = new Set(server.filter((t) => !t.startsWith('fields.') && t !== 'skip'));
  return header.map((column, index) => {
    const current = server[index] ?? 'skip';
    if (unmappable(column)) return 'skip';
    if (!current.startsWith('fields.')) return current;
    const key = loose(column);
    const guess = CONSENT_WORDS.has(key) ? 'hasTrackingConsent' : DATE_WORDS.has(key) ? 'dtTrackingConsent' : EMAIL_WORDS.has(key) ? 'email' : null;
    if (guess && !taken.has(guess)) {
      taken.add(guess);
      return guess;
    }
    return current;
  });
}

/** `Column:target,…` for the columns that are imported. */
export function mappingParameter(header: string[], targets: ColumnTarget[]): string {
  return header
    .map((column, index) => ({ column, target: targets[index] ?? 'skip' }))
    .filter((c) => c.target !== 'skip')
    .map((c) => `${c.column}:${c.target}`)
    .join(',');
}

/** What is wrong with a mapping before the server is asked: no key column, or a target used twice. */
export function mappingProblem(targets: ColumnTarget[]): 'noKey' | 'twice' | null {
  if (!targets.some((t) => t === 'email' || t === 'externalId')) return 'noKey';
  const used = targets.filter((t) => t !== 'skip');
  return new Set(used).size !== used.length ? 'twice' : null;
}
