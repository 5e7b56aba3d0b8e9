/**
 * The OpenD client: the session supervisor (`machines/`) run with real
 * implementations of its actors over the wire protocol (`codec/`).
 *
 * ## Delivery order
 *
 * Everything that arrives from OpenD goes through one read path per
 * connection, synchronously, packet by packet:
 *
 * 1. every chunk that completed a packet tells the supervisor the link is
 *    alive (`PACKET_RECEIVED`);
 * 2. responses to the supervisor's own requests (InitConnect, GetGlobalState,
 *    KeepAlive, Verification) are handled at once: InitConnect's response
 *    switches the connection to AES before the next packet is decrypted;
 * 3. Notify (1003) is decoded and given to the supervisor (`NOTIFICATION`),
 *    in wire order with those responses; as in the official SDK, nothing
 *    (no Notify, no push) is delivered before InitConnect's response;
 * 4. responses to user requests and pushes for `onPush` subscribers (quote,
 *    trade, Notify too) are put, in arrival order, on one ordered queue.
 *
 * The queue delivers one item at a time, in a microtask after the read path.
 * It awaits a handler that returns a promise before delivering the next
 * item, and after settling a response it lets the code awaiting that
 * response run (up to its own next `await`) first. So user code sees
 * responses and pushes in the order they arrived, and a slow (async) push
 * handler delays only what is behind it on the queue: never keep-alives,
 * never the supervisor's own requests, never reconnects. Failures that are
 * not arrivals (TIMEOUT, DISCONNECTED, CLOSED) settle at once, and a
 * request's timeout keeps running until its response is actually delivered
 * (a response stuck behind a handler that never settles rejects with
 * TIMEOUT), so a request is never left hanging behind a stuck handler.
 * @module
 */
import type { Actor } from "../machines/mod.ts";
import type { C2SOf, RequestProtoId, S2COf } from "../codec/mod.ts";
import {
  describeSession,
  redactSecrets,
  Secret,
  type SessionEmitted,
  type SessionMachine,
  type SessionSnapshot,
  type SessionSummary,
} from "../machines/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";
import { _prepareRequest } from "./_user_request.ts";
import {
  _defaultHandlerError,
  _onEvent,
  _subscribeSummary,
} from "./_event_fanout.ts";
import { _OpsClient } from "./_ops_client.ts";
import { _bindActorDeps, _createSupervisor } from "./_session_actors.ts";
import { _messageOf } from "./_message_of.ts";
import type { PushHandler, RawPacket } from "./_push_fanout.ts";
import { _Wire } from "./_wire.ts";
import type { OpsCommand } from "./ops_command.ts";
import {
  type _ResolvedOptions,
  _resolveOptions,
  type HandlerErrorContext,
  type OpenDClientOptions,
} from "./options.ts";

export type { PushHandler, PushPacket, RawPacket } from "./_push_fanout.ts";

/**
 * The supervisor actor the client runs: an XState `Actor` of the session
 * machine (its snapshots are `SessionSnapshot`).
 */
export type SessionActor = Actor<SessionMachine>;
/** The `type` of an event the supervisor emits. */
export type SessionEventType = SessionEmitted["type"];
/** The emitted event of one `type`. */
export type SessionEventOf<T extends SessionEventType> = Extract<
  SessionEmitted,
  { type: T }
>;

/** Options of {@link OpenDClient.request}. */
export interface RequestOptions {
  /**
   * Reject with TIMEOUT unless the response was delivered within this long
   * (default: the client's, 12000 ms); a response held back by a push
   * handler that has not settled counts as not delivered.
   */
  readonly timeoutMs?: number;
  /** Body format of this request (default: the client's `protoFmt`). */
  readonly protoFmt?: 0 | 1;
}

/** What the current connection was granted by InitConnect. */
export interface ConnectionInfo {
  /** Numbers this client's connections (1, 2, ...). */
  readonly seq: number;
  /** OpenD's connID for this connection. */
  readonly connId: string;
  /** The logged-in user's ID. */
  readonly loginUserId: string;
  /** OpenD's version. */
  readonly serverVer: number;
  /** Seconds; KeepAlive goes out every 4/5 of it. */
  readonly keepAliveIntervalS: number;
  /** Body encryption after InitConnect. */
  readonly encryption: "none" | "FTAES_ECB" | "AES_CBC";
}

/** Options of {@link OpenDClient.ops}. */
export interface OpsOptions {
  /** Abandons the command (its rate-limit slot stays spent once written). */
  readonly signal?: AbortSignal;
}

type Waiter = { check(): boolean };

