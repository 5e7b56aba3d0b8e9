/**
 * The TCP API port: accepting clients and their opening handshake,
 * InitConnect (1001), which picks the body protection (RSA for the
 * handshake itself with `rsaPrivateKey`, then AES or plaintext). Packets
 * that cannot be read close the connection; an unreadable InitConnect is
 * answered in plaintext first. Later requests go to the shared answers
 * (`_api_requests.ts`), pushes come through the shared fan-out.
 * @module
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { CodecError } from "../codec/codec_error.ts";
import {
  PacketEncAlgo,
  ProtoFmt,
  ProtoId,
  RetType,
} from "../codec/definitions.ts";
import {
  decodeRequest,
  encodeResponse,
  type InitConnectC2S,
  type InitConnectS2C,
} from "../codec/messages.ts";
import type { DecodedPacket } from "../codec/packet.ts";
import { createAesCipher } from "../codec/aes.ts";
import type { RsaKey } from "../codec/rsa.ts";
import { _ApiConnection, type _ConnectionHost } from "./_api_connection.ts";
import { type _ApiRequests, _failureBody } from "./_api_requests.ts";
import type { _Admission, _Connections } from "./_connections.ts";
import type { _EventLog } from "./_event_log.ts";
import { _errorText, type SimEncryption } from "./events.ts";

const AES_CHARS =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

function randomChars(n: number): string {
  const bytes = randomBytes(n);
  let out = "";
  for (const b of bytes) out += AES_CHARS[b % AES_CHARS.length];
  return out;
}

/** What the TCP port answers InitConnect with (resolved options). */
export interface _ApiPortSettings {
  /** The RSA key shared with the clients, if any. */
  rsa: RsaKey | undefined;
  /** Seconds, in InitConnect.S2C. */
  keepAliveInterval: number;
  /** Silence after which a connection is closed; false: never. */
  idleTimeoutMs: number | false;
  /** loginUserID in InitConnect.S2C. */
  loginUserId: string;
  /** serverVer in InitConnect.S2C. */
  serverVer: number;
  /** userAttribution in InitConnect.S2C. */
  userAttribution: number;
}

/** The TCP API port's clients. */
export class _ApiPort {
  readonly #settings: _ApiPortSettings;
  readonly #events: _EventLog;
  readonly #connections: _Connections;
  readonly #requests: _ApiRequests;
  readonly #admission: () => _Admission;

  readonly #host: _ConnectionHost = {
    onPacket: (conn, packet) => {
      const fmt = this.#requests.received(conn, packet);
      if (fmt === undefined) return;
      if (packet.protoId === ProtoId.InitConnect) {
        return this.#initConnect(conn, packet);
      }
      this.#requests.answer(conn, packet, fmt);
    },
    onFrameError: (conn, error) => this.#onFrameError(conn, error),
    onIdle: (conn, idleMs) => {
      this.#events.record({ type: "idleTimeout", conn: conn.id, idleMs });
      conn.close(`idle for ${idleMs} ms`);
    },
    onClosed: (conn, reason) => this.#connections.closed(conn, reason),
  };

  /** `admission` tells, at each accept, whether clients are taken now. */
  constructor(
    settings: _ApiPortSettings,
    events: _EventLog,
    connections: _Connections,
    requests: _ApiRequests,
    admission: () => _Admission,
  ) {
    this.#settings = settings;
    this.#events = events;
    this.#connections = connections;
    this.#requests = requests;
    this.#admission = admission;
  }

  /** A client connected to the TCP port. */
  accept(socket: Socket): void {
    socket.on("error", () => {});
    const admission = this.#admission();
    if (admission === "drop") {
      socket.destroy();
      return;
    }
    if (admission === "refuse") {
      this.#events.record({
        type: "connectionRefused",
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
      });
      socket.destroy();
      return;
    }
    const conn = new _ApiConnection(
      socket,
      this.#connections.nextNumber(),
      this.#settings.rsa,
      this.#settings.idleTimeoutMs,
      this.#host,
    );
    this.#connections.add(conn);
    this.#events.record({
      type: "connectionOpened",
      conn: conn.id,
      remote: conn.remote,
    });
  }

  #onFrameError(conn: _ApiConnection, error: CodecError): void {
    this.#events.record({
      type: "badPacket",
      conn: conn.id,
      code: error.code,
      message: error.message,
    });
    if (!conn.initialized && error.protoId === ProtoId.InitConnect) {
      // Undecryptable or corrupt InitConnect: answer in plaintext, then close.
      this.#events.record({
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

  #initConnect(conn: _ApiConnection, packet: DecodedPacket): void {
    const fmt = packet.protoFmt;
    const fail = (reason: string) => {
      this.#events.record({ type: "initConnectFailed", conn: conn.id, reason });
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
      return fail(`invalid InitConnect: ${_errorText(error)}`);
    }
    const settings = this.#settings;
    const requested = c2s.packetEncAlgo;
    let encryption: SimEncryption = "none";
    if (settings.rsa !== undefined && requested !== PacketEncAlgo.None) {
      if (requested === PacketEncAlgo.AES_CBC) encryption = "AES_CBC";
      else if (
        requested === undefined || requested === PacketEncAlgo.FTAES_ECB ||
        requested === PacketEncAlgo.AES_ECB
      ) encryption = "FTAES_ECB";
      else return fail(`unsupported packetEncAlgo ${requested}`);
    }
    const connId = this.#connections.nextConnId();
    const s2c: InitConnectS2C = {
      serverVer: settings.serverVer,
      loginUserID: settings.loginUserId,
      connID: connId,
      connAESKey: randomChars(16),
      keepAliveInterval: settings.keepAliveInterval,
      userAttribution: settings.userAttribution,
    };
    if (encryption === "AES_CBC") s2c.aesCBCiv = randomChars(16);
    conn.connId = connId;
    conn.recvNotify = c2s.recvNotify ?? false;
    conn.pushProtoFmt = c2s.pushProtoFmt === ProtoFmt.Json
      ? ProtoFmt.Json
      : ProtoFmt.Protobuf;
    conn.encryption = encryption;
    this.#events.record({
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
}
