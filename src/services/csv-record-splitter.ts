const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
/** The delimiters `detectDelimiter` chooses from, for the header before its delimiter is known. */
const CANDIDATES = [0x2c, 0x3b, 0x09];

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote seen inside a quoted cell: the end of the cell, or the first half of `""`. */
const QUOTE_IN_QUOTED = 3;

/** One record of a CSV file as bytes, cut where it ends, before any decoding. */
export interface SplitRecord {
  /** Physical line where the record starts (the first line is 1). */
  line: number;
  /** Line breaks inside the record (quoted cells); it ends on line `line + breaks`. */
  breaks: number;
  /** The record without its line break; when `oversized`, only its first `maxBytes` bytes. */
  bytes: Buffer;
  /** Longer than `maxBytes`: the rest was read and thrown away. */
  oversized: boolean;
  /** The end of the file came inside a quoted cell. */
  unclosed: boolean;
  /** Line breaks at the very end of an unclosed record (the file's last line breaks). */
  trailingBreaks: number;
}

/** How a file's code units are read: UTF-8 and windows-1252 byte by byte, UTF-16 two bytes at a time. */
export interface CodeUnits {
  size: 1 | 2;
  littleEndian: boolean;
}

/**
 * Cuts a CSV byte stream into records without decoding it and without ever
 * holding more than `maxBytes` of one record: a line break ends a record
 * unless it is inside a quoted cell (`"` opens a cell only at its start, as the
 * cell parser reads it). A record longer than `maxBytes` keeps its first
 * `maxBytes` bytes and ends at the next line break after that point even
 * inside quotes, so an unclosed quote or a 50 MB line costs one record, and the
 * next line is read again. CRLF, LF and a lone CR each count as one line.
 *
 * `push` returns the records that a chunk completes, `end` the last one. Until
 * `setDelimiter` is called the first record (the header) is cut with `,`, `;`
 * and tab as delimiters, and the bytes after it wait.
 */
export class RecordSplitter {
  private delimiter = -1;
  private state = FIELD_START;
  private parts: Buffer[] = [];
  private size = 0;
  private oversized = false;
  private line = 1;
  private breaks = 0;
  private trailing = 0;
  private lastCR = false;
  private skipLF = false;
  private carry: Buffer | null = null;
  private held: Buffer | null = null;
  private awaitingDelimiter: boolean;
  /** The first non-empty record was cut while the delimiter is still unknown: the bytes after it wait. */
  private paused = false;

  constructor(
    private readonly units: CodeUnits,
    private readonly maxBytes: number,
    delimiter?: string,
  ) {
    if (delimiter !== undefined) this.delimiter = delimiter.charCodeAt(0);
    this.awaitingDelimiter = delimiter === undefined;
  }

  /** The delimiter, once the header says it; the bytes held after the header are cut on the next `push`. */
  setDelimiter(delimiter: string): void {
    this.delimiter = delimiter.charCodeAt(0);
    this.awaitingDelimiter = false;
    this.paused = false;
  }

  /** Goes on without a delimiter yet (the record cut was no header: a blank line). */
  resume(): void {
    this.paused = false;
  }

