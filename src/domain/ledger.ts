import { createHash, createHmac } from 'node:crypto';

/** The `prevHash` of a project's first consent-history entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of a consent-history entry that its hash covers. */
export interface LedgerEntryContent {
  projectId: number;
  seq: number;
  subjectHash: string | null;
  action: string;
  date: number;
  recordedAt: number;
  source: string;
  wordingHash: string | null;
  detail: string | null;
  piiDigest: string;
}

/**
 * Hash of one entry, chained to the previous entry of the same project.
 * Personal data (contact id, IP, user agent) enters only through `piiDigest`,
 * so erasure can blank those columns without breaking the chain.
 *
 * @example entryHash(content, GENESIS_HASH) // 64 hex characters
 */
export function entryHash(content: LedgerEntryContent, prevHash: string): string {
  const canonical = JSON.stringify([
    prevHash,
    content.projectId,
    content.seq,
    content.subjectHash,
    content.action,
    content.date,
    content.recordedAt,
    content.source,
    content.wordingHash,
    content.detail,
    content.piiDigest,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Digest of the personal columns of an entry.
 *
 * @example piiDigest(42, '203.0.113.9', 'Mozilla/5.0')
 */
export function piiDigest(contactId: number | null, ip: string | null, userAgent: string | null): string {
  return createHash('sha256').update(JSON.stringify([contactId, ip, userAgent])).digest('hex');
}

/**
 * Salted hash of a normalised email: what survives of the person after erasure.
 *
 * @example subjectHash('salt', 'ana@example.com')
 */
export function subjectHash(salt: string, email: string | null): string | null {
  if (email === null) return null;
  return createHmac('sha256', salt).update(email).digest('hex');
}

/** A stored entry as the verifier reads it back. */
export interface StoredLedgerEntry extends LedgerEntryContent {
  id: number;
  contactId: number | null;
  ip: string | null;
  userAgent: string | null;
  erased: boolean;
  prevHash: string;
  hash: string;
}

export type ChainBreak = { id: number | null; seq: number; reason: string };

/**
 * Checks one project's entries fed in `seq` order against its head (read in
 * the same snapshot) and reports the first break: an altered entry, a gap (a
 * deleted entry), an entry whose links do not follow or that lies beyond the
 * head (an inserted entry), or a chain that ends before the head (entries
 * deleted at the end).
 *
 * @example const v = chainVerifier(head); for (const e of entries) v.check(e); v.finish() // null when intact
 */
export function chainVerifier(head: { seq: number; hash: string } | null): {
  check(entry: StoredLedgerEntry): ChainBreak | null;
  finish(): ChainBreak | null;
} {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  const headSeq = head?.seq ?? 0;
  return {
    check(entry) {
      if (entry.seq > headSeq) {
        return { id: entry.id, seq: entry.seq, reason: `entry lies beyond the ledger head (sequence ${headSeq}): it was inserted by hand` };
      }
      if (entry.seq !== expectedSeq) {
        return { id: entry.id, seq: entry.seq, reason: `expected sequence ${expectedSeq}, found ${entry.seq} (an entry was deleted or inserted)` };
      }
      if (entry.prevHash !== prevHash) {
        return { id: entry.id, seq: entry.seq, reason: 'prevHash does not match the previous entry (an entry was deleted, inserted or altered)' };
      }
      if (!entry.erased && piiDigest(entry.contactId, entry.ip, entry.userAgent) !== entry.piiDigest) {
        return { id: entry.id, seq: entry.seq, reason: 'contact, IP or user agent was altered' };
      }
      if (entryHash(entry, prevHash) !== entry.hash) {
        return { id: entry.id, seq: entry.seq, reason: 'content does not match its hash (the entry was altered)' };
      }
      prevHash = entry.hash;
      expectedSeq += 1;
      return null;
    },
    finish() {
      const lastSeq = expectedSeq - 1;
      if (headSeq !== lastSeq) {
        return { id: null, seq: lastSeq + 1, reason: `the chain ends at sequence ${lastSeq} but the ledger head says ${headSeq}: the entries after ${lastSeq} were deleted` };
      }
      if (head !== null && head.hash !== prevHash) {
        return { id: null, seq: headSeq, reason: 'the ledger head hash does not match the last entry (the head or the last entry was altered)' };
      }
      return null;
    },
  };
}