/**
 * A client for one OpenD: it connects, keeps the connection alive, follows
 * OpenD's status and recovers the login as the policy says, all unattended.
 * Create it with {@link createOpenDClient}; always {@link close} it (or
 * `await using`).
 */
export class OpenDClient implements AsyncDisposable {
  /** The supervisor (XState actor), for inspection and advanced use. */
  readonly actor: SessionActor;

  readonly #o: _ResolvedOptions;
  readonly #onHandlerError: (error: unknown, c: HandlerErrorContext) => void;
  readonly #wire: _Wire;
  readonly #ops: _OpsClient;
  readonly #waiters = new Set<Waiter>();
  #state: "idle" | "started" | "closing" | "closed" = "idle";
  #closing: Promise<void> | undefined;
  #failure: ClientError | undefined;

  /** Use {@link createOpenDClient}. */
  constructor(options: OpenDClientOptions = {}) {
    this.#o = _resolveOptions(options);
    this.#onHandlerError = options.onHandlerError ?? _defaultHandlerError;
    const closing = () => this.closed;
    this.#wire = new _Wire({
      host: this.#o.host,
      port: this.#o.port,
      rsa: this.#o.rsa,
      packetEncAlgo: this.#o.packetEncAlgo,
      maxBodyBytes: this.#o.maxBodyBytes,
      signOfLifeEveryMs: Math.min(
        1_000,
        this.#o.sessionOptions.silenceTimeoutMs / 20,
      ),
      report: (error, context) => this.#report(error, context),
      closing,
    });
    this.#ops = new _OpsClient({
      host: this.#o.opsHost,
      port: this.#o.opsPort,
      timeoutMs: this.#o.opsTimeoutMs,
      marginMs: this.#o.sessionOptions.rateLimitMarginMs,
      track: (closed) => this.#wire.track(closed),
      closing,
    });
    // One machine for every client; this client's actors find its wire and
    // options through its actor system.
    this.actor = _createSupervisor(this.#o.sessionOptions, options.inspect);
    _bindActorDeps(this.actor.system, {
      wire: this.#wire,
      ops: this.#ops,
      options: this.#o,
      closing,
      codeProvider: options.codeProvider,
      credentialsProvider: options.credentialsProvider,
    });
    // Always an error listener: without one XState rethrows in a timer.
    this.actor.subscribe({
      error: (error) => this.#onSupervisorError(error),
    });
    if (this.#o.autoStart) this.start();
  }

  // ------------------------------------------------------------------ state

  /** Where the client connects: `host:port`. */
  get address(): string {
    return `${this.#o.host}:${this.#o.port}`;
  }

  /** What the current connection was granted, once InitConnect succeeded. */
  get connection(): ConnectionInfo | undefined {
    const conn = this.#wire.connection;
    if (conn === undefined || conn.state !== "initialized" || !conn.info) {
      return undefined;
    }
    return { seq: conn.id, ...conn.info };
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#state === "closing" || this.#state === "closed";
  }

  /** The supervisor's snapshot. */
  getSnapshot(): SessionSnapshot {
    return this.actor.getSnapshot();
  }

  /**
   * A flat summary of the supervisor: link phase, OpenD's status, recovery,
   * whether requests can go through (`ready`), reasons.
   *
   * @example
   * ```ts
   * import { createOpenDClient } from "./mod.ts";
   * const client = createOpenDClient({ autoStart: false });
   * client.describe().link; // "idle"
   * await client.close();
   * ```
   */
  describe(): SessionSummary {
    return describeSession(this.actor.getSnapshot());
  }

  // ------------------------------------------------------------ lifecycle

  /**
   * Starts connecting (done by {@link createOpenDClient} unless `autoStart`
   * is false). Also restarts after the supervisor stopped because reconnect
   * attempts ran out. Throws ClientError CLOSED after {@link close}.
   */
  start(): void {
    if (this.closed) {
      throw new ClientError(ClientErrorCode.Closed, "the client is closed");
    }
    if (this.#failure) throw this.#failure;
    if (this.#state === "idle") {
      this.#state = "started";
      this.actor.start();
    }
    this.actor.send({ type: "START" });
  }

  /**
   * Forgets what was learned and leaves a fatal state (once the cause was
   * fixed, for example OpenD upgraded), then connects again.
   */
  reset(): void {
    if (this.closed || this.#state !== "started") return;
    this.actor.send({ type: "RESET" });
    this.actor.send({ type: "START" });
  }

  /**
   * Closes gracefully: the supervisor closes the link (a half-close, bounded
   * by `closeTimeoutMs`) and stops; when the promise resolves every socket
   * is closed and every timer cleared. Requests in flight reject with
   * CLOSED; a push handler still running is not waited for. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** `await using client = createOpenDClient(...)` closes it at scope end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Resolves once the client is ready: online and OpenD Ready. Rejects with
   * ClientError TIMEOUT after `timeoutMs` (if given), STOPPED when the
   * supervisor stops (fatal gateway, reconnects exhausted), CLOSED on close.
   *
   * @example
   * ```ts
   * import { createOpenDClient } from "./mod.ts";
   * import { startSimulator } from "../sim/mod.ts";
   * // A simulated OpenD stands in for the real one (127.0.0.1:11111).
   * await using sim = await startSimulator({ port: 0, opsPort: false });
   * const client = createOpenDClient({ port: sim.address.port });
   * try {
   *   await client.whenReady(30_000);
   * } finally {
   *   await client.close();
   * }
   * ```
   */
  whenReady(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let unsubscribe = () => {};
      const waiter: Waiter = {
        check: () => {
          const outcome = this.#readiness();
          if (outcome === undefined) return false;
          this.#waiters.delete(waiter);
          if (timer !== undefined) clearTimeout(timer);
          unsubscribe();
          if (outcome === true) resolve();
          else reject(outcome);
          return true;
        },
      };
      if (waiter.check()) return;
      this.#waiters.add(waiter);
      const sub = this.actor.subscribe({
        next: () => void waiter.check(),
        error: () => void waiter.check(),
      });
      unsubscribe = () => sub.unsubscribe();
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#waiters.delete(waiter);
          unsubscribe();
          const s = this.describe();
          reject(
            new ClientError(
              ClientErrorCode.Timeout,
              `not ready after ${timeoutMs} ms (link ${s.link}, OpenD ${s.gateway}${
                s.lastReason ? `, last: ${s.lastReason}` : ""
              })`,
            ),
          );
        }, timeoutMs);
      }
    });
  }

  // ------------------------------------------------------------ events

  /**
   * Calls `handler` for every event of `type` the supervisor emits (`ready`,
   * `lost`, `reconnecting`, `stopped`, `closed`, `needsCode`, `needsPerson`,
   * `gaveUp`, `fatal`, `notification`), or for all of them with `"*"`.
   * Returns the unsubscribe function. Handlers run synchronously with the
   * supervisor; what they throw goes to `onHandlerError`.
   *
   * @example
   * ```ts
   * import { createOpenDClient } from "./mod.ts";
   * const client = createOpenDClient({ autoStart: false });
   * const off = client.on("lost", ({ reason }) => console.log("lost:", reason));
   * off();
   * await client.close();
   * ```
   */
  on<T extends SessionEventType>(
    type: T,
    handler: (event: SessionEventOf<T>) => void,
  ): () => void;
  /** Every emitted event. */
  on(type: "*", handler: (event: SessionEmitted) => void): () => void;
  on(type: string, handler: (event: never) => void): () => void {
    return _onEvent(
      this.actor,
      type,
      handler as (event: SessionEmitted) => void,
      (error, context) => this.#report(error, context),
    );
  }

  /**
   * Calls `listener` with the {@link describe} summary now and whenever it
   * changes (not on every snapshot: received bytes alone change nothing).
   * Returns the unsubscribe function.
   *
   * @example
   * ```ts
   * import { createOpenDClient } from "./mod.ts";
   * const client = createOpenDClient({ autoStart: false });
   * const off = client.subscribe(({ link, gateway, ready }) =>
   *   console.log(`link ${link}, OpenD ${gateway}${ready ? ", ready" : ""}`)
   * );
   * off();
   * await client.close();
   * ```
   */
  subscribe(
    listener: (summary: SessionSummary, snapshot: SessionSnapshot) => void,
  ): () => void {
    return _subscribeSummary(
      this.actor,
      listener,
      (error, context) => this.#report(error, context),
    );
  }

  /**
   * Subscribes to pushes of one protoID (for example 3005 basic quotes, 2208
   * order updates, 1003 Notify), or of every protoID with `"*"`. Handlers get
   * the raw decrypted body, untouched, in arrival order with responses; see
   * the module doc. Returns the unsubscribe function.
   *
   * @example
   * ```ts
   * import { createOpenDClient } from "./mod.ts";
   * const client = createOpenDClient({ autoStart: false });
   * const off = client.onPush(3005, ({ body, protoFmt }) => {
   *   console.log("basic quote push", body.length, protoFmt);
   * });
   * off();
   * await client.close();
   * ```
   */
  onPush(protoId: number | "*", handler: PushHandler): () => void {
    if (
      protoId !== "*" &&
      (!Number.isInteger(protoId) || protoId < 0 || protoId > 0xffffffff)
    ) {
      throw new ClientError(
        ClientErrorCode.InvalidArgument,
        `onPush: protoId must be a u32 or "*", got ${String(protoId)}`,
      );
    }
    if (typeof handler !== "function") {
      throw new ClientError(
        ClientErrorCode.InvalidArgument,
        "onPush: handler must be a function",
      );
    }
    return this.#wire.onPush(protoId, handler);
  }

  /**
   * Gives the code a person typed to the supervisor, when it is asking for
   * one (after `needsCode`). Returns whether it was taken. The code is boxed
   * in a `Secret` at once: it never shows in snapshots or inspection.
   */
  submitCode(code: string | Secret<string>): boolean {
    if (this.#state !== "started") return false;
    if (typeof code !== "string" && !(code instanceof Secret)) return false;
    const event = {
      type: "SUBMIT_CODE" as const,
      code: code instanceof Secret ? code : new Secret(code),
    };
    if (!this.actor.getSnapshot().can(event)) return false;
    this.actor.send(event);
    return true;
  }

  // ------------------------------------------------------------ requests

  /**
   * Sends a request on the current connection and resolves with its
   * response, matched by (protoID, serialNo).
   *
   * - Known protocols (GetGlobalState 1002, KeepAlive 1004, Verification
   *   1006): pass the C2S object, get the S2C object; a response with
   *   `retType` other than 0 rejects with REQUEST_FAILED.
   * - Any protoID: pass the body bytes (protobuf or JSON as `protoFmt` says),
   *   get the raw response packet; reading its `retType` is up to you.
   *
   * Rejects with {@link ClientError}: NOT_CONNECTED (no initialized
   * connection; see {@link whenReady}), TIMEOUT, DISCONNECTED (the link
   * dropped first), CLOSED, REQUEST_FAILED, PROTOCOL, INVALID_ARGUMENT.
   *
   * @example
   * ```ts
   * import { createOpenDClient } from "./mod.ts";
   * import { startSimulator } from "../sim/mod.ts";
   * // A simulated OpenD stands in for the real one (127.0.0.1:11111).
   * await using sim = await startSimulator({ port: 0, opsPort: false });
   * await using client = createOpenDClient({ port: sim.address.port });
   * await client.whenReady(30_000);
   * const state = await client.request(1002, { userID: "0" });
   * console.log(state.programStatus?.type, state.qotLogined);
   * const raw = await client.request(3004, new Uint8Array([10, 0]), { timeoutMs: 5000 });
   * console.log(raw.body.length);
   * ```
   */
  request<P extends RequestProtoId>(
    protoId: P,
    c2s: C2SOf<P>,
    options?: RequestOptions,
  ): Promise<S2COf<P>>;
  /** Any protoID, raw body in, raw response out. */
  request(
    protoId: number,
    body: Uint8Array,
    options?: RequestOptions,
  ): Promise<RawPacket>;
  request(
    protoId: number,
    message: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    try {
      return this.#request(protoId, message, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends one command to OpenD's operations port and resolves with its reply
   * line. Only the commands of `OPS_COMMANDS` exist (never `exit`), and
   * OpenD's documented rate limits are enforced before anything is sent.
   * Rejects with ClientError OPS_FAILED (no ops port configured, refused,
   * unreachable; the reply is in the message, passwords redacted),
   * RATE_LIMITED, TIMEOUT, INVALID_ARGUMENT or CLOSED.
   *
   * @example
   * ```ts
   * import { createOpenDClient } from "./mod.ts";
   * import { startSimulator } from "../sim/mod.ts";
   * // A simulated OpenD stands in for the real one (ops port 22222).
   * await using sim = await startSimulator({ port: 0, opsPort: 0 });
   * const { port, opsPort } = sim.address;
   * await using client = createOpenDClient({ port, opsPort });
   * await client.ops({ command: "request_highest_quote_right" }); // "request_highest_quote_right: OK, ..."
   * ```
   */
  ops(command: OpsCommand, options: OpsOptions = {}): Promise<string> {
    return this.#ops.send(command, options.signal);
  }

  // ------------------------------------------------------------ inspection

  /** A one-line summary; never a secret. */
  toString(): string {
    const s = this.describe();
    return `OpenDClient { ${this.address}, link: ${s.link}, gateway: ${s.gateway}, ready: ${s.ready}${
      this.closed ? ", closed" : ""
    } }`;
  }

  /** JSON form: the address and the summary. */
  toJSON(): { address: string; closed: boolean } & SessionSummary {
    return { address: this.address, closed: this.closed, ...this.describe() };
  }

  /** Deno's inspect form: see {@link toString}. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's inspect form: see {@link toString}. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ internals

  #report(error: unknown, context: HandlerErrorContext): void {
    try {
      this.#onHandlerError(error, context);
    } catch { /* the reporter's own failure */ }
  }

  /** `true` ready, an error to reject with, or `undefined`: wait. */
  #readiness(): true | ClientError | undefined {
    if (this.closed) {
      return new ClientError(ClientErrorCode.Closed, "the client is closed");
    }
    if (this.#failure) return this.#failure;
    // Called on every snapshot while waiting: the cheap checks first.
    const snapshot = this.actor.getSnapshot();
    const link = (snapshot.value as { link?: unknown }).link;
    if (link !== "stopped" && !snapshot.hasTag("ready")) return undefined;
    const s = describeSession(snapshot);
    if (s.ready) return true;
    if (s.link === "stopped") {
      return new ClientError(
        ClientErrorCode.Stopped,
        `the supervisor stopped: ${
          s.fatalReason ?? s.stoppedReason ?? "unknown"
        }`,
      );
    }
    return undefined;
  }

  #onSupervisorError(error: unknown): void {
    this.#failure = new ClientError(
      ClientErrorCode.Stopped,
      `the session supervisor failed: ${redactSecrets(_messageOf(error))}`,
      { cause: error },
    );
    this.#wire.connection?.destroy("the session supervisor failed");
    for (const waiter of [...this.#waiters]) waiter.check();
  }

  async #shutdown(): Promise<void> {
    const started = this.#state === "started";
    this.#state = "closing";
    for (const waiter of [...this.#waiters]) waiter.check();
    if (started && this.actor.getSnapshot().status === "active") {
      this.actor.send({ type: "CLOSE" });
      await this.#linkClosed(this.#o.sessionOptions.closeTimeoutMs + 500);
    }
    this.actor.stop();
    this.#ops.abortAll();
    await this.#wire.closeAll("closed by the client");
    this.#state = "closed";
  }

  /** Resolves when the link region is closed (or stopped), or after `ms`. */
  #linkClosed(ms: number): Promise<void> {
    const done = () => {
      const snapshot = this.actor.getSnapshot();
      const link = (snapshot.value as { link?: unknown }).link;
      return link === "closed" || link === "stopped" ||
        snapshot.status !== "active";
    };
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve();
      };
      const timer = setTimeout(finish, ms);
      const sub = this.actor.subscribe({
        next: () => {
          if (done()) finish();
        },
        error: finish,
        complete: finish,
      });
    });
  }

  #request(
    protoId: number,
    message: unknown,
    options: RequestOptions,
  ): Promise<unknown> {
    if (this.closed) {
      throw new ClientError(ClientErrorCode.Closed, "the client is closed", {
        protoId,
      });
    }
    const { body, fmt, timeoutMs, decode } = _prepareRequest(
      protoId,
      message,
      options.timeoutMs ?? this.#o.requestTimeoutMs,
      options.protoFmt ?? this.#o.protoFmt,
    );
    const conn = this.#wire.connection;
    if (conn === undefined || conn.state !== "initialized") {
      throw new ClientError(
        ClientErrorCode.NotConnected,
        `not connected to OpenD (link ${this.describe().link})`,
        { protoId },
      );
    }
    return this.#wire.send(conn, protoId, fmt, body, decode, {
      timeoutMs,
      for: "user",
    });
  }
}

/**
 * Creates a client for one OpenD and (unless `autoStart: false`) starts
 * connecting. Throws ClientError INVALID_ARGUMENT for bad options (an
 * unusable RSA key, a bad port, a nonsensical knob).
 *
 * @example
 * ```ts
 * import { createOpenDClient } from "./mod.ts";
 * import { startSimulator } from "../sim/mod.ts";
 * // A simulated OpenD stands in for the real one (ports 11111 and 22222).
 * await using sim = await startSimulator({ port: 0, opsPort: 0 });
 * await using client = createOpenDClient({
 *   port: sim.address.port,
 *   opsPort: sim.address.opsPort,
 *   codeProvider: ({ kind }) => prompt(`${kind} code:`) ?? "",
 *   credentialsProvider: () => ({ password: Deno.env.get("OPEND_PASSWORD") ?? "" }),
 * });
 * client.on("needsPerson", ({ reason }) => console.warn(reason));
 * client.on("fatal", ({ reason }) => console.error(reason));
 * await client.whenReady(60_000);
 * client.onPush(3005, ({ body }) => console.log("quote", body.length));
 * ```
 */
export function createOpenDClient(
  options: OpenDClientOptions = {},
): OpenDClient {
  return new OpenDClient(options);
}
