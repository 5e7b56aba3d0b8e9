/**
 * Every open API connection, TCP and WebSocket alike, and the push fan-out
 * they share: one accept-order numbering, one connID sequence, one
 * simulator-wide push serialNo. Both ports register here, so every push,
 * drop and fault reaches the clients of both.
 * @module
 */
import { setImmediate } from "node:timers";
import { ProtoFmt, ProtoId } from "../codec/definitions.ts";
import { encodeNotification, type NotificationInput } from "../codec/notify.ts";
import type { _ApiConnection } from "./_api_connection.ts";
import type { _EventLog } from "./_event_log.ts";
import { _WsConnection } from "./_ws_connection.ts";
import { _notificationDetail, type SimEncryption } from "./events.ts";

/** What {@link OpenDSimulator.connections} tells about one API connection. */
export interface SimConnectionInfo {
  /** Accept-order number. */
  conn: number;
  /** connID, once InitConnect succeeded. */
  connId?: string;
  /** `address:port` of the client. */
  remote: string;
  /** Whether InitConnect completed. */
  initialized: boolean;
  /** Whether Notify pushes go to it. */
  recvNotify: boolean;
  /** Body protection. */
  encryption: SimEncryption;
  /** "tcp" for the API port, "ws" or "wss" for the WebSocket port. */
  transport: "tcp" | "ws" | "wss";
}

/** A client of either API port. */
export type _AnyConnection = _ApiConnection | _WsConnection;

/**
 * What a port does with a new client: "accept" it; "drop" it unseen (the
 * simulator is closed or restarting); "refuse" it, recorded (refusing in
 * mode "accept-and-close"; the ops port accepts then).
 */
export type _Admission = "accept" | "drop" | "refuse";

/**
 * How many sockets {@link _Connections.dropAll} ends per turn of the event
 * loop. Closing a socket costs Node tens of microseconds on each side (the
 * shutdown, the close, the streams around them), all run in the turn its
 * FIN arrives: a batch this size keeps a turn to a few milliseconds, even
 * with the clients in the same process.
 */
export const _DROP_BATCH = 64;
const CONN_ID_BASE = 7_000_000_000_000_000_000n;
/** What `sendGarbage` writes: plainly not an "FT" header. */
const GARBAGE = new TextEncoder().encode(
  "HTTP/1.1 400 Bad Request\r\nX-Not-OpenD: garbage\r\n\r\n",
);

/** The open API connections of both ports and the pushes to them. */
export class _Connections {
  readonly #events: _EventLog;
  readonly #open = new Map<number, _AnyConnection>();
  #nextConn = 1;
  #nextConnId = 1n;
  #pushSerial = 1;
  /** Sockets of dropped connections not yet ended (see {@link dropAll}). */
  readonly #ending: (() => void)[] = [];
  #endingScheduled = false;

  constructor(events: _EventLog) {
    this.#events = events;
  }

  /** How many are registered (closing ones included). */
  get size(): number {
    return this.#open.size;
  }

  /** The accept-order number for a new connection of either port. */
  nextNumber(): number {
    return this.#nextConn++;
  }

