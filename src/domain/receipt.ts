import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import { entryHash, type StoredLedgerEntry, subjectHash } from './ledger.js';

/*
 * Consent receipts (SPEC §14): the signed record a person gets of a consent
 * change they made, after ISO/IEC TS 27560 (consent record information
 * structure). The receipt names the consent-history entry it proves (project,
 * chain position, entry hash), so it can be checked against the ledger later.
 */

export const RECEIPT_SCHEMA = 'trackguard-consent-receipt/1 (after ISO/IEC TS 27560:2023)';
export const RECEIPT_PURPOSE = 'behavioural tracking of messages';

/** The signed part of a receipt. Every field is covered by the signature. */
export interface ReceiptBody {
  schema: string;
  recordId: string;
  issuedAt: string;
  controller: { name: string; contact: string | null };
  subject: { identifierType: string; identifier: string | null; email: string | null };
  purpose: { description: string; lawfulBasis: string };
  event: { action: string; state: string; timestamp: string; recordedAt: string; method: string; source: string; noticeHash: string | null };
  ledger: { projectId: number; position: number; entryHash: string; previousHash: string; hashAlgorithm: string };
}

export interface Receipt {
  receipt: ReceiptBody;
  signature: { algorithm: 'Ed25519'; keyId: string; keyUrl: string; value: string };
}

/** What ISO/IEC TS 27560 calls the consent state after the action. */
const STATE: Record<string, string> = {
  accepted: 'given',
  refused: 'refused or withdrawn',
  reset: 'reset (unanswered)',
  'double-opt-in-requested': 'requested, pending confirmation',
  'double-opt-in-confirmed': 'subscription confirmed',
  unsubscribed: 'unsubscribed from messages',
};

/**
 * The receipt body of one history entry.
 *
 * @example receiptBody({ controller: { name: 'Acme', contact: null }, email: 'ana@example.com', entry })
 */
export function receiptBody(input: { controller: { name: string; contact: string | null }; email: string | null; entry: StoredLedgerEntry }): ReceiptBody {
  const { entry } = input;
  return {
    schema: RECEIPT_SCHEMA,
    recordId: `tg:${entry.projectId}:${entry.seq}`,
    issuedAt: new Date(entry.recordedAt).toISOString(),
    controller: input.controller,
    subject: { identifierType: 'HMAC-SHA256 of the email address with the project ledger salt', identifier: entry.subjectHash, email: input.email },
    purpose: { description: RECEIPT_PURPOSE, lawfulBasis: 'consent' },
    event: {
      action: entry.action,
      state: STATE[entry.action] ?? entry.action,
      timestamp: new Date(entry.date).toISOString(),
      recordedAt: new Date(entry.recordedAt).toISOString(),
      method: 'web form (hosted page)',
      source: entry.source,
      noticeHash: entry.wordingHash,
    },
    ledger: { projectId: entry.projectId, position: entry.seq, entryHash: entry.hash, previousHash: entry.prevHash, hashAlgorithm: 'sha256' },
  };
}

/**
 * JSON with object keys sorted at every level: the bytes a signature covers.
 *
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The file a person downloads: the receipt as indented JSON. Verification
 * re-renders the parsed file and requires the same bytes, so any altered byte,
 * even outside the signed values, is detected.
 *
 * @example renderReceipt(receipt) // '{\n  "receipt": {…'
 */
export function renderReceipt(receipt: Receipt): string {
  return `${JSON.stringify({ receipt: receipt.receipt, signature: receipt.signature }, null, 2)}\n`;
}

/**
 * Signs a receipt body with the installation's Ed25519 key.
 *
 * @example signReceipt(body, privateKey, 'kid', 'https://tg.example/.well-known/trackguard-receipt-key')
 */
export function signReceipt(body: ReceiptBody, privateKey: KeyObject, keyId: string, keyUrl: string): Receipt {
  const value = sign(null, Buffer.from(canonicalJson(body), 'utf8'), privateKey).toString('base64url');
  return { receipt: body, signature: { algorithm: 'Ed25519', keyId, keyUrl, value } };
}

/**
 * RFC 7638 thumbprint of an Ed25519 public JWK: the key id.
 *
 * @example jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: '…' }) // 43 base64url characters
 */
