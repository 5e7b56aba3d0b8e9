/**
 * The WebSocket API port, a peer of the TCP one: accepting clients and
 * their opening handshake, InitWebSocket (cmd 1) with the optional key,
 * and the fault modes that bend it. Later requests go to the shared
 * answers (`_api_requests.ts`), pushes come through the shared fan-out.
 * @module
 */
import { ProtoFmt, ProtoId, RetType } from "../codec/definitions.ts";
import {
  decodeInitWebSocketRequest,
  encodeInitWebSocketResponse,
  type InitWebSocketC2S,
} from "../codec/init_websocket.ts";
import type { WsRequestFrame } from "../codec/ws_frame.ts";
import { type _ApiRequests, _failureBody } from "./_api_requests.ts";
import type { _Admission, _Connections } from "./_connections.ts";
import type { _EventLog } from "./_event_log.ts";
import {
  _WsConnection,
  type _WsHost,
  type _WsSocket,
} from "./_ws_connection.ts";
import { _errorText, type WsFault, type WsKeyRefusal } from "./events.ts";

/** How the WebSocket port opens (resolved options). */
export interface _WsPortSettings {
  /** Whether it speaks TLS. */
  tls: boolean;
  /** MD5 (lower-case hex) of the key InitWebSocket must carry; none: any. */
  keyDigest: string | undefined;
  /** How a wrong key is refused. */
  keyRefusal: WsKeyRefusal;
  /** The fault mode from the start. */
  fault: WsFault | undefined;
}

/** The WebSocket port's clients. */
export class _WsPort {
  /** The fault mode in force (see `OpenDSimulator.setWebSocketFault`). */
  fault: WsFault | undefined;

  readonly #settings: _WsPortSettings;
  readonly #events: _EventLog;
  readonly #connections: _Connections;
  readonly #requests: _ApiRequests;
  readonly #admission: () => _Admission;

  readonly #host: _WsHost = {
    onInit: (conn, frame) => this.#initWebSocket(conn, frame),
    onPacket: (conn, packet) => {
      const fmt = this.#requests.received(conn, packet);
      if (fmt === undefined) return;
      if (packet.protoId === ProtoId.InitConnect) {
        conn.reply(
          packet,
          _failureBody(fmt, "InitWebSocket (cmd 1) opens this port"),
          fmt,
        );
        return;
      }
      if (!conn.initialized) {
        conn.reply(packet, _failureBody(fmt, "InitWebSocket first"), fmt);
        return;
      }
      this.#requests.answer(conn, packet, fmt);
    },
    onFrameError: (conn, error) => {
      this.#events.record({
        type: "badPacket",
        conn: conn.id,
        code: error.code,
        message: error.message,
      });
    },
    onClosed: (conn, reason) => this.#connections.closed(conn, reason),
    fault: () => this.fault,
  };

  /** `admission` tells, at each accept, whether clients are taken now. */
  constructor(
    settings: _WsPortSettings,
    events: _EventLog,
    connections: _Connections,
    requests: _ApiRequests,
    admission: () => _Admission,
  ) {
    this.#settings = settings;
    this.fault = settings.fault;
    this.#events = events;
    this.#connections = connections;
    this.#requests = requests;
    this.#admission = admission;
  }

  /** A WebSocket client finished its upgrade. */
  accept(ws: _WsSocket, remote: string): void {
    ws.on("error", () => {});
    const admission = this.#admission();
    if (admission === "drop") {
      ws.terminate();
      return;
    }
    if (admission === "refuse") {
      this.#events.record({ type: "connectionRefused", remote });
      ws.terminate();
      return;
    }
    const transport = this.#settings.tls ? "wss" : "ws";
    const conn = new _WsConnection(
      ws,
      this.#connections.nextNumber(),
      remote,
      transport,
      this.#host,
    );
    this.#connections.add(conn);
    this.#events.record({
      type: "connectionOpened",
      conn: conn.id,
      remote,
      transport,
    });
  }

  #initWebSocket(conn: _WsConnection, frame: WsRequestFrame): void {
    const serialNo = Number(frame.section & 0xffffffffn);
    this.#events.record({
      type: "request",
      conn: conn.id,
      ...(conn.connId === undefined ? {} : { connId: conn.connId }),
      protoId: frame.cmd,
      serialNo,
      fmt: ProtoFmt.Protobuf,
    });
    // Refused: an error frame (the SDK gives up for good), then a close.
    const refuse = (reason: string, errmsg: string) => {
      this.#events.record({ type: "initConnectFailed", conn: conn.id, reason });
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
    const unanswered = (reason: string) => {
      this.#events.record({ type: "initConnectFailed", conn: conn.id, reason });
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
        `invalid InitWebSocket: ${_errorText(error)}`,
        "invalid request",
      );
    }
    const fault = this.fault;
    if (fault === "init-error") {
      return refuse("fault init-error", "init failed");
    }
    if (fault === "init-silent") {
      return unanswered("fault init-silent: not answered");
    }
    const digest = this.#settings.keyDigest;
    if (
      digest !== undefined &&
      (c2s.websocketKey ?? "").toLowerCase() !== digest
    ) {
      const reason = c2s.websocketKey
        ? "wrong websocket key"
        : "no websocket key";
      if (this.#settings.keyRefusal === "silent") {
        return unanswered(`${reason}: not answered`);
      }
      return refuse(reason, "websocket key error");
    }
    const connId = this.#connections.nextConnId();
    conn.connId = connId;
    this.#events.record({
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
}
