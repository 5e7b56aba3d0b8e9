/**
 * A scriptable OpenD on loopback that speaks the real wire protocol.
 *
 * ## API port
 * - **InitConnect (1001)**: with `rsaPrivateKey` set, the request and the
 *   response bodies are RSA (PKCS#1 v1.5 chunks). The body encryption that
 *   follows depends on the requested `packetEncAlgo`: 2 (AES_CBC) gets an
 *   `aesCBCiv` and AES-CBC; 0 (FTAES_ECB), 1 (AES_ECB) or absent get no IV
 *   and **FTAES_ECB** (a response without an IV means FTAES_ECB to the
 *   official SDKs; standard AES_ECB cannot be told apart on the wire, so it
 *   is never granted); -1 gets plaintext. Without an RSA key everything is
 *   plaintext whatever is asked. An InitConnect that fails to decrypt or
 *   parse is answered with retType -1 **in plaintext** (the peer evidently
 *   has another key) and the connection closed.
 * - **GetGlobalState (1002)**, **KeepAlive (1004)**, **Verification (1006)**
 *   as OpenD answers them; any other protoID gets retType -1
 *   "unknown protocol". Requests other than InitConnect before InitConnect
 *   get retType -1 "InitConnect first".
 * - Responses use the request's body format and echo its protoID and
 *   serialNo. Pushes (Notify 1003, raw pushes) go only to connections whose
 *   InitConnect response was sent, Notify only to those that asked
 *   `recvNotify`, in their `pushProtoFmt`, with a simulator-wide push serialNo.
 * - A connection that sends bytes that are not a valid packet, or nothing
 *   for `idleTimeoutMs`, is closed (and the event recorded).
 *
 * ## WebSocket port (`wsPort`)
 * OpenD's second API door, used by the official JavaScript SDK: `ft-v1.0`
 * frames (codec/ws_frame.ts), InitWebSocket (cmd 1) instead of InitConnect,
 * then the same protocols answered the same way. Optional TLS (`wsTls`) and
 * key (`wsKey`); fault modes via {@link OpenDSimulator.setWebSocketFault}.
 * Its clients share the connection numbering, the pushes (always Notify,
 * never an idle timeout) and every fault control with the TCP port.
 *
 * ## Operations port
 * See {@link OpenDSimulator} for the commands and the exact reply lines.
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { CodecError } from "../codec/codec_error.ts";
import {
  GtwEventType,
  NotifyType,
  PacketEncAlgo,
  ProgramStatusType,
  ProtoFmt,
  ProtoId,
  RetType,
  UserAttribution,
  VerificationOp,
  VerificationType,
} from "../codec/definitions.ts";
import {
  decodeRequest,
  encodeResponse,
  type GetGlobalStateS2C,
  type InitConnectC2S,
  type InitConnectS2C,
  type ProgramStatus,
  type Response,
} from "../codec/messages.ts";
import {
  encodeNotification,
  gtwEventNotification,
  type NotificationInput,
  programStatusNotification,
  qotRightNotification,
} from "../codec/notify.ts";
import type { DecodedPacket } from "../codec/packet.ts";
import { createAesCipher } from "../codec/aes.ts";
import { RsaKey } from "../codec/rsa.ts";
import { _ApiConnection, type _ConnectionHost } from "./_api_connection.ts";
import {
  _WsConnection,
  type _WsHost,
  type _WsSocket,
} from "./_ws_connection.ts";
import {
  _createWsServer,
  _loadWsServerClass,
  type _WsServerClass,
  type WsTlsOptions,
} from "./_ws_listener.ts";
import {
  decodeInitWebSocketRequest,
  encodeInitWebSocketResponse,
  type InitWebSocketC2S,
  webSocketKeyDigest,
} from "../codec/init_websocket.ts";
import type { WsRequestFrame } from "../codec/ws_frame.ts";
import type { Packet } from "../codec/packet.ts";
import {
  _LineSplitter,
  _loggableCommand,
  _parseOpsLine,
  _redactArgs,
  _safeCommandName,
} from "./_ops_line.ts";
import {
  OPS_RATE_LIMITS,
  type RateLimit,
  SlidingWindowLimiter,
} from "../codec/ops_rate_limits.ts";
import {
  _gtwEventDetail,
  formatSimEvent,
  type RefuseMode,
  type SimCodeType,
  type SimEncryption,
  type SimEvent,
  type SimEventBody,
  type SimEventOf,
  type SimEventType,
  type SimVia,
  WS_FAULTS,
  type WsFault,
  type WsKeyRefusal,
} from "./events.ts";
import {
  _runStep,
  type RunScenarioOptions,
  type ScenarioRun,
  type ScenarioStep,
  validateScenario,
} from "./scenario.ts";
import {
  isScenarioName,
  namedScenario,
  type ScenarioName,
} from "./scenarios.ts";

export type { RateLimit } from "../codec/ops_rate_limits.ts";
export type { WsTlsOptions } from "./_ws_listener.ts";

/** The rate limits the simulator enforces (OpenD's documented ones by default). */
export interface SimRateLimits {
  /** Phone code requests, API and ops port together (default 1 per 60 s). */
  phoneCodeRequest: RateLimit;
  /** Picture refresh requests (default 10 per 60 s). */
  picCodeRequest: RateLimit;
  /** Code submissions of either kind (default 10 per 60 s). */
  codeInput: RateLimit;
  /** `relogin` commands (default 10 per hour). */
  relogin: RateLimit;
}

/** Defaults of {@link SimRateLimits}. */
export const DEFAULT_RATE_LIMITS: Readonly<SimRateLimits> = OPS_RATE_LIMITS;

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /** Interface to listen on (default "127.0.0.1"). */
  host?: string;
  /** API port; 0 (the default) picks a free one. */
  port?: number;
  /** Operations (telnet) port; 0 (the default) picks a free one; `false` disables it. */
  opsPort?: number | false;
  /**
   * OpenD's WebSocket port, the one the official JavaScript SDK (npm
   * `futu-api`) uses; 0 picks a free one; `false` (the default) leaves it shut.
   */
  wsPort?: number | false;
  /** Certificate and key: the WebSocket port then speaks `wss://` only. */
  wsTls?: WsTlsOptions;
  /**
   * The WebSocket key: InitWebSocket must carry its MD5 (hex, any case). No
   * key: any InitWebSocket is accepted. Never logged.
   */
  wsKey?: string;
  /** How a wrong key is refused: "error" (default) answers with an error, "silent" never answers. */
  wsKeyRefusal?: WsKeyRefusal;
  /** A WebSocket fault mode from the start (see {@link OpenDSimulator.setWebSocketFault}). */
  wsFault?: WsFault;
  /**
   * RSA private key (PEM) shared with the clients. When set, InitConnect
   * bodies are RSA both ways and the negotiated AES applies after.
   */
  rsaPrivateKey?: string | Uint8Array;
  /** Seconds, returned in InitConnect.S2C (default 10). */
  keepAliveInterval?: number;
  /**
   * A TCP connection that sends nothing for this long is closed, as OpenD
   * does after 30 s without KeepAlive (default 30000); `false` never closes.
   * WebSocket clients are never closed for idleness: the SDK sends no
   * keep-alive of its own.
   */
  idleTimeoutMs?: number | false;
  /** Initial program status (default Ready). */
  programStatus?: number | ProgramStatus;
  /** The logged-in user's ID (default "10000001"). */
  loginUserId?: string | number | bigint;
  /** OpenD version in InitConnect and GetGlobalState (default 905). */
  serverVer?: number;
  /** OpenD build number in GetGlobalState (default 5808). */
  serverBuildNo?: number;
  /** UserAttribution in InitConnect.S2C (default NN, 1). */
  userAttribution?: number;
  /** The phone code Verification and the ops port accept (default "123456"). */
  phoneCode?: string;
  /** The picture code they accept (default "1234"). */
  pictureCode?: string;
  /**
   * The account's password, checked by `relogin -login_pwd=` and
   * `-login_pwd_md5=`; when absent, any password is accepted. Never logged.
   */
  loginPassword?: string;
  /** How long Loging lasts before the next status (default 200 ms). */
  loginDelayMs?: number;
  /** Overrides of {@link DEFAULT_RATE_LIMITS}. */
  rateLimits?: Partial<SimRateLimits>;
  /** A scenario to run once listening: a named one or steps. */
  scenario?: ScenarioName | readonly ScenarioStep[];
  /** Time scale of that scenario (default 1). */
  scenarioTimeScale?: number;
  /** Called for every recorded event. Exceptions are swallowed. */
  onEvent?: (event: SimEvent) => void;
  /** Called with a readable line for every recorded event (see `formatSimEvent`). */
  log?: (line: string) => void;
  /** How many events {@link OpenDSimulator.events} keeps (default 10000; older ones are dropped). */
  maxEvents?: number;
}

