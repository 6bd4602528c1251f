/**
 * In-process cache of contacts' consent values for the tracking hot path.
 * Every consent change invalidates its contact after commit, here and (by a
 * change notification) on the other server processes; a short TTL bounds
 * staleness when a notification is lost. Only an optimisation: the tracking
 * batch checks consent in its own transaction (BatchRecorder).
 */
export class ConsentCache {
  private readonly entries = new Map<string, { value: boolean | null; exists: boolean; at: number }>();
  /** Bumped by every invalidation, so a read that raced with a consent change is not cached. */
  generation = 0;

  constructor(
    private readonly ttlMs = 2000,
    private readonly maxEntries = 200_000,
  ) {}

  get(projectId: number, contactId: number, now: number): { value: boolean | null; exists: boolean } | undefined {
    const key = `${projectId}:${contactId}`;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Caches a value read from the database while `generation` was `readAt`; drops it if a change came in between. */
  set(projectId: number, contactId: number, value: boolean | null, exists: boolean, now: number, readAt: number): void {
    if (readAt !== this.generation) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(`${projectId}:${contactId}`, { value, exists, at: now });
  }

  /** Forgets every entry (a bulk change on another process, or missed notifications). */
  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  invalidate(projectId: number, contactIds: Iterable<number>): void {
    this.generation += 1;
    for (const id of contactIds) this.entries.delete(`${projectId}:${id}`);
  }
}
