/**
 * One TCP connection to OpenD's API port: the socket, this connection's
 * crypto and frame decoder (fresh per connection, so a connection dropped in
 * the middle of a packet leaves nothing behind), the requests in flight on
 * it, and a read path that never throws.
 * @module
 */
import { connect, type Socket } from "node:net";
import {
  type CodecError,
  CodecErrorCode,
  type DecodedPacket,
  FrameDecoder,
  PacketCrypto,
  type RsaKey,
} from "../codec/mod.ts";
import { _socketErrorText } from "./_socket_error.ts";

/** A request waiting for its response on one connection. */
export interface _Pending {
  readonly protoId: number;
  readonly serialNo: number;
  /** The response arrived (read path, synchronous). */
  onResponse(packet: DecodedPacket): void;
  /** Its response arrived but could not be read (SHA-1, decryption). */
  onUnreadable(error: CodecError): void;
  /** The connection closed first (`permanent`: see `_ConnectionHooks.onDown`). */
  onDisconnect(reason: string, permanent?: string): void;
}

/** What a connection reports. Never called after {@link _Connection.detach}. */
export interface _ConnectionHooks {
  /** TCP is up. */
  onUp(): void;
  /**
   * A chunk completed `packets` whole packets (readable or not): a sign of
   * life. Bytes alone are none: a lying header swallows what follows.
   */
  onPackets(packets: number): void;
  /** A packet that answers no pending request: a push (or a late response). */
  onPacket(packet: DecodedPacket): void;
  /**
   * The connection closed; `reason` is for people; `permanent` says why no
   * retry can fix it (an unknown host, a peer that is not OpenD).
   */
  onDown(reason: string, permanent?: string): void;
}

/** How to reach OpenD. */
export interface _ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly rsa: RsaKey | undefined;
  readonly maxBodyBytes: number;
}

/** After InitConnect. */
export interface _InitInfo {
  readonly connId: string;
  readonly loginUserId: string;
  readonly serverVer: number;
  readonly keepAliveIntervalS: number;
  readonly encryption: "none" | "FTAES_ECB" | "AES_CBC";
}

const FRAMING_ERRORS: ReadonlySet<string> = new Set([
  CodecErrorCode.BadMagic,
  CodecErrorCode.UnsupportedVersion,
  CodecErrorCode.BodyTooLarge,
]);

function keyOf(protoId: number, serialNo: number): string {
  return `${protoId}:${serialNo}`;
}

/** One connection; see the module doc. */
export class _Connection {
  /** Numbers connections in the order they were opened (1, 2, ...). */
  readonly id: number;
  /** InitConnect (1001) uses RSA when set; AES is set by InitConnect's response. */
  readonly crypto: PacketCrypto;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  /** `open` once TCP is up; `initialized` once InitConnect succeeded. */
  state: "connecting" | "open" | "initialized" | "closed" = "connecting";
  /** What InitConnect granted. */
  info: _InitInfo | undefined;

  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #hooks: _ConnectionHooks;
  readonly #pending = new Map<string, _Pending>();
  #detached = false;
  #reason: string | undefined;
  #permanent: string | undefined;
  #remoteEnded = false;
  #packets = 0;

