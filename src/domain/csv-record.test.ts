import { describe, expect, it } from 'vitest';
import { parseCsvRecord } from './csv-record.js';

describe('parseCsvRecord', () => {
  it('splits plain and quoted cells, with doubled quotes, delimiters and line breaks inside quotes', () => {
    expect(parseCsvRecord('a,b,,c', ',')).toEqual({ cells: ['a', 'b', '', 'c'] });
    expect(parseCsvRecord('x;"Lyon; FR";"say ""hi""";"two\r\nlines"', ';')).toEqual({ cells: ['x', 'Lyon; FR', 'say "hi"', 'two\r\nlines'] });
    expect(parseCsvRecord('"",a,', ',')).toEqual({ cells: ['', 'a', ''] });
    expect(parseCsvRecord('', ',')).toEqual({ cells: [''] });
  });

  it('keeps a quote inside an unquoted cell as written', () => {
    expect(parseCsvRecord('5" disk, x"y', ',')).toEqual({ cells: ['5" disk', ' x"y'] });
  });

  it('reports a closing quote followed by text, and a quote left open', () => {
    expect(parseCsvRecord('ok,"a"b,c', ',')).toEqual({ error: 'a closing quote is followed by "b" instead of the delimiter or the end of the line (column 2)' });
    expect(parseCsvRecord('ok,"abc', ',')).toEqual({ error: 'unclosed quote in column 2' });
  });
});
