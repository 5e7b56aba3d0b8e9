/**
 * The client's side of OpenD's operations port: typed commands only (see
 * `ops_command.ts`), OpenD's documented rate limits enforced before sending,
 * replies classified, passwords redacted from everything that comes back.
 * @module
 */
import { redactSecrets } from "../machines/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";
import { _sendOpsLine } from "./_ops_port.ts";
import { _RateLimiter } from "./_rate_limiter.ts";
import {
  describeOpsCommand,
  formatOpsCommand,
  type OpsCommand,
  type OpsCommandName,
} from "./ops_command.ts";

// OpenD's documented limits: req_phone_verify_code 1 per 60 s; input and
// picture commands 10 per 60 s; relogin 10 per hour.
const LIMITS: Readonly<
  Record<OpsCommandName, { bucket: string; max: number; windowMs: number }>
> = {
  relogin: { bucket: "relogin", max: 10, windowMs: 3_600_000 },
  req_phone_verify_code: { bucket: "phone", max: 1, windowMs: 60_000 },
  input_phone_verify_code: { bucket: "input", max: 10, windowMs: 60_000 },
  input_pic_verify_code: { bucket: "input", max: 10, windowMs: 60_000 },
  req_pic_verify_code: { bucket: "picture", max: 10, windowMs: 60_000 },
  request_highest_quote_right: { bucket: "", max: 0, windowMs: 0 },
};

/** A reply that says the command failed (the simulator's and OpenD's words). */
const FAILED = /\b(FAILED|REFUSED)\b|失败|错误/i;

/** Where the operations port is. */
export interface _OpsClientOptions {
  readonly host: string;
  readonly port: number | undefined;
  readonly timeoutMs: number;
  /** Registers a socket's close, so the client can wait for it. */
  readonly track: (closed: Promise<void>) => void;
  /** Whether the client is closing. */
  readonly closing: () => boolean;
}

/** Sends commands; see the module doc. */
export class _OpsClient {
  readonly #o: _OpsClientOptions;
  readonly #limiters = new Map<string, _RateLimiter>();
  readonly #aborts = new Set<AbortController>();

  constructor(options: _OpsClientOptions) {
    this.#o = options;
  }

  /** Abandons every command in progress (on close). */
  abortAll(): void {
    for (const controller of this.#aborts) controller.abort();
  }

  /** Sends `command`, resolves with the reply line. */
  async send(command: OpsCommand, signal?: AbortSignal): Promise<string> {
    if (this.#o.closing()) {
      throw new ClientError(ClientErrorCode.Closed, "the client is closed");
    }
    const line = formatOpsCommand(command);
    const shown = describeOpsCommand(command);
    const port = this.#o.port;
    if (port === undefined) {
      throw new ClientError(
        ClientErrorCode.OpsFailed,
        `${shown}: no operations port configured (opsPort)`,
      );
    }
    const limit = LIMITS[command.command];
    let limiter: _RateLimiter | undefined;
    const takenAt = Date.now();
    if (limit.max > 0) {
      limiter = this.#limiters.get(limit.bucket);
      if (limiter === undefined) {
        limiter = new _RateLimiter(limit);
        this.#limiters.set(limit.bucket, limiter);
      }
      const verdict = limiter.take(takenAt);
      if (!verdict.ok) {
        throw new ClientError(
          ClientErrorCode.RateLimited,
          `${shown}: OpenD allows ${limit.max} per ${
            limit.windowMs / 1000
          } s; try again in ${Math.ceil(verdict.retryInMs / 1000)} s`,
          { retryAfterMs: verdict.retryInMs },
        );
      }
    }
    const controller = new AbortController();
    this.#aborts.add(controller);
    const onAbort = () => controller.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) controller.abort();
    let written = false;
    try {
      const reply = redactSecrets(
        await _sendOpsLine(
          {
            host: this.#o.host,
            port,
            timeoutMs: this.#o.timeoutMs,
            track: this.#o.track,
          },
          line,
          () => written = true,
          controller.signal,
        ),
      );
      if (FAILED.test(reply)) {
        throw new ClientError(
          ClientErrorCode.OpsFailed,
          `${shown}: OpenD answered: ${reply}`,
        );
      }
      return reply;
    } catch (error) {
      // A command that never left costs no slot.
      if (!written) limiter?.refund(takenAt);
      if (this.#o.closing() && !(error instanceof ClientError)) {
        throw new ClientError(ClientErrorCode.Closed, "the client is closed", {
          cause: error,
        });
      }
      throw error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#aborts.delete(controller);
    }
  }
}
