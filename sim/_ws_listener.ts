/**
 * The WebSocket port's listener: an HTTP (or, with a certificate, HTTPS)
 * server whose upgrades `ws` turns into WebSockets. A peer of the TCP
 * listener; the simulator opens, closes and reopens it the same way.
 * @module
 */
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Server } from "node:net";
import { loadWs } from "../deps.ts";
import { _WS_MAX_PAYLOAD, type _WsSocket } from "./_ws_connection.ts";

/** A certificate and its private key (PEM) for `wss://`. */
export interface WsTlsOptions {
  /** The server certificate chain, PEM. */
  cert: string | Uint8Array;
  /** Its private key, PEM: a secret, never logged. */
  key: string | Uint8Array;
}

function pemText(pem: string | Uint8Array): string {
  return typeof pem === "string" ? pem : new TextDecoder().decode(pem);
}

interface _UpgradeServer {
  handleUpgrade(
    request: unknown,
    socket: unknown,
    head: unknown,
    done: (ws: _WsSocket) => void,
  ): void;
}

/** `ws`'s WebSocketServer, as far as the listener uses it. */
export type _WsServerClass = new (options: Record<string, unknown>) => unknown;

/**
 * Loads `ws` (on first use: Deno then needs `--allow-env`, for the
 * variables `ws` reads when loaded).
 */
export async function _loadWsServerClass(): Promise<_WsServerClass> {
  const module = await loadWs() as {
    WebSocketServer?: _WsServerClass;
    default?: { WebSocketServer?: _WsServerClass };
  };
  const found = module.WebSocketServer ?? module.default?.WebSocketServer;
  if (found === undefined) throw new Error("ws has no WebSocketServer");
  return found;
}

/**
 * Creates (does not listen) a server that hands every WebSocket to `accept`
 * with the client's `address:port`. Plain HTTP requests get 426.
 */
export function _createWsServer(
  WebSocketServer: _WsServerClass,
  tls: WsTlsOptions | undefined,
  accept: (ws: _WsSocket, remote: string) => void,
): Server {
  const upgrader = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: _WS_MAX_PAYLOAD,
    perMessageDeflate: false,
  }) as unknown as _UpgradeServer;
  const refuse = (
    _request: unknown,
    response: {
      writeHead(code: number, headers: Record<string, string>): void;
      end(text: string): void;
    },
  ) => {
    response.writeHead(426, { "content-type": "text/plain" });
    response.end("OpenD simulator: WebSocket only\n");
  };
  const server = tls === undefined
    ? createHttpServer(refuse)
    : createHttpsServer(
      { cert: pemText(tls.cert), key: pemText(tls.key) },
      refuse,
    );
  server.on(
    "upgrade",
    (
      request: unknown,
      socket: {
        remoteAddress?: string;
        remotePort?: number;
        on(e: "error", l: () => void): void;
      },
      head: unknown,
    ) => {
      socket.on("error", () => {});
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      upgrader.handleUpgrade(request, socket, head, (ws) => accept(ws, remote));
    },
  );
  server.on("tlsClientError", () => {});
  server.on("clientError", (_error: Error, socket: { destroy(): void }) => {
    socket.destroy();
  });
  return server;
}
