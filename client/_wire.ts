/**
 * The wire side of a client: the current connection, serial numbers,
 * requests matched by (protoID, serialNo), pushes to subscribers (kept by
 * `_push_fanout.ts`), and the order in which all of it reaches the
 * supervisor and user code.
 *
 * Two orders are kept:
 * - **Supervisor order.** A response to one of the supervisor's requests
 *   settles its actor's promise on the read path; XState turns that into a
 *   done event a microtask later. A Notify that arrived after that response
 *   (even in the same chunk) is held until the done event was processed, so
 *   the supervisor sees them in wire order (a GetGlobalState answer never
 *   overrides a newer status push).
 * - **User order.** Responses to user requests and pushes for subscribers go
 *   through one {@link _DeliveryQueue}, in arrival order. A user request's
 *   timeout runs until its response is delivered from the queue, not just
 *   until it arrived.
 * @module
 */
import {
  type C2SOf,
  type CodecError,
  createAesCipher,
  type DecodedPacket,
  decodeNotification,
  encodePacket,
  encodeRequest,
  PacketEncAlgo,
  ProtoId,
  type RequestProtoId,
  type RsaKey,
  type S2COf,
} from "../codec/mod.ts";
import type { LinkEvent } from "../machines/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";
import { _Connection, type _InitInfo, type _Pending } from "./_connection.ts";
import { _DeliveryQueue } from "./_delivery_queue.ts";
import { _later } from "./_later.ts";
import { _messageOf } from "./_message_of.ts";
import {
  _PushFanout,
  type PushHandler,
  type PushPacket,
} from "./_push_fanout.ts";
import { _SerialCounter } from "./_serial.ts";
import { _typedResponse } from "./_typed_response.ts";
import type { HandlerErrorContext } from "./options.ts";

/** What the wire needs from the client's options. */
export interface _WireOptions {
  readonly host: string;
  readonly port: number;
  readonly rsa: RsaKey | undefined;
  /** -1 none, 0 FTAES_ECB, 2 AES_CBC. */
  readonly packetEncAlgo: number;
  readonly maxBodyBytes: number;
  /**
   * At most one PACKET_RECEIVED per this long: a small fraction of the
   * silence limit, so a link is never declared dead early by more than it.
   */
  readonly signOfLifeEveryMs: number;
  readonly report: (error: unknown, context: HandlerErrorContext) => void;
  /** Whether the client is closing (in-flight requests then reject CLOSED). */
  readonly closing: () => boolean;
}

/** How a request settles. */
export interface _SendOptions {
  readonly timeoutMs: number;
  /**
   * `user`: an arrived response settles through the delivery queue.
   * `supervisor`: it settles on the read path, and Notify events behind it
   * wait until the supervisor processed it.
   */
  readonly for: "user" | "supervisor";
  readonly signal?: AbortSignal;
}

type SendBack = (event: LinkEvent) => void;

/** See the module doc. */
export class _Wire {
  readonly #o: _WireOptions;
  readonly #serial = new _SerialCounter();
  readonly #queue: _DeliveryQueue;
  readonly #pushes: _PushFanout;
  readonly #sockets = new Set<Promise<void>>();
  #conn: _Connection | undefined;
  #connSeq = 0;
  // Supervisor responses settled but maybe not yet processed, and the Notify
  // events waiting behind them.
  #holds = 0;
  #held: { sendBack: SendBack; event: LinkEvent }[] = [];

