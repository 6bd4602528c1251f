// SPEC §2 rule 5: an anonymous event keeps nothing that points at a person. This is the one
// function tracking hits, web events and form events go through, so a leak here leaks everywhere.
import { describe, expect, it } from 'vitest';
import { MAX_USER_AGENT, anonymousEvent, withoutQuery } from './anonymous-event.js';

const at = Date.UTC(2026, 10, 29, 6, 1, 30, 250);

describe('anonymousEvent', () => {
  it('an anonymous event keeps no contact, IP address or user agent, its time to the minute and the URL without query', () => {
    expect(anonymousEvent({ contactId: null, at, ip: '203.0.113.7', userAgent: 'Mozilla/5.0', url: 'https://shop.example/p?email=a@b.c#top', nonce: 'n0nce' })).toEqual({
      contactId: null,
      at: Date.UTC(2026, 10, 29, 6, 1, 0),
      ip: null,
      userAgent: null,
      url: 'https://shop.example/p',
      nonce: 'n0nce',
    });
  });

  it('an identified event keeps its origin, exact time, user agent capped, and no nonce', () => {
    const kept = anonymousEvent({ contactId: 7, at, ip: '203.0.113.7', userAgent: 'x'.repeat(2000), url: 'https://shop.example/p?q=1', nonce: 'n0nce' });
    expect(kept).toMatchObject({ contactId: 7, at, ip: '203.0.113.7', url: 'https://shop.example/p?q=1', nonce: null });
    expect(kept.userAgent).toHaveLength(MAX_USER_AGENT);
  });

  it('missing parts stay null', () => {
    expect(anonymousEvent({ contactId: 3, at })).toEqual({ contactId: 3, at, ip: null, userAgent: null, url: null, nonce: null });
    expect(anonymousEvent({ contactId: null, at })).toMatchObject({ url: null, nonce: null });
  });

  it('withoutQuery also cuts a relative or malformed address', () => {
    expect(withoutQuery('/pricing?utm_source=x#plans')).toBe('/pricing');
    expect(withoutQuery('https://a.example/b#c')).toBe('https://a.example/b');
  });
});
