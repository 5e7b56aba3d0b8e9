/**
 * One client of the simulator's WebSocket port: `ft-v1.0` frames in and out,
 * the fault modes that bend outgoing frames, closing. A peer of the TCP
 * `_ApiConnection`: the simulator answers both through `reply` and reaches
 * both through `push`, so every control and scenario touches both alike.
 * @module
 */
import { CodecError, CodecErrorCode } from "../codec/codec_error.ts";
import type { Packet } from "../codec/packet.ts";
import {
  decodeWsRequest,
  encodeWsResponse,
  WS_DEFAULT_MAX_BODY_BYTES,
  WS_INIT_CMD,
  WS_PUSH_SECTION,
  type WsRequestFrame,
} from "../codec/ws_frame.ts";
import type { SimEncryption, WsFault } from "./events.ts";

/** The part of a `ws` WebSocket the simulator uses. */
export interface _WsSocket {
  /** 1 while open. */
  readonly readyState: number;
  /** Queues one binary message. */
  send(data: Uint8Array, options: { binary: boolean }): void;
  /** Starts the closing handshake after what is queued. */
  close(code?: number, reason?: string): void;
  /** Destroys the socket at once. */
  terminate(): void;
  /** Events of `ws`'s WebSocket. */
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** What a WebSocket connection reports to the simulator. */
export interface _WsHost {
  /** An InitWebSocket (cmd 1) request arrived. */
  onInit(conn: _WsConnection, frame: WsRequestFrame): void;
  /** Any other request arrived, as a packet (protobuf body). */
  onPacket(conn: _WsConnection, packet: Packet): void;
  /** A message was not a valid frame; the connection is closing. */
  onFrameError(conn: _WsConnection, error: CodecError): void;
  /** The socket closed; `reason` names who closed it and why. */
  onClosed(conn: _WsConnection, reason: string): void;
  /** The fault mode now in force, if any. */
  fault(): WsFault | undefined;
}

/** WebSocket close codes (RFC 6455) the simulator sends. */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_TOO_BIG = 1009;
/** A closing handshake the client never finishes ends this much later. */
const CLOSE_GRACE_MS = 2000;
/** A response under fault "wrong-section" carries its section plus this. */
const SECTION_SKEW = 1n << 32n;
const U64 = (1n << 64n) - 1n;

/** The largest message `ws` accepts before refusing it itself. */
export const _WS_MAX_PAYLOAD: number = 4 * WS_DEFAULT_MAX_BODY_BYTES;

/** One accepted WebSocket client. */
export class _WsConnection {
  /** Accept-order number, shared with TCP connections. */
  readonly id: number;
  /** `address:port` of the client. */
  readonly remote: string;
  /** "ws" or "wss". */
  readonly transport: "ws" | "wss";
  /** The connID granted by InitWebSocket. */
  connId: string | undefined;
  /** Whether the InitWebSocket answer was sent: pushes may follow. */
  initialized = false;
  /** The SDK cannot ask for notifications: it always gets them. */
  readonly recvNotify = true;
  /** Pushes are protobuf: the port has no JSON. */
  readonly pushProtoFmt = 0;
  /** TLS or nothing: the port has no AES. */
  readonly encryption: SimEncryption;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;

  readonly #ws: _WsSocket;
  readonly #host: _WsHost;
  readonly #sections = new WeakMap<Packet, bigint>();
  #closing = false;
  /** The socket closed, or was destroyed: nothing more to close. */
  #terminated = false;
  #reason: string | undefined;
  #grace: ReturnType<typeof setTimeout> | undefined;

  constructor(
    ws: _WsSocket,
    id: number,
    remote: string,
    transport: "ws" | "wss",
    host: _WsHost,
  ) {
    this.id = id;
    this.remote = remote;
    this.transport = transport;
    this.encryption = transport === "wss" ? "TLS" : "none";
    this.#ws = ws;
    this.#host = host;
    this.closed = new Promise((resolve) => {
      ws.on("close", () => {
        this.#closing = true;
        this.#terminated = true;
        if (this.#grace !== undefined) clearTimeout(this.#grace);
        this.#grace = undefined;
        host.onClosed(this, this.#reason ?? "closed by the client");
        resolve();
      });
    });
    ws.on("error", (error: Error & { code?: string }) => {
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
        // `ws` refused a giant message itself; report it like our own limit.
        this.#fail(
          new CodecError(
            CodecErrorCode.BodyTooLarge,
            `a WebSocket message exceeds ${_WS_MAX_PAYLOAD} bytes`,
          ),
          CLOSE_TOO_BIG,
        );
      }
      this.#reason ??= `socket error ${error.code ?? error.message}`;
    });
    ws.on("message", (data: Uint8Array, isBinary: boolean) => {
      this.#onMessage(data, isBinary);
    });
  }

