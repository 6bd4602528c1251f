// Public forms are open to anyone: the limiter must stop floods per key and must not itself
// become the memory leak an attacker uses (many distinct keys).
import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './rate-limit.js';

describe('sliding-window rate limit', () => {
  it('allows max hits per window per key, then frees slots as old hits leave the window', () => {
    const limiter = new SlidingWindowLimiter(3, 60_000);
    expect([0, 10, 20, 30].map((t) => limiter.allow('a', t))).toEqual([true, true, true, false]);
    expect(limiter.allow('b', 30)).toBe(true);
    // At 60 000 the hit at 0 has left the window (refused hits are not counted).
    expect(limiter.allow('a', 60_000)).toBe(true);
    expect(limiter.allow('a', 60_005)).toBe(false);
    expect(limiter.allow('a', 60_011)).toBe(true);
  });

  it('keeps memory bounded under many distinct keys', () => {
    const limiter = new SlidingWindowLimiter(1, 60_000, 100);
    for (let i = 0; i < 1000; i++) limiter.allow(`k${i}`, i);
    expect((limiter as unknown as { hits: Map<string, number[]> }).hits.size).toBeLessThanOrEqual(100);
  });
});
