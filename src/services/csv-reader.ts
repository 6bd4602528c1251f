import { parseCsvRecord } from '../domain/csv-record.js';
import { badInput } from '../domain/errors.js';
import { type Delimiter, detectDelimiter, type ImportEncoding } from '../domain/import-mapping.js';
import { type CodeUnits, RecordSplitter, type SplitRecord } from './csv-record-splitter.js';

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

/** What reading a file gives after its header, in file order: a record, or a line that cannot be read. */
export type CsvItem = ({ kind: 'record' } & ParsedLine) | ({ kind: 'reject' } & ImportReject);

/** The encoding a file is decoded with, once its byte-order mark has been read. */
export type DecodedEncoding = 'utf-8' | 'windows-1252' | 'utf-16le' | 'utf-16be';

/** A CSV file being read, one record at a time, with backpressure. */
export interface CsvSource {
  delimiter: Delimiter;
  encoding: DecodedEncoding;
  /** The file holds nothing but blank lines (it has been read to its end). */
  empty: boolean;
  /** The header row (undefined when `empty`). */
  header: ParsedLine | undefined;
  /** The lines after the header; blank lines are left out. */
  items: AsyncGenerator<CsvItem>;
  /** Bytes consumed so far. */
  readonly bytes: number;
  /** Stops reading (on an error, or when there is nothing to import). */
  close(): Promise<void>;
}

/**
 * The most one record may take, in bytes. Past it the record is rejected and
 * reading goes on at the next line, so memory stays bounded whatever the file:
 * a 50 MB line costs 1 MiB, not the line.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_RAW_CHARS = 2000;
/** Chunks are cut to this size so that one big chunk never yields a crowd of records at once. */
const PIECE_BYTES = 64 * 1024;

export interface CsvReadOptions {
  delimiter?: Delimiter | undefined;
  encoding: ImportEncoding;
  maxRecordBytes?: number;
}

/**
 * Opens a CSV stream: reads its byte-order mark (which overrides `encoding`),
 * cuts records with {@link RecordSplitter}, decodes each one strictly (an
 * undecodable line is rejected with its number, never turned into U+FFFD) and
 * reads the header — guessing the delimiter from it unless one is given.
 * Throws a 400 when the header itself cannot be read: too long, undecodable
 * or with an unclosed quote. Physical line numbers count CRLF, LF or CR once.
 */
export async function openCsv(input: AsyncIterable<Buffer | string>, options: CsvReadOptions): Promise<CsvSource> {
  const source = input[Symbol.asyncIterator]();
  const maxBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
  let bytes = 0;
  let finished = false;
  const nextChunk = async (): Promise<Buffer | null> => {
    if (finished) return null;
    const next = await source.next();
    if (next.done) {
      finished = true;
      return null;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    bytes += chunk.length;
    return chunk;
  };

  // The byte-order mark: up to 3 bytes, which may come in more than one chunk.
  let first: Buffer = Buffer.alloc(0);
  while (first.length < 3) {
    const chunk = await nextChunk();
    if (!chunk) break;
    first = first.length === 0 ? chunk : Buffer.concat([first, chunk]);
  }
  let sniffed: ReturnType<typeof sniffEncoding>;
  try {
    sniffed = sniffEncoding(first, options.encoding);
  } catch (error) {
    await source.return?.();
    throw error;
  }
  const { encoding, bomLength } = sniffed;
  const units: CodeUnits = { size: encoding.startsWith('utf-16') ? 2 : 1, littleEndian: encoding === 'utf-16le' };
  const decoder = strictDecoder(encoding);
  const splitter = new RecordSplitter(units, maxBytes, options.delimiter);
  let pending: SplitRecord[] = [];
  let pendingAt = 0;
  const pushPieces = (chunk: Buffer) => {
    for (let at = 0; at < chunk.length; at += PIECE_BYTES) {
      for (const cut of splitter.push(chunk.subarray(at, at + PIECE_BYTES))) pending.push(cut);
    }
  };
  let ended = false;
  /** The next record cut from the file, or null at its end. */
  let opening: Buffer | null = first.subarray(bomLength);
  const nextRecord = async (): Promise<SplitRecord | null> => {
    for (;;) {
      if (pendingAt < pending.length) return pending[pendingAt++]!;
      pending = [];
      pendingAt = 0;
      if (ended) return null;
      const chunk = opening ?? (await nextChunk());
      opening = null;
      if (chunk) {
        pushPieces(chunk);
      } else {
        ended = true;
        pending = splitter.end();
      }
    }
  };
  const close = async () => {
    finished = true;
    await source.return?.();
  };

  // The header: the first line that is not blank.
  let delimiter: Delimiter = options.delimiter ?? ',';
  let header: ParsedLine | undefined;
  try {
    for (;;) {
      const cut = await nextRecord();
      if (!cut) break;
      const text = decodeHeader(cut, decoder, encoding, maxBytes);
      if (text.trim() === '') {
        splitter.resume();
        continue;
      }
      delimiter = options.delimiter ?? detectDelimiter(text);
      splitter.setDelimiter(delimiter);
      const parsed = parseCsvRecord(text, delimiter);
      if ('error' in parsed) throw badInput('file', `the header row (line ${cut.line}) cannot be read: ${parsed.error}`);
      header = { record: parsed.cells, raw: clip(text), line: cut.line };
      break;
    }
  } catch (error) {
    await close();
    throw error;
  }

  const chosen = delimiter;
  const items = (async function* (): AsyncGenerator<CsvItem> {
    for (;;) {
      const cut = await nextRecord();
      if (!cut) return;
      const item = readRecord(cut, decoder, encoding, chosen, maxBytes);
      if (item) yield item;
    }
  })();
  return {
    delimiter,
    encoding,
    empty: header === undefined,
    header,
    items,
    get bytes() {
      return bytes;
    },
    close,
  };
}

/** A raw line as kept in a reject: at most 2000 characters. */
export function clip(text: string): string {
  return text.length > MAX_RAW_CHARS ? `${text.slice(0, MAX_RAW_CHARS)}…` : text;
}

/** A byte-order mark decides the encoding, as the WHATWG Encoding Standard decodes; `utf-16` needs one. */
function sniffEncoding(head: Buffer, given: ImportEncoding): { encoding: DecodedEncoding; bomLength: number } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  if (given === 'utf-16' && head.length > 0) {
    throw badInput('encoding', 'utf-16 needs a byte-order mark at the start of the file to know its byte order; without one, say utf-16le or utf-16be');
  }
  if (given === 'latin1' || given === 'windows-1252') return { encoding: 'windows-1252', bomLength: 0 };
  if (given === 'utf-16le' || given === 'utf-16be') return { encoding: given, bomLength: 0 };
  return { encoding: 'utf-8', bomLength: 0 };
}

