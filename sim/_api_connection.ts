/**
 * One API connection of the simulator: framing, per-connection crypto,
 * writing packets, the idle timeout and closing. What the requests mean is
 * the simulator's business.
 * @module
 */
import type { Socket } from "node:net";
import type { CodecError } from "../codec/codec_error.ts";
import { FrameDecoder } from "../codec/frame_decoder.ts";
import { encodePacket, type PacketInit } from "../codec/packet.ts";
import type { DecodedPacket, Packet } from "../codec/packet.ts";
import { PacketCrypto } from "../codec/packet_crypto.ts";
import type { BodyCipher } from "../codec/body_cipher.ts";
import type { SimEncryption } from "./events.ts";

/** What a connection reports to the simulator. */
export interface _ConnectionHost {
  /** A whole, decrypted, SHA-1-checked packet arrived. */
  onPacket(conn: _ApiConnection, packet: DecodedPacket): void;
  /** A packet could not be framed, decrypted or checked. */
  onFrameError(conn: _ApiConnection, error: CodecError): void;
  /** The client sent nothing for `idleMs`. */
  onIdle(conn: _ApiConnection, idleMs: number): void;
  /** The socket closed; `reason` names who closed it and why. */
  onClosed(conn: _ApiConnection, reason: string): void;
}

// Bodies a real client sends are tiny; a huge bodyLen is an attack or noise.
const MAX_REQUEST_BODY = 1024 * 1024;

/** One accepted API socket. */
export class _ApiConnection {
  /** Accept-order number, used in events before a connID exists. */
  readonly id: number;
  /** `address:port` of the client. */
  readonly remote: string;
  /** The connID granted by InitConnect. */
  connId: string | undefined;
  /** Whether the InitConnect response was sent: pushes may follow. */
  initialized = false;
  /** Whether the client asked for Notify pushes. */
  recvNotify = false;
  /** Body format of pushes to this connection. */
  pushProtoFmt = 0;
  /** Body protection after InitConnect. */
  encryption: SimEncryption = "none";
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;

  readonly #socket: Socket;
  readonly #crypto: PacketCrypto;
  readonly #decoder: FrameDecoder;
  readonly #host: _ConnectionHost;
  readonly #idleMs: number | false;
  #lastReceived = Date.now();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #closing = false;
  #reason: string | undefined;

  constructor(
    socket: Socket,
    id: number,
    rsa: BodyCipher | undefined,
    idleMs: number | false,
    host: _ConnectionHost,
  ) {
    this.id = id;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#socket = socket;
    this.#host = host;
    this.#idleMs = idleMs;
    this.#crypto = new PacketCrypto({ rsa });
    this.#decoder = new FrameDecoder({
      crypto: this.#crypto,
      maxBodyBytes: MAX_REQUEST_BODY,
    });
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.#closing = true;
        this.#clearIdle();
        host.onClosed(this, this.#reason ?? "closed by the client");
        resolve();
      });
    });
    socket.on("error", (error: Error & { code?: string }) => {
      this.#reason ??= `socket error ${error.code ?? error.message}`;
    });
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("end", () => {
      // The client half-closed: OpenD has nothing more to say to it.
      this.#reason ??= "closed by the client";
      this.close(this.#reason);
    });
    this.#armIdle();
  }

  /** Whether the connection is closing or closed. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Writes one packet through the connection's crypto. Returns false (and
   * closes the connection) when it could not be encrypted; false when closing.
   */
  send(packet: PacketInit): boolean {
    if (this.#closing) return false;
    let bytes: Uint8Array;
    try {
      bytes = encodePacket(packet, this.#crypto);
    } catch {
      this.destroy("could not encrypt a packet");
      return false;
    }
    this.#socket.write(bytes);
    return true;
  }

  /** Answers `request` with `body` in `protoFmt`, echoing its protoID and serialNo. */
  reply(request: Packet, body: Uint8Array, protoFmt: number): boolean {
    return this.send({
      protoId: request.protoId,
      protoFmt,
      serialNo: request.serialNo,
      body,
    });
  }

  /** Pushes a packet with the simulator-wide push `serialNo`. */
  push(
    protoId: number,
    protoFmt: number,
    serialNo: number,
    body: Uint8Array,
  ): boolean {
    return this.send({ protoId, protoFmt, serialNo, body });
  }

  /** Writes a packet without any encryption (a failed InitConnect's answer). */
  sendPlain(packet: PacketInit): boolean {
    if (this.#closing) return false;
    this.#socket.write(encodePacket(packet));
    return true;
  }

  /** Writes bytes as they are (garbage on purpose). */
  sendRaw(bytes: Uint8Array): boolean {
    if (this.#closing) return false;
    this.#socket.write(bytes);
    return true;
  }

  /** Switches both directions to AES, after the InitConnect response was written. */
  setAes(cipher: BodyCipher | undefined): void {
    this.#crypto.setAes(cipher);
  }

  /**
   * Closes after what was written is flushed, so a push sent just before
   * (a GtwEvent before a drop) still arrives. Input is ignored from now on.
   */
  close(reason: string): void {
    this.beginClose(reason)?.();
  }

  /**
   * {@link close} in two steps: the connection is closing from now on (no
   * input, no pushes, no idle timeout); the function returned ends the
   * socket. Undefined when it was closing already.
   */
  beginClose(reason: string): (() => void) | undefined {
    if (this.#closing) return undefined;
    this.#closing = true;
    this.#reason ??= reason;
    this.#clearIdle();
    return () => {
      if (this.#socket.destroyed) return;
      this.#socket.end(() => this.#socket.destroy());
    };
  }

  /** Closes at once, dropping unsent data. */
  destroy(reason: string): void {
    this.#closing = true;
    this.#reason ??= reason;
    this.#clearIdle();
    this.#socket.destroy();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closing) return;
    this.#lastReceived = Date.now();
    try {
      this.#decoder.pushEach(chunk, (result) => {
        if (this.#closing) return;
        if (result.ok) this.#host.onPacket(this, result.packet);
        else this.#host.onFrameError(this, result.error);
      });
    } catch (error) {
      // A handler bug must cost one connection, never the simulator.
      this.destroy(
        `internal error: ${error instanceof Error ? error.message : error}`,
      );
    }
  }

  #armIdle(): void {
    const idleMs = this.#idleMs;
    if (idleMs === false || this.#closing) return;
    const due = this.#lastReceived + idleMs - Date.now();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#closing) return;
      if (Date.now() - this.#lastReceived >= idleMs) {
        this.#host.onIdle(this, idleMs);
      } else {
        this.#armIdle();
      }
    }, Math.max(0, due));
  }

  #clearIdle(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