  push(chunk: Buffer): SplitRecord[] {
    const out: SplitRecord[] = [];
    // Held bytes come first, then the odd UTF-16 byte cut off their end, then the chunk.
    const before = [this.held, this.carry].filter((b): b is Buffer => b !== null);
    let buf = before.length > 0 ? Buffer.concat([...before, chunk]) : chunk;
    this.held = null;
    this.carry = null;
    if (this.paused) {
      this.held = buf;
      return out;
    }
    const unit = this.units.size;
    if (unit === 2 && buf.length % 2 === 1) {
      this.carry = Buffer.from(buf.subarray(buf.length - 1));
      buf = buf.subarray(0, buf.length - 1);
    }
    const le = this.units.littleEndian;
    let segStart = 0;
    for (let i = 0; i < buf.length; i += unit) {
      const c = unit === 1 ? buf[i]! : le ? buf[i]! | (buf[i + 1]! << 8) : (buf[i]! << 8) | buf[i + 1]!;
      if (this.skipLF) {
        this.skipLF = false;
        if (c === LF) {
          segStart = i + unit;
          continue;
        }
      }
      if (this.state === QUOTED) {
        if (c === QUOTE) {
          this.state = QUOTE_IN_QUOTED;
          this.trailing = 0;
        } else if (c === LF || c === CR) {
          const counted = !(c === LF && this.lastCR);
          if (counted) {
            this.breaks += 1;
            this.trailing += 1;
          }
          if (counted && (this.oversized || this.size + (i - segStart) > this.maxBytes)) {
            // Past the bound, a line break ends the record even inside quotes.
            this.breaks -= 1;
            out.push(this.finish(buf.subarray(segStart, i), false));
            if (c === CR) this.skipLF = true;
            segStart = i + unit;
            if (this.pauses()) return this.hold(buf, segStart, out);
            continue;
          }
        } else {
          this.trailing = 0;
        }
        this.lastCR = c === CR;
        continue;
      }
      if (c === LF || c === CR) {
        out.push(this.finish(buf.subarray(segStart, i), false));
        if (c === CR) this.skipLF = true;
        segStart = i + unit;
        if (this.pauses()) return this.hold(buf, segStart, out);
        continue;
      }
      const isDelimiter = this.delimiter === -1 ? CANDIDATES.includes(c) : c === this.delimiter;
      if (this.state === FIELD_START) this.state = c === QUOTE ? QUOTED : isDelimiter ? FIELD_START : UNQUOTED;
      else if (this.state === UNQUOTED) this.state = isDelimiter ? FIELD_START : UNQUOTED;
      else this.state = c === QUOTE ? QUOTED : isDelimiter ? FIELD_START : UNQUOTED;
    }
    this.append(buf.subarray(segStart));
    return out;
  }

  /** The file's end: the last record, if anything is left (an odd UTF-16 byte included, for the decoder to refuse). */
  end(): SplitRecord[] {
    const out: SplitRecord[] = [];
    for (;;) {
      this.paused = false;
      if (!this.held) break;
      out.push(...this.push(Buffer.alloc(0)));
    }
    if (this.carry) {
      this.append(this.carry);
      this.carry = null;
    }
    if (this.size > 0 || this.oversized) out.push(this.finish(Buffer.alloc(0), this.state === QUOTED));
    return out;
  }

  /** Right after a non-empty record while the delimiter is unknown: wait for `setDelimiter` or `resume`. */
  private pauses(): boolean {
    if (!this.awaitingDelimiter) return false;
    this.paused = true;
    return true;
  }

  private hold(buf: Buffer, from: number, out: SplitRecord[]): SplitRecord[] {
    this.held = Buffer.from(buf.subarray(from));
    return out;
  }

  private append(segment: Buffer): void {
    if (segment.length === 0 || this.oversized) return;
    if (this.size + segment.length > this.maxBytes) {
      // Copied: the record keeps its bounded head, not the chunk it came in.
      this.parts.push(Buffer.from(segment.subarray(0, this.maxBytes - this.size)));
      this.size = this.maxBytes;
      this.oversized = true;
      return;
    }
    this.parts.push(segment);
    this.size += segment.length;
  }

  private finish(last: Buffer, unclosed: boolean): SplitRecord {
    this.append(last);
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const record: SplitRecord = { line: this.line, breaks: this.breaks, bytes, oversized: this.oversized, unclosed, trailingBreaks: unclosed ? this.trailing : 0 };
    this.line += this.breaks + 1;
    this.parts = [];
    this.size = 0;
    this.oversized = false;
    this.breaks = 0;
    this.trailing = 0;
    this.lastCR = false;
    this.state = FIELD_START;
    return record;
  }
}
