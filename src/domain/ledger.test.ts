// The consent history is the audit proof (SPEC §2 rule 1): if a hand-made UPDATE, DELETE or INSERT
// can slip past the verifier, the proof is worthless. Each kind of tampering must be named at its entry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChainBreak, chainVerifier, entryHash, GENESIS_HASH, piiDigest, type StoredLedgerEntry, subjectHash } from './ledger.js';

/** Builds an intact chain the way the store appends it. */
function buildChain(length: number, projectId = 7): { entries: StoredLedgerEntry[]; head: { seq: number; hash: string } } {
  const entries: StoredLedgerEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq += 1) {
    const contactId = seq === 1 ? null : 100 + seq;
    const ip = seq % 2 === 0 ? '203.0.113.9' : null;
    const userAgent = seq % 2 === 0 ? 'Mozilla/5.0' : null;
    const content = {
      projectId,
      seq,
      subjectHash: contactId === null ? null : subjectHash('salt', `c${seq}@example.com`),
      action: seq === 1 ? 'module-activation' : seq % 3 === 0 ? 'refused' : 'accepted',
      date: 1_700_000_000_000 + seq,
      recordedAt: 1_700_000_000_500 + seq,
      source: seq === 1 ? 'module-activation' : 'api:admin',
      wordingHash: null,
      detail: null,
      piiDigest: piiDigest(contactId, ip, userAgent),
    };
    const hash = entryHash(content, prevHash);
    entries.push({ ...content, id: 1000 + seq, contactId, ip, userAgent, erased: false, prevHash, hash });
    prevHash = hash;
  }
  return { entries, head: { seq: length, hash: prevHash } };
}

function verify(entries: StoredLedgerEntry[], head: { seq: number; hash: string } | null): ChainBreak | null {
  const verifier = chainVerifier(head);
  for (const entry of entries) {
    const broken = verifier.check(entry);
    if (broken) return broken;
  }
  return verifier.finish();
}

describe('chainVerifier', () => {
  it('accepts an intact chain of any length, including the empty one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), (n) => {
        const { entries, head } = buildChain(n);
        expect(verify(entries, n === 0 ? { seq: 0, hash: GENESIS_HASH } : head)).toBeNull();
      }),
    );
    expect(verify([], null)).toBeNull();
  });

  it('an altered field of any entry is reported at that entry', () => {
    const fields = ['action', 'date', 'recordedAt', 'source', 'detail', 'subjectHash', 'wordingHash', 'contactId', 'ip', 'userAgent'] as const;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.constantFrom(...fields), (seq, field) => {
        const { entries, head } = buildChain(12);
        const target = entries[seq - 1]!;
        const altered: StoredLedgerEntry = { ...target };
        if (field === 'date' || field === 'recordedAt') altered[field] += 1;
        else if (field === 'contactId') altered.contactId = (target.contactId ?? 0) + 1;
        else altered[field] = `${target[field] ?? ''}x`;
        entries[seq - 1] = altered;
        expect(verify(entries, head)).toMatchObject({ id: target.id, seq });
      }),
    );
  });

  it('an entry whose hash was recomputed after an edit breaks the link of the next one', () => {
    const { entries, head } = buildChain(5);
    const target = entries[2]!;
    const forged = { ...target, action: 'accepted' };
    forged.hash = entryHash(forged, forged.prevHash);
    entries[2] = forged;
    expect(verify(entries, head)).toMatchObject({ id: entries[3]!.id, seq: 4 });
  });

  it('a deleted middle entry is reported at the entry after the gap', () => {
    const { entries, head } = buildChain(6);
    const after = entries[3]!;
    entries.splice(2, 1);
    expect(verify(entries, head)).toMatchObject({ id: after.id, seq: 4 });
  });

  it('a deleted last entry is reported as the chain ending before the head', () => {
    const { entries, head } = buildChain(6);
    entries.pop();
    const broken = verify(entries, head);
    expect(broken).toMatchObject({ id: null, seq: 6 });
    expect(broken?.reason).toMatch(/deleted/);
  });

  it('a forged entry appended with a valid hash is reported at its id because it lies beyond the head', () => {
    const { entries, head } = buildChain(4);
    const last = entries[3]!;
    const content = { ...last, seq: 5, action: 'accepted', piiDigest: piiDigest(null, null, null), contactId: null, ip: null, userAgent: null };
    const forged: StoredLedgerEntry = { ...content, id: 9999, prevHash: last.hash, hash: entryHash(content, last.hash) };
    expect(verify([...entries, forged], head)).toMatchObject({ id: 9999, seq: 5 });
  });

  it('an entry inserted in the middle (renumbered chain) is reported where the links stop following', () => {
    const { entries, head } = buildChain(4);
    const forged: StoredLedgerEntry = { ...entries[1]!, id: 9999, hash: 'f'.repeat(64) };
    const tampered = [entries[0]!, forged, ...entries.slice(1)].map((e, i) => ({ ...e, seq: i + 1 }));
    expect(verify(tampered, { ...head, seq: 5 })).toMatchObject({ id: 9999, seq: 2 });
  });

  it('an entry with a sequence of 0 or less is reported', () => {
    const { entries, head } = buildChain(3);
    const forged: StoredLedgerEntry = { ...entries[0]!, id: 9999, seq: 0 };
    expect(verify([forged, ...entries], head)).toMatchObject({ id: 9999, seq: 0 });
  });

  it('a head that does not match the last entry is reported', () => {
    const { entries, head } = buildChain(3);
    expect(verify(entries, { seq: 3, hash: 'a'.repeat(64) })).toMatchObject({ id: null, seq: 3 });
    expect(verify(entries, { seq: 4, hash: head.hash })).toMatchObject({ id: null });
    expect(verify(entries, null)).toMatchObject({ id: entries[0]!.id });
  });

  it('erasure may blank contact, IP and user agent without breaking the chain', () => {
    const { entries, head } = buildChain(4);
    entries[1] = { ...entries[1]!, contactId: null, ip: null, userAgent: null, erased: true };
    expect(verify(entries, head)).toBeNull();
  });
});

describe('subjectHash and piiDigest', () => {
  it('depend on every input and keep no plaintext', () => {
    expect(subjectHash('salt', null)).toBeNull();
    expect(subjectHash('salt', 'ana@example.com')).not.toBe(subjectHash('pepper', 'ana@example.com'));
    expect(subjectHash('salt', 'ana@example.com')).not.toContain('ana');
    expect(piiDigest(1, null, null)).not.toBe(piiDigest(2, null, null));
    expect(piiDigest(1, '1.2.3.4', null)).not.toBe(piiDigest(1, null, '1.2.3.4'));
  });
});
