/**
 * OpenD's documented rate limits on its operations (telnet) port, and the
 * sliding-window counter that keeps them. The client keeps them before
 * sending (so OpenD never answers "too frequent"); the simulator enforces
 * them as OpenD does. Timestamps only, no timers: it never keeps a process
 * alive.
 * @module
 */

/** At most `max` uses in any `windowMs` milliseconds. */
export interface RateLimit {
  /** Uses allowed in one window. */
  readonly max: number;
  /** Window length in milliseconds. */
  readonly windowMs: number;
}

/**
 * OpenD's documented limits: `req_phone_verify_code` once per 60 s; the
 * picture request and the code inputs 10 per 60 s; `relogin` 10 per hour.
 * Phone and picture inputs share one budget.
 */
export const OPS_RATE_LIMITS: Readonly<{
  phoneCodeRequest: RateLimit;
  picCodeRequest: RateLimit;
  codeInput: RateLimit;
  relogin: RateLimit;
}> = Object.freeze({
  phoneCodeRequest: Object.freeze({ max: 1, windowMs: 60_000 }),
  picCodeRequest: Object.freeze({ max: 10, windowMs: 60_000 }),
  codeInput: Object.freeze({ max: 10, windowMs: 60_000 }),
  relogin: Object.freeze({ max: 10, windowMs: 3_600_000 }),
});

/** The verdict of {@link SlidingWindowLimiter.take}. */
export type RateVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryInMs: number };

/**
 * Counts uses in a sliding window.
 *
 * @example
 * ```ts
 * import { OPS_RATE_LIMITS, SlidingWindowLimiter } from "./ops_rate_limits.ts";
 * const phone = new SlidingWindowLimiter(OPS_RATE_LIMITS.phoneCodeRequest);
 * phone.take(0); // { ok: true }
 * phone.take(1_000); // { ok: false, retryInMs: 59000 }
 * phone.take(60_000); // { ok: true }
 * ```
 */
export class SlidingWindowLimiter {
  readonly #limit: RateLimit;
  #uses: number[] = [];

  /** Throws `RangeError` unless `max >= 1` and `windowMs >= 0`. */
  constructor(limit: RateLimit) {
    if (!(limit.max >= 1) || !(limit.windowMs >= 0)) {
      throw new RangeError(
        `a rate limit needs max >= 1 and windowMs >= 0, got ${limit.max}/${limit.windowMs}`,
      );
    }
    this.#limit = { max: limit.max, windowMs: limit.windowMs };
  }

  /** Uses one slot when one is free at `now`; otherwise says when one frees up. */
  take(now: number): RateVerdict {
    const { max, windowMs } = this.#limit;
    this.#uses = this.#uses.filter((t) => now - t < windowMs);
    if (this.#uses.length >= max) {
      return { ok: false, retryInMs: this.#uses[0] + windowMs - now };
    }
    this.#uses.push(now);
    return { ok: true };
  }

  /** Gives back the slot taken at `at` (for a command that never left). */
  refund(at: number): void {
    const i = this.#uses.lastIndexOf(at);
    if (i >= 0) this.#uses.splice(i, 1);
  }
}