export function jwkThumbprint(jwk: { crv: string; kty: string; x: string }): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest('base64url');
}

/**
 * Reads a receipt file: null with the reason when it is not one, or not byte
 * for byte as it was issued.
 *
 * @example parseReceipt(text) // { receipt } or { reason: 'not JSON' }
 */
export function parseReceipt(text: string): { receipt: Receipt } | { reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { reason: 'the file is not JSON (it was altered or is not a receipt)' };
  }
  const doc = parsed as Partial<Receipt> | null;
  const body = doc?.receipt;
  const signature = doc?.signature;
  if (typeof body !== 'object' || body === null || typeof signature !== 'object' || signature === null) return { reason: 'the file is not a trackguard consent receipt' };
  if (typeof body.ledger?.projectId !== 'number' || typeof body.ledger.position !== 'number' || typeof body.ledger.entryHash !== 'string' || typeof signature.value !== 'string' || typeof signature.keyId !== 'string') {
    return { reason: 'the file is not a trackguard consent receipt (ledger or signature fields missing)' };
  }
  const receipt = doc as Receipt;
  if (renderReceipt(receipt) !== text) return { reason: 'the file was altered: it differs byte for byte from the receipt as issued' };
  return { receipt };
}

/**
 * Whether the signature covers the body under `publicKey`.
 *
 * @example receiptSignatureValid(receipt, publicKey) // true
 */
export function receiptSignatureValid(receipt: Receipt, publicKey: KeyObject): boolean {
  const signature = Buffer.from(receipt.signature.value, 'base64url');
  if (signature.length !== 64) return false;
  try {
    return verify(null, Buffer.from(canonicalJson(receipt.receipt), 'utf8'), publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * Checks a receipt against the ledger as it is now: its entry (`entry`, null
 * when missing), the entry before it (`previousHash` of the chain position
 * before, genesis for the first), the head, and the project's salt for the
 * shown email. Returns the first reason it fails, or null.
 *
 * @example receiptLedgerMismatch(receipt.receipt, { entry, previousHash, headSeq, salt }) // null when intact
 */
export function receiptLedgerMismatch(
  body: ReceiptBody,
  ledger: { entry: StoredLedgerEntry | null; previousHash: string | null; headSeq: number | null; salt: string | null },
): string | null {
  const { entry } = ledger;
  const position = body.ledger.position;
  if (ledger.headSeq === null || ledger.salt === null) return `project ${body.ledger.projectId} has no ledger here (wrong installation, or the project was deleted)`;
  if (!entry) return `entry erased: no entry at chain position ${position} of project ${body.ledger.projectId} any more (deleted since the receipt was issued)`;
  if (entry.erased) return `entry erased: the person's data was erased since the receipt was issued (chain position ${position})`;
  if (position > ledger.headSeq) return `chain position ${position} lies beyond the ledger head (${ledger.headSeq}): the entry was inserted by hand`;
  if (entryHash(entry, entry.prevHash) !== entry.hash) return `the ledger entry at chain position ${position} was altered: its content does not match its hash`;
  if (entry.hash !== body.ledger.entryHash) return `the ledger entry at chain position ${position} is not the one this receipt was issued for (hash differs)`;
  if (ledger.previousHash === null || ledger.previousHash !== entry.prevHash || entry.prevHash !== body.ledger.previousHash) {
    return `chain position ${position} does not follow the entry before it (an entry was deleted, inserted or altered)`;
  }
  const fields: [string, unknown, unknown][] = [
    ['action', body.event.action, entry.action],
    ['timestamp', body.event.timestamp, new Date(entry.date).toISOString()],
    ['source', body.event.source, entry.source],
    ['notice hash', body.event.noticeHash, entry.wordingHash],
    ['subject', body.subject.identifier, entry.subjectHash],
  ];
  for (const [name, given, stored] of fields) if (given !== stored) return `the receipt's ${name} differs from the ledger entry`;
  if (body.subject.email !== null && subjectHash(ledger.salt, body.subject.email) !== entry.subjectHash) return 'the email shown does not match the subject hash of the ledger entry';
  return null;
}