  constructor(options: _WireOptions) {
    this.#o = options;
    this.#pushes = new _PushFanout(options.report, options.closing);
    this.#queue = new _DeliveryQueue((error) =>
      options.report(error, { source: "push" })
    );
  }

  /** The current connection, whatever its state. */
  get connection(): _Connection | undefined {
    return this.#conn;
  }

  /** Deliveries waiting on the queue. */
  get queued(): number {
    return this.#queue.pending;
  }

  /** Registers a socket's close, for {@link closeAll}. */
  track(closed: Promise<void>): void {
    this.#sockets.add(closed);
    void closed.then(() => this.#sockets.delete(closed));
  }

  // ------------------------------------------------------------ links

  /** Opens a connection reporting to `sendBack` (the `link` actor's). */
  openLink(sendBack: SendBack): _Connection | undefined {
    const id = ++this.#connSeq;
    let conn: _Connection;
    let lastSignOfLife = -Infinity;
    try {
      conn = new _Connection(id, {
        host: this.#o.host,
        port: this.#o.port,
        rsa: this.#o.rsa,
        maxBodyBytes: this.#o.maxBodyBytes,
      }, {
        onUp: () => sendBack({ type: "LINK_UP" }),
        onPackets: (packets) => {
          // A sign of life now and then is all the supervisor needs: a busy
          // stream must not cost a transition per chunk.
          const now = performance.now();
          if (now - lastSignOfLife < this.#o.signOfLifeEveryMs) return;
          lastSignOfLife = now;
          sendBack({ type: "PACKET_RECEIVED", packets });
        },
        onPacket: (packet) => this.#onPacket(conn, packet, sendBack),
        onDown: (reason, permanent) => {
          if (this.#conn === conn) this.#conn = undefined;
          // In a later macrotask, a few per turn of the loop: see _later.ts.
          _later(() =>
            sendBack(
              permanent === undefined
                ? { type: "LINK_DOWN", reason }
                : { type: "LINK_DOWN", reason, permanent },
            )
          );
        },
      });
    } catch (error) {
      const reason = `could not connect: ${_messageOf(error)}`;
      queueMicrotask(() => sendBack({ type: "LINK_DOWN", reason }));
      return undefined;
    }
    this.track(conn.closed);
    this.#conn = conn;
    return conn;
  }

  /** Lets go of `conn` (the `link` actor stopped). */
  releaseLink(conn: _Connection, reason: string): void {
    conn.detach();
    conn.destroy(reason);
    if (this.#conn === conn) this.#conn = undefined;
  }

  /**
   * Closes the current connection, stops deliveries (responses that arrived
   * still settle), and resolves once every tracked socket is closed.
   */
  async closeAll(reason: string): Promise<void> {
    this.#conn?.destroy(reason);
    this.#conn = undefined;
    this.#queue.close();
    this.#held = [];
    while (this.#sockets.size > 0) await Promise.all([...this.#sockets]);
  }

  /** Applies InitConnect's response on the read path: AES from the next packet on. */
  applyInit(
    conn: _Connection,
    s2c: S2COf<typeof ProtoId.InitConnect>,
  ): _InitInfo {
    let encryption: _InitInfo["encryption"] = "none";
    if (this.#o.rsa !== undefined && this.#o.packetEncAlgo !== -1) {
      // As the official SDK: an IV means AES-CBC, none means FTAES_ECB.
      const cbc = typeof s2c.aesCBCiv === "string" && s2c.aesCBCiv !== "";
      try {
        conn.crypto.setAes(createAesCipher({
          algo: cbc ? PacketEncAlgo.AES_CBC : PacketEncAlgo.FTAES_ECB,
          key: s2c.connAESKey,
          ...(cbc ? { iv: s2c.aesCBCiv } : {}),
        }));
      } catch (error) {
        throw new ClientError(
          ClientErrorCode.Protocol,
          `InitConnect: unusable AES key or IV: ${_messageOf(error)}`,
          { protoId: ProtoId.InitConnect, cause: error },
        );
      }
      encryption = cbc ? "AES_CBC" : "FTAES_ECB";
    }
    const info: _InitInfo = {
      connId: String(s2c.connID),
      loginUserId: String(s2c.loginUserID),
      serverVer: s2c.serverVer,
      keepAliveIntervalS: s2c.keepAliveInterval,
      encryption,
    };
    conn.info = info;
    conn.state = "initialized";
    return info;
  }

  // ------------------------------------------------------------ pushes

  /** Subscribes `handler` to pushes of `protoId` (or every one with "*"). */
  onPush(protoId: number | "*", handler: PushHandler): () => void {
    return this.#pushes.subscribe(protoId, handler);
  }

  #onPacket(conn: _Connection, packet: DecodedPacket, sendBack: SendBack) {
    // As the official SDK: nothing is delivered before InitConnect completed,
    // not even Notify to the supervisor (a peer that has not answered
    // InitConnect must not be able to ask for a code). Dropped unread.
    if (conn.state !== "initialized") return;
    if (packet.protoId === ProtoId.Notify) {
      try {
        this.#toSupervisor(sendBack, {
          type: "NOTIFICATION",
          notification: decodeNotification(packet.body, packet.protoFmt),
        });
      } catch { /* an unreadable Notify: subscribers still get the bytes */ }
    }
    if (this.#pushes.handlersFor(packet.protoId).length === 0) return;
    const push: PushPacket = {
      protoId: packet.protoId,
      protoFmt: packet.protoFmt,
      serialNo: packet.serialNo,
      body: packet.body,
    };
    this.#queue.push({ run: () => this.#pushes.deliver(push) });
  }

  #toSupervisor(sendBack: SendBack, event: LinkEvent): void {
    if (this.#holds > 0) this.#held.push({ sendBack, event });
    else sendBack(event);
  }

  /**
   * Holds Notify events until `settled`'s callbacks registered before this
   * call (XState's, which turn it into a done event) have run.
   */
  #holdBehind(settled: Promise<unknown>): void {
    this.#holds++;
    const release = () => {
      this.#holds--;
      if (this.#holds > 0) return;
      const held = this.#held;
      this.#held = [];
      for (const { sendBack, event } of held) sendBack(event);
    };
    settled.then(release, release);
  }

  // ------------------------------------------------------------ requests

  /**
   * A supervisor request on `conn`, settling with `output(s2c)` computed on
   * the read path. Returns the very promise the caller must hand to XState
   * (no `async` wrapper: see {@link _Wire} on supervisor order).
   */
  supervisorRequest<P extends RequestProtoId, T>(
    conn: _Connection | undefined,
    protoId: P,
    c2s: C2SOf<P>,
    protoFmt: number,
    timeoutMs: number,
    signal: AbortSignal,
    output: (s2c: S2COf<P>, packet: DecodedPacket) => T,
    anyAnswer?: (packet: DecodedPacket) => T,
  ): Promise<T> {
    if (conn === undefined || conn.state === "closed") {
      return Promise.reject(
        new ClientError(
          ClientErrorCode.NotConnected,
          `not connected to OpenD for protoID ${protoId}`,
          { protoId },
        ),
      );
    }
    let body: Uint8Array;
    try {
      body = encodeRequest(protoId, c2s, protoFmt);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(
      conn,
      protoId,
      protoFmt,
      body,
      anyAnswer ??
        ((packet) => output(_typedResponse(protoId, packet), packet)),
      { timeoutMs, for: "supervisor", signal },
    );
  }

  /** Sends one request on `conn`; see {@link _SendOptions}. */
  send<T>(
    conn: _Connection,
    protoId: number,
    protoFmt: number,
    body: Uint8Array,
    decode: (packet: DecodedPacket) => T,
    how: _SendOptions,
  ): Promise<T> {
    const serialNo = this.#serial.next();
    let bytes: Uint8Array;
    try {
      bytes = encodePacket({ protoId, protoFmt, serialNo, body }, conn.crypto);
    } catch (error) {
      return Promise.reject(
        new ClientError(
          ClientErrorCode.InvalidArgument,
          `protoID ${protoId}: the packet cannot be encoded: ${
            _messageOf(error)
          }`,
          { protoId, serialNo, cause: error },
        ),
      );
    }
    // `promise` is read only later, on the read path (see #holdBehind).
    const promise: Promise<T> = new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Set once the promise is settled (or about to be): later settles are
      // no-ops.
      let finished = false;
      // The response arrived and waits on the delivery queue.
      let queued = false;
      const { signal } = how;
      const done = () => {
        finished = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (error: ClientError) => {
        if (finished) return;
        done();
        reject(error);
      };
      const arrived = (settle: () => void) => {
        if (finished) return;
        if (how.for === "user") {
          // The timer (and the abort signal) keep running until the queue
          // gets to this response: a push handler ahead of it that never
          // settles must not leave the request hanging.
          queued = true;
          const deliver = () => {
            if (finished) return;
            done();
            settle();
          };
          this.#queue.push({ run: deliver, settle: deliver });
        } else {
          done();
          settle();
          this.#holdBehind(promise);
        }
      };
      const onAbort = () => {
        conn.forget(protoId, serialNo);
        fail(
          new ClientError(
            ClientErrorCode.Closed,
            `protoID ${protoId} #${serialNo}: abandoned`,
            { protoId, serialNo },
          ),
        );
      };
      const pending: _Pending = {
        protoId,
        serialNo,
        onResponse: (packet) => {
          let value: T;
          try {
            value = decode(packet);
          } catch (error) {
            const failure = error instanceof ClientError
              ? error
              : new ClientError(
                ClientErrorCode.Protocol,
                `protoID ${protoId} #${serialNo}: ${_messageOf(error)}`,
                { protoId, serialNo, cause: error },
              );
            arrived(() => reject(failure));
            return;
          }
          arrived(() => resolve(value));
        },
        onUnreadable: (error: CodecError) => {
          const wrongKey = protoId === ProtoId.InitConnect &&
            conn.crypto.hasRsa;
          const hint = wrongKey ? " (is the RSA key the one OpenD has?)" : "";
          const failure = new ClientError(
            ClientErrorCode.Protocol,
            `protoID ${protoId} #${serialNo}: the response could not be read (${error.code}): ${error.message}${hint}`,
            {
              protoId,
              serialNo,
              cause: error,
              // Every InitConnect would fail alike: no retry fixes a key.
              ...(wrongKey
                ? { permanent: "InitConnect cannot be read with this RSA key" }
                : {}),
            },
          );
          arrived(() => reject(failure));
        },
        onDisconnect: (reason, permanent) => {
          fail(
            this.#o.closing()
              ? new ClientError(
                ClientErrorCode.Closed,
                `protoID ${protoId} #${serialNo}: the client closed`,
                { protoId, serialNo },
              )
              : new ClientError(
                ClientErrorCode.Disconnected,
                `protoID ${protoId} #${serialNo}: the link to OpenD dropped while it was in flight: ${reason}`,
                permanent === undefined
                  ? { protoId, serialNo }
                  : { protoId, serialNo, permanent },
              ),
          );
        },
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      conn.register(pending);
      if (!conn.write(bytes)) {
        conn.forget(protoId, serialNo);
        return fail(
          new ClientError(
            ClientErrorCode.Disconnected,
            `protoID ${protoId} #${serialNo}: the link to OpenD is closed`,
            { protoId, serialNo },
          ),
        );
      }
      timer = setTimeout(() => {
        timer = undefined;
        conn.forget(protoId, serialNo);
        fail(
          new ClientError(
            ClientErrorCode.Timeout,
            queued
              ? `protoID ${protoId} #${serialNo}: the response arrived but was not delivered within ${how.timeoutMs} ms (a push handler ahead of it has not settled)`
              : `protoID ${protoId} #${serialNo}: no response within ${how.timeoutMs} ms`,
            { protoId, serialNo },
          ),
        );
      }, how.timeoutMs);
    });
    return promise;
  }
}