/** Decodes one record whole; throws on bytes that are not text in its encoding. */
interface Decoder {
  decode(bytes: Buffer): string;
}

/**
 * windows-1252 as the WHATWG Encoding Standard reads it: latin1 but for
 * 0x80–0x9F (€, smart quotes, Š, Ÿ …; the five unassigned bytes stay C1 controls).
 * Written out because Node 20's TextDecoder decodes that range as latin1.
 */
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';

function strictDecoder(encoding: DecodedEncoding): Decoder {
  if (encoding === 'windows-1252') {
    return {
      decode: (bytes) => {
        const text = bytes.toString('latin1');
        return /[\u0080-\u009f]/.test(text) ? text.replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : text;
      },
    };
  }
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  return { decode: (bytes) => decoder.decode(bytes) };
}

const LABELS: Record<DecodedEncoding, string> = { 'utf-8': 'UTF-8', 'windows-1252': 'windows-1252', 'utf-16le': 'UTF-16LE', 'utf-16be': 'UTF-16BE' };

function decodeHeader(cut: SplitRecord, decoder: Decoder, encoding: DecodedEncoding, maxBytes: number): string {
  if (cut.oversized) throw badInput('file', `the header row (line ${cut.line}) is longer than ${size(maxBytes)}: is this a CSV file with one header line?`);
  if (cut.unclosed) throw badInput('file', `the header row (line ${cut.line}) has an unclosed quote`);
  try {
    return decoder.decode(cut.bytes);
  } catch {
    throw badInput('encoding', `the header row (line ${cut.line}) is not valid ${LABELS[encoding]} (${where(cut.bytes, encoding)}); give the file's encoding: one of utf-8, windows-1252, latin1, utf-16`);
  }
}

/** One record after the header: a record, a reject, or nothing for a blank line. */
function readRecord(cut: SplitRecord, decoder: Decoder, encoding: DecodedEncoding, delimiter: Delimiter, maxBytes: number): CsvItem | null {
  const endLine = cut.line + cut.breaks;
  if (cut.oversized) {
    const raw = clip(lossy(cut.bytes, encoding));
    const span = cut.breaks > 0 ? ` over lines ${cut.line} to ${endLine} (most likely an unclosed quote); reading went on at line ${endLine + 1}` : '';
    return { kind: 'reject', line: cut.line, reason: `record longer than ${size(maxBytes)}, the limit of one record${span}`, raw };
  }
  let text: string;
  try {
    text = decoder.decode(cut.bytes);
  } catch {
    return { kind: 'reject', line: cut.line, reason: `not valid ${LABELS[encoding]} (${where(cut.bytes, encoding)}): give the file's encoding (encoding=windows-1252, latin1 or utf-16)`, raw: clip(lossy(cut.bytes, encoding)) };
  }
  if (cut.unclosed) {
    const last = endLine - cut.trailingBreaks;
    return { kind: 'reject', line: cut.line, reason: `unclosed quote: lines ${cut.line} to ${last} (the end of the file) could not be read`, raw: clip(text.replace(/[\r\n]+$/, '')) };
  }
  if (text === '') return null;
  const parsed = parseCsvRecord(text, delimiter);
  if ('error' in parsed) return { kind: 'reject', line: cut.line, reason: `unreadable CSV: ${parsed.error}`, raw: clip(text) };
  return { kind: 'record', record: parsed.cells, raw: text, line: cut.line };
}

/** Where decoding fails: the character at which a lenient decoding first puts U+FFFD. */
function where(bytes: Buffer, encoding: DecodedEncoding): string {
  const column = lossy(bytes, encoding).indexOf('\uFFFD');
  return column >= 0 ? `at character ${column + 1}` : 'at its end';
}

function lossy(bytes: Buffer, encoding: DecodedEncoding): string {
  if (encoding === 'windows-1252') return strictDecoder(encoding).decode(bytes);
  return new TextDecoder(encoding, { ignoreBOM: true }).decode(bytes);
}

function size(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
