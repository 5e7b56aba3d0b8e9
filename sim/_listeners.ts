/**
 * The simulator's three listening sockets (API, operations, WebSocket):
 * opening them at start, closing them (for a refusal, a restart or the
 * end) and opening them again on the same ports, retrying while a port is
 * taken. What happens to an accepted client is the ports' business.
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import type { _EventLog } from "./_event_log.ts";
import {
  _createWsServer,
  _loadWsServerClass,
  type _WsServerClass,
  type WsTlsOptions,
} from "./_ws_listener.ts";
import type { _WsSocket } from "./_ws_connection.ts";
import { _errorText } from "./events.ts";

/** Where the simulator listens. */
export interface SimAddress {
  /** The interface. */
  host: string;
  /** The API port. */
  port: number;
  /** The operations port, unless disabled. */
  opsPort?: number;
  /** The WebSocket port, when open. */
  wsPort?: number;
  /** Whether the WebSocket port speaks TLS (`wss://`). */
  wsTls?: boolean;
}

/** One of the listeners. */
export type _Listener = "api" | "ops" | "ws";

/** What the listeners open (resolved options); 0 picks a free port. */
export interface _ListenerSettings {
  /** The interface. */
  host: string;
  /** The API port. */
  port: number;
  /** The ops port, or false for none. */
  opsPort: number | false;
  /** The WebSocket port, or false for none. */
  wsPort: number | false;
  /** The WebSocket port's certificate, for `wss://`. */
  wsTls: WsTlsOptions | undefined;
}

/** Who takes the clients each listener accepts. */
export interface _Acceptors {
  /** A TCP client of the API port. */
  api(socket: Socket): void;
  /** A client of the ops port. */
  ops(socket: Socket): void;
  /** A WebSocket client, after its upgrade. */
  ws(ws: _WsSocket, remote: string): void;
}

const LISTEN_RETRY_MS = 250;
/** Connections the kernel queues before they are accepted (capped by somaxconn). */
const LISTEN_BACKLOG = 4096;

/** The listening sockets and their ports. */
export class _Listeners {
  readonly host: string;
  readonly #wsTls: WsTlsOptions | undefined;
  readonly #events: _EventLog;
  readonly #accept: _Acceptors;
  readonly #ports: Record<_Listener, number | false>;
  readonly #servers: { api?: Server; ops?: Server; ws?: Server } = {};
  readonly #serverClosed = new Set<Promise<void>>();
  readonly #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  #wsServerClass: _WsServerClass | undefined;

  constructor(
    settings: _ListenerSettings,
    events: _EventLog,
    accept: _Acceptors,
  ) {
    this.host = settings.host;
    this.#wsTls = settings.wsTls;
    this.#events = events;
    this.#accept = accept;
    this.#ports = {
      api: settings.port,
      ops: settings.opsPort,
      ws: settings.wsPort,
    };
  }

  /** Where it listens; ports are the real ones once open. */
  get address(): SimAddress {
    const { api, ops, ws } = this.#ports;
    return {
      host: this.host,
      port: api as number,
      ...(ops === false ? {} : { opsPort: ops }),
      ...(ws === false ? {} : { wsPort: ws, wsTls: this.#wsTls !== undefined }),
    };
  }

  /** Opens every configured listener; rejects (port in use...) on the first failure. */
  async open(): Promise<void> {
    await this.#listenOnce("api");
    if (this.#ports.ops !== false) await this.#listenOnce("ops");
    if (this.#ports.ws !== false) {
      this.#wsServerClass = await _loadWsServerClass();
      await this.#listenOnce("ws");
    }
  }

  /**
   * Listens again on the port chosen at start; on failure records it and
   * retries. Resolves false if the simulator closed meanwhile; true at once
   * for a listener that is off.
   */
  reopen(which: _Listener): Promise<boolean> {
    if (this.#ports[which] === false) return Promise.resolve(true);
    return new Promise((resolve) => {
      const attempt = () => {
        if (this.#events.closed) return resolve(false);
        if (this.#servers[which] !== undefined) return resolve(true);
        this.#listenOnce(which).then(() => resolve(true), (error) => {
          if (this.#events.closed) return resolve(false);
          this.#events.record({
            type: "listenFailed",
            port: this.#portOf(which),
            message: _errorText(error),
          });
          const timer = setTimeout(() => {
            this.#retryTimers.delete(timer);
            attempt();
          }, LISTEN_RETRY_MS);
          this.#retryTimers.add(timer);
        });
      };
      attempt();
    });
  }

  /** Stops accepting; open connections are left alone. */
  close(which: _Listener): void {
    const server = this.#servers[which];
    if (server === undefined) return;
    this.#servers[which] = undefined;
    server.close();
    // An HTTP server would also wait for requests not yet upgraded (or half
    // sent): they are not clients yet, so they go now. Upgraded sockets are
    // no longer the server's: the simulator closes those itself.
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  }

  /** Closes every listener and stops retrying; resolves once all are closed. */
  closeAll(): Promise<void>[] {
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    this.close("api");
    this.close("ops");
    this.close("ws");
    return [...this.#serverClosed];
  }

  #portOf(which: _Listener): number {
    const port = this.#ports[which];
    return port === false ? 0 : port;
  }

  /** One listen: errors (port in use) are the caller's. */
  #listenOnce(which: _Listener): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = this.#createServer(which);
      const onError = (error: Error) => {
        server.close();
        reject(error);
      };
      server.once("error", onError);
      server.listen({
        host: this.host,
        port: this.#portOf(which),
        // A thousand clients started at once: with the default (511) half
        // their SYNs overflow it and are retried a second later.
        backlog: LISTEN_BACKLOG,
      }, () => {
        server.off("error", onError);
        server.on("error", () => {});
        const address = server.address();
        const port = typeof address === "object" && address ? address.port : 0;
        this.#servers[which] = server;
        this.#ports[which] = port;
        resolve();
      });
    });
  }

  #createServer(which: _Listener): Server {
    const accept = this.#accept;
    const server = which === "ws"
      ? _createWsServer(
        this.#wsServerClass!,
        this.#wsTls,
        (ws, remote) => accept.ws(ws, remote),
      )
      : createServer(
        { allowHalfOpen: false },
        (socket) => which === "api" ? accept.api(socket) : accept.ops(socket),
      );
    const closed = new Promise<void>((resolve) =>
      server.once("close", () => resolve())
    );
    this.#serverClosed.add(closed);
    void closed.then(() => this.#serverClosed.delete(closed));
    return server;
  }
}
