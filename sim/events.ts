/**
 * What the simulator records: typed events that tests assert on, and a
 * one-line readable form for logs. No event ever holds a secret (AES keys,
 * RSA keys, passwords or verification codes typed by a client).
 * @module
 */
import {
  GtwEventType,
  labelOf,
  NotifyType,
  ProgramStatusType,
  ProtoId,
} from "../codec/definitions.ts";
import type { NotificationInput } from "../codec/notify.ts";

/**
 * How a connection's bodies are protected after InitConnect; "TLS" for a
 * `wss://` WebSocket client (the WebSocket port has no AES).
 */
export type SimEncryption = "none" | "FTAES_ECB" | "AES_CBC" | "TLS";

/** The WebSocket port's fault modes (see `OpenDSimulator.setWebSocketFault`). */
export const WS_FAULTS: readonly WsFault[] = [
  "init-error",
  "init-silent",
  "wrong-section",
  "bad-sign",
  "drop-after-login",
];

/** One of {@link WS_FAULTS}. */
export type WsFault =
  | "init-error"
  | "init-silent"
  | "wrong-section"
  | "bad-sign"
  | "drop-after-login";

/** How the WebSocket port refuses a wrong key: an error frame, or no answer at all. */
export type WsKeyRefusal = "error" | "silent";

/** Where a verification or relogin came from. */
export type SimVia = "api" | "ops";

/** Which verification code. */
export type SimCodeType = "phone" | "picture";

/** How a listener refuses clients during {@link OpenDSimulator.refuseConnections}. */
export type RefuseMode = "closed-port" | "accept-and-close";

/** Every event the simulator records, without the `seq` and `time` stamps. */
export type SimEventBody =
  /** The listeners are up (recorded once, at start). */
  | {
    type: "listening";
    host: string;
    port: number;
    opsPort?: number;
    wsPort?: number;
    wsTls?: boolean;
  }
  /** A listener could not be opened again; it is retried. */
  | { type: "listenFailed"; port: number; message: string }
  /**
   * An API client connected; `conn` numbers connections in accept order,
   * TCP and WebSocket alike; `transport` is set for WebSocket clients.
   */
  | {
    type: "connectionOpened";
    conn: number;
    remote: string;
    transport?: "ws" | "wss";
  }
  /** An API client was accepted and closed at once (refuse mode "accept-and-close"). */
  | { type: "connectionRefused"; remote: string }
  /** An API connection ended; `reason` says who ended it and why. */
  | { type: "connectionClosed"; conn: number; connId?: string; reason: string }
  /** InitConnect succeeded; the response is on its way. */
  | {
    type: "initConnect";
    conn: number;
    connId: string;
    clientID: string;
    clientVer: number;
    programmingLanguage?: string;
    recvNotify: boolean;
    /** The packetEncAlgo the client asked for, as sent. */
    requestedEncAlgo?: number;
    encryption: SimEncryption;
    pushProtoFmt: number;
    fmt: number;
    /** Set for a WebSocket client's InitWebSocket. */
    transport?: "ws" | "wss";
  }
  /**
   * InitConnect (or InitWebSocket) failed: answered with a failure and the
   * connection closed, or, when the reason says so, not answered at all.
   */
  | { type: "initConnectFailed"; conn: number; reason: string }
  /** A request arrived (every protoID, known or not). */
  | {
    type: "request";
    conn: number;
    connId?: string;
    protoId: number;
    serialNo: number;
    fmt: number;
  }
  /** A KeepAlive was not answered because answering is switched off. */
  | { type: "keepAliveIgnored"; conn: number; serialNo: number }
  /** A client sent bytes that are not a valid packet; its connection is closed. */
  | { type: "badPacket"; conn: number; code: string; message: string }
  /** A client sent nothing for the idle timeout; its connection is closed. */
  | { type: "idleTimeout"; conn: number; idleMs: number }
  /** The program status changed (or was set again). */
  | {
    type: "statusChanged";
    status: number;
    strExtDesc?: string;
    previous: number;
  }
  /** A Notify (1003) push went out. */
  | {
    type: "notificationPushed";
    kind: string;
    detail: string;
    recipients: number;
  }
  /** A raw push (any protoID) went out. */
  | { type: "packetPushed"; protoId: number; recipients: number }
  /** A client asked for a verification code to be sent (or the picture refreshed). */
  | {
    type: "verificationRequested";
    via: SimVia;
    codeType: SimCodeType;
    ok: boolean;
    reason?: string;
  }
  /** A client submitted the right verification code. */
  | { type: "codeAccepted"; via: SimVia; codeType: SimCodeType }
  /** A client submitted a verification code that was not accepted. */
  | {
    type: "codeRejected";
    via: SimVia;
    codeType: SimCodeType;
    reason: string;
  }
  /** A relogin; `password` says how a password was given, never what it was. */
  | {
    type: "relogin";
    via: SimVia;
    ok: boolean;
    reason?: string;
    password: "none" | "plain" | "md5";
  }
  /** An operations-port client connected. */
  | { type: "opsConnectionOpened"; ops: number; remote: string }
  /** An operations-port connection ended. */
  | { type: "opsConnectionClosed"; ops: number; reason: string }
  /** A command line arrived on the operations port (secret values redacted). */
  | {
    type: "opsCommand";
    ops: number;
    command: string;
    args: Readonly<Record<string, string>>;
  }
  /** Someone sent `exit`: refused, and recorded so tests can say it never happens. */
  | { type: "opsExitRefused"; ops: number }
  /** Non-packet bytes were sent to every API connection. */
  | { type: "garbageSent"; recipients: number }
  /** API connections were dropped by a fault control. */
  | { type: "connectionsDropped"; count: number; reason: string }
  /** New API connections are refused for `ms`. */
  | { type: "refusing"; ms: number; mode: RefuseMode }
  /** New API connections are accepted again after refusing. */
  | { type: "accepting" }
  /** The simulated OpenD went down for `downMs`. */
  | { type: "restarting"; downMs: number }
  /** The simulated OpenD is back up (it then logs in). */
  | { type: "restarted" }
  /** The WebSocket fault mode changed ("off" when it ended). */
  | { type: "webSocketFault"; fault: WsFault | "off" }
  /** KeepAlive answering was switched on or off. */
  | { type: "keepAliveAnswering"; on: boolean }
  /** The simulated broker account changed (never the password itself). */
  | {
    type: "accountChanged";
    passwordChanged: boolean;
    banned: boolean;
    deviceLock: boolean;
  }
  /** A scenario step ran. */
  | { type: "scenarioStep"; scenario: string; index: number; action: string }
  /** A scenario step threw; the scenario goes on. */
  | { type: "scenarioError"; scenario: string; index: number; message: string }
  /** A scenario ran all its steps, or was cancelled. */
  | { type: "scenarioEnded"; scenario: string; cancelled: boolean }
  /** The simulator closed. */
  | { type: "closed" };

