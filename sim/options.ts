/**
 * What {@link startSimulator} accepts, and how each option is checked and
 * given its default before anything listens.
 * @module
 */
import { ProgramStatusType, UserAttribution } from "../codec/definitions.ts";
import { webSocketKeyDigest } from "../codec/init_websocket.ts";
import type { ProgramStatus } from "../codec/messages.ts";
import { RsaKey } from "../codec/rsa.ts";
import type { _ApiPortSettings } from "./_api_port.ts";
import type { _ServerInfo } from "./_api_requests.ts";
import type { _EventSinks } from "./_event_log.ts";
import {
  type _GatewaySettings,
  DEFAULT_RATE_LIMITS,
  type SimRateLimits,
} from "./_gateway.ts";
import type { _ListenerSettings } from "./_listeners.ts";
import type { WsTlsOptions } from "./_ws_listener.ts";
import type { _WsPortSettings } from "./_ws_port.ts";
import {
  type SimEvent,
  WS_FAULTS,
  type WsFault,
  type WsKeyRefusal,
} from "./events.ts";
import type { ScenarioStep } from "./scenario.ts";
import type { ScenarioName } from "./scenarios.ts";

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

/** The options, checked and completed, grouped by the part that uses them. */
export interface _Settings {
  /** For the listening sockets. */
  listeners: _ListenerSettings;
  /** For the TCP port's InitConnect. */
  api: _ApiPortSettings;
  /** For the WebSocket port's InitWebSocket. */
  ws: _WsPortSettings;
  /** For GetGlobalState. */
  server: _ServerInfo;
  /** For the status, the account and the codes. */
  gateway: _GatewaySettings;
  /** For the event record. */
  sinks: _EventSinks;
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

/** Checks `options` and fills in the defaults; throws `RangeError` for a bad one. */
export function _resolveOptions(options: SimulatorOptions): _Settings {
  const wsTls = options.wsTls === undefined ? undefined : {
    cert: _tidyPem(options.wsTls.cert),
    key: _tidyPem(options.wsTls.key),
  };
  const keyDigest = options.wsKey === undefined
    ? undefined
    : webSocketKeyDigest(options.wsKey);
  const keyRefusal = options.wsKeyRefusal ?? "error";
  if (keyRefusal !== "error" && keyRefusal !== "silent") {
    throw new RangeError('wsKeyRefusal must be "error" or "silent"');
  }
  if (options.wsFault !== undefined && !WS_FAULTS.includes(options.wsFault)) {
    throw new RangeError(`wsFault must be one of ${WS_FAULTS.join(", ")}`);
  }
  const rsa = options.rsaPrivateKey === undefined
    ? undefined
    : RsaKey.fromPem(_tidyPem(options.rsaPrivateKey));
  const keepAliveInterval = options.keepAliveInterval ?? 10;
  if (!Number.isInteger(keepAliveInterval) || keepAliveInterval < 1) {
    throw new RangeError("keepAliveInterval must be a whole number >= 1");
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  if (idleTimeoutMs !== false && !(idleTimeoutMs > 0)) {
    throw new RangeError("idleTimeoutMs must be > 0, or false");
  }
  const status = options.programStatus ?? ProgramStatusType.Ready;
  const programStatus: ProgramStatus = typeof status === "number"
    ? { type: status }
    : {
      type: status.type,
      ...(status.strExtDesc === undefined
        ? {}
        : { strExtDesc: status.strExtDesc }),
    };
  const loginUserId = String(options.loginUserId ?? "10000001");
  if (!/^\d+$/.test(loginUserId)) {
    throw new RangeError("loginUserId must be an unsigned integer");
  }
  const serverVer = options.serverVer ?? 905;
  const loginDelayMs = options.loginDelayMs ?? 200;
  if (!(loginDelayMs >= 0)) {
    throw new RangeError("loginDelayMs must be >= 0");
  }
  return {
    listeners: {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      opsPort: options.opsPort ?? 0,
      wsPort: options.wsPort ?? false,
      wsTls,
    },
    api: {
      rsa,
      keepAliveInterval,
      idleTimeoutMs,
      loginUserId,
      serverVer,
      userAttribution: options.userAttribution ?? UserAttribution.NN,
    },
    ws: {
      tls: wsTls !== undefined,
      keyDigest,
      keyRefusal,
      fault: options.wsFault,
    },
    server: { serverVer, serverBuildNo: options.serverBuildNo ?? 5808 },
    gateway: {
      programStatus,
      loginPassword: options.loginPassword,
      phoneCode: options.phoneCode ?? "123456",
      pictureCode: options.pictureCode ?? "1234",
      loginDelayMs,
      rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    },
    sinks: {
      onEvent: options.onEvent,
      log: options.log,
      maxEvents: options.maxEvents ?? 10_000,
    },
  };
}
