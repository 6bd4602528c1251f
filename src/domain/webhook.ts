import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';

/** The events a consent webhook may subscribe to (SPEC §14, issue 15 item 5). */
export const WEBHOOK_EVENTS = ['consent.changed', 'contact.erased', 'contact.unsubscribed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The body of one delivery; `id` is the idempotency key (also sent as `X-Trackguard-Delivery`). */
export interface WebhookPayload {
  id: string;
  type: WebhookEvent;
  projectId: string;
  contactId: string;
  trackingStatus: string;
  date: string;
  source: string;
}

/** Deliveries are retried for this long after the event, then given up. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 3600_000;
// Short first waits: a receiver that blinked (a deploy, a restart) is caught up within seconds.
const FIRST_RETRY_MS = 1_000;
const LONGEST_WAIT_MS = 3600_000;

/**
 * When to try again after `attempts` failed attempts of a delivery created at `createdAt`:
 * 1 s, 2 s, 4 s, … doubling up to 1 h between attempts; `null` once past the 24 h window.
 *
 * @example nextAttemptAt(0, 1, 1000) // 2000
 * @example nextAttemptAt(0, 20, WEBHOOK_RETRY_WINDOW_MS) // null
 */
export function nextAttemptAt(createdAt: number, attempts: number, now: number): number | null {
  const wait = Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LONGEST_WAIT_MS);
  const next = now + wait;
  return next > createdAt + WEBHOOK_RETRY_WINDOW_MS ? null : next;
}

/**
 * The `X-Trackguard-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
 *
 * @example webhookSignature('s3cret', 1700000000, '{}') // 't=1700000000,v1=…'
 */
export function webhookSignature(secret: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * Why a receiving URL is refused before any address is looked at, or `null`: http(s) only, no
 * credentials in it, a host.
 *
 * @example urlProblem('ftp://example.com/') // 'must be an http or https URL'
 */
export function urlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http or https URL';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (!parsed.hostname) return 'must name a host';
  return null;
}

/** The host of a URL as an address literal (brackets of IPv6 removed), or `null` for a name. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : null;
}

/**
 * Whether an address is one a webhook may reach from the public internet: not loopback, private,
 * link-local, unique-local, CGNAT, multicast, documentation, reserved, unspecified, nor an
 * IPv4-mapped / IPv4-compatible / NAT64 IPv6 form of one of those (SSRF).
 *
 * @example isPublicAddress('93.184.216.34') // true
 * @example isPublicAddress('::ffff:127.0.0.1') // false
 */
export function isPublicAddress(address: string): boolean {
  const kind = isIP(address);
  if (kind === 4) return isPublicV4(v4Bytes(address));
  if (kind !== 6) return false;
  const b = v6Bytes(address);
  if (!b) return false;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, and :: / ::1), 64:ff9b::a.b.c.d (NAT64): judge the IPv4 inside.
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return isPublicV4(b.slice(12));
  if (zeros(0, 12)) return false;
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return isPublicV4(b.slice(12));
  const [b0 = 0, b1 = 0] = b;
  if ((b0 & 0xfe) === 0xfc) return false; // fc00::/7 unique-local
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return false; // fe80::/10 link-local
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return false; // fec0::/10 site-local (deprecated)
  if (b0 === 0xff) return false; // multicast
  if (b0 === 0x20 && b1 === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return false; // 2001:db8::/32 documentation
  if (b0 === 0x20 && b1 === 0x02) return isPublicV4(b.slice(2, 6)); // 6to4 carries an IPv4
  return true;
}

function isPublicV4(b: number[]): boolean {
  const [a = 0, c = 0, d = 0] = b;
  if (a === 0 || a === 10 || a === 127) return false; // this network, private, loopback
  if (a === 100 && (c & 0xc0) === 64) return false; // 100.64.0.0/10 CGNAT
  if (a === 169 && c === 254) return false; // link-local
  if (a === 172 && (c & 0xf0) === 16) return false; // private
  if (a === 192 && c === 168) return false; // private
  if (a === 192 && c === 0 && (d === 0 || d === 2)) return false; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (c & 0xfe) === 18) return false; // benchmarking
  if (a === 198 && c === 51 && d === 100) return false; // TEST-NET-2
  if (a === 203 && c === 0 && d === 113) return false; // TEST-NET-3
  if (a >= 224) return false; // multicast, reserved, broadcast
  return true;
}

function v4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address (with or without a trailing dotted IPv4), or null. */
function v6Bytes(address: string): number[] | null {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    if (isIP(dotted[1]) !== 4) return null;
    tail.push(...v4Bytes(dotted[1]));
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groups(halves[0]);
  const rest = groups(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const bytes = all.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [(n >> 8) & 0xff, n & 0xff];
  });
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : null;
}
