/**
 * The session supervisor's knobs, their defaults (from the protocol facts in
 * DESIGN.md and the official SDKs), and the backoff formula.
 * @module
 */
import { defaultPolicy, type Policy } from "./policy.ts";

/** Every knob of the session supervisor, resolved. */
export interface SessionOptions {
  /** GtwEvent / status reactions. */
  readonly policy: Policy;
  /**
   * KeepAlive interval (s) to use when InitConnect's response has none.
   * KeepAlive is sent every interval x 4/5.
   */
  readonly defaultKeepAliveIntervalS: number;
  /**
   * The link is dead after this long without a whole packet received (bytes
   * prove nothing: a lying header swallows everything behind it). The wait
   * is never shorter than one keep-alive period (InitConnect's
   * keepAliveInterval x 4/5) plus `requestTimeoutMs`: with OpenD's
   * keepAliveInterval at 50 s (a KeepAlive every 40 s), silence means a dead
   * link only after 52 s, not 33 s.
   */
  readonly silenceTimeoutMs: number;
  /**
   * The link is dead after this many KeepAlives in a row went unanswered
   * (each within `requestTimeoutMs`), whatever else arrives.
   */
  readonly maxKeepAliveMisses: number;
  /**
   * Stop reconnecting after this many identical permanent link failures in
   * a row (a wrong RSA key, a port that does not speak OpenD's protocol, an
   * unknown host): no retry can fix them.
   */
  readonly maxPermanentFailures: number;
  /** How long InitConnect, GetGlobalState, KeepAlive, Verification may take. */
  readonly requestTimeoutMs: number;
  /** How long opening the TCP link may take. */
  readonly connectTimeoutMs: number;
  /** How long a graceful close may take before the link is dropped. */
  readonly closeTimeoutMs: number;
  /** Reconnect backoff: the first delay's upper bound. */
  readonly reconnectBaseMs: number;
  /** Reconnect backoff: no delay is longer. */
  readonly reconnectCapMs: number;
  /** Stop reconnecting after this many attempts; `undefined`: never stop. */
  readonly maxReconnectAttempts: number | undefined;
  /** Online this long without trouble resets the reconnect attempt count. */
  readonly stableOnlineMs: number;
  /**
   * At most one phone code round (request, ask, submit) per this long plus
   * `rateLimitMarginMs` (OpenD sends one SMS a minute).
   */
  readonly phoneCodeIntervalMs: number;
  /**
   * At most one picture code round per this long plus `rateLimitMarginMs`
   * (OpenD allows 10 picture requests and 10 code inputs a minute).
   */
  readonly pictureCodeIntervalMs: number;
  /**
   * Added to every documented OpenD limit the supervisor keeps, and to the
   * wait OpenD asks for when it answers "too frequent": the client's clock
   * and the network's jitter must not make a request arrive early.
   */
  readonly rateLimitMarginMs: number;
  /** How long the code or credentials provider may take to answer. */
  readonly providerTimeoutMs: number;
  /**
   * After a code or relogin was accepted, how long OpenD may take to report
   * Ready before that attempt counts as failed.
   */
  readonly loginConfirmTimeoutMs: number;
  /** Wrong (or unanswered) codes before recovery stops and reports. */
  readonly maxCodeAttempts: number;
  /** Code requests (phone SMS or new picture) before recovery stops. */
  readonly maxCodeRequests: number;
  /** Relogin backoff: the first delay's upper bound. */
  readonly reloginBaseMs: number;
  /** Relogin backoff: no delay is longer. */
  readonly reloginCapMs: number;
  /** Relogins before recovery stops (OpenD allows 10 an hour). */
  readonly maxRelogins: number;
  /** Where OpenD saves the picture code, passed to the code provider. */
  readonly picturePath: string | undefined;
  /** Jitter source in [0, 1]; inject a constant to make backoff exact. */
  readonly random: () => number;
}

/** The supervisor's input: any knob, the rest default. */
export type SessionInput = Partial<SessionOptions>;

