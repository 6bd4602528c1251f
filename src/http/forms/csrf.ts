import { randomBytes } from 'node:crypto';
import { hmac, hmacMatches, macFromBase64url } from '../../domain/hmac.js';

/** How long a page's form stays valid after it was shown (SPEC §15: within the hour). */
export const CSRF_TTL_MS = 60 * 60 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000;

const MAC_BYTES = 16;
const NONCE_BYTES = 8;
const signed = (path: string, issuedAt: string, nonce: string): string => `form-csrf\n${path}\n${issuedAt}\n${nonce}`;

/** A verified token: what the single-use check records, and until when it must remember it. */
export interface CsrfClaim {
  /** The token's MAC, unique per issued token (each carries a random nonce). */
  id: string;
  expiresAt: number;
}

/**
 * An anti-CSRF token for the form shown at `path`: the time it was issued, a
 * random nonce and an HMAC over path, time and nonce. The path names the form
 * and, for profile, opt-out and unsubscribe pages, the contact's signed link,
 * so a token taken from one page or for one contact does not work on another.
 * It lasts an hour and, once a state change used it, it is spent (see `verify`).
 */
export function issueCsrfToken(secrets: readonly string[], path: string, now: number): string {
  const issuedAt = Math.floor(now / 1000).toString(36);
  const nonce = randomBytes(NONCE_BYTES).toString('base64url');
  return `${issuedAt}.${nonce}.${hmac(secrets[0]!, signed(path, issuedAt, nonce), MAC_BYTES).toString('base64url')}`;
}

/**
 * Checks a token against every secret (rotation): the claim to spend when it
 * is genuine, for this page and not expired; null when forged, for another
 * page, expired or from the future.
 */
export function verifyCsrfToken(secrets: readonly string[], path: string, token: unknown, now: number): CsrfClaim | null {
  if (typeof token !== 'string') return null;
  const match = /^([0-9a-z]{1,10})\.([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const [, issuedAt, nonce, mac] = match as unknown as [string, string, string, string];
  const issuedMs = Number.parseInt(issuedAt, 36) * 1000;
  const age = now - issuedMs;
  if (age > CSRF_TTL_MS || age < -CLOCK_SKEW_MS) return null;
  const given = macFromBase64url(mac);
  if (!given || macFromBase64url(nonce) === undefined) return null;
  if (!hmacMatches(secrets, signed(path, issuedAt, nonce), given, MAC_BYTES)) return null;
  return { id: mac, expiresAt: issuedMs + CSRF_TTL_MS + CLOCK_SKEW_MS };
}

/**
 * A browser's `Origin` header must name this server: the configured public
 * URL, or the host the request was sent to. No header (older browsers, mail
 * providers) passes; the token still has to be valid.
 */
export function originAllowed(origin: string | undefined, publicUrl: string, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  let given: URL;
  try {
    given = new URL(origin);
  } catch {
    return false;
  }
  if (given.origin === new URL(publicUrl).origin) return true;
  return host !== undefined && given.host === host.toLowerCase();
}