  constructor(
    id: number,
    options: _ConnectionOptions,
    hooks: _ConnectionHooks,
  ) {
    this.id = id;
    this.#hooks = hooks;
    this.crypto = new PacketCrypto({ rsa: options.rsa });
    this.#decoder = new FrameDecoder({
      crypto: this.crypto,
      maxBodyBytes: options.maxBodyBytes,
    });
    const socket = connect({ host: options.host, port: options.port });
    this.#socket = socket;
    this.closed = new Promise<void>((resolve) => {
      socket.once("close", () => {
        try {
          this.#onClose();
        } catch { /* a hook's failure must not become an uncaught error */ }
        resolve();
      });
    });
    socket.setNoDelay(true);
    socket.on("connect", () => {
      if (this.state !== "connecting") return;
      this.state = "open";
      try {
        if (!this.#detached) this.#hooks.onUp();
      } catch (error) {
        this.destroy(`internal error: ${(error as Error)?.message}`);
      }
    });
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("end", () => {
      this.#remoteEnded = true;
    });
    socket.on("error", (error: Error & { code?: string }) => {
      if (this.#reason === undefined && error.code === "ENOTFOUND") {
        this.#permanent = "unknown host";
      }
      this.#reason ??= _socketErrorText(error);
    });
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Whether bytes can be written. */
  get writable(): boolean {
    return this.state !== "closed" && this.state !== "connecting" &&
      !this.#socket.destroyed && this.#socket.writable;
  }

  /** Waits for the response to (protoId, serialNo). */
  register(pending: _Pending): void {
    this.#pending.set(keyOf(pending.protoId, pending.serialNo), pending);
  }

  /** Stops waiting (timeout, abort). */
  forget(protoId: number, serialNo: number): void {
    this.#pending.delete(keyOf(protoId, serialNo));
  }

  /** Writes bytes; false (never a throw) when the connection cannot take them. */
  write(bytes: Uint8Array): boolean {
    if (!this.writable) return false;
    try {
      this.#socket.write(bytes);
      return true;
    } catch {
      return false;
    }
  }

  /** No more hooks from now on (the supervisor let go of this link). */
  detach(): void {
    this.#detached = true;
  }

  /** Half-closes and resolves once the socket is closed. */
  end(reason = "closed by the client"): Promise<void> {
    this.#reason ??= reason;
    if (this.state === "closed") return this.closed;
    try {
      this.#socket.end();
    } catch {
      this.#socket.destroy();
    }
    return this.closed;
  }

  /** Closes at once. */
  destroy(reason: string): void {
    this.#reason ??= reason;
    if (this.#socket.destroyed) return;
    this.#socket.destroy();
  }

  #onData(chunk: Uint8Array): void {
    if (this.state === "closed" || this.#socket.destroyed) return;
    // A plain view: handlers get Uint8Array bodies in Deno and in Node alike.
    const bytes = new Uint8Array(
      chunk.buffer,
      chunk.byteOffset,
      chunk.byteLength,
    );
    let packets = 0;
    try {
      this.#decoder.pushEach(bytes, (result) => {
        if (this.#socket.destroyed) return;
        if (result.ok) {
          packets++;
          this.#onPacket(result.packet);
        } else {
          if (!FRAMING_ERRORS.has(result.error.code)) packets++;
          this.#onError(result.error);
        }
      });
      this.#packets += packets;
      if (packets > 0 && !this.#detached && !this.#socket.destroyed) {
        this.#hooks.onPackets(packets);
      }
    } catch (error) {
      this.destroy(
        `internal error while reading: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
      return;
    }
    const fatal = this.#decoder.fatalError;
    if (fatal === undefined) return;
    // Not one packet made sense from the start: whatever answers on this
    // port does not speak OpenD's protocol, and reconnecting will not change
    // that. Garbage later in a session is a fault on a good link.
    if (this.#packets === 0 && fatal.code === CodecErrorCode.BadMagic) {
      this.#permanent ??= "the port does not speak OpenD's protocol";
    }
    this.destroy(`${fatal.code}: ${fatal.message}`);
  }

  #onPacket(packet: DecodedPacket): void {
    const key = keyOf(packet.protoId, packet.serialNo);
    const pending = this.#pending.get(key);
    if (pending !== undefined) {
      this.#pending.delete(key);
      pending.onResponse(packet);
    } else if (!this.#detached) {
      this.#hooks.onPacket(packet);
    }
  }

  #onError(error: CodecError): void {
    if (FRAMING_ERRORS.has(error.code)) return; // handled after pushEach
    if (error.protoId === undefined || error.serialNo === undefined) return;
    const key = keyOf(error.protoId, error.serialNo);
    const pending = this.#pending.get(key);
    if (pending === undefined) return; // a spoilt push: dropped
    this.#pending.delete(key);
    pending.onUnreadable(error);
  }

  #onClose(): void {
    const wasOpen = this.state !== "connecting";
    this.state = "closed";
    const buffered = this.#decoder.fatalError === undefined
      ? this.#decoder.bufferedBytes
      : 0;
    let reason = this.#reason ??
      (this.#remoteEnded
        ? "closed by OpenD"
        : wasOpen
        ? "connection closed"
        : "could not connect");
    if (buffered > 0) {
      reason +=
        ` in the middle of a packet (TRUNCATED, ${buffered} bytes of it received)`;
    }
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) entry.onDisconnect(reason, this.#permanent);
    if (!this.#detached) {
      this.#detached = true;
      this.#hooks.onDown(reason, this.#permanent);
    }
  }
}
