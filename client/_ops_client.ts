/**
 * The client's side of OpenD's operations port: typed commands only (see
 * `ops_command.ts`), OpenD's documented rate limits enforced before sending,
 * replies classified, passwords redacted from everything that comes back.
 * @module
 */
import { redactSecrets } from "../machines/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";
import { _sendOpsLine } from "./_ops_port.ts";
import { _tooFrequentWait } from "./_typed_response.ts";
import {
  OPS_RATE_LIMITS,
  type RateLimit,
  SlidingWindowLimiter,
} from "../codec/ops_rate_limits.ts";
import {
  describeOpsCommand,
  formatOpsCommand,
  type OpsCommand,
  type OpsCommandName,
} from "./ops_command.ts";

// Which budget each command spends; commands sharing a budget share a limiter.
const LIMITS: Readonly<
  Record<OpsCommandName, { bucket: string; limit?: RateLimit }>
> = {
  relogin: { bucket: "relogin", limit: OPS_RATE_LIMITS.relogin },
  req_phone_verify_code: {
    bucket: "phone",
    limit: OPS_RATE_LIMITS.phoneCodeRequest,
  },
  input_phone_verify_code: {
    bucket: "input",
    limit: OPS_RATE_LIMITS.codeInput,
  },
  input_pic_verify_code: { bucket: "input", limit: OPS_RATE_LIMITS.codeInput },
  req_pic_verify_code: {
    bucket: "picture",
    limit: OPS_RATE_LIMITS.picCodeRequest,
  },
  request_highest_quote_right: { bucket: "" },
};

/** A reply that says the command failed (the simulator's and OpenD's words). */
const FAILED = /\b(FAILED|REFUSED)\b|失败|错误/i;
/** A relogin reply that blames the password. */
const PASSWORD = /password|密码/i;

/** Where the operations port is. */
export interface _OpsClientOptions {
  readonly host: string;
  readonly port: number | undefined;
  readonly timeoutMs: number;
  /**
   * Added to every documented window, so that the client's clock and the
   * network's jitter never make a command reach OpenD early.
   */
  readonly marginMs?: number;
  /** Registers a socket's close, so the client can wait for it. */
  readonly track: (closed: Promise<void>) => void;
  /** Whether the client is closing. */
  readonly closing: () => boolean;
}

/** Sends commands; see the module doc. */
export class _OpsClient {
  readonly #o: _OpsClientOptions;
  readonly #limiters = new Map<string, SlidingWindowLimiter>();
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
    const { bucket, limit } = LIMITS[command.command];
    let limiter: SlidingWindowLimiter | undefined;
    const takenAt = Date.now();
    if (limit !== undefined) {
      limiter = this.#limiters.get(bucket);
      if (limiter === undefined) {
        limiter = new SlidingWindowLimiter({
          max: limit.max,
          windowMs: limit.windowMs + (this.#o.marginMs ?? 0),
        });
        this.#limiters.set(bucket, limiter);
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
        const retryAfterMs = _tooFrequentWait(reply);
        const wrongPassword = command.command === "relogin" &&
          retryAfterMs === undefined && PASSWORD.test(reply);
        throw new ClientError(
          ClientErrorCode.OpsFailed,
          `${shown}: OpenD answered: ${reply}`,
          {
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            ...(wrongPassword ? { wrongPassword } : {}),
          },
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
