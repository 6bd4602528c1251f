import { randomBytes } from 'node:crypto';
import { hmac, hmacMatches } from './hmac.js';

export type TokenKind = 'open' | 'click';
/** Tracked recipients carry their contact id; untracked ones an 8-byte random nonce (11 base64url chars). */
export type TokenRecipient = { contactId: number } | { nonce: string };
/** What a tracking link or pixel names. `linkIdx` is 0 for opens, 1-based for clicks. */
export interface TrackingToken {
  kind: TokenKind;
  sendingId: number;
  linkIdx: number;
  recipient: TokenRecipient;
  /**
   * When the message was handed to the transport, in ms after the sending
   * started (kept to 100 ms): lets the tracking path tell an instant
   * scanner click from a person's, for every recipient of a long sending.
   */
  sentAfterMs?: number;
}

/*
 * Layout (then base64url without padding):
 *   header   1 byte: version (high nibble) | kind bit (0x02: click) | recipient bit (0x01: nonce)
 *   sendingId, linkIdx   LEB128 varints
 *   contactId (varint) or nonce (8 raw bytes)
 *   sentAfter (varint, 100 ms units) when the header has 0x04
 *   mac      first 8 bytes of HMAC-SHA256(secret, all preceding bytes)
 */
const VERSION = 1;
const KIND_CLICK = 0x02;
const RECIPIENT_NONCE = 0x01;
const HAS_SENT_AFTER = 0x04;
const SENT_AFTER_UNIT_MS = 100;
const NONCE_BYTES = 8;
const MAC_BYTES = 8;
/** 1 header + 4 varints of at most 8 bytes + MAC; anything longer is garbage. */
const MAX_TOKEN_BYTES = 1 + 8 * 4 + MAC_BYTES;
const MAX_TOKEN_CHARS = Math.ceil((MAX_TOKEN_BYTES * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const scratch = Buffer.alloc(MAX_TOKEN_BYTES);

/** Writes `value` as LEB128 at `offset` in `out`; returns the next offset. */
function writeVarint(out: Buffer, offset: number, value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative safe integer (got ${value})`);
  let v = value;
  while (v >= 0x80) {
    out[offset++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[offset++] = v;
  return offset;
}

/** Reads a canonical LEB128 varint; returns [value, nextOffset] or null (overlong, too large, truncated). */
function readVarint(bytes: Uint8Array, offset: number, end: number): [number, number] | null {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < end && i < offset + 8; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      // A final 0x00 after continuation bytes encodes the same number a shorter way: not canonical.
      if (byte === 0 && i > offset) return null;
      return Number.isSafeInteger(value) ? [value, i + 1] : null;
    }
    scale *= 0x80;
  }
  return null;
}

/**
 * A fresh per-recipient nonce for an untracked recipient: 8 random bytes, base64url (11 chars).
 *
 * @example newNonce() // 'q3J0x_Vb2aA'
 */
export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64url');
}

function nonceBytes(nonce: string): Buffer {
  const bytes = Buffer.from(nonce, 'base64url');
  if (nonce.length !== 11 || !BASE64URL.test(nonce) || bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce) {
    throw new RangeError('nonce must be 8 bytes in base64url (11 characters)');
  }
  return bytes;
}

/**
 * Signs a tracking token with `secret` (the first configured secret). The
 * result is compact base64url: a click token for a tracked contact is about
 * 23 characters, for an untracked recipient about 28.
 *
 * @example signToken(secret, { kind: 'click', sendingId: 7, linkIdx: 2, recipient: { contactId: 42 } }) // 'EgcCKu…'
 */
export function signToken(secret: string, token: TrackingToken): string {
  // Rendering signs ~21 tokens per recipient: one scratch buffer, no intermediate arrays.
  const out = scratch;
  const isNonce = 'nonce' in token.recipient;
  const hasSentAfter = token.sentAfterMs !== undefined;
  out[0] = (VERSION << 4) | (token.kind === 'click' ? KIND_CLICK : 0) | (isNonce ? RECIPIENT_NONCE : 0) | (hasSentAfter ? HAS_SENT_AFTER : 0);
  let at = writeVarint(out, 1, token.sendingId, 'sendingId');
  at = writeVarint(out, at, token.linkIdx, 'linkIdx');
  if ('nonce' in token.recipient) {
    at += nonceBytes(token.recipient.nonce).copy(out, at);
  } else {
    at = writeVarint(out, at, token.recipient.contactId, 'contactId');
  }
  if (hasSentAfter) at = writeVarint(out, at, Math.floor((token.sentAfterMs as number) / SENT_AFTER_UNIT_MS), 'sentAfterMs');
  at += hmac(secret, out.subarray(0, at), MAC_BYTES).copy(out, at);
  return out.toString('base64url', 0, at);
}

/**
 * Reads a tracking token, accepting a MAC from any of `secrets` (rotation:
 * the first signs, all verify). Anything forged, truncated, altered, padded,
 * non-canonical or of an unknown version gives `null`; it never throws.
 *
 * @example verifyToken([newSecret, oldSecret], text) // { kind: 'click', sendingId: 7, linkIdx: 2, recipient: { contactId: 42 } } | null
 */
export function verifyToken(secrets: readonly string[], text: string): TrackingToken | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TOKEN_CHARS || !BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  // Unused low bits of the last character would otherwise let two texts decode to one token.
  if (bytes.toString('base64url') !== text) return null;
  if (bytes.length < 1 + 1 + 1 + 1 + MAC_BYTES) return null;
  const end = bytes.length - MAC_BYTES;

  const header = bytes[0]!;
  if (header >> 4 !== VERSION || (header & 0x08) !== 0) return null;
  const kind: TokenKind = header & KIND_CLICK ? 'click' : 'open';

  const sending = readVarint(bytes, 1, end);
  if (!sending) return null;
  const link = readVarint(bytes, sending[1], end);
  if (!link) return null;
  let recipient: TokenRecipient;
  let offset: number;
  if (header & RECIPIENT_NONCE) {
    offset = link[1] + NONCE_BYTES;
    if (offset > end) return null;
    recipient = { nonce: bytes.subarray(link[1], offset).toString('base64url') };
  } else {
    const contact = readVarint(bytes, link[1], end);
    if (!contact) return null;
    recipient = { contactId: contact[0] };
    offset = contact[1];
  }
  let sentAfterMs: number | undefined;
  if (header & HAS_SENT_AFTER) {
    const sent = readVarint(bytes, offset, end);
    if (!sent) return null;
    sentAfterMs = sent[0] * SENT_AFTER_UNIT_MS;
    offset = sent[1];
  }
  if (offset !== end) return null;

  const body = bytes.subarray(0, end);
  const given = bytes.subarray(end);
  if (!hmacMatches(secrets, body, given, MAC_BYTES)) return null;
  const token: TrackingToken = { kind, sendingId: sending[0], linkIdx: link[0], recipient };
  if (sentAfterMs !== undefined) token.sentAfterMs = sentAfterMs;
  return token;
}
