import { AppError, type FieldProblem } from './errors.js';
import { escapeHtml } from './escape-html.js';
import { normalizeLink } from './link.js';

export type Channel = 'email' | 'sms' | 'push';

export interface MessageContent {
  channel: Channel;
  subject?: string | null;
  html?: string | null;
  text?: string | null;
  pushTitle?: string | null;
  pushUrl?: string | null;
}

export interface RenderContext {
  contact: { id: number; email: string | null; phone: string | null; externalId: string | null; fields: Record<string, unknown> };
  message: { id: number; name: string };
  sending: { id: number };
  urls: { unsubscribeUrl: string; trackingOptOutUrl: string; profileUrl: string };
  /** The tracking link for destination `linkIdx` (1-based position in `PreparedMessage.links`). */
  clickUrl: (linkIdx: number) => string;
  /** Open pixel URL; null = no pixel. */
  openUrl: string | null;
  /** Appended to email HTML (before `</body>`) and email text, e.g. the tracking opt-out footer. */
  footerHtml?: string | null;
  footerText?: string | null;
}

export interface RenderedMessage {
  subject: string | null;
  html: string | null;
  text: string | null;
  pushTitle: string | null;
  pushUrl: string | null;
}

type Getter = (ctx: RenderContext) => unknown;

/** A compiled template: literal text, merge tags, rewritten links, and the email HTML insertion point. */
type Segment =
  | { type: 'literal'; text: string }
  | { type: 'tag'; get: Getter; fallback: string }
  | { type: 'link'; idx: number }
  | { type: 'bodyEnd' };

interface CompiledField {
  segments: Segment[];
  /** Values are HTML-escaped (email HTML) or inserted raw (everything else). */
  html: boolean;
  /** A header-like field (subject, push title): line breaks in values become spaces. */
  singleLine: boolean;
}

type FieldName = 'subject' | 'html' | 'text' | 'pushTitle' | 'pushUrl';

export interface PreparedMessage {
  channel: Channel;
  /** Destination URLs in order of first appearance; a link's idx is its position + 1. */
  links: string[];
  fields: Record<FieldName, CompiledField | null>;
}

const CONTACT_COLUMNS: Record<string, Getter> = {
  id: (c) => c.contact.id,
  email: (c) => c.contact.email,
  phone: (c) => c.contact.phone,
  externalId: (c) => c.contact.externalId,
};

const TOP_LEVEL: Record<string, Getter> = {
  'message.name': (c) => c.message.name,
  'message.id': (c) => c.message.id,
  'sending.id': (c) => c.sending.id,
  unsubscribeUrl: (c) => c.urls.unsubscribeUrl,
  trackingOptOutUrl: (c) => c.urls.trackingOptOutUrl,
  profileUrl: (c) => c.urls.profileUrl,
};

/** What an unknown tag's error offers instead: every tag resolveTag knows, and where they are explained. */
const VALID_TAGS = `use ${[...Object.keys(CONTACT_COLUMNS).map((c) => `contact.${c}`), 'contact.<field>', ...Object.keys(TOP_LEVEL)].join(', ')}; see docs/merge-tags.md`;

// `{{ name }}` or `{{ name | "default" }}`; the name's structure is checked by resolveTag.
const TAG_SYNTAX = /^\s*([A-Za-z_][^\s|"'{}]*)\s*(?:\|\s*(?:"([^"]*)"|'([^']*)')\s*)?$/;
const IDENT = /^[A-Za-z_]\w*$/;

/** Resolves a tag name to a getter, or null when it names nothing we know. */
function resolveTag(name: string): Getter | null {
  const top = TOP_LEVEL[name];
  if (top) return top;
  if (!name.startsWith('contact.')) return null;
  const rest = name.slice('contact.'.length);
  if (rest.startsWith('fields.')) {
    const key = rest.slice('fields.'.length);
    return key.length > 0 ? (c) => c.contact.fields[key] : null;
  }
  const column = CONTACT_COLUMNS[rest];
  if (column) return column;
  // {{contact.firstName}} is shorthand for {{contact.fields.firstName}}.
  return IDENT.test(rest) ? (c) => c.contact.fields[rest] : null;
}

interface Span {
  start: number;
  end: number;
  segment: Segment;
}

function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) line++;
  return line;
}