/** Where the simulator listens. */
export interface SimAddress {
  /** The interface. */
  host: string;
  /** The API port. */
  port: number;
  /** The operations port, unless disabled. */
  opsPort?: number;
  /** The WebSocket port, when open. */
  wsPort?: number;
  /** Whether the WebSocket port speaks TLS (`wss://`). */
  wsTls?: boolean;
}

/** A change to the simulated broker account. */
export interface SimAccountChange {
  /** The account's new password (OpenD keeps the old one until a relogin gives it). */
  password?: string;
  /** Banned accounts cannot log in. */
  banned?: boolean;
  /** With device lock on, the next login needs a phone code. */
  deviceLock?: boolean;
}

/** Options of {@link OpenDSimulator.waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Only events with `seq >= since` count (default: every event kept); see {@link OpenDSimulator.mark}. */
  since?: number;
}

/** What {@link OpenDSimulator.connections} tells about one API connection. */
export interface SimConnectionInfo {
  /** Accept-order number. */
  conn: number;
  /** connID, once InitConnect succeeded. */
  connId?: string;
  /** `address:port` of the client. */
  remote: string;
  /** Whether InitConnect completed. */
  initialized: boolean;
  /** Whether Notify pushes go to it. */
  recvNotify: boolean;
  /** Body protection. */
  encryption: SimEncryption;
  /** "tcp" for the API port, "ws" or "wss" for the WebSocket port. */
  transport: "tcp" | "ws" | "wss";
}

const CONN_ID_BASE = 7_000_000_000_000_000_000n;
const AES_CHARS =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** What `sendGarbage` writes: plainly not an "FT" header. */
const GARBAGE = new TextEncoder().encode(
  "HTTP/1.1 400 Bad Request\r\nX-Not-OpenD: garbage\r\n\r\n",
);
const LISTEN_RETRY_MS = 250;
// Module-private: a simulator is started by startSimulator only.
const _START: unique symbol = Symbol("start");

function randomChars(n: number): string {
  const bytes = randomBytes(n);
  let out = "";
  for (const b of bytes) out += AES_CHARS[b % AES_CHARS.length];
  return out;
}

// Deno's node:crypto rejects a PEM followed by a blank line, which is how
// many key files end; Node accepts it. Both accept the trimmed text.
function _tidyPem(pem: string | Uint8Array): string | Uint8Array {
  const text = typeof pem === "string"
    ? pem
    : pem instanceof Uint8Array
    ? new TextDecoder().decode(pem)
    : undefined;
  return text === undefined ? pem : `${text.trim()}\n`;
}

