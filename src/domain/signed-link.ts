import { hmac, hmacMatches, macFromBase64url } from './hmac.js';

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
  const given = macFromBase64url(match[3]!) ?? Buffer.alloc(0);
  if (!hmacMatches(secrets, `${PURPOSE_CODE[purpose]}.${body}`, given, MAC_BYTES)) return null;
  return { projectId: Number(match[1]), contactId: Number(match[2]) };
}

/** URL path of a per-contact page; the public URL is prepended by the caller. */
export function contactLinkPath(purpose: LinkPurpose, token: string): string {
  return `/f/${purpose}/${token}`;
}

const CONFIRMATION_MAC_BYTES = 16;
const confirmationBody = (projectId: number, requestId: number, expiresAt: number, nonce: string): string =>
  `c.${projectId}.${requestId}.${Math.floor(expiresAt / 1000).toString(36)}.${nonce}`;

/** What a double opt-in confirmation link names: the pending request, its expiry and its one-time nonce. */
export interface ConfirmationLink {
  projectId: number;
  requestId: number;
  /** Epoch ms, to the second. */
  expiresAt: number;
  /** Random, stored hashed beside the request: a link works once, for that request only. */
  nonce: string;
}

/**
 * The token of a double opt-in confirmation link (`/f/confirm/<token>`):
 * project, request, expiry and nonce under the HMAC, so none can be changed.
 *
 * @example signConfirmationToken(['s3cret'], { projectId: 1, requestId: 7, expiresAt, nonce }) // '1.7.<exp>.<nonce>.<mac>'
 */
export function signConfirmationToken(secrets: readonly string[], link: ConfirmationLink): string {
  const body = confirmationBody(link.projectId, link.requestId, link.expiresAt, link.nonce);
  return `${body.slice(2)}.${hmac(secrets[0]!, body, CONFIRMATION_MAC_BYTES).toString('base64url')}`;
}

/**
 * Checks a confirmation token against every secret (rotation) and its expiry;
 * null when forged, altered or expired. Whether it was used already is the
 * store's to say (the request row is consumed on confirmation).
 *
 * @example verifyConfirmationToken(['s3cret'], token, Date.now()) // { projectId: 1, requestId: 7, … } or null
 */
export function verifyConfirmationToken(secrets: readonly string[], token: string, now: number): ConfirmationLink | null {
  const match = /^(\d{1,15})\.(\d{1,15})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const link: ConfirmationLink = { projectId: Number(match[1]), requestId: Number(match[2]), expiresAt: Number.parseInt(match[3]!, 36) * 1000, nonce: match[4]! };
  const body = confirmationBody(link.projectId, link.requestId, link.expiresAt, link.nonce);
  if (!hmacMatches(secrets, body, macFromBase64url(match[5]!) ?? Buffer.alloc(0), CONFIRMATION_MAC_BYTES)) return null;
  return link.expiresAt > now ? link : null;
}

const RECEIPT_MAC_BYTES = 16;
const receiptBody = (link: ReceiptLink): string => `r.${link.projectId}.${link.contactId}.${link.seq}.${Math.floor(link.expiresAt / 1000).toString(36)}`;

/** What a receipt download link names: one contact's consent-history entry, until it expires. */
export interface ReceiptLink {
  projectId: number;
  contactId: number;
  /** Chain position of the entry in the project's consent history. */
  seq: number;
  /** Epoch ms, to the second. */
  expiresAt: number;
}

/**
 * The token of a receipt download link (`/f/receipt/<token>`): project,
 * contact, entry and expiry under the HMAC, so a link cannot be moved to
 * another entry or another contact.
 *
 * @example signReceiptLink(['s3cret'], { projectId: 1, contactId: 42, seq: 7, expiresAt }) // '1.42.7.<exp>.<mac>'
 */
export function signReceiptLink(secrets: readonly string[], link: ReceiptLink): string {
  const body = receiptBody(link);
  return `${body.slice(2)}.${hmac(secrets[0]!, body, RECEIPT_MAC_BYTES).toString('base64url')}`;
}

/**
 * Checks a receipt link token against every secret and its expiry; null when forged, altered or expired.
 *
 * @example verifyReceiptLink(['s3cret'], token, Date.now()) // { projectId: 1, contactId: 42, seq: 7, … } or null
 */
export function verifyReceiptLink(secrets: readonly string[], token: string, now: number): ReceiptLink | null {
  const match = /^(\d{1,15})\.(\d{1,15})\.(\d{1,15})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const link: ReceiptLink = { projectId: Number(match[1]), contactId: Number(match[2]), seq: Number(match[3]), expiresAt: Number.parseInt(match[4]!, 36) * 1000 };
  if (!hmacMatches(secrets, receiptBody(link), macFromBase64url(match[5]!) ?? Buffer.alloc(0), RECEIPT_MAC_BYTES)) return null;
  return link.expiresAt > now ? link : null;
}