/**
 * A recorded event: its body plus `seq` (1, 2, 3... in record order) and
 * `time` (milliseconds since the Unix epoch).
 *
 * @example
 * ```ts
 * import type { SimEvent } from "./events.ts";
 * function isInit(e: SimEvent): boolean {
 *   return e.type === "initConnect" && e.encryption === "AES_CBC";
 * }
 * ```
 */
export type SimEvent = SimEventBody & { readonly seq: number; time: number };

/** The `type` of a {@link SimEvent}. */
export type SimEventType = SimEvent["type"];

/** The {@link SimEvent} of one `type`. */
export type SimEventOf<K extends SimEventType> = Extract<SimEvent, { type: K }>;

const PROTO_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ProtoId).map(([name, id]) => [id, name]),
);

function protoLabel(protoId: number): string {
  if (protoId === 1) return "InitWebSocket";
  return PROTO_NAMES[protoId] ?? `protoID ${protoId}`;
}

function clock(time: number): string {
  const d = new Date(time);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
    p(d.getMilliseconds(), 3)
  }`;
}

/**
 * What happened, in one line, without the time stamp.
 *
 * @example
 * ```ts
 * import { describeSimEvent } from "./events.ts";
 * describeSimEvent({ type: "restarting", downMs: 6000, seq: 1, time: 0 }); // "OpenD going down for 6000 ms"
 * ```
 */
export function describeSimEvent(e: SimEvent): string {
  switch (e.type) {
    case "listening":
      return `listening: api ${e.host}:${e.port}${
        e.opsPort === undefined ? "" : `, ops ${e.host}:${e.opsPort}`
      }${
        e.wsPort === undefined
          ? ""
          : `, ${e.wsTls ? "wss" : "ws"} ${e.host}:${e.wsPort}`
      }`;
    case "listenFailed":
      return `could not listen on port ${e.port} (${e.message}); retrying`;
    case "connectionOpened":
      return `conn #${e.conn} opened from ${e.remote}${
        e.transport === undefined ? "" : ` (WebSocket ${e.transport})`
      }`;
    case "connectionRefused":
      return `refused a connection from ${e.remote}`;
    case "connectionClosed":
      return `conn #${e.conn} closed: ${e.reason}`;
    case "initConnect":
      if (e.transport !== undefined) {
        return `conn #${e.conn} InitWebSocket${
          e.programmingLanguage ? ` (${e.programmingLanguage})` : ""
        }: connID ${e.connId}, ${e.transport}, notifications always`;
      }
      return `conn #${e.conn} InitConnect from ${e.clientID} v${e.clientVer}${
        e.programmingLanguage ? ` (${e.programmingLanguage})` : ""
      }: connID ${e.connId}, encryption ${e.encryption}, ${
        e.recvNotify ? "wants" : "no"
      } notifications`;
    case "initConnectFailed":
      return `conn #${e.conn} InitConnect failed: ${e.reason}`;
    case "request":
      return `conn #${e.conn} ${protoLabel(e.protoId)} request #${e.serialNo}${
        e.fmt === 1 ? " (JSON)" : ""
      }`;
    case "keepAliveIgnored":
      return `conn #${e.conn} KeepAlive #${e.serialNo} not answered (answering off)`;
    case "badPacket":
      return `conn #${e.conn} sent a bad packet (${e.code}): ${e.message}`;
    case "idleTimeout":
      return `conn #${e.conn} sent nothing for ${e.idleMs} ms`;
    case "statusChanged":
      return `status ${labelOf(ProgramStatusType, e.previous)} -> ${
        labelOf(ProgramStatusType, e.status)
      }${e.strExtDesc ? ` (${e.strExtDesc})` : ""}`;
    case "notificationPushed":
      return `pushed ${e.detail} to ${e.recipients} connection(s)`;
    case "packetPushed":
      return `pushed ${protoLabel(e.protoId)} to ${e.recipients} connection(s)`;
    case "verificationRequested":
      return `${e.via}: ${e.codeType} code requested: ${
        e.ok ? "sent" : `refused (${e.reason})`
      }`;
    case "codeAccepted":
      return `${e.via}: ${e.codeType} code accepted`;
    case "codeRejected":
      return `${e.via}: ${e.codeType} code rejected (${e.reason})`;
    case "relogin":
      return `${e.via}: relogin (password: ${e.password}): ${
        e.ok ? "ok" : `failed (${e.reason})`
      }`;
    case "opsConnectionOpened":
      return `ops #${e.ops} opened from ${e.remote}`;
    case "opsConnectionClosed":
      return `ops #${e.ops} closed: ${e.reason}`;
    case "opsCommand": {
      const args = Object.entries(e.args).map(([k, v]) => ` -${k}=${v}`);
      return `ops #${e.ops} command: ${e.command}${args.join("")}`;
    }
    case "opsExitRefused":
      return `ops #${e.ops} sent exit: refused`;
    case "garbageSent":
      return `sent garbage to ${e.recipients} connection(s)`;
    case "connectionsDropped":
      return `dropped ${e.count} connection(s): ${e.reason}`;
    case "refusing":
      return `refusing connections for ${e.ms} ms (${e.mode})`;
    case "accepting":
      return "accepting connections again";
    case "restarting":
      return `OpenD going down for ${e.downMs} ms`;
    case "restarted":
      return "OpenD back up";
    case "webSocketFault":
      return `WebSocket fault: ${e.fault}`;
    case "keepAliveAnswering":
      return `keep-alive answering ${e.on ? "on" : "off"}`;
    case "accountChanged":
      return `account changed: ${
        [
          e.passwordChanged ? "password changed" : "",
          e.banned ? "banned" : "",
          e.deviceLock ? "device lock on" : "",
        ].filter(Boolean).join(", ") || "cleared"
      }`;
    case "scenarioStep":
      return `scenario ${e.scenario} step ${e.index + 1}: ${e.action}`;
    case "scenarioError":
      return `scenario ${e.scenario} step ${e.index + 1} failed: ${e.message}`;
    case "scenarioEnded":
      return `scenario ${e.scenario} ${e.cancelled ? "cancelled" : "done"}`;
    case "closed":
      return "simulator closed";
  }
}

/**
 * One readable log line for an event: local clock time, then what happened.
 *
 * @example
 * ```ts
 * import { formatSimEvent } from "./events.ts";
 * formatSimEvent({ type: "statusChanged", status: 11, previous: 10, seq: 1, time: 0 });
 * // "01:00:00.000 status Ready -> ForceLogout" (in the local time zone)
 * ```
 */
export function formatSimEvent(event: SimEvent): string {
  return `${clock(event.time)} ${describeSimEvent(event)}`;
}

/** A GtwEvent push, as the log names it. */
export function _gtwEventDetail(eventType: number, desc: string): string {
  return `GtwEvent ${labelOf(GtwEventType, eventType)}${
    desc ? ` "${desc}"` : ""
  }`;
}

/** A ProgramStatusType's name, as the log and `toString` show it. */
export function _statusLabel(status: number): string {
  return Object.entries(ProgramStatusType).find(([, v]) => v === status)?.[0] ??
    `Unknown(${status})`;
}

/** What a pushed notification is, in a "notificationPushed" event. */
export function _notificationDetail(n: NotificationInput): string {
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

/** An error's message, as events carry it. */
export function _errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