function md5Hex(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

function failure(retMsg: string): Response<never> {
  return { retType: RetType.Failed, retMsg };
}

/**
 * The generic failure body for any protoID. Every Response shares fields
 * 1-3 (retType, retMsg, errCode), so KeepAlive's Response without s2c has
 * exactly the bytes of any protocol's failure.
 */
function _failureBody(fmt: number, retMsg: string): Uint8Array {
  return encodeResponse(ProtoId.KeepAlive, failure(retMsg), fmt);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type _Waiter = {
  match: (e: SimEvent) => boolean;
  since: number;
  resolve: (e: SimEvent) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

type _OpsConnection = {
  id: number;
  socket: Socket;
  closed: Promise<void>;
  reason?: string;
};

type _Listener = "api" | "ops" | "ws";

type _Verdict = { ok: true; then?: () => void } | { ok: false; reason: string };

/**
 * A running simulated OpenD. Create it with {@link startSimulator}; always
 * {@link close} it (or `await using`).
 *
 * ## Operations port replies
 * One reply line per command, ending in CRLF, of the form
 * `<command>: OK[, detail]`, `<command>: FAILED, <reason>` or
 * `exit: REFUSED, ...`. Blank lines get no reply.
 *
 * | command | success | failures |
 * | --- | --- | --- |
 * | `req_phone_verify_code` | `req_phone_verify_code: OK, verification code sent` | `..: FAILED, no phone verification code is needed now`; `..: FAILED, too frequent, try again in N s` |
 * | `input_phone_verify_code -code=C` | `input_phone_verify_code: OK, logging in` | `..: FAILED, missing -code`; `..: FAILED, verification code error`; not needed; too frequent |
 * | `req_pic_verify_code` | `req_pic_verify_code: OK, picture verification code refreshed` | not needed; too frequent |
 * | `input_pic_verify_code -code=C` | `input_pic_verify_code: OK, logging in` | as for the phone code |
 * | `relogin [-login_pwd=P\|-login_pwd_md5=H]` | `relogin: OK, logging in` | `relogin: FAILED, password error`; `relogin: FAILED, account banned`; too frequent |
 * | `request_highest_quote_right` | `request_highest_quote_right: OK, highest quote right requested` | |
 * | `close_api_conn -conn_id=N` | `close_api_conn: OK, closed connection N` | `..: FAILED, missing -conn_id`; `..: FAILED, no API connection N` |
 * | `help` | `help: OK, commands: ...` | |
 * | `exit` | | `exit: REFUSED, this simulator does not stop on request` |
 * | anything else | | `<command>: FAILED, unknown command` |
 *
 * Passwords given to `relogin` are never recorded; a failed relogin sets
 * the status to LoginFailed (with a GtwEvent LoginFailed for a wrong
 * password). A command line longer than 4096 bytes closes the connection.
 *
 * @example
 * ```ts
 * import { startSimulator } from "./mod.ts";
 * await using sim = await startSimulator({ phoneCode: "654321", loginDelayMs: 10 });
 * console.log(sim.address); // { host: "127.0.0.1", port: 41234, opsPort: 41235 }
 * const since = sim.mark();
 * sim.requireVerification("phone"); // GtwEvent NeedPhoneVerifyCode + status NeedPhoneVerifyCode
 * // A client now submits 654321 (Verification 1006, or input_phone_verify_code on the ops port)...
 * await sim.waitFor("statusChanged", (e) => e.status === 4, { since });
 * ```
 */
export class OpenDSimulator implements AsyncDisposable {
  readonly #listenHost: string;
  readonly #rsa: RsaKey | undefined;
  readonly #keepAliveInterval: number;
  readonly #idleTimeoutMs: number | false;
  readonly #loginUserId: string;
  readonly #serverVer: number;
  readonly #serverBuildNo: number;
  readonly #userAttribution: number;
  readonly #phoneCode: string;
  readonly #pictureCode: string;
  readonly #loginDelayMs: number;
  readonly #onEvent: ((event: SimEvent) => void) | undefined;
  readonly #log: ((line: string) => void) | undefined;
  readonly #maxEvents: number;
  readonly #limits: {
    phone: SlidingWindowLimiter;
    pic: SlidingWindowLimiter;
    input: SlidingWindowLimiter;
    relogin: SlidingWindowLimiter;
  };

  #port: number;
  #opsPort: number | false;
  #status: ProgramStatus;
  // The broker's view of the password, and the one OpenD would log in with.
  #accountPassword: string | undefined;
  #storedPassword: string | undefined;
  #banned = false;
  #deviceLock = false;
  #keepAliveAnswering = true;

  #wsPort: number | false;
  readonly #wsTls: WsTlsOptions | undefined;
  readonly #wsKeyDigest: string | undefined;
  readonly #wsKeyRefusal: WsKeyRefusal;
  #wsFault: WsFault | undefined;
  #wsServerClass: _WsServerClass | undefined;
  readonly #servers: { api?: Server; ops?: Server; ws?: Server } = {};
  readonly #serverClosed = new Set<Promise<void>>();
  readonly #conns = new Map<number, _ApiConnection | _WsConnection>();
  readonly #ops = new Map<number, _OpsConnection>();
  #nextConn = 1;
  #nextOps = 1;
  #nextConnId = 1n;
  #pushSerial = 1;

  #acceptAndClose = false;
  #refuseTimer: ReturnType<typeof setTimeout> | undefined;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #restarting = false;
  #loginTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly #runs = new Set<{ cancel(): void }>();

  readonly #events: SimEvent[] = [];
  #seq = 1;
  readonly #waiters = new Set<_Waiter>();
  #closed = false;
  #closing: Promise<void> | undefined;

  readonly #host: _ConnectionHost = {
    onPacket: (conn, packet) => this.#onPacket(conn, packet),
    onFrameError: (conn, error) => this.#onFrameError(conn, error),
    onIdle: (conn, idleMs) => {
      this.#record({ type: "idleTimeout", conn: conn.id, idleMs });
      conn.close(`idle for ${idleMs} ms`);
    },
    onClosed: (conn, reason) => this.#onConnClosed(conn, reason),
  };

  readonly #wsHost: _WsHost = {
    onInit: (conn, frame) => this.#initWebSocket(conn, frame),
    onPacket: (conn, packet) => this.#onPacket(conn, packet),
    onFrameError: (conn, error) => {
      this.#record({
        type: "badPacket",
        conn: conn.id,
        code: error.code,
        message: error.message,
      });
    },
    onClosed: (conn, reason) => this.#onConnClosed(conn, reason),
    fault: () => this.#wsFault,
  };

  /** Use {@link startSimulator}. */
  constructor(options: SimulatorOptions = {}) {
    this.#listenHost = options.host ?? "127.0.0.1";
    this.#port = options.port ?? 0;
    this.#opsPort = options.opsPort ?? 0;
    this.#wsPort = options.wsPort ?? false;
    this.#wsTls = options.wsTls === undefined ? undefined : {
      cert: _tidyPem(options.wsTls.cert),
      key: _tidyPem(options.wsTls.key),
    };
    this.#wsKeyDigest = options.wsKey === undefined
      ? undefined
      : webSocketKeyDigest(options.wsKey);
    this.#wsKeyRefusal = options.wsKeyRefusal ?? "error";
    if (this.#wsKeyRefusal !== "error" && this.#wsKeyRefusal !== "silent") {
      throw new RangeError('wsKeyRefusal must be "error" or "silent"');
    }
    if (options.wsFault !== undefined && !WS_FAULTS.includes(options.wsFault)) {
      throw new RangeError(`wsFault must be one of ${WS_FAULTS.join(", ")}`);
    }
    this.#wsFault = options.wsFault;
    this.#rsa = options.rsaPrivateKey === undefined
      ? undefined
      : RsaKey.fromPem(_tidyPem(options.rsaPrivateKey));
    this.#keepAliveInterval = options.keepAliveInterval ?? 10;
    if (
      !Number.isInteger(this.#keepAliveInterval) || this.#keepAliveInterval < 1
    ) {
      throw new RangeError("keepAliveInterval must be a whole number >= 1");
    }
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    if (this.#idleTimeoutMs !== false && !(this.#idleTimeoutMs > 0)) {
      throw new RangeError("idleTimeoutMs must be > 0, or false");
    }
    const status = options.programStatus ?? ProgramStatusType.Ready;
    this.#status = typeof status === "number" ? { type: status } : {
      type: status.type,
      ...(status.strExtDesc === undefined
        ? {}
        : { strExtDesc: status.strExtDesc }),
    };
    this.#loginUserId = String(options.loginUserId ?? "10000001");
    if (!/^\d+$/.test(this.#loginUserId)) {
      throw new RangeError("loginUserId must be an unsigned integer");
    }
    this.#serverVer = options.serverVer ?? 905;
    this.#serverBuildNo = options.serverBuildNo ?? 5808;
    this.#userAttribution = options.userAttribution ?? UserAttribution.NN;
    this.#phoneCode = options.phoneCode ?? "123456";
    this.#pictureCode = options.pictureCode ?? "1234";
    this.#accountPassword = options.loginPassword;
    this.#storedPassword = options.loginPassword;
    this.#loginDelayMs = options.loginDelayMs ?? 200;
    if (!(this.#loginDelayMs >= 0)) {
      throw new RangeError("loginDelayMs must be >= 0");
    }
    this.#onEvent = options.onEvent;
    this.#log = options.log;
    this.#maxEvents = options.maxEvents ?? 10_000;
    const limits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
    this.#limits = {
      phone: new SlidingWindowLimiter(limits.phoneCodeRequest),
      pic: new SlidingWindowLimiter(limits.picCodeRequest),
      input: new SlidingWindowLimiter(limits.codeInput),
      relogin: new SlidingWindowLimiter(limits.relogin),
    };
  }

  // ------------------------------------------------------------ observation

  /** Where it listens; ports are the real ones once started. */
  get address(): SimAddress {
    return {
      host: this.#listenHost,
      port: this.#port,
      ...(this.#opsPort === false ? {} : { opsPort: this.#opsPort }),
      ...(this.#wsPort === false
        ? {}
        : { wsPort: this.#wsPort, wsTls: this.#wsTls !== undefined }),
    };
  }

  /** The current program status. */
  get programStatus(): ProgramStatus {
    return { ...this.#status };
  }

  /** The recorded events, oldest first (at most `maxEvents`). */
  get events(): readonly SimEvent[] {
    return this.#events;
  }

  /** The open API connections. */
  get connections(): SimConnectionInfo[] {
    return [...this.#conns.values()].filter((c) => !c.closing).map((c) => ({
      conn: c.id,
      ...(c.connId === undefined ? {} : { connId: c.connId }),
      remote: c.remote,
      initialized: c.initialized,
      recvNotify: c.recvNotify,
      encryption: c.encryption,
      transport: c instanceof _WsConnection ? c.transport : "tcp",
    }));
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * The `seq` the next event will get: pass it as `since` to
   * {@link waitFor} to wait only for what happens after this point.
   */
  mark(): number {
    return this.#seq;
  }

  /**
   * Resolves with the first event (kept, or still to come) of `type` for
   * which `where` holds; rejects after `timeoutMs` or when the simulator
   * closes.
   *
   * @example
   * ```ts
   * import { startSimulator } from "./mod.ts";
   * await using sim = await startSimulator();
   * const since = sim.mark();
   * sim.setProgramStatus(11);
   * await sim.waitFor("statusChanged", (e) => e.status === 11, { since });
   * ```
   */
  waitFor<K extends SimEventType>(
    type: K,
    where?: (event: SimEventOf<K>) => boolean,
    options?: WaitForOptions,
  ): Promise<SimEventOf<K>>;
  /** Resolves with the first event for which `predicate` holds. */
  waitFor(
    predicate: (event: SimEvent) => boolean,
    options?: WaitForOptions,
  ): Promise<SimEvent>;
  waitFor(
    first: SimEventType | ((event: SimEvent) => boolean),
    second?: ((event: never) => boolean) | WaitForOptions,
    third?: WaitForOptions,
  ): Promise<SimEvent> {
    let match: (e: SimEvent) => boolean;
    let options: WaitForOptions;
    let what: string;
    if (typeof first === "string") {
      const where = second as ((e: SimEvent) => boolean) | undefined;
      match = (e) => e.type === first && (where === undefined || where(e));
      options = third ?? {};
      what = `a "${first}" event`;
    } else {
      match = first;
      options = (second as WaitForOptions | undefined) ?? {};
      what = "a matching event";
    }
    const since = options.since ?? 0;
    const found = this.#events.find((e) => e.seq >= since && match(e));
    if (found) return Promise.resolve(found);
    if (this.#closed) {
      return Promise.reject(
        new Error(`simulator closed while waiting for ${what}`),
      );
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const waiter: _Waiter = {
        match,
        since,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${what}`),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  // ------------------------------------------------------------ fault controls

  /**
   * Sets the program status and pushes a ProgramStatus notification (also
   * when the status is the same: it is an explicit control). Cancels a
   * login in progress.
   *
   * @example
   * ```ts
   * import { startSimulator } from "./mod.ts";
   * await using sim = await startSimulator();
   * sim.setProgramStatus(8, "necessary data missing"); // NessaryDataMissing
   * ```
   */
  setProgramStatus(status: number, strExtDesc?: string): void {
    if (this.#closed) return;
    this.#cancelLogin();
    this.#setStatus(status, strExtDesc);
  }

  /** Pushes a GtwEvent notification; returns how many connections got it. */
  pushGtwEvent(eventType: number, desc = ""): number {
    return this.pushNotification(gtwEventNotification(eventType, desc));
  }

  /**
   * Pushes any Notify (1003) to every initialized connection that asked for
   * notifications, each in its pushProtoFmt. Returns how many got it.
   * Throws `CodecError` for a notification that cannot be encoded.
   *
   * @example
   * ```ts
   * import { startSimulator } from "./mod.ts";
   * import { apiQuotaNotification } from "../codec/mod.ts";
   * await using sim = await startSimulator();
   * sim.pushNotification(apiQuotaNotification(100, 1000)); // 0: nobody connected
   * ```
   */
  pushNotification(notification: NotificationInput): number {
    if (this.#closed) return 0;
    const bodies = new Map<number, Uint8Array>();
    // Encoded up front so a bad notification throws before anything is sent.
    bodies.set(ProtoFmt.Protobuf, encodeNotification(notification));
    let recipients = 0;
    for (const conn of this.#conns.values()) {
      if (!conn.initialized || !conn.recvNotify || conn.closing) continue;
      const fmt = conn.pushProtoFmt;
      let body = bodies.get(fmt);
      if (body === undefined) {
        body = encodeNotification(notification, fmt);
        bodies.set(fmt, body);
      }
      if (conn.push(ProtoId.Notify, fmt, this.#pushSerial++, body)) {
        recipients++;
      }
    }
    this.#record({
      type: "notificationPushed",
      kind: notification.kind,
      detail: _notificationDetail(notification),
      recipients,
    });
    return recipients;
  }

  /**
   * Pushes a raw packet (any protoID, e.g. a quote push 3005) with the given
   * plaintext body to every initialized connection, encrypted as each
   * connection negotiated. Returns how many got it.
   */
  pushPacket(
    protoId: number,
    body: Uint8Array,
    protoFmt: number = ProtoFmt.Protobuf,
  ): number {
    if (this.#closed) return 0;
    let recipients = 0;
    for (const conn of this.#conns.values()) {
      if (!conn.initialized || conn.closing) continue;
      if (conn.push(protoId, protoFmt, this.#pushSerial++, body)) {
        recipients++;
      }
    }
    this.#record({ type: "packetPushed", protoId, recipients });
    return recipients;
  }

  /**
   * OpenD asks for a verification code: pushes GtwEvent NeedPhoneVerifyCode
   * (or NeedPicVerifyCode) and switches the status to match.
   */
  requireVerification(codeType: SimCodeType, desc?: string): void {
    if (this.#closed) return;
    this.#cancelLogin();
    const phone = codeType === "phone";
    const text = desc ??
      (phone
        ? "phone verification code needed"
        : "picture verification code needed");
    this.pushGtwEvent(
      phone ? GtwEventType.NeedPhoneVerifyCode : GtwEventType.NeedPicVerifyCode,
      text,
    );
    this.#setStatus(
      phone
        ? ProgramStatusType.NeedPhoneVerifyCode
        : ProgramStatusType.NeedPicVerifyCode,
      text,
    );
  }

  /**
   * OpenD is forced to log out: pushes the GtwEvent (KickedOut by default),
   * switches the status to ForceLogout (pushed too), then drops every API
   * connection, so a client sees ForceLogout after reconnecting. Returns how
   * many connections were dropped.
   */
  forceLogout(
    eventType: number = GtwEventType.KickedOut,
    desc?: string,
  ): number {
    if (this.#closed) return 0;
    this.#cancelLogin();
    const text = desc ?? "forced to log out";
    this.pushGtwEvent(eventType, text);
    this.#setStatus(ProgramStatusType.ForceLogout, text);
    return this.#dropApi("force logout");
  }

  /** Closes every API connection (after flushing what was written). Returns how many. */
  dropAllConnections(): number {
    if (this.#closed) return 0;
    return this.#dropApi("dropped by the simulator");
  }

  /**
   * Refuses new API connections for `ms`: mode "closed-port" (default)
   * closes the listener (clients get ECONNREFUSED), "accept-and-close"
   * accepts and closes at once. Open connections are kept. Resolves once
   * refusing is in effect; the event "accepting" marks the end. Calling it
   * again restarts the clock; ignored while restarting.
   */
  async refuseConnections(
    ms: number,
    mode: RefuseMode = "closed-port",
  ): Promise<void> {
    if (this.#closed || this.#restarting) return;
    if (this.#refuseTimer !== undefined) clearTimeout(this.#refuseTimer);
    this.#record({ type: "refusing", ms, mode });
    if (mode === "accept-and-close") {
      this.#acceptAndClose = true;
    } else {
      this.#acceptAndClose = false;
      this.#closeServer("api");
      this.#closeServer("ws");
    }
    this.#refuseTimer = setTimeout(() => {
      this.#refuseTimer = undefined;
      this.#acceptAndClose = false;
      void Promise.all([this.#listen("api"), this.#listen("ws")]).then((
        [api, ws],
      ) => {
        const ok = api && ws;
        if (ok) this.#record({ type: "accepting" });
      });
    }, ms);
    await Promise.resolve();
  }

  /**
   * Bends what the WebSocket port sends, to test a client's error paths;
   * `undefined` ends it. "init-error" answers InitWebSocket with an error
   * frame and closes; "init-silent" never answers it; "wrong-section" gives
   * every response a section that matches no request; "bad-sign" spoils the
   * sign of every frame; "drop-after-login" closes right after a successful
   * InitWebSocket. The TCP port is not affected.
   *
   * @example
   * ```ts
   * import { startSimulator } from "./mod.ts";
   * await using sim = await startSimulator({ wsPort: 0 });
   * sim.setWebSocketFault("init-error"); // the next SDK to connect gives up
   * sim.setWebSocketFault(undefined);
   * ```
   */
  setWebSocketFault(fault: WsFault | undefined): void {
    if (this.#closed) return;
    if (fault !== undefined && !WS_FAULTS.includes(fault)) {
      throw new RangeError(`fault must be one of ${WS_FAULTS.join(", ")}`);
    }
    this.#wsFault = fault;
    this.#record({ type: "webSocketFault", fault: fault ?? "off" });
  }

  /** Switches KeepAlive answering on or off (off: requests are read, never answered). */
  setKeepAliveAnswering(on: boolean): void {
    if (this.#closed) return;
    this.#keepAliveAnswering = on;
    this.#record({ type: "keepAliveAnswering", on });
  }

  /** Writes bytes that are not an FT packet to every API connection. Returns how many. */
  sendGarbage(): number {
    if (this.#closed) return 0;
    let recipients = 0;
    for (const conn of this.#conns.values()) {
      if (conn.sendRaw(GARBAGE)) recipients++;
    }
    this.#record({ type: "garbageSent", recipients });
    return recipients;
  }

  /**
   * Changes the simulated broker account: a new password (OpenD's stored one
   * goes stale until a relogin gives the new one), a ban, device lock.
   */
  setAccount(change: SimAccountChange): void {
    if (this.#closed) return;
    if (change.password !== undefined) this.#accountPassword = change.password;
    if (change.banned !== undefined) this.#banned = change.banned;
    if (change.deviceLock !== undefined) this.#deviceLock = change.deviceLock;
    this.#record({
      type: "accountChanged",
      passwordChanged: change.password !== undefined,
      banned: this.#banned,
      deviceLock: this.#deviceLock,
    });
  }

  /**
   * OpenD restarts: every API and ops connection is dropped and both ports
   * close for `downMs`; then it listens again and logs in (Loging, then
   * Ready, or whatever the account demands). Resolves once it is down; the
   * event "restarted" marks its return.
   */
  async restart(downMs: number): Promise<void> {
    if (this.#closed) return;
    this.#restarting = true;
    this.#cancelLogin();
    if (this.#refuseTimer !== undefined) clearTimeout(this.#refuseTimer);
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    this.#refuseTimer = undefined;
    this.#acceptAndClose = false;
    this.#record({ type: "restarting", downMs });
    this.#dropApi("OpenD restarting");
    for (const ops of this.#ops.values()) {
      ops.reason ??= "OpenD restarting";
      ops.socket.end(() => ops.socket.destroy());
    }
    this.#closeServer("api");
    this.#closeServer("ops");
    this.#closeServer("ws");
    this.#setStatus(ProgramStatusType.None);
    this.#restartTimer = setTimeout(async () => {
      this.#restartTimer = undefined;
      const ok = await this.#listen("api") && await this.#listen("ops") &&
        await this.#listen("ws");
      if (!ok || this.#closed) return;
      this.#restarting = false;
      this.#record({ type: "restarted" });
      this.#beginLogin();
    }, downMs);
    await Promise.resolve();
  }

  /**
   * Plays scenario steps (or a named scenario) with real timers; cancelled
   * when the simulator closes. See {@link runScenario}.
   */
  runScenario(
    scenario: ScenarioName | readonly ScenarioStep[],
    options: RunScenarioOptions = {},
  ): ScenarioRun {
    let steps: readonly ScenarioStep[];
    let name = options.name;
    if (typeof scenario === "string") {
      if (!isScenarioName(scenario)) {
        throw new TypeError(`unknown scenario ${scenario}`);
      }
      steps = namedScenario(scenario);
      name ??= scenario;
    } else {
      steps = scenario;
    }
    validateScenario(steps);
    const scenarioName = name ?? "custom";
    const timeScale = options.timeScale ?? 1;
    if (!(timeScale >= 0)) throw new RangeError("timeScale must be >= 0");
    const repeat = options.repeat ?? false;
    if (repeat && !steps.some((s) => s.afterMs > 0)) {
      throw new RangeError("a repeated scenario needs a step with afterMs > 0");
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finish!: (how: "completed" | "cancelled") => void;
    const done = new Promise<"completed" | "cancelled">((r) => finish = r);
    let index = 0;
    let over = false;
    const end = (cancelled: boolean) => {
      if (over) return;
      over = true;
      if (timer !== undefined) clearTimeout(timer);
      this.#runs.delete(handle);
      this.#record({
        type: "scenarioEnded",
        scenario: scenarioName,
        cancelled,
      });
      finish(cancelled ? "cancelled" : "completed");
    };
    const handle = { cancel: () => end(true) };
    const next = () => {
      timer = undefined;
      // Zero-delay steps run in the same tick as the step before them.
      do {
        if (over || this.#closed) return;
        const step = steps[index];
        this.#record({
          type: "scenarioStep",
          scenario: scenarioName,
          index,
          action: step.note ? `${step.action} (${step.note})` : step.action,
        });
        try {
          _runStep(this, step, timeScale);
        } catch (error) {
          this.#record({
            type: "scenarioError",
            scenario: scenarioName,
            index,
            message: errorText(error),
          });
        }
        index++;
        if (index === steps.length) {
          if (!repeat) return end(false);
          index = 0;
        }
      } while (steps[index].afterMs === 0);
      timer = setTimeout(next, steps[index].afterMs * timeScale);
    };
    if (this.#closed) {
      over = true;
      finish("cancelled");
    } else if (steps.length === 0) {
      end(false);
    } else {
      this.#runs.add(handle);
      timer = setTimeout(next, steps[0].afterMs * timeScale);
    }
    return { name: scenarioName, done, cancel: handle.cancel };
  }

  /**
   * Stops everything: listeners, every socket, every timer, running
   * scenarios; pending {@link waitFor} calls reject. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Same as {@link close}. */
  stop(): Promise<void> {
    return this.close();
  }

  /** `await using sim = await startSimulator()` closes it at scope end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A one-line summary without secrets. */
  toString(): string {
    const ops = this.#opsPort === false ? "off" : String(this.#opsPort);
    const ws = this.#wsPort === false
      ? ""
      : `, ${this.#wsTls === undefined ? "ws" : "wss"}: ${this.#wsPort}`;
    return `OpenDSimulator { api: ${this.#listenHost}:${this.#port}, ops: ${ops}${ws}, status: ${
      _statusLabel(this.#status.type)
    }, connections: ${this.#conns.size}, closed: ${this.#closed} }`;
  }

  /** Deno's inspect form: see {@link toString}. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's inspect form: see {@link toString}. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ lifecycle

  /** Opens both listeners; only {@link startSimulator} can call it. */
  async [_START](
    scenario?: ScenarioName | readonly ScenarioStep[],
    timeScale?: number,
  ): Promise<void> {
    try {
      await this.#listenOnce("api");
      if (this.#opsPort !== false) await this.#listenOnce("ops");
      if (this.#wsPort !== false) {
        this.#wsServerClass = await _loadWsServerClass();
        await this.#listenOnce("ws");
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#record({
      type: "listening",
      host: this.#listenHost,
      port: this.#port,
      ...(this.#opsPort === false ? {} : { opsPort: this.#opsPort }),
      ...(this.#wsPort === false
        ? {}
        : { wsPort: this.#wsPort, wsTls: this.#wsTls !== undefined }),
    });
    if (scenario !== undefined) this.runScenario(scenario, { timeScale });
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    for (const run of [...this.#runs]) run.cancel();
    this.#cancelLogin();
    for (
      const t of [this.#refuseTimer, this.#restartTimer, ...this.#retryTimers]
    ) {
      if (t !== undefined) clearTimeout(t);
    }
    this.#retryTimers.clear();
    this.#closeServer("api");
    this.#closeServer("ops");
    this.#closeServer("ws");
    const pending: Promise<void>[] = [...this.#serverClosed];
    for (const conn of this.#conns.values()) {
      conn.destroy("simulator closed");
      pending.push(conn.closed);
    }
    for (const ops of this.#ops.values()) {
      ops.reason ??= "simulator closed";
      ops.socket.destroy();
      pending.push(ops.closed);
    }
    await Promise.all(pending);
    // Emitted while the waiters are still there, so a waiter for "closed" resolves.
    this.#emit({ type: "closed" });
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error("simulator closed"));
    }
    this.#waiters.clear();
  }

  #portOf(which: _Listener): number {
    const port = which === "api"
      ? this.#port
      : which === "ops"
      ? this.#opsPort
      : this.#wsPort;
    return port === false ? 0 : port;
  }

  /** First listen: errors (port in use) are the caller's. */
  #listenOnce(which: _Listener): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = this.#createServer(which);
      const onError = (error: Error) => {
        server.close();
        reject(error);
      };
      server.once("error", onError);
      server.listen(
        { host: this.#listenHost, port: this.#portOf(which) },
        () => {
          server.off("error", onError);
          server.on("error", () => {});
          const address = server.address();
          const port = typeof address === "object" && address
            ? address.port
            : 0;
          this.#servers[which] = server;
          if (which === "api") this.#port = port;
          else if (which === "ops") this.#opsPort = port;
          else this.#wsPort = port;
          resolve();
        },
      );
    });
  }

  /**
   * Listens again on the port chosen at start; on failure records it and
   * retries. Resolves false if the simulator closed meanwhile.
   */
  #listen(which: _Listener): Promise<boolean> {
    if (
      (which === "ops" && this.#opsPort === false) ||
      (which === "ws" && this.#wsPort === false)
    ) {
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const attempt = () => {
        if (this.#closed) return resolve(false);
        if (this.#servers[which] !== undefined) return resolve(true);
        this.#listenOnce(which).then(() => resolve(true), (error) => {
          if (this.#closed) return resolve(false);
          this.#record({
            type: "listenFailed",
            port: this.#portOf(which),
            message: errorText(error),
          });
          const timer = setTimeout(() => {
            this.#retryTimers.delete(timer);
            attempt();
          }, LISTEN_RETRY_MS);
          this.#retryTimers.add(timer);
        });
      };
      attempt();
    });
  }

  #createServer(which: _Listener): Server {
    const server = which === "ws"
      ? _createWsServer(
        this.#wsServerClass!,
        this.#wsTls,
        (ws, remote) => this.#acceptWs(ws, remote),
      )
      : createServer(
        { allowHalfOpen: false },
        (socket) =>
          which === "api" ? this.#acceptApi(socket) : this.#acceptOps(socket),
      );
    const closed = new Promise<void>((resolve) =>
      server.once("close", () => resolve())
    );
    this.#serverClosed.add(closed);
    void closed.then(() => this.#serverClosed.delete(closed));
    return server;
  }

  /** Stops accepting; open connections are left alone. */
  #closeServer(which: _Listener): void {
    const server = this.#servers[which];
    if (server === undefined) return;
    this.#servers[which] = undefined;
    server.close();
    // An HTTP server would also wait for requests not yet upgraded (or half
    // sent): they are not clients yet, so they go now. Upgraded sockets are
    // no longer the server's: the simulator closes those itself.
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  }

  #acceptWs(ws: _WsSocket, remote: string): void {
    ws.on("error", () => {});
    if (this.#closed || this.#restarting) {
      ws.terminate();
      return;
    }
    if (this.#acceptAndClose) {
      this.#record({ type: "connectionRefused", remote });
      ws.terminate();
      return;
    }
    const transport = this.#wsTls === undefined ? "ws" : "wss";
    const conn = new _WsConnection(
      ws,
      this.#nextConn++,
      remote,
      transport,
      this.#wsHost,
    );
    this.#conns.set(conn.id, conn);
    this.#record({
      type: "connectionOpened",
      conn: conn.id,
      remote,
      transport,
    });
  }

  #acceptApi(socket: Socket): void {
    socket.on("error", () => {});
    if (this.#closed || this.#restarting) {
      socket.destroy();
      return;
    }
    if (this.#acceptAndClose) {
      this.#record({
        type: "connectionRefused",
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
      });
      socket.destroy();
      return;
    }
    const conn = new _ApiConnection(
      socket,
      this.#nextConn++,
      this.#rsa,
      this.#idleTimeoutMs,
      this.#host,
    );
    this.#conns.set(conn.id, conn);
    this.#record({
      type: "connectionOpened",
      conn: conn.id,
      remote: conn.remote,
    });
  }

  #dropApi(reason: string): number {
    let count = 0;
    for (const conn of this.#conns.values()) {
      if (conn.closing) continue;
      conn.close(reason);
      count++;
    }
    this.#record({ type: "connectionsDropped", count, reason });
    return count;
  }

  // ------------------------------------------------------------ events

  #record(body: SimEventBody): void {
    if (this.#closed) return;
    this.#emit(body);
  }

  #emit(body: SimEventBody): void {
    const event = { ...body, seq: this.#seq++, time: Date.now() } as SimEvent;
    this.#events.push(event);
    if (this.#events.length > this.#maxEvents) {
      this.#events.splice(0, this.#events.length - this.#maxEvents);
    }
    try {
      this.#onEvent?.(event);
    } catch { /* a sink's failure is not the simulator's */ }
    try {
      this.#log?.(formatSimEvent(event));
    } catch { /* as above */ }
    for (const waiter of this.#waiters) {
      if (event.seq >= waiter.since && waiter.match(event)) {
        this.#waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(event);
      }
    }
  }

  // ------------------------------------------------------------ status and login

  #setStatus(type: number, strExtDesc?: string): void {
    const previous = this.#status.type;
    this.#status = strExtDesc === undefined ? { type } : { type, strExtDesc };
    this.#record({
      type: "statusChanged",
      status: type,
      ...(strExtDesc === undefined ? {} : { strExtDesc }),
      previous,
    });
    this.pushNotification(programStatusNotification(type, strExtDesc));
  }

  #cancelLogin(): void {
    if (this.#loginTimer !== undefined) clearTimeout(this.#loginTimer);
    this.#loginTimer = undefined;
  }

  /** Loging now; after `loginDelayMs`, whatever the account allows. */
  #beginLogin(): void {
    this.#cancelLogin();
    this.#setStatus(ProgramStatusType.Loging);
    this.#loginTimer = setTimeout(() => {
      this.#loginTimer = undefined;
      if (this.#closed) return;
      if (this.#banned) {
        this.pushGtwEvent(GtwEventType.BanLogin, "account banned");
        this.#setStatus(ProgramStatusType.LoginFailed, "account banned");
      } else if (!this.#storedPasswordValid()) {
        this.pushGtwEvent(GtwEventType.LoginFailed, "password error");
        this.#setStatus(ProgramStatusType.LoginFailed, "password error");
      } else if (this.#deviceLock) {
        this.requireVerification("phone");
      } else {
        this.#setStatus(ProgramStatusType.Ready);
      }
    }, this.#loginDelayMs);
  }

  #storedPasswordValid(): boolean {
    return this.#accountPassword === undefined ||
      this.#storedPassword === this.#accountPassword;
  }

  /** A code request or submission, from the API or the ops port. */
  #verification(
    via: SimVia,
    type: number,
    op: number,
    code?: string,
  ): _Verdict {
    if (type !== VerificationType.Phone && type !== VerificationType.Picture) {
      return { ok: false, reason: `unknown verification type ${type}` };
    }
    const codeType: SimCodeType = type === VerificationType.Phone
      ? "phone"
      : "picture";
    const needed = codeType === "phone"
      ? ProgramStatusType.NeedPhoneVerifyCode
      : ProgramStatusType.NeedPicVerifyCode;
    const notNeeded = `no ${codeType} verification code is needed now`;
    const now = Date.now();
    if (op === VerificationOp.Request) {
      let reason: string | undefined;
      if (this.#status.type !== needed) reason = notNeeded;
      else {
        const verdict =
          (codeType === "phone" ? this.#limits.phone : this.#limits.pic).take(
            now,
          );
        if (!verdict.ok) reason = _tooFrequent(verdict.retryInMs);
      }
      this.#record({
        type: "verificationRequested",
        via,
        codeType,
        ok: reason === undefined,
        ...(reason === undefined ? {} : { reason }),
      });
      return reason === undefined ? { ok: true } : { ok: false, reason };
    }
    if (op !== VerificationOp.InputAndLogin) {
      return { ok: false, reason: `unknown verification op ${op}` };
    }
    const reject = (reason: string): _Verdict => {
      this.#record({ type: "codeRejected", via, codeType, reason });
      return { ok: false, reason };
    };
    if (code === undefined || code === "") return reject("missing code");
    const verdict = this.#limits.input.take(now);
    if (!verdict.ok) return reject(_tooFrequent(verdict.retryInMs));
    if (this.#status.type !== needed) return reject(notNeeded);
    const expected = codeType === "phone" ? this.#phoneCode : this.#pictureCode;
    if (code !== expected) return reject("verification code error");
    this.#record({ type: "codeAccepted", via, codeType });
    return {
      ok: true,
      then: () => {
        if (codeType === "phone") this.#deviceLock = false;
        this.#beginLogin();
      },
    };
  }

  #relogin(via: SimVia, args: Readonly<Record<string, string>>): _Verdict {
    const plain = args.login_pwd;
    const md5 = args.login_pwd_md5;
    const password = plain !== undefined
      ? "plain"
      : md5 !== undefined
      ? "md5"
      : "none";
    const fail = (reason: string): _Verdict => {
      this.#record({ type: "relogin", via, ok: false, reason, password });
      return { ok: false, reason };
    };
    const verdict = this.#limits.relogin.take(Date.now());
    if (!verdict.ok) return fail(_tooFrequent(verdict.retryInMs));
    if (this.#banned) {
      this.#cancelLogin();
      this.#setStatus(ProgramStatusType.LoginFailed, "account banned");
      return fail("account banned");
    }
    const account = this.#accountPassword;
    let good: boolean;
    if (account === undefined) good = true;
    else if (plain !== undefined) good = plain === account;
    else if (md5 !== undefined) good = md5.toLowerCase() === md5Hex(account);
    else good = this.#storedPassword === account;
    if (!good) {
      this.#cancelLogin();
      this.pushGtwEvent(GtwEventType.LoginFailed, "password error");
      this.#setStatus(ProgramStatusType.LoginFailed, "password error");
      return fail("password error");
    }
    this.#storedPassword = account;
    this.#record({ type: "relogin", via, ok: true, password });
    return { ok: true, then: () => this.#beginLogin() };
  }

  // ------------------------------------------------------------ API requests

  #onFrameError(conn: _ApiConnection, error: CodecError): void {
    this.#record({
      type: "badPacket",
      conn: conn.id,
      code: error.code,
      message: error.message,
    });
    if (!conn.initialized && error.protoId === ProtoId.InitConnect) {
      // Undecryptable or corrupt InitConnect: answer in plaintext, then close.
      this.#record({
        type: "initConnectFailed",
        conn: conn.id,
        reason: error.code,
      });
      conn.sendPlain({
        protoId: ProtoId.InitConnect,
        serialNo: error.serialNo ?? 0,
        body: _failureBody(
          ProtoFmt.Protobuf,
          `InitConnect could not be read (${error.code})`,
        ),
      });
    }
    conn.close(`bad packet (${error.code})`);
  }

  #onPacket(conn: _ApiConnection | _WsConnection, packet: Packet): void {
    const { protoId, serialNo, protoFmt } = packet;
    this.#record({
      type: "request",
      conn: conn.id,
      ...(conn.connId === undefined ? {} : { connId: conn.connId }),
      protoId,
      serialNo,
      fmt: protoFmt,
    });
    const fmt = protoFmt === ProtoFmt.Json ? ProtoFmt.Json : ProtoFmt.Protobuf;
    const reply = (body: Uint8Array) => conn.reply(packet, body, fmt);
    if (protoFmt !== ProtoFmt.Protobuf && protoFmt !== ProtoFmt.Json) {
      reply(_failureBody(fmt, `unknown body format ${protoFmt}`));
      if (protoId === ProtoId.InitConnect) conn.close("InitConnect failed");
      return;
    }
    if (conn instanceof _WsConnection) {
      if (protoId === ProtoId.InitConnect) {
        reply(_failureBody(fmt, "InitWebSocket (cmd 1) opens this port"));
        return;
      }
      if (!conn.initialized) {
        reply(_failureBody(fmt, "InitWebSocket first"));
        return;
      }
    } else if (protoId === ProtoId.InitConnect) {
      return this.#initConnect(conn, packet as DecodedPacket);
    }
    if (!conn.initialized) {
      reply(_failureBody(fmt, "InitConnect first"));
      return;
    }
    try {
      switch (protoId) {
        case ProtoId.KeepAlive: {
          decodeRequest(ProtoId.KeepAlive, packet.body, fmt);
          if (!this.#keepAliveAnswering) {
            this.#record({ type: "keepAliveIgnored", conn: conn.id, serialNo });
            return;
          }
          reply(encodeResponse(ProtoId.KeepAlive, {
            retType: RetType.Succeed,
            s2c: { time: Math.floor(Date.now() / 1000) },
          }, fmt));
          return;
        }
        case ProtoId.GetGlobalState: {
          decodeRequest(ProtoId.GetGlobalState, packet.body, fmt);
          reply(encodeResponse(ProtoId.GetGlobalState, {
            retType: RetType.Succeed,
            s2c: this.#globalState(conn),
          }, fmt));
          return;
        }
        case ProtoId.Verification: {
          const c2s = decodeRequest(ProtoId.Verification, packet.body, fmt);
          const verdict = this.#verification("api", c2s.type, c2s.op, c2s.code);
          reply(
            verdict.ok
              ? encodeResponse(ProtoId.Verification, {
                retType: RetType.Succeed,
                s2c: {},
              }, fmt)
              : _failureBody(fmt, verdict.reason),
          );
          if (verdict.ok) verdict.then?.();
          return;
        }
        default:
          reply(_failureBody(fmt, `unknown protocol ${protoId}`));
      }
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      reply(_failureBody(fmt, `invalid request: ${error.message}`));
    }
  }

  #onConnClosed(conn: _ApiConnection | _WsConnection, reason: string): void {
    this.#conns.delete(conn.id);
    this.#record({
      type: "connectionClosed",
      conn: conn.id,
      ...(conn.connId === undefined ? {} : { connId: conn.connId }),
      reason,
    });
  }

  #initWebSocket(conn: _WsConnection, frame: WsRequestFrame): void {
    const serialNo = Number(frame.section & 0xffffffffn);
    this.#record({
      type: "request",
      conn: conn.id,
      ...(conn.connId === undefined ? {} : { connId: conn.connId }),
      protoId: frame.cmd,
      serialNo,
      fmt: ProtoFmt.Protobuf,
    });
    // Refused: an error frame (the SDK gives up for good), then a close.
    const refuse = (reason: string, errmsg: string) => {
      this.#record({ type: "initConnectFailed", conn: conn.id, reason });
      conn.replyInit(
        frame,
        encodeInitWebSocketResponse({
          retType: RetType.Failed,
          retMsg: reason,
        }),
        RetType.Failed,
        errmsg,
      );
      conn.close("InitWebSocket failed");
    };
    if (conn.initialized) {
      conn.replyInit(
        frame,
        encodeInitWebSocketResponse({
          retType: RetType.Failed,
          retMsg: "InitWebSocket already done on this connection",
        }),
        RetType.Failed,
        "already initialized",
      );
      return;
    }
    let c2s: InitWebSocketC2S;
    try {
      c2s = decodeInitWebSocketRequest(frame.body);
    } catch (error) {
      return refuse(
        `invalid InitWebSocket: ${errorText(error)}`,
        "invalid request",
      );
    }
    const fault = this.#wsFault;
    if (fault === "init-error") {
      return refuse("fault init-error", "init failed");
    }
    if (fault === "init-silent") {
      this.#record({
        type: "initConnectFailed",
        conn: conn.id,
        reason: "fault init-silent: not answered",
      });
      return;
    }
    const digest = this.#wsKeyDigest;
    if (
      digest !== undefined &&
      (c2s.websocketKey ?? "").toLowerCase() !== digest
    ) {
      const reason = c2s.websocketKey
        ? "wrong websocket key"
        : "no websocket key";
      if (this.#wsKeyRefusal === "silent") {
        this.#record({
          type: "initConnectFailed",
          conn: conn.id,
          reason: `${reason}: not answered`,
        });
        return;
      }
      return refuse(reason, "websocket key error");
    }
    const connId = String(CONN_ID_BASE + this.#nextConnId++);
    conn.connId = connId;
    this.#record({
      type: "initConnect",
      conn: conn.id,
      connId,
      clientID: c2s.clientID ?? "",
      clientVer: 0,
      ...(c2s.programmingLanguage === undefined
        ? {}
        : { programmingLanguage: c2s.programmingLanguage }),
      recvNotify: true,
      encryption: conn.encryption,
      pushProtoFmt: ProtoFmt.Protobuf,
      fmt: ProtoFmt.Protobuf,
      transport: conn.transport,
    });
    const sent = conn.replyInit(
      frame,
      encodeInitWebSocketResponse({
        retType: RetType.Succeed,
        s2c: { serverTime: Math.floor(Date.now() / 1000), connID: connId },
      }),
    );
    if (!sent) return;
    conn.initialized = true;
    if (fault === "drop-after-login") conn.close("fault drop-after-login");
  }

  #globalState(conn: _ApiConnection | _WsConnection): GetGlobalStateS2C {
    const now = Date.now();
    const logined = this.#status.type === ProgramStatusType.Ready;
    return {
      marketHK: 0,
      marketUS: 0,
      marketSH: 0,
      marketSZ: 0,
      marketHKFuture: 0,
      marketUSFuture: 0,
      marketSGFuture: 0,
      marketJPFuture: 0,
      qotLogined: logined,
      trdLogined: logined,
      serverVer: this.#serverVer,
      serverBuildNo: this.#serverBuildNo,
      time: Math.floor(now / 1000),
      localTime: now / 1000,
      programStatus: { ...this.#status },
      connID: conn.connId!,
    };
  }

  #initConnect(conn: _ApiConnection, packet: DecodedPacket): void {
    const fmt = packet.protoFmt;
    const fail = (reason: string) => {
      this.#record({ type: "initConnectFailed", conn: conn.id, reason });
      conn.send({
        protoId: ProtoId.InitConnect,
        protoFmt: fmt,
        serialNo: packet.serialNo,
        body: _failureBody(fmt, reason),
      });
      conn.close("InitConnect failed");
    };
    if (conn.initialized) {
      // One InitConnect per connection: keys must not change under a client.
      conn.send({
        protoId: ProtoId.InitConnect,
        protoFmt: fmt,
        serialNo: packet.serialNo,
        body: _failureBody(fmt, "InitConnect already done on this connection"),
      });
      return;
    }
    let c2s: InitConnectC2S;
    try {
      c2s = decodeRequest(ProtoId.InitConnect, packet.body, fmt);
    } catch (error) {
      return fail(`invalid InitConnect: ${errorText(error)}`);
    }
    const requested = c2s.packetEncAlgo;
    let encryption: SimEncryption = "none";
    if (this.#rsa !== undefined && requested !== PacketEncAlgo.None) {
      if (requested === PacketEncAlgo.AES_CBC) encryption = "AES_CBC";
      else if (
        requested === undefined || requested === PacketEncAlgo.FTAES_ECB ||
        requested === PacketEncAlgo.AES_ECB
      ) encryption = "FTAES_ECB";
      else return fail(`unsupported packetEncAlgo ${requested}`);
    }
    const connId = String(CONN_ID_BASE + this.#nextConnId++);
    const s2c: InitConnectS2C = {
      serverVer: this.#serverVer,
      loginUserID: this.#loginUserId,
      connID: connId,
      connAESKey: randomChars(16),
      keepAliveInterval: this.#keepAliveInterval,
      userAttribution: this.#userAttribution,
    };
    if (encryption === "AES_CBC") s2c.aesCBCiv = randomChars(16);
    conn.connId = connId;
    conn.recvNotify = c2s.recvNotify ?? false;
    conn.pushProtoFmt = c2s.pushProtoFmt === ProtoFmt.Json
      ? ProtoFmt.Json
      : ProtoFmt.Protobuf;
    conn.encryption = encryption;
    this.#record({
      type: "initConnect",
      conn: conn.id,
      connId,
      clientID: c2s.clientID,
      clientVer: c2s.clientVer,
      ...(c2s.programmingLanguage === undefined
        ? {}
        : { programmingLanguage: c2s.programmingLanguage }),
      recvNotify: conn.recvNotify,
      ...(requested === undefined ? {} : { requestedEncAlgo: requested }),
      encryption,
      pushProtoFmt: conn.pushProtoFmt,
      fmt,
    });
    const sent = conn.send({
      protoId: ProtoId.InitConnect,
      protoFmt: fmt,
      serialNo: packet.serialNo,
      body: encodeResponse(ProtoId.InitConnect, {
        retType: RetType.Succeed,
        s2c,
      }, fmt),
    });
    if (!sent) return;
    // The response went out under RSA (or plaintext); the next packet either
    // way uses the new key, which FrameDecoder.pushEach allows mid-chunk.
    if (encryption !== "none") {
      conn.setAes(createAesCipher({
        algo: encryption === "AES_CBC"
          ? PacketEncAlgo.AES_CBC
          : PacketEncAlgo.FTAES_ECB,
        key: s2c.connAESKey,
        ...(s2c.aesCBCiv === undefined ? {} : { iv: s2c.aesCBCiv }),
      }));
    }
    conn.initialized = true;
  }

  // ------------------------------------------------------------ operations port

  #acceptOps(socket: Socket): void {
    socket.on("error", () => {});
    if (this.#closed || this.#restarting) {
      socket.destroy();
      return;
    }
    const id = this.#nextOps++;
    const ops: _OpsConnection = {
      id,
      socket,
      closed: new Promise((resolve) => {
        socket.once("close", () => {
          this.#ops.delete(id);
          this.#record({
            type: "opsConnectionClosed",
            ops: id,
            reason: ops.reason ?? "closed by the client",
          });
          resolve();
        });
      }),
    };
    this.#ops.set(id, ops);
    socket.setNoDelay(true);
    this.#record({
      type: "opsConnectionOpened",
      ops: id,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
    });
    const splitter = new _LineSplitter();
    socket.on("data", (chunk: Uint8Array) => {
      if (ops.reason !== undefined) return;
      const lines = splitter.push(chunk);
      if (lines === undefined) {
        ops.reason = "line too long";
        socket.destroy();
        return;
      }
      for (const line of lines) {
        if (ops.reason !== undefined) return;
        const reply = this.#opsCommand(ops, line);
        if (reply !== undefined) socket.write(`${reply}\r\n`);
      }
    });
  }

  /** Handles one line; returns the reply line (without CRLF), if any. */
  #opsCommand(ops: _OpsConnection, line: string): string | undefined {
    const parsed = _parseOpsLine(line);
    if (parsed === undefined) return undefined;
    const { args } = parsed;
    const command = _safeCommandName(parsed.command);
    this.#record({
      type: "opsCommand",
      ops: ops.id,
      command: _loggableCommand(parsed.command),
      args: _redactArgs(parsed.command, args),
    });
    const answer = (verdict: _Verdict, ok: string): string => {
      if (!verdict.ok) return `${command}: FAILED, ${verdict.reason}`;
      verdict.then?.();
      return `${command}: OK, ${ok}`;
    };
    const code = (type: number) => {
      if (args.code === undefined || args.code === "") {
        return `${command}: FAILED, missing -code`;
      }
      return answer(
        this.#verification(
          "ops",
          type,
          VerificationOp.InputAndLogin,
          args.code,
        ),
        "logging in",
      );
    };
    switch (parsed.command) {
      case "req_phone_verify_code":
        return answer(
          this.#verification(
            "ops",
            VerificationType.Phone,
            VerificationOp.Request,
          ),
          "verification code sent",
        );
      case "input_phone_verify_code":
        return code(VerificationType.Phone);
      case "req_pic_verify_code":
        return answer(
          this.#verification(
            "ops",
            VerificationType.Picture,
            VerificationOp.Request,
          ),
          "picture verification code refreshed",
        );
      case "input_pic_verify_code":
        return code(VerificationType.Picture);
      case "relogin":
        return answer(this.#relogin("ops", args), "logging in");
      case "request_highest_quote_right":
        this.pushNotification(
          qotRightNotification({ hkQotRight: 3, usQotRight: 3, cnQotRight: 2 }),
        );
        return `${command}: OK, highest quote right requested`;
      case "close_api_conn": {
        const id = args.conn_id;
        if (id === undefined || id === "") {
          return `${command}: FAILED, missing -conn_id`;
        }
        const conn = [...this.#conns.values()].find((c) =>
          c.connId === id && !c.closing
        );
        if (conn === undefined) {
          return `${command}: FAILED, no API connection ${
            _safeCommandName(id)
          }`;
        }
        conn.close("closed by close_api_conn");
        return `${command}: OK, closed connection ${id}`;
      }
      case "help":
        return `${command}: OK, commands: req_phone_verify_code, input_phone_verify_code -code=C, ` +
          "req_pic_verify_code, input_pic_verify_code -code=C, " +
          "relogin [-login_pwd=P|-login_pwd_md5=H], request_highest_quote_right, " +
          "close_api_conn -conn_id=N, exit";
      case "exit":
        this.#record({ type: "opsExitRefused", ops: ops.id });
        return "exit: REFUSED, this simulator does not stop on request";
      default:
        return `${command}: FAILED, unknown command`;
    }
  }
}

