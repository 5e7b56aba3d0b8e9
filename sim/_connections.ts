/**
 * Every open API connection, TCP and WebSocket alike, and the push fan-out
 * they share: one accept-order numbering, one connID sequence, one
 * simulator-wide push serialNo. Both ports register here, so every push,
 * drop and fault reaches the clients of both.
 * @module
 */
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

  /** Closes every connection after a flush; records the drop. */
  dropAll(reason: string): number {
    let count = 0;
    for (const conn of this.#open.values()) {
      if (conn.closing) continue;
      conn.close(reason);
      count++;
    }
    this.#events.record({ type: "connectionsDropped", count, reason });
    return count;
  }

  /** Closes every connection at once; resolves when all are closed. */
  destroyAll(reason: string): Promise<void>[] {
    const closed: Promise<void>[] = [];
    for (const conn of this.#open.values()) {
      conn.destroy(reason);
      closed.push(conn.closed);
    }
    return closed;
  }
}
