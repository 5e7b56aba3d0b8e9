/**
 * Sliding-window rate limits, as OpenD documents them for its verification
 * and relogin commands.
 * @module
 */

/** At most `max` uses in any `windowMs` milliseconds. */
export interface RateLimit {
  /** Uses allowed in one window. */
  max: number;
  /** Window length in milliseconds. */
  windowMs: number;
}

/** The verdict of {@link _RateLimiter.take}. */
export type _RateVerdict = { ok: true } | { ok: false; retryInMs: number };

/**
 * Counts uses in a sliding window. Holds timestamps only, no timers, so it
 * never keeps a process alive.
 */
export class _RateLimiter {
  readonly #limit: RateLimit;
  #uses: number[] = [];

  constructor(limit: RateLimit) {
    if (!(limit.max >= 1) || !(limit.windowMs >= 0)) {
      throw new RangeError(
        `a rate limit needs max >= 1 and windowMs >= 0, got ${limit.max}/${limit.windowMs}`,
      );
    }
    this.#limit = { ...limit };
  }

  /** Uses one slot when one is free at `now`; otherwise says when one frees up. */
  take(now: number): _RateVerdict {
    const { max, windowMs } = this.#limit;
    this.#uses = this.#uses.filter((t) => now - t < windowMs);
    if (this.#uses.length >= max) {
      return { ok: false, retryInMs: this.#uses[0] + windowMs - now };
    }
    this.#uses.push(now);
    return { ok: true };
  }
}
