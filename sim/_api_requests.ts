/**
 * The requests both API ports answer alike, once a connection is open:
 * KeepAlive (1004), GetGlobalState (1002), Verification (1006); any other
 * protoID gets retType -1 "unknown protocol". Each port handles its own
 * opening handshake (InitConnect, InitWebSocket) before handing requests
 * here.
 * @module
 */
import { CodecError } from "../codec/codec_error.ts";
import {
  ProgramStatusType,
  ProtoFmt,
  ProtoId,
  RetType,
} from "../codec/definitions.ts";
import {
  decodeRequest,
  encodeResponse,
  type GetGlobalStateS2C,
  type Response,
} from "../codec/messages.ts";
import type { Packet } from "../codec/packet.ts";
import type { _AnyConnection } from "./_connections.ts";
import type { _EventLog } from "./_event_log.ts";
import type { _Gateway } from "./_gateway.ts";

/**
 * The generic failure body for any protoID. Every Response shares fields
 * 1-3 (retType, retMsg, errCode), so KeepAlive's Response without s2c has
 * exactly the bytes of any protocol's failure.
 */
export function _failureBody(fmt: number, retMsg: string): Uint8Array {
  const failure: Response<never> = { retType: RetType.Failed, retMsg };
  return encodeResponse(ProtoId.KeepAlive, failure, fmt);
}

/** What GetGlobalState reports besides the status. */
export interface _ServerInfo {
  /** OpenD version. */
  serverVer: number;
  /** OpenD build number. */
  serverBuildNo: number;
}

/** Answers the requests common to both API ports. */
export class _ApiRequests {
  /** Off: KeepAlive requests are read, never answered (a fault control). */
  keepAliveAnswering = true;

  readonly #events: _EventLog;
  readonly #gateway: _Gateway;
  readonly #server: _ServerInfo;

  constructor(events: _EventLog, gateway: _Gateway, server: _ServerInfo) {
    this.#events = events;
    this.#gateway = gateway;
    this.#server = server;
  }

  /**
   * Records a request and checks its body format. Returns the format to
   * answer in, or undefined when it was refused here (an unknown format;
   * an InitConnect in one also closes the connection).
   */
  received(conn: _AnyConnection, packet: Packet): number | undefined {
    const { protoId, serialNo, protoFmt } = packet;
    this.#events.record({
      type: "request",
      conn: conn.id,
      ...(conn.connId === undefined ? {} : { connId: conn.connId }),
      protoId,
      serialNo,
      fmt: protoFmt,
    });
    const fmt = protoFmt === ProtoFmt.Json ? ProtoFmt.Json : ProtoFmt.Protobuf;
    if (protoFmt !== ProtoFmt.Protobuf && protoFmt !== ProtoFmt.Json) {
      conn.reply(
        packet,
        _failureBody(fmt, `unknown body format ${protoFmt}`),
        fmt,
      );
      if (protoId === ProtoId.InitConnect) conn.close("InitConnect failed");
      return undefined;
    }
    return fmt;
  }

  /** Answers a request that is not the port's opening handshake. */
  answer(conn: _AnyConnection, packet: Packet, fmt: number): void {
    const { protoId, serialNo } = packet;
    const reply = (body: Uint8Array) => conn.reply(packet, body, fmt);
    if (!conn.initialized) {
      reply(_failureBody(fmt, "InitConnect first"));
      return;
    }
    try {
      switch (protoId) {
        case ProtoId.KeepAlive: {
          decodeRequest(ProtoId.KeepAlive, packet.body, fmt);
          if (!this.keepAliveAnswering) {
            this.#events.record({
              type: "keepAliveIgnored",
              conn: conn.id,
              serialNo,
            });
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
          const verdict = this.#gateway.verification(
            "api",
            c2s.type,
            c2s.op,
            c2s.code,
          );
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

  #globalState(conn: _AnyConnection): GetGlobalStateS2C {
    const now = Date.now();
    const status = this.#gateway.status;
    const logined = status.type === ProgramStatusType.Ready;
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
      serverVer: this.#server.serverVer,
      serverBuildNo: this.#server.serverBuildNo,
      time: Math.floor(now / 1000),
      localTime: now / 1000,
      programStatus: { ...status },
      connID: conn.connId!,
    };
  }
}