  /** A fresh connID, for InitConnect or InitWebSocket. */
  nextConnId(): string {
    return String(CONN_ID_BASE + this.#nextConnId++);
  }

  /** Registers an accepted connection. */
  add(conn: _AnyConnection): void {
    this.#open.set(conn.id, conn);
  }

  /** A connection's socket closed: forgets it and records why. */
  closed(conn: _AnyConnection, reason: string): void {
    this.#open.delete(conn.id);
    this.#events.record({
      type: "connectionClosed",
      conn: conn.id,
      ...(conn.connId === undefined ? {} : { connId: conn.connId }),
      reason,
    });
  }

  /** The open (not closing) ones, described. */
  info(): SimConnectionInfo[] {
    return [...this.#open.values()].filter((c) => !c.closing).map((c) => ({
      conn: c.id,
      ...(c.connId === undefined ? {} : { connId: c.connId }),
      remote: c.remote,
      initialized: c.initialized,
      recvNotify: c.recvNotify,
      encryption: c.encryption,
      transport: c instanceof _WsConnection ? c.transport : "tcp",
    }));
  }

  /** The open connection with this connID, if any. */
  byConnId(connId: string): _AnyConnection | undefined {
    return [...this.#open.values()].find((c) =>
      c.connId === connId && !c.closing
    );
  }

  /** The work of {@link OpenDSimulator.pushNotification}. */
  pushNotification(notification: NotificationInput): number {
    if (this.#events.closed) return 0;
    const bodies = new Map<number, Uint8Array>();
    // Encoded up front so a bad notification throws before anything is sent.
    bodies.set(ProtoFmt.Protobuf, encodeNotification(notification));
    let recipients = 0;
    for (const conn of this.#open.values()) {
      if (!conn.initialized || !conn.recvNotify || conn.closing) continue;
      const fmt = conn.pushProtoFmt;
      let body = bodies.get(fmt);
      if (body === undefined) {
        body = encodeNotification(notification, fmt);
        bodies.set(fmt, body);
      }
      if (conn.push(ProtoId.Notify, fmt, this.#pushSerial++, body)) {
        recipients++;
      }
    }
    this.#events.record({
      type: "notificationPushed",
      kind: notification.kind,
      detail: _notificationDetail(notification),
      recipients,
    });
    return recipients;
  }

  /** The work of {@link OpenDSimulator.pushPacket}. */
  pushPacket(protoId: number, body: Uint8Array, protoFmt: number): number {
    if (this.#events.closed) return 0;
    let recipients = 0;
    for (const conn of this.#open.values()) {
      if (!conn.initialized || conn.closing) continue;
      if (conn.push(protoId, protoFmt, this.#pushSerial++, body)) {
        recipients++;
      }
    }
    this.#events.record({ type: "packetPushed", protoId, recipients });
    return recipients;
  }

  /** Writes bytes that are not a packet to every connection. */
  sendGarbage(): number {
    let recipients = 0;
    for (const conn of this.#open.values()) {
      if (conn.sendRaw(GARBAGE)) recipients++;
    }
    this.#events.record({ type: "garbageSent", recipients });
    return recipients;
  }

  /**
   * Closes every connection after a flush; records the drop. Every one is
   * closing at once (no more input or pushes), but their sockets are ended
   * {@link _DROP_BATCH} per turn of the event loop: the simulator shares its
   * process with the clients it serves (tests, benchmarks), and a thousand
   * sockets closed in one go would block that loop for the clients too.
   */
  dropAll(reason: string): number {
    const ends: (() => void)[] = [];
    for (const conn of this.#open.values()) {
      const end = conn.beginClose(reason);
      if (end !== undefined) ends.push(end);
    }
    this.#events.record({
      type: "connectionsDropped",
      count: ends.length,
      reason,
    });
    this.#ending.push(...ends);
    if (!this.#endingScheduled) this.#endSome();
    return ends.length;
  }

  /** Ends up to {@link _DROP_BATCH} sockets now, the rest on later turns. */
  #endSome = (): void => {
    const batch = this.#ending.splice(0, _DROP_BATCH);
    this.#endingScheduled = this.#ending.length > 0;
    if (this.#endingScheduled) setImmediate(this.#endSome);
    for (const end of batch) end();
  };

  /** Closes every connection at once; resolves when all are closed. */
  destroyAll(reason: string): Promise<void>[] {
    // Destroyed below: what was left to end has nothing more to do.
    this.#ending.length = 0;
    const closed: Promise<void>[] = [];
    for (const conn of this.#open.values()) {
      conn.destroy(reason);
      closed.push(conn.closed);
    }
    return closed;
  }
}
