/**
 * A sliding-window rate limit: at most `max` takes per `windowMs`.
 * @module
 */

/** A limit: `max` per `windowMs`. */
export interface _RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

/** What {@link _RateLimiter.take} answers. */
export type _RateVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryInMs: number };

/** Remembers when it was taken, within one window. */
export class _RateLimiter {
  readonly #limit: _RateLimit;
  #taken: number[] = [];

  constructor(limit: _RateLimit) {
    this.#limit = limit;
  }

  /** Takes one slot at `now` if the limit allows it. */
  take(now: number): _RateVerdict {
    const { max, windowMs } = this.#limit;
    this.#taken = this.#taken.filter((t) => now - t < windowMs);
    if (this.#taken.length >= max) {
      return { ok: false, retryInMs: this.#taken[0] + windowMs - now };
    }
    this.#taken.push(now);
    return { ok: true };
  }

  /** Gives back the slot taken at `at` (the command never left). */
  refund(at: number): void {
    const i = this.#taken.lastIndexOf(at);
    if (i >= 0) this.#taken.splice(i, 1);
  }
}
