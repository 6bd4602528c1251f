/** The cells of one CSV record, or why it cannot be read. */
export type CsvRecordResult = { cells: string[] } | { error: string };

/**
 * Splits the text of one CSV record (its line breaks are those of quoted
 * cells) into cells, RFC 4180 style: a cell that starts with `"` is quoted,
 * `""` inside it is a quote; a quote inside an unquoted cell is kept as
 * written. A closing quote followed by anything but the delimiter is an error.
 *
 * @example parseCsvRecord('a@example.com;"Lyon; FR";"say ""hi"""', ';') // { cells: ['a@example.com', 'Lyon; FR', 'say "hi"'] }
 * @example parseCsvRecord('"a"b,c', ',') // { error: 'a closing quote is followed by "b" instead of the delimiter or the end of the line (column 1)' }
 */
export function parseCsvRecord(text: string, delimiter: string): CsvRecordResult {
  const cells: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === 0x22) {
      let cell = '';
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote < 0) return { error: `unclosed quote in column ${cells.length + 1}` };
        cell += text.slice(from, quote);
        if (text.charCodeAt(quote + 1) === 0x22) {
          cell += '"';
          from = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      cells.push(cell);
      if (i >= n) return { cells };
      if (text[i] !== delimiter) return { error: `a closing quote is followed by ${JSON.stringify(text[i])} instead of the delimiter or the end of the line (column ${cells.length})` };
      i += 1;
    } else {
      const end = text.indexOf(delimiter, i);
      if (end < 0) {
        cells.push(text.slice(i));
        return { cells };
      }
      cells.push(text.slice(i, end));
      i = end + 1;
    }
  }
}
