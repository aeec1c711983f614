/**
 * A token bucket per principal: `rps` tokens a second, at most `burst` saved up. In memory,
 * per instance (N instances behind a balancer allow up to N times the rate).
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rps: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {}

  get enabled(): boolean {
    return this.rps > 0;
  }

  /** 0 when the call may go ahead (and is counted); otherwise the seconds to wait before retrying. */
  take(principal: string): number {
    if (this.rps <= 0) return 0;
    const now = this.now();
    let bucket = this.#buckets.get(principal);
    if (!bucket) {
      // Bounded memory: idle principals are forgotten (a full bucket is what they would have anyway).
      if (this.#buckets.size >= 10_000) this.#buckets.clear();
      bucket = { tokens: this.burst, at: now };
      this.#buckets.set(principal, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rps);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rps));
  }
}
