/**
 * A small in-memory sliding-window limiter keyed by client address (form
 * POSTs). Each key keeps the times of its recent hits, at most `max` of them.
 * The keys are never logged; idle keys are swept so memory stays bounded.
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Records a hit and says whether it is within the limit. */
  allow(key: string, now: number): boolean {
    this.sweep(now);
    const since = now - this.windowMs;
    const times = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (times.length >= this.max) {
      this.hits.set(key, times);
      return false;
    }
    times.push(now);
    this.hits.set(key, times);
    return true;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs && this.hits.size < this.maxKeys) return;
    this.lastSweep = now;
    const since = now - this.windowMs;
    for (const [key, times] of this.hits) if ((times[times.length - 1] ?? 0) <= since) this.hits.delete(key);
    // Under a flood of distinct addresses, forget the oldest keys rather than grow without bound.
    if (this.hits.size >= this.maxKeys) {
      for (const key of [...this.hits.keys()].slice(0, this.hits.size - this.maxKeys / 2)) this.hits.delete(key);
    }
  }
}
