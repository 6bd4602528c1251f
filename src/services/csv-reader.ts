import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type CsvError, type Options, parse } from 'csv-parse';
import { type Delimiter, detectDelimiter } from '../domain/import-mapping.js';

/** A line of a CSV file that is not imported, with why. */
export interface ImportReject {
  line: number;
  reason: string;
  raw: string;
}

/** One CSV record with its raw text and where it starts. */
export interface ParsedLine {
  record: string[];
  raw: string;
  /** Physical line where the record starts (the header is line 1). */
  line: number;
}

/** A CSV file being read, one record at a time, with backpressure. */
export interface CsvSource {
  delimiter: Delimiter;
  /** The file holds nothing but blanks (it has been read to its end). */
  empty: boolean;
  /** The records, header first; blank lines are records of one empty cell. */
  records: AsyncIterator<ParsedLine>;
  /** Chunks the parser could not read, in file order; the caller takes them (splice) as it goes. */
  skipped: ImportReject[];
  /** Bytes consumed so far. */
  readonly bytes: number;
  /** Stops reading (on an error, or when there is nothing to import). */
  close(): Promise<void>;
  /** Waits for the end of the input; the error that ended it, or null. */
  ended(): Promise<unknown>;
}

/** A record longer than this is almost always an unclosed quote swallowing the file; parsing stops there. */
const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_RAW_CHARS = 2000;
const HEAD_LIMIT = 1024 * 1024;

/**
 * Opens a CSV stream: reads up to the end of the header line to guess the
 * delimiter (unless `delimiter` is given), then streams the rest through
 * csv-parse, counting physical line numbers itself.
 */
export async function openCsv(input: AsyncIterable<Buffer | string>, delimiter?: Delimiter): Promise<CsvSource> {
  const source = input[Symbol.asyncIterator]();
  let bytes = 0;
  const head: Buffer[] = [];
  let headBytes = 0;
  let finished = false;
  while (headBytes < HEAD_LIMIT) {
    const next = await source.next();
    if (next.done) {
      finished = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    headBytes += chunk.length;
    if (chunk.includes(0x0a)) break;
  }
  const headText = Buffer.concat(head).toString('utf8').replace(/^\uFEFF/, '');
  const chosen: Delimiter = delimiter ?? detectDelimiter(headText);
  if (headText.trim() === '') {
    await drain(source);
    const none: AsyncIterator<ParsedLine> = { next: async () => ({ done: true, value: undefined }) };
    return { delimiter: chosen, empty: true, records: none, skipped: [], bytes: headBytes, close: async () => {}, ended: async () => null };
  }

  const skipped: ImportReject[] = [];
  // csv-parse's own line counter counts a CRLF inside quotes twice, so lines
  // are counted here: empty lines are kept as records (and skipped by the caller) and
  // every record or unreadable chunk advances the counter by the breaks it spans.
  // on_record and on_skip run in file order, before records are read.
  let nextLine = 1;
  const parserOptions: Options<unknown, unknown> = {
    bom: true,
    delimiter: chosen,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: false,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_BYTES,
    on_record: (parsed: unknown): ParsedLine => {
      // With `raw: true` and no `columns`, csv-parse hands over { record, raw }.
      const line = nextLine;
      const { record, raw: rawText } = parsed as { record: string[]; raw: string };
      const raw = trimRaw(rawText);
      nextLine += countBreaks(raw) + 1;
      return { record, raw, line };
    },
    on_skip: (error: CsvError | undefined, raw: string | undefined): undefined => {
      const line = nextLine;
      const text = trimRaw(raw ?? '');
      nextLine += countBreaks(text) + 1;
      if (error) skipped.push(parseErrorReject(error, line, line + countBreaks(text), text));
      return undefined;
    },
  };
  const parser = parse(parserOptions as Options);
  const feed = Readable.from(
    (async function* () {
      for (const chunk of head) {
        bytes += chunk.length;
        yield chunk;
      }
      if (finished) return;
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
        bytes += chunk.length;
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
  const piped = pipeline(feed, parser).then(
    () => null,
    (error: unknown) => error,
  );
  return {
    delimiter: chosen,
    empty: false,
    records: parser[Symbol.asyncIterator]() as AsyncIterator<ParsedLine>,
    skipped,
    get bytes() {
      return bytes;
    },
    close: async () => {
      parser.destroy();
      feed.destroy();
      await piped;
    },
    ended: () => piped,
  };
}

/** A raw line as kept in a reject: at most 2000 characters. */
export function clip(text: string): string {
  return text.length > MAX_RAW_CHARS ? `${text.slice(0, MAX_RAW_CHARS)}…` : text;
}

/** A record's raw text without its record delimiter. */
function trimRaw(raw: string): string {
  return raw.replace(/[\r\n]+$/, '');
}

/** Physical line breaks in a text: CRLF, LF or a lone CR each count once. */
function countBreaks(text: string): number {
  if (!text.includes('\n') && !text.includes('\r')) return 0;
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

function parseErrorReject(error: CsvError, line: number, endLine: number, raw: string): ImportReject {
  let reason: string;
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') reason = `unclosed quote: lines ${line} to ${endLine} (the end of the file) could not be read`;
  else if (error.code === 'CSV_MAX_RECORD_SIZE') reason = 'a record longer than 1 MiB starts here (most likely an unclosed quote): the rest of the file was not read';
  else reason = `unreadable CSV: ${error.message.replace(/ at line \d+.*$/, '')}`;
  return { line, reason, raw: clip(raw) };
}

async function drain(source: AsyncIterator<unknown>): Promise<void> {
  for (;;) {
    const next = await source.next();
    if (next.done) return;
  }
}