/** Finds every `{{ … }}` in `source`, reporting bad ones to `problems`. */
function parseTags(field: FieldName, source: string, problems: FieldProblem[]): Span[] {
  const spans: Span[] = [];
  let from = 0;
  for (;;) {
    const open = source.indexOf('{{', from);
    if (open === -1) return spans;
    const close = source.indexOf('}}', open + 2);
    const nested = source.indexOf('{{', open + 2);
    if (close === -1 || (nested !== -1 && nested < close)) {
      problems.push({ field, reason: `line ${lineOf(source, open)}: unclosed {{` });
      if (close === -1) return spans;
      from = nested;
      continue;
    }
    const raw = source.slice(open, close + 2);
    const match = TAG_SYNTAX.exec(source.slice(open + 2, close));
    const get = match ? resolveTag(match[1]!) : null;
    if (!match || !get) {
      problems.push({ field, reason: `line ${lineOf(source, open)}: unknown tag ${raw} (${VALID_TAGS})` });
    } else {
      spans.push({ start: open, end: close + 2, segment: { type: 'tag', get, fallback: match[2] ?? match[3] ?? '' } });
    }
    from = close + 2;
  }
}

const overlaps = (spans: readonly Span[], start: number, end: number): boolean =>
  spans.some((s) => s.start < end && start < s.end);

