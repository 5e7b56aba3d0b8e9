/**
 * The one error type the client rejects with.
 * @module
 */

/** Stable machine-readable codes of {@link ClientError}. */
export const ClientErrorCode = {
  /** No response arrived within the request's `timeoutMs`. */
  Timeout: "TIMEOUT",
  /** The link dropped while the request was in flight. */
  Disconnected: "DISCONNECTED",
  /** There is no initialized connection to OpenD right now. */
  NotConnected: "NOT_CONNECTED",
  /** The client was closed. */
  Closed: "CLOSED",
  /** OpenD answered with `retType` other than 0 (see `retType`, `retMsg`, `errCode`). */
  RequestFailed: "REQUEST_FAILED",
  /** The response could not be read (bad body, SHA-1 mismatch, undecryptable). */
  Protocol: "PROTOCOL",
  /** A bad argument: an unknown option, a message that cannot be encoded, an unsafe ops value. */
  InvalidArgument: "INVALID_ARGUMENT",
  /** Refused client-side by OpenD's documented rate limit (see `retryAfterMs`). */
  RateLimited: "RATE_LIMITED",
  /** The operations port answered FAILED, could not be reached, or is not configured. */
  OpsFailed: "OPS_FAILED",
  /** The supervisor stopped: the gateway is fatal or reconnect attempts ran out. */
  Stopped: "STOPPED",
} as const;
/** A {@link ClientErrorCode} value. */
export type ClientErrorCode =
  typeof ClientErrorCode[keyof typeof ClientErrorCode];

/** Details a {@link ClientError} may carry. */
export interface ClientErrorDetails {
  /** The request's protoID. */
  protoId?: number;
  /** The request's serialNo. */
  serialNo?: number;
  /** OpenD's retType (REQUEST_FAILED). */
  retType?: number;
  /** OpenD's retMsg (REQUEST_FAILED). */
  retMsg?: string;
  /** OpenD's errCode (REQUEST_FAILED). */
  errCode?: number;
  /**
   * When a rate-limited command may be sent again (RATE_LIMITED), or, for
   * REQUEST_FAILED, the wait OpenD asked for when it answered "too
   * frequent" (0 when it did not say).
   */
  retryAfterMs?: number;
  /** Why no retry can fix this (a wrong RSA key, an unknown host, ...). */
  permanent?: string;
  /** OpenD refused the password of a relogin (OPS_FAILED). */
  wrongPassword?: boolean;
  /** The underlying error (never carries key material or passwords). */
  cause?: unknown;
}

/**
 * A client failure with a stable {@link ClientErrorCode}. Messages never
 * contain keys or passwords.
 *
 * @example
 * ```ts
 * import { ClientError } from "./client_error.ts";
 * try {
 *   throw new ClientError("TIMEOUT", "no answer", { protoId: 3004, serialNo: 7 });
 * } catch (error) {
 *   if (error instanceof ClientError && error.code === "TIMEOUT") console.log(error.protoId); // 3004
 * }
 * ```
 */
export class ClientError extends Error {
  /** Stable machine-readable code. */
  readonly code: ClientErrorCode;
  /** The request's protoID, when the error concerns a request. */
  readonly protoId?: number;
  /** The request's serialNo, when the error concerns a request. */
  readonly serialNo?: number;
  /** OpenD's retType, for REQUEST_FAILED. */
  readonly retType?: number;
  /** OpenD's retMsg, for REQUEST_FAILED. */
  readonly retMsg?: string;
  /** OpenD's errCode, for REQUEST_FAILED when it gave one. */
  readonly errCode?: number;
  /**
   * For RATE_LIMITED: how long until the command may be sent; for
   * REQUEST_FAILED "too frequent" answers, the wait OpenD asked for.
   */
  readonly retryAfterMs?: number;
  /** Set when no retry can fix this: a short, stable description. */
  readonly permanent?: string;
  /** Set when OpenD refused a relogin's password. */
  readonly wrongPassword?: boolean;

  /** Creates an error; `message` must never contain a secret. */
  constructor(
    code: ClientErrorCode,
    message: string,
    details: ClientErrorDetails = {},
  ) {
    super(
      message,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = "ClientError";
    this.code = code;
    if (details.protoId !== undefined) this.protoId = details.protoId;
    if (details.serialNo !== undefined) this.serialNo = details.serialNo;
    if (details.retType !== undefined) this.retType = details.retType;
    if (details.retMsg !== undefined) this.retMsg = details.retMsg;
    if (details.errCode !== undefined) this.errCode = details.errCode;
    if (details.retryAfterMs !== undefined) {
      this.retryAfterMs = details.retryAfterMs;
    }
    if (details.permanent !== undefined) this.permanent = details.permanent;
    if (details.wrongPassword) this.wrongPassword = true;
  }

  /** A JSON form: the code, the message and the details that are set. */
  toJSON(): {
    code: ClientErrorCode;
    message: string;
    protoId?: number;
    serialNo?: number;
    retType?: number;
    retMsg?: string;
    errCode?: number;
    retryAfterMs?: number;
    permanent?: string;
  } {
    const out: ReturnType<ClientError["toJSON"]> = {
      code: this.code,
      message: this.message,
    };
    if (this.protoId !== undefined) out.protoId = this.protoId;
    if (this.serialNo !== undefined) out.serialNo = this.serialNo;
    if (this.retType !== undefined) out.retType = this.retType;
    if (this.retMsg !== undefined) out.retMsg = this.retMsg;
    if (this.errCode !== undefined) out.errCode = this.errCode;
    if (this.retryAfterMs !== undefined) out.retryAfterMs = this.retryAfterMs;
    if (this.permanent !== undefined) out.permanent = this.permanent;
    return out;
  }
}

/**
 * Whether `error` is a {@link ClientError}, optionally with one of `codes`.
 *
 * @example
 * ```ts
 * import { ClientError, isClientError } from "./client_error.ts";
 * isClientError(new ClientError("CLOSED", "closed"), "CLOSED", "DISCONNECTED"); // true
 * ```
 */
export function isClientError(
  error: unknown,
  ...codes: ClientErrorCode[]
): error is ClientError {
  return error instanceof ClientError &&
    (codes.length === 0 || codes.includes(error.code));
}
