import { describe, expect, it } from 'vitest';
import { csvCell } from './csv-cell.js';

describe('csvCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+33 6 12', "'+33 6 12"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
    ['=HYPERLINK("http://evil","x")', `"'=HYPERLINK(""http://evil"",""x"")"`],
  ])('a formula cell %j is neutralised so a spreadsheet shows it as text', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('quotes delimiters, quotes and line breaks, leaves plain text and empty values alone', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('a;b')).toBe('a;b');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('ana@example.com')).toBe('ana@example.com');
    expect(csvCell(null)).toBe('');
    expect(csvCell(12)).toBe('12');
  });
});