function isHttpUrl(url: string): boolean {
  if (!/^https?:\/\//i.test(url)) return false;
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes the character references that can appear in an attribute value. */
function decodeAttribute(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

class LinkTable {
  readonly links: string[] = [];
  private readonly index = new Map<string, number>();

  idxOf(url: string): number {
    let idx = this.index.get(url);
    if (idx === undefined) {
      this.links.push(url);
      idx = this.links.length;
      this.index.set(url, idx);
    }
    return idx;
  }
}

// `<a …>`, `<area …>` and Outlook's VML buttons (`<v:roundrect href=…>`) carry clickable hrefs.
const LINK_ELEMENT = /<(?:a|area|v:roundrect)\s[^>]*>/gi;
const HREF_ATTRIBUTE = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i;

/** Spans of `href` values in email HTML that are rewritten to tracking links. */
function htmlLinkSpans(source: string, tags: readonly Span[], table: LinkTable): Span[] {
  const spans: Span[] = [];
  for (const element of source.matchAll(LINK_ELEMENT)) {
    const href = HREF_ATTRIBUTE.exec(element[0]);
    if (!href) continue;
    const raw = href[1] ?? href[2] ?? href[3] ?? '';
    const valueOffset = href.index + href[0].length - raw.length - (href[3] === undefined ? 1 : 0);
    const start = element.index + valueOffset;
    const end = start + raw.length;
    // A link built from a merge tag is personal (or an unsubscribe/opt-out/profile URL): left as written.
    // So is markup that only appears inside a tag's default text.
    if (overlaps(tags, start, end) || overlaps(tags, element.index, element.index + 1)) continue;
    const destination = normalizeLink(decodeAttribute(raw).trim());
    if (!isHttpUrl(destination)) continue;
    spans.push({ start, end, segment: { type: 'link', idx: table.idxOf(destination) } });
  }
  return spans;
}

const TEXT_URL = /https?:\/\/[^\s<>"]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'*]+$/;

/** Trims sentence punctuation and unbalanced closing brackets off a URL found in prose. */
function trimProseUrl(url: string): string {
  for (;;) {
    const before = url;
    url = url.replace(TRAILING_PUNCTUATION, '');
    for (const [openCh, closeCh] of [['(', ')'], ['[', ']']] as const) {
      if (url.endsWith(closeCh) && url.split(openCh).length < url.split(closeCh).length) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

/** Spans of http(s) URLs in plain text (email text part, SMS). */
function textLinkSpans(source: string, tags: readonly Span[], table: LinkTable): Span[] {
  const spans: Span[] = [];
  for (const match of source.matchAll(TEXT_URL)) {
    const url = trimProseUrl(match[0]);
    const start = match.index;
    const end = start + url.length;
    if (overlaps(tags, start, end + 1)) continue;
    if (!isHttpUrl(url)) continue;
    spans.push({ start, end, segment: { type: 'link', idx: table.idxOf(normalizeLink(url)) } });
  }
  return spans;
}

/** Where the pixel and footer go in email HTML: before the last `</body>` outside merge tags, else the end. */
function bodyEndOffset(source: string, tags: readonly Span[]): number {
  const lower = source.toLowerCase();
  for (let at = lower.lastIndexOf('</body'); at !== -1; at = at === 0 ? -1 : lower.lastIndexOf('</body', at - 1)) {
    if (!overlaps(tags, at, at + 1)) return at;
  }
  return source.length;
}

function assemble(source: string, spans: Span[]): Segment[] {
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  const segments: Segment[] = [];
  let at = 0;
  for (const span of spans) {
    if (span.start > at) segments.push({ type: 'literal', text: source.slice(at, span.start) });
    segments.push(span.segment);
    at = Math.max(at, span.end);
  }
  if (at < source.length) segments.push({ type: 'literal', text: source.slice(at) });
  return segments;
}

type LinkMode = 'none' | 'html' | 'text' | 'whole';

function compileField(
  field: FieldName,
  source: string | null | undefined,
  mode: LinkMode,
  htmlBody: boolean,
  table: LinkTable,
  problems: FieldProblem[],
): CompiledField | null {
  if (source === null || source === undefined) return null;
  const tags = parseTags(field, source, problems);
  const spans = [...tags];
  if (mode === 'html') spans.push(...htmlLinkSpans(source, tags, table));
  if (mode === 'text') spans.push(...textLinkSpans(source, tags, table));
  if (mode === 'whole' && tags.length === 0 && isHttpUrl(source.trim())) {
    spans.push({ start: 0, end: source.length, segment: { type: 'link', idx: table.idxOf(source.trim()) } });
  }
  if (htmlBody) {
    const at = bodyEndOffset(source, tags);
    spans.push({ start: at, end: at, segment: { type: 'bodyEnd' } });
  }
  return { segments: assemble(source, spans), html: mode === 'html', singleLine: field === 'subject' || field === 'pushTitle' };
}

/**
 * Compiles a message once per sending: parses merge tags, assigns an index
 * to each distinct http(s) destination, and marks where the open pixel and
 * footer go. Throws `AppError('TemplateError')` listing every bad tag
 * with its field and line, so errors surface when the message is saved.
 *
 * @example prepareMessage({ channel: 'sms', text: 'Hi {{contact.firstName | "there"}}: https://x.io/a' }).links // ['https://x.io/a']
 */
export function prepareMessage(content: MessageContent): PreparedMessage {
  const table = new LinkTable();
  const problems: FieldProblem[] = [];
  const email = content.channel === 'email';
  const fields: Record<FieldName, CompiledField | null> = {
    subject: compileField('subject', content.subject, 'none', false, table, problems),
    html: compileField('html', content.html, email ? 'html' : 'none', email, table, problems),
    // A push body is not a link carrier: only its URL is tracked.
    text: compileField('text', content.text, content.channel === 'push' ? 'none' : 'text', false, table, problems),
    pushTitle: compileField('pushTitle', content.pushTitle, 'none', false, table, problems),
    pushUrl: compileField('pushUrl', content.pushUrl, content.channel === 'push' ? 'whole' : 'none', false, table, problems),
  };
  if (problems.length > 0) {
    const first = problems[0]!;
    const message = problems.length === 1 ? `Template error in ${first.field}: ${first.reason}` : `${problems.length} template errors`;
    throw new AppError('TemplateError', message, problems);
  }
  return { channel: content.channel, links: table.links, fields };
}

function display(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

function renderField(field: CompiledField | null, ctx: RenderContext, clickUrls: (string | undefined)[], bodyEnd: string): string | null {
  if (!field) return null;
  let out = '';
  for (const segment of field.segments) {
    switch (segment.type) {
      case 'literal':
        out += segment.text;
        break;
      case 'tag': {
        const value = display(segment.get(ctx)) || segment.fallback;
        out += field.html ? escapeHtml(value) : field.singleLine ? value.replace(/[\r\n]+/g, ' ') : value;
        break;
      }
      case 'link': {
        let url = clickUrls[segment.idx];
        if (url === undefined) {
          url = ctx.clickUrl(segment.idx);
          clickUrls[segment.idx] = url;
        }
        out += field.html ? escapeHtml(url) : url;
        break;
      }
      case 'bodyEnd':
        out += bodyEnd;
        break;
    }
  }
  return out;
}

/**
 * Renders a prepared message for one recipient: string concatenation over
 * the compiled segments, one `clickUrl` call per distinct destination.
 * Email gets the footer (HTML before `</body>`, text at the end) and the
 * open pixel when `openUrl` is set.
 *
 * @example renderMessage(prepared, { ...ctx, clickUrl: (i) => `${base}/t/c/${tokens[i]}`, openUrl: null })
 */
export function renderMessage(prepared: PreparedMessage, ctx: RenderContext): RenderedMessage {
  const clickUrls: (string | undefined)[] = [];
  const email = prepared.channel === 'email';
  let bodyEnd = '';
  if (email && ctx.footerHtml) bodyEnd += ctx.footerHtml;
  if (email && ctx.openUrl) bodyEnd += `<img src="${escapeHtml(ctx.openUrl)}" width="1" height="1" alt="" style="display:none">`;
  let text = renderField(prepared.fields.text, ctx, clickUrls, '');
  if (email && text !== null && ctx.footerText) text += `\n\n${ctx.footerText}`;
  return {
    subject: renderField(prepared.fields.subject, ctx, clickUrls, ''),
    html: renderField(prepared.fields.html, ctx, clickUrls, bodyEnd),
    text,
    pushTitle: renderField(prepared.fields.pushTitle, ctx, clickUrls, ''),
    pushUrl: renderField(prepared.fields.pushUrl, ctx, clickUrls, ''),
  };
}
