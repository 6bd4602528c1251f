// A tracking token is the only thing that ties a click to a contact and picks the redirect target:
// any altered, truncated or forged token must read as null (→ 404), never as another recipient or link.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TrackingToken, newNonce, signToken, verifyToken } from './token.js';

const SECRET = 'first-secret-0123456789';
const OLD = 'older-secret-9876543210';

const nonceArb = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('base64url'));
const tokenArb: fc.Arbitrary<TrackingToken> = fc.record({
  kind: fc.constantFrom('open' as const, 'click' as const),
  sendingId: fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.maxSafeNat()),
  linkIdx: fc.integer({ min: 0, max: 10_000 }),
  recipient: fc.oneof(
    fc.record({ contactId: fc.oneof(fc.integer({ min: 1, max: 10_000_000 }), fc.maxSafeNat()) }),
    fc.record({ nonce: nonceArb }),
  ),
  // Optional, kept to 100 ms: generated as multiples so the round trip is exact.
  sentAfterMs: fc.option(fc.integer({ min: 0, max: 10_000_000 }).map((n) => n * 100), { nil: undefined }),
}, { requiredKeys: ['kind', 'sendingId', 'linkIdx', 'recipient'] });

describe('tracking token', () => {
  it('round-trips every payload', () => {
    fc.assert(
      fc.property(tokenArb, (token) => {
        expect(verifyToken([SECRET], signToken(SECRET, token))).toEqual(token);
      }),
    );
  });

  it('is base64url without padding', () => {
    fc.assert(fc.property(tokenArb, (token) => /^[A-Za-z0-9_-]+$/.test(signToken(SECRET, token))));
  });

  it('verifies with any configured secret but signs with the first (rotation)', () => {
    const token: TrackingToken = { kind: 'click', sendingId: 12, linkIdx: 3, recipient: { contactId: 99 } };
    const old = signToken(OLD, token);
    expect(verifyToken([SECRET, OLD], old)).toEqual(token);
    expect(verifyToken([SECRET], old)).toBeNull();
    expect(verifyToken([], old)).toBeNull();
  });

  it('rejects a token signed with an unknown secret', () => {
    fc.assert(fc.property(tokenArb, fc.string({ minLength: 1 }), (token, other) => {
      fc.pre(other !== SECRET);
      expect(verifyToken([SECRET], signToken(other, token))).toBeNull();
    }));
  });

  it('rejects every single-character alteration', () => {
    // Exhaustive per token: every position × every other base64url character, including the
    // last character whose low bits carry no data (two texts must never read as one token).
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(tokenArb, (token) => {
        const text = signToken(SECRET, token);
        for (let i = 0; i < text.length; i++) {
          for (const ch of alphabet) {
            if (ch === text[i]) continue;
            expect(verifyToken([SECRET], text.slice(0, i) + ch + text.slice(i + 1))).toBeNull();
          }
        }
      }),
      { numRuns: 30 },
    );
  });

  it('rejects every single-byte alteration of the decoded token', () => {
    fc.assert(
      fc.property(tokenArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (token, at, xor) => {
        const bytes = Buffer.from(signToken(SECRET, token), 'base64url');
        const i = at % bytes.length;
        bytes[i] = bytes[i]! ^ xor;
        expect(verifyToken([SECRET], bytes.toString('base64url'))).toBeNull();
      }),
    );
  });

  it('rejects every truncation and every extension', () => {
    fc.assert(
      fc.property(tokenArb, fc.string({ unit: fc.constantFrom(...'Aa0-_'), minLength: 1, maxLength: 6 }), (token, extra) => {
        const text = signToken(SECRET, token);
        for (let n = 0; n < text.length; n++) expect(verifyToken([SECRET], text.slice(0, n))).toBeNull();
        expect(verifyToken([SECRET], text + extra)).toBeNull();
      }),
    );
  });

  it('rejects trailing bytes even under a valid MAC', () => {
    // Re-sign a body with an extra byte before the MAC: the codec must refuse it structurally.
    const text = signToken(SECRET, { kind: 'open', sendingId: 5, linkIdx: 0, recipient: { contactId: 7 } });
    const bytes = Buffer.from(text, 'base64url');
    const body = Buffer.concat([bytes.subarray(0, bytes.length - 8), Buffer.from([1])]);
    expect(verifyToken([SECRET], resign(body))).toBeNull();
  });

  it('rejects non-canonical varints and unknown versions even under a valid MAC', () => {
    // sendingId 5 written as 0x85 0x00 (overlong)
    expect(verifyToken([SECRET], resign(Buffer.from([0x10, 0x85, 0x00, 0x00, 0x07])))).toBeNull();
    expect(verifyToken([SECRET], resign(Buffer.from([0x10, 0x05, 0x00, 0x07])))).toEqual({
      kind: 'open', sendingId: 5, linkIdx: 0, recipient: { contactId: 7 },
    });
    expect(verifyToken([SECRET], resign(Buffer.from([0x20, 0x05, 0x00, 0x07])))).toBeNull();
    expect(verifyToken([SECRET], resign(Buffer.from([0x14, 0x05, 0x00, 0x07])))).toBeNull();
    // a varint larger than Number.MAX_SAFE_INTEGER
    expect(verifyToken([SECRET], resign(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x07])))).toBeNull();
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(...'AZaz09-_=+/. ') }), fc.uint8Array().map((b) => Buffer.from(b).toString('base64url'))), (text) => {
        expect(verifyToken([SECRET, OLD], text)).toBeNull();
      }),
    );
    expect(verifyToken([SECRET], undefined as unknown as string)).toBeNull();
  });

  it('keeps a tracked SMS click link under 60 characters', () => {
    const worst: TrackingToken[] = [
      { kind: 'click', sendingId: 10_000_000, linkIdx: 200, recipient: { nonce: newNonce() } },
      { kind: 'click', sendingId: 10_000_000, linkIdx: 200, recipient: { contactId: 2 ** 40 } },
    ];
    for (const token of worst) expect(`https://x.io/t/c/${signToken(SECRET, token)}`.length).toBeLessThan(60);
  });

  it('makes 11-character random nonces', () => {
    const a = newNonce();
    expect(a).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(newNonce()).not.toBe(a);
  });

  it('refuses to sign a malformed nonce or a negative id', () => {
    expect(() => signToken(SECRET, { kind: 'click', sendingId: 1, linkIdx: 1, recipient: { nonce: 'short' } })).toThrow();
    expect(() => signToken(SECRET, { kind: 'click', sendingId: -1, linkIdx: 1, recipient: { contactId: 1 } })).toThrow();
  });
});

function resign(body: Buffer): string {
  return Buffer.concat([body, createHmac('sha256', SECRET).update(body).digest().subarray(0, 8)]).toString('base64url');
}
