import { hmac, hmacMatches } from '../../domain/hmac.js';

/** How long a page's form stays valid after it was shown. */
export const CSRF_TTL_MS = 2 * 60 * 60 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000;

const MAC_BYTES = 16;
const signed = (path: string, issuedAt: string): string => `form-csrf\n${path}\n${issuedAt}`;

/**
 * A stateless anti-CSRF token for the form shown at `path`: the time it was
 * issued and an HMAC over path and time, so no cookie or session is needed
 * and a token taken from one page does not work on another.
 */
export function issueCsrfToken(secrets: readonly string[], path: string, now: number): string {
  const issuedAt = Math.floor(now / 1000).toString(36);
  return `${issuedAt}.${hmac(secrets[0]!, signed(path, issuedAt), MAC_BYTES).toString('base64url')}`;
}

/** Checks a token against every secret (rotation); false when forged, for another page, expired or from the future. */
export function verifyCsrfToken(secrets: readonly string[], path: string, token: unknown, now: number): boolean {
  if (typeof token !== 'string') return false;
  const match = /^([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return false;
  const issuedAt = match[1]!;
  const age = now - Number.parseInt(issuedAt, 36) * 1000;
  if (age > CSRF_TTL_MS || age < -CLOCK_SKEW_MS) return false;
  const given = Buffer.from(match[2]!, 'base64url');
  return hmacMatches(secrets, signed(path, issuedAt), given, MAC_BYTES);
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
