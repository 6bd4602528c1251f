// The splitter decides where every record ends and which line it is on before anything is decoded: a record cut
// differently depending on how the upload was chunked would report a different line, or let a long line through.
import { describe, expect, it } from 'vitest';
import { RecordSplitter, type SplitRecord } from './csv-record-splitter.js';

const BYTE = { size: 1, littleEndian: false } as const;

function split(input: Buffer, chunkSize: number, maxBytes = 1024, units: { size: 1 | 2; littleEndian: boolean } = BYTE): SplitRecord[] {
  const splitter = new RecordSplitter(units, maxBytes, ',');
  const out: SplitRecord[] = [];
  for (let at = 0; at < input.length; at += chunkSize) out.push(...splitter.push(input.subarray(at, at + chunkSize)));
  out.push(...splitter.end());
  return out;
}

const view = (records: SplitRecord[], encoding: BufferEncoding = 'utf8') =>
  records.map((r) => ({ line: r.line, breaks: r.breaks, text: r.bytes.toString(encoding), oversized: r.oversized, unclosed: r.unclosed }));

describe('RecordSplitter', () => {
  const csv = Buffer.from('email,note\r\na@x.io,"two\r\nlines"\r\n\r\nb@x.io,"say ""hi"""\rc@x.io,5" disk\nd@x.io,"open');

  it('cuts records on CRLF, LF and CR outside quotes, counting physical lines, whatever the chunk size', () => {
    const expected = [
      { line: 1, breaks: 0, text: 'email,note', oversized: false, unclosed: false },
      { line: 2, breaks: 1, text: 'a@x.io,"two\r\nlines"', oversized: false, unclosed: false },
      { line: 4, breaks: 0, text: '', oversized: false, unclosed: false },
      { line: 5, breaks: 0, text: 'b@x.io,"say ""hi"""', oversized: false, unclosed: false },
      { line: 6, breaks: 0, text: 'c@x.io,5" disk', oversized: false, unclosed: false },
      { line: 7, breaks: 0, text: 'd@x.io,"open', oversized: false, unclosed: true },
    ];
    for (let size = 1; size <= csv.length; size++) expect(view(split(csv, size)), `chunks of ${size}`).toEqual(expected);
  });

  it('bounds a record: a long line keeps its first maxBytes and reading goes on at the next line', () => {
    const input = Buffer.from(`h\n${'x'.repeat(5000)}\nok\n`);
    for (const size of [1, 7, 64, 10_000]) {
      const records = split(input, size, 100);
      expect(records.map((r) => [r.line, r.oversized, r.bytes.length])).toEqual([
        [1, false, 1],
        [2, true, 100],
        [3, false, 2],
      ]);
    }
  });

  it('ends an oversized quoted record at its first line break past the bound, so an unclosed quote costs one record', () => {
    const input = Buffer.from(`h\n"${'x'.repeat(50)}\n${'y'.repeat(80)}\nnext\nlast\n`);
    for (const size of [1, 3, 200]) {
      expect(split(input, size, 100).map((r) => [r.line, r.breaks, r.oversized, r.bytes.length > 100])).toEqual([
        [1, 0, false, false],
        [2, 1, true, false],
        [4, 0, false, false],
        [5, 0, false, false],
      ]);
    }
  });

  it('reads UTF-16 two bytes at a time in either byte order, even when a chunk splits a code unit', () => {
    const text = 'email\r\nzoë@x.io,"a\nb"\n';
    const le = Buffer.from(text, 'utf16le');
    const be = Buffer.from(le).swap16();
    for (const size of [1, 3, 5, 1000]) {
      const expected = [
        { line: 1, breaks: 0, text: 'email' },
        { line: 2, breaks: 1, text: 'zoë@x.io,"a\nb"' },
      ];
      expect(split(le, size, 1024, { size: 2, littleEndian: true }).map((r) => ({ line: r.line, breaks: r.breaks, text: r.bytes.toString('utf16le') }))).toEqual(expected);
      expect(split(be, size, 1024, { size: 2, littleEndian: false }).map((r) => ({ line: r.line, breaks: r.breaks, text: Buffer.from(r.bytes).swap16().toString('utf16le') }))).toEqual(expected);
    }
  });

  it('waits after the header until the delimiter is known, then cuts the rest with it', () => {
    const splitter = new RecordSplitter(BYTE, 1024);
    const first = splitter.push(Buffer.from('a;b\nx,"1;\n2"\n'));
    expect(first.map((r) => r.bytes.toString())).toEqual(['a;b']);
    splitter.setDelimiter(';');
    // With `;` the quote is inside a cell, not at its start: the line break ends the record.
    expect([...splitter.push(Buffer.alloc(0)), ...splitter.end()].map((r) => r.bytes.toString())).toEqual(['x,"1;', '2"']);
  });
});
