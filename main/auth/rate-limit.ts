// Failed pairing attempts per origin, in a fixed window: enough to stop a page from
// guessing challenges, cheap enough to keep in memory. The map is bounded: expired
// windows are pruned, and past maxKeys the oldest key goes (a page cycling through
// made-up origins cannot grow it without end).
export class FailureLimiter {
  private readonly failures = new Map<string, { count: number; windowEnds: number }>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  get size(): number {
    return this.failures.size;
  }

  /** Seconds to wait before trying again, or 0 when the key may try. */
  retryAfterSeconds(key: string): number {
    const entry = this.failures.get(key);
    if (!entry) return 0;
    const remaining = entry.windowEnds - this.now();
    if (remaining <= 0) {
      this.failures.delete(key);
      return 0;
    }
    return entry.count >= this.maxFailures ? Math.ceil(remaining / 1000) : 0;
  }

  recordFailure(key: string): void {
    const now = this.now();
    const entry = this.failures.get(key);
    if (entry && entry.windowEnds > now) {
      entry.count++;
      return;
    }
    this.failures.delete(key);
    this.prune(now);
    this.failures.set(key, { count: 1, windowEnds: now + this.windowMs });
  }

  private prune(now: number): void {
    // Entries are in insertion order, so window ends are too: stop at the first live one.
    for (const [key, entry] of this.failures) {
      if (entry.windowEnds > now && this.failures.size < this.maxKeys) break;
      this.failures.delete(key);
    }
  }
}