function _tooFrequent(retryInMs: number): string {
  return `too frequent, try again in ${
    Math.max(1, Math.ceil(retryInMs / 1000))
  } s`;
}

function _statusLabel(status: number): string {
  return Object.entries(ProgramStatusType).find(([, v]) => v === status)?.[0] ??
    `Unknown(${status})`;
}

function _notificationDetail(n: NotificationInput): string {
  switch (n.kind) {
    case "gtwEvent":
      return _gtwEventDetail(n.eventType, n.desc);
    case "programStatus":
      return `ProgramStatus ${_statusLabel(n.status)}${
        n.strExtDesc ? ` "${n.strExtDesc}"` : ""
      }`;
    default: {
      const type = n.type ??
        ({
          connStatus: 3,
          qotRight: 4,
          apiLevel: 5,
          apiQuota: 6,
          usedQuota: 7,
        } as Record<
          string,
          number
        >)[n.kind];
      const name = Object.entries(NotifyType).find(([, v]) => v === type)?.[0];
      return `Notify ${name ?? `type ${type}`}`;
    }
  }
}

/**
 * Starts a simulated OpenD: listens on the API port and (unless `opsPort`
 * is `false`) the operations port, then runs `options.scenario` if given.
 * Rejects when a port cannot be opened.
 *
 * @example
 * ```ts
 * import { startSimulator } from "./mod.ts";
 * const sim = await startSimulator({ log: console.log });
 * const { port, opsPort } = sim.address;
 * // point a client at 127.0.0.1:port ...
 * sim.forceLogout(); // GtwEvent KickedOut, status ForceLogout, drop
 * await sim.close();
 * ```
 */
export async function startSimulator(
  options: SimulatorOptions = {},
): Promise<OpenDSimulator> {
  const sim = new OpenDSimulator(options);
  await sim[_START](options.scenario, options.scenarioTimeScale);
  return sim;
}