/**
 * The defaults. Keep-alive, silence and request timeouts follow the official
 * Python SDK (33 s, 12 s); backoff is exponential with full jitter instead of
 * its fixed 6 s so a restarting OpenD is not hammered.
 */
export const defaultSessionOptions: SessionOptions = Object.freeze({
  policy: defaultPolicy,
  defaultKeepAliveIntervalS: 10,
  silenceTimeoutMs: 33_000,
  maxKeepAliveMisses: 2,
  maxPermanentFailures: 3,
  requestTimeoutMs: 12_000,
  connectTimeoutMs: 12_000,
  closeTimeoutMs: 2_000,
  reconnectBaseMs: 1_000,
  reconnectCapMs: 60_000,
  maxReconnectAttempts: undefined,
  stableOnlineMs: 60_000,
  phoneCodeIntervalMs: 60_000,
  pictureCodeIntervalMs: 6_000,
  rateLimitMarginMs: 3_000,
  providerTimeoutMs: 600_000,
  loginConfirmTimeoutMs: 120_000,
  maxCodeAttempts: 3,
  maxCodeRequests: 5,
  reloginBaseMs: 30_000,
  reloginCapMs: 600_000,
  maxRelogins: 3,
  picturePath: undefined,
  random: Math.random,
});

const DURATIONS = [
  "defaultKeepAliveIntervalS",
  "silenceTimeoutMs",
  "requestTimeoutMs",
  "connectTimeoutMs",
  "closeTimeoutMs",
  "reconnectBaseMs",
  "reconnectCapMs",
  "stableOnlineMs",
  "phoneCodeIntervalMs",
  "pictureCodeIntervalMs",
  "rateLimitMarginMs",
  "providerTimeoutMs",
  "loginConfirmTimeoutMs",
  "reloginBaseMs",
  "reloginCapMs",
] as const;
const COUNTS = [
  "maxCodeAttempts",
  "maxCodeRequests",
  "maxRelogins",
  "maxKeepAliveMisses",
  "maxPermanentFailures",
] as const;

/**
 * `input` over the defaults, checked. A nonsensical knob (negative, NaN, a
 * zero attempt budget) throws a TypeError naming it.
 *
 * @example
 * ```ts
 * import { resolveSessionOptions } from "./session_options.ts";
 * resolveSessionOptions({ reconnectCapMs: 30_000 }).reconnectCapMs; // 30000
 * ```
 */
export function resolveSessionOptions(
  input: SessionInput | undefined,
): SessionOptions {
  const defined = Object.fromEntries(
    Object.entries(input ?? {}).filter(([, value]) => value !== undefined),
  );
  const options: SessionOptions = { ...defaultSessionOptions, ...defined };
  for (const key of DURATIONS) {
    const value = options[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`session option ${key} must be a number >= 0`);
    }
  }
  for (const key of COUNTS) {
    const value = options[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new TypeError(`session option ${key} must be an integer >= 1`);
    }
  }
  const max = options.maxReconnectAttempts;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new TypeError(
      "session option maxReconnectAttempts must be an integer >= 1 or undefined",
    );
  }
  if (typeof options.random !== "function") {
    throw new TypeError("session option random must be a function");
  }
  return Object.freeze(options);
}

/**
 * Exponential backoff with full jitter: a delay in
 * [0, min(cap, base * 2^(attempt-1))], drawn with `random` (clamped to
 * [0, 1]). Attempt 1 with `random = () => 1` is exactly `base`.
 *
 * @example
 * ```ts
 * import { fullJitterBackoff } from "./session_options.ts";
 * [1, 2, 3].map((n) => fullJitterBackoff(n, 1_000, 60_000, () => 1));
 * // [1000, 2000, 4000]
 * ```
 */
export function fullJitterBackoff(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  const ceiling = Math.min(capMs, baseMs * 2 ** exponent);
  const draw = Number(random());
  const unit = Number.isFinite(draw) ? Math.min(1, Math.max(0, draw)) : 1;
  return Math.floor(unit * ceiling);
}
