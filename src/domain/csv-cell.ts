/**
 * One CSV cell, as every CSV the product writes spells it (rejected import lines, BI and event exports): a
 * cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a leading tab / CR, which some spreadsheets
 * skip before reading `=`) gets a leading `'`; a cell with a comma, a quote or a line break is quoted.
 *
 * @example csvCell('=HYPERLINK("http://evil")') // `"'=HYPERLINK(""http://evil"")"`
 * @example csvCell('ana@example.com') // 'ana@example.com'
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
