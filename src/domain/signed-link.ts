import { hmac, hmacMatches } from './hmac.js';

/** What a per-contact signed link opens. */
export type LinkPurpose = 'unsubscribe' | 'tracking-optout' | 'profile';

const PURPOSE_CODE: Record<LinkPurpose, string> = { unsubscribe: 'u', 'tracking-optout': 'o', profile: 'p' };

const MAC_BYTES = 12;

/**
 * A token for a per-contact page (`{{unsubscribeUrl}}`, `{{trackingOptOutUrl}}`,
 * `{{profileUrl}}`). The purpose, project and contact are all under the HMAC,
 * so a link cannot be moved to another contact or another page.
 *
 * @example signContactLink(['s3cret'], 'unsubscribe', 1, 42) // '1.42.<mac>'
 */
export function signContactLink(secrets: readonly string[], purpose: LinkPurpose, projectId: number, contactId: number): string {
  const body = `${projectId}.${contactId}`;
  return `${body}.${hmac(secrets[0]!, `${PURPOSE_CODE[purpose]}.${body}`, MAC_BYTES).toString('base64url')}`;
}

/**
 * Checks a per-contact link token against every secret (rotation).
 *
 * @example verifyContactLink(['s3cret'], 'unsubscribe', token) // { projectId: 1, contactId: 42 } or null
 */
export function verifyContactLink(secrets: readonly string[], purpose: LinkPurpose, token: string): { projectId: number; contactId: number } | null {
  const match = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{16})$/.exec(token);
  if (!match) return null;
  const body = `${match[1]}.${match[2]}`;
  const given = Buffer.from(match[3]!, 'base64url');
  if (!hmacMatches(secrets, `${PURPOSE_CODE[purpose]}.${body}`, given, MAC_BYTES)) return null;
  return { projectId: Number(match[1]), contactId: Number(match[2]) };
}

/** URL path of a per-contact page; the public URL is prepended by the caller. */
export function contactLinkPath(purpose: LinkPurpose, token: string): string {
  return `/f/${purpose}/${token}`;
}