  /** Whether the connection is closing or closed. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Answers a request that came in as `packet`, echoing its section. */
  reply(packet: Packet, body: Uint8Array, _protoFmt?: number): boolean {
    const section = this.#sections.get(packet) ?? BigInt(packet.serialNo);
    return this.#write(packet.protoId, section, body, false);
  }

  /** Answers InitWebSocket: `error` 0 logs the SDK in. */
  replyInit(
    frame: WsRequestFrame,
    body: Uint8Array,
    error = 0,
    errmsg = "",
  ): boolean {
    return this.#write(WS_INIT_CMD, frame.section, body, false, error, errmsg);
  }

  /** Pushes a message (section 0); the TCP serial number is not used here. */
  push(
    protoId: number,
    _protoFmt: number,
    _serialNo: number,
    body: Uint8Array,
  ): boolean {
    return this.#write(protoId, WS_PUSH_SECTION, body, true);
  }

  /** Sends bytes as one binary message, as they are (garbage on purpose). */
  sendRaw(bytes: Uint8Array): boolean {
    if (this.#closing) return false;
    this.#ws.send(bytes, { binary: true });
    return true;
  }

  /**
   * Closes after what was sent is flushed (the closing handshake follows the
   * queued messages), so a push just before a drop still arrives.
   */
  close(reason: string, code = CLOSE_GOING_AWAY): void {
    this.beginClose(reason, code)?.();
  }

  /**
   * {@link close} in two steps: the connection is closing from now on (no
   * input, no pushes); the function returned starts the closing handshake.
   * Undefined when it was closing already.
   */
  beginClose(
    reason: string,
    code = CLOSE_GOING_AWAY,
  ): (() => void) | undefined {
    if (this.#closing) return undefined;
    this.#closing = true;
    this.#reason ??= reason;
    return () => {
      if (this.#terminated) return;
      try {
        this.#ws.close(code);
      } catch {
        this.#ws.terminate();
        return;
      }
      this.#grace = setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS);
    };
  }

  /** Closes at once. */
  destroy(reason: string): void {
    this.#closing = true;
    this.#terminated = true;
    this.#reason ??= reason;
    this.#ws.terminate();
  }

  #write(
    cmd: number,
    section: bigint,
    body: Uint8Array,
    push: boolean,
    error = 0,
    errmsg = "",
  ): boolean {
    if (this.#closing) return false;
    const fault = this.#host.fault();
    const wire = !push && fault === "wrong-section"
      ? (section + SECTION_SKEW) & U64
      : section;
    const bytes = encodeWsResponse({
      cmd,
      section: wire,
      error,
      errmsg,
      body,
    });
    if (fault === "bad-sign") bytes[0] = 0x46; // "Ft-v1.0": no longer the sign
    this.#ws.send(bytes, { binary: true });
    return true;
  }

  #onMessage(data: Uint8Array, isBinary: boolean): void {
    if (this.#closing) return;
    if (!isBinary) {
      return this.#fail(
        new CodecError(
          CodecErrorCode.BadMagic,
          "a text message: the port takes binary ft-v1.0 frames only",
        ),
        CLOSE_UNSUPPORTED,
      );
    }
    let frame: WsRequestFrame;
    try {
      frame = decodeWsRequest(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      return this.#fail(
        error,
        error.code === CodecErrorCode.BodyTooLarge
          ? CLOSE_TOO_BIG
          : CLOSE_PROTOCOL_ERROR,
      );
    }
    try {
      if (frame.cmd === WS_INIT_CMD) {
        this.#host.onInit(this, frame);
        return;
      }
      const packet: Packet = {
        protoId: frame.cmd,
        protoFmt: 0,
        // Events show the section as the serial number; it is a small counter.
        serialNo: Number(frame.section & 0xffffffffn),
        body: frame.body,
      };
      this.#sections.set(packet, frame.section);
      this.#host.onPacket(this, packet);
    } catch (error) {
      // A handler bug must cost one connection, never the simulator.
      this.#reason ??= `internal error: ${
        error instanceof Error ? error.message : error
      }`;
      this.destroy(this.#reason);
    }
  }

  #fail(error: CodecError, code: number): void {
    if (this.#closing) return;
    this.#host.onFrameError(this, error);
    this.close(`bad packet (${error.code})`, code);
  }
}
