/**
 * Test helpers for the simulator tests: a raw OpenD API client and an
 * operations-port client over `node:net`, built on the codec only, so the
 * simulator is checked against the wire protocol and not against itself.
 * @module
 */
import { connect, type Socket } from "node:net";
import {
  type C2SOf,
  type CodecError,
  createAesCipher,
  type DecodedPacket,
  decodeResponse,
  encodePacket,
  encodeRequest,
  FrameDecoder,
  type InitConnectS2C,
  PacketCrypto,
  PacketEncAlgo,
  ProtoFmt,
  ProtoId,
  type RequestProtoId,
  type Response,
  RsaKey,
  type S2COf,
} from "../codec/mod.ts";

type Waiter<T> = {
  match: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

/** A queue that hands items to the first waiter that wants them. */
class Inbox<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<Waiter<T>>();
  #ended: string | undefined;

  put(item: T): void {
    for (const w of this.#waiters) {
      if (w.match(item)) {
        this.#waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(item);
        return;
      }
    }
    this.items.push(item);
  }

  take(
    match: (item: T) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T> {
    const i = this.items.findIndex(match);
    if (i >= 0) return Promise.resolve(this.items.splice(i, 1)[0]);
    if (this.#ended !== undefined) {
      return Promise.reject(new Error(`${this.#ended} before ${what}`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        match,
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

  end(reason: string): void {
    this.#ended = reason;
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`${reason} while waiting`));
    }
    this.#waiters.clear();
  }
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Options of {@link RawClient.connect}. */
export interface RawClientOptions {
  /** Shared RSA key PEM: InitConnect bodies are RSA-encrypted. */
  rsaPem?: string;
}

/** Options of {@link RawClient.initConnect}. */
export interface InitOptions {
  packetEncAlgo?: number;
  fmt?: number;
  recvNotify?: boolean;
  pushProtoFmt?: number;
  clientID?: string;
  clientVer?: number;
  programmingLanguage?: string;
}

/** A bare OpenD API client: frames, crypto, request/response by serialNo. */
export class RawClient {
  readonly socket: Socket;
  readonly crypto: PacketCrypto;
  readonly decoder: FrameDecoder;
  readonly packets = new Inbox<DecodedPacket>();
  readonly errors = new Inbox<CodecError>();
  /** Every packet received, in order (kept after being taken). */
  readonly received: DecodedPacket[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  serialNo = 1000;
  #pendingInit: { serialNo: number; fmt: number; encrypt: boolean } | undefined;

  private constructor(socket: Socket, rsaPem?: string) {
    this.socket = socket;
    this.crypto = new PacketCrypto({
      rsa: rsaPem === undefined ? undefined : RsaKey.fromPem(rsaPem),
    });
    this.decoder = new FrameDecoder({ crypto: this.crypto });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.isClosed = true;
        this.packets.end("socket closed");
        this.errors.end("socket closed");
        resolve();
      })
    );
    socket.on("data", (chunk: Uint8Array) => {
      this.decoder.pushEach(chunk, (result) => {
        if (!result.ok) return this.errors.put(result.error);
        const p = result.packet;
        this.received.push(p);
        const init = this.#pendingInit;
        // Like a real client: switch keys before the next packet is decrypted.
        if (
          init && p.protoId === ProtoId.InitConnect &&
          p.serialNo === init.serialNo
        ) {
          this.#pendingInit = undefined;
          const r = decodeResponse(ProtoId.InitConnect, p.body, p.protoFmt);
          if (init.encrypt && r.retType === 0 && r.s2c) {
            this.crypto.setAes(createAesCipher({
              algo: r.s2c.aesCBCiv
                ? PacketEncAlgo.AES_CBC
                : PacketEncAlgo.FTAES_ECB,
              key: r.s2c.connAESKey,
              iv: r.s2c.aesCBCiv,
            }));
          }
        }
        this.packets.put(p);
      });
    });
  }

  /** Connects; rejects (e.g. ECONNREFUSED) when it cannot. */
  static async connect(
    port: number,
    options: RawClientOptions = {},
  ): Promise<RawClient> {
    return new RawClient(await openSocket(port), options.rsaPem);
  }

  /** Sends one packet through the crypto; returns its serialNo. */
  send(
    protoId: number,
    body: Uint8Array,
    fmt = 0,
    serialNo = ++this.serialNo,
  ): number {
    this.socket.write(
      encodePacket({ protoId, protoFmt: fmt, serialNo, body }, this.crypto),
    );
    return serialNo;
  }

  /** The next packet matching, in arrival order. */
  next(
    match: (p: DecodedPacket) => boolean = () => true,
    timeoutMs = 2000,
    what = "a packet",
  ): Promise<DecodedPacket> {
    return this.packets.take(match, timeoutMs, what);
  }

  /** The response to (protoId, serialNo). */
  response(
    protoId: number,
    serialNo: number,
    timeoutMs = 2000,
  ): Promise<DecodedPacket> {
    return this.next(
      (p) => p.protoId === protoId && p.serialNo === serialNo,
      timeoutMs,
      `response ${protoId}#${serialNo}`,
    );
  }

  /** Sends InitConnect as the official Python SDK does (by default) and returns the response. */
  async initConnect(
    options: InitOptions = {},
  ): Promise<Response<InitConnectS2C>> {
    const fmt = options.fmt ?? ProtoFmt.Protobuf;
    const packetEncAlgo = options.packetEncAlgo ?? PacketEncAlgo.None;
    const body = encodeRequest(ProtoId.InitConnect, {
      clientVer: options.clientVer ?? 300,
      clientID: options.clientID ?? "PyNormal",
      recvNotify: options.recvNotify ?? true,
      packetEncAlgo,
      ...(options.pushProtoFmt === undefined
        ? {}
        : { pushProtoFmt: options.pushProtoFmt }),
      programmingLanguage: options.programmingLanguage ?? "Python",
    }, fmt);
    const serialNo = ++this.serialNo;
    this.#pendingInit = {
      serialNo,
      fmt,
      encrypt: this.crypto.hasRsa && packetEncAlgo !== PacketEncAlgo.None,
    };
    this.send(ProtoId.InitConnect, body, fmt, serialNo);
    const p = await this.response(ProtoId.InitConnect, serialNo);
    return decodeResponse(ProtoId.InitConnect, p.body, p.protoFmt);
  }

  /** Sends a typed request and decodes its response. */
  async request<P extends RequestProtoId>(
    protoId: P,
    c2s: C2SOf<P>,
    fmt = 0,
    timeoutMs = 2000,
  ): Promise<Response<S2COf<P>> & { packet: DecodedPacket }> {
    const serialNo = this.send(protoId, encodeRequest(protoId, c2s, fmt), fmt);
    const packet = await this.response(protoId, serialNo, timeoutMs);
    return { ...decodeResponse(protoId, packet.body, packet.protoFmt), packet };
  }

  /** Resolves when the server closes the socket; rejects after `timeoutMs`. */
  waitClosed(timeoutMs = 2000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      this.closed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`socket still open after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Closes the socket and waits for it. */
  async close(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }
}

/** An operations-port client: one command, one reply line. */
export class OpsClient {
  readonly socket: Socket;
  readonly lines = new Inbox<string>();
  readonly closed: Promise<void>;
  #buffer = "";

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.lines.end("ops socket closed");
        resolve();
      })
    );
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      this.#buffer += text;
      let i: number;
      while ((i = this.#buffer.indexOf("\r\n")) >= 0) {
        this.lines.put(this.#buffer.slice(0, i));
        this.#buffer = this.#buffer.slice(i + 2);
      }
    });
  }

  static async connect(port: number): Promise<OpsClient> {
    return new OpsClient(await openSocket(port));
  }

  /** Sends a line (CRLF unless `eol` says otherwise) and returns the reply line. */
  command(line: string, eol = "\r\n", timeoutMs = 2000): Promise<string> {
    this.socket.write(line + eol);
    return this.lines.take(
      () => true,
      timeoutMs,
      `the reply to ${line.split(" ")[0]}`,
    );
  }

  async close(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Tries to connect; resolves "refused" on ECONNREFUSED, "closed" if accepted then closed. */
export async function probeConnect(
  port: number,
  timeoutMs = 1000,
): Promise<"refused" | "closed" | "open"> {
  let socket: Socket;
  try {
    socket = await openSocket(port);
  } catch (error) {
    if ((error as { code?: string }).code === "ECONNREFUSED") return "refused";
    throw error;
  }
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => resolve())
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    closed.then(() => "closed" as const),
    new Promise<"open">((resolve) =>
      timer = setTimeout(() => resolve("open"), timeoutMs)
    ),
  ]);
  clearTimeout(timer);
  socket.destroy();
  await closed;
  return outcome;
}
