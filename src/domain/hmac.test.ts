// A MAC is accepted only in its one canonical base64url spelling: the confirmation-link forgery
// test once passed a token whose last character differed only in unused bits, and it was accepted.
import { describe, expect, it } from 'vitest';
import { hmac, hmacMatches, macFromBase64url } from './hmac.js';

describe('hmac', () => {
  it('decodes a canonical base64url MAC and refuses one that differs only in unused bits', () => {
    const mac = hmac('s', 'data', 16);
    const text = mac.toString('base64url');
    expect(macFromBase64url(text)).toEqual(mac);
    // 16 bytes take 22 characters: the last one carries 2 bits and 4 unused ones.
    expect(text).toHaveLength(22);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const flipped = `${text.slice(0, -1)}${alphabet[alphabet.indexOf(text[21]!) ^ 1]}`;
    expect(Buffer.from(flipped, 'base64url').equals(mac)).toBe(true);
    expect(macFromBase64url(flipped)).toBeUndefined();
    expect(macFromBase64url('AAA')).toEqual(Buffer.alloc(2));
    expect(macFromBase64url('AAB')).toBeUndefined();
  });

  it('matches under any secret of the rotation, never with the wrong length', () => {
    const given = hmac('old', 'x', 12);
    expect(hmacMatches(['new', 'old'], 'x', given, 12)).toBe(true);
    expect(hmacMatches(['new'], 'x', given, 12)).toBe(false);
    expect(hmacMatches(['old'], 'x', given.subarray(0, 11), 12)).toBe(false);
  });
});
