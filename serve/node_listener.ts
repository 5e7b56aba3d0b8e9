/**
 * Runs the Web-standard handler under `node:http`: each Node request becomes
 * a `Request`, the `Response` is streamed back chunk by chunk (so the event
 * stream flows live), and a client that goes away cancels the body.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";

/** Anything with the handler's `fetch`. */
export interface FetchHandler {
  /** Answers one request. */
  fetch(request: Request): Promise<Response>;
}

/**
 * A `node:http` request listener over `handler`.
 *
 * @example
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { createOpenDClient } from "opend-machine/client";
 * import { createServeHandler, toNodeListener } from "opend-machine/serve";
 * const client = createOpenDClient({ port: 11111, opsPort: 22222 });
 * const handler = createServeHandler(client);
 * createServer(toNodeListener(handler)).listen(8080, "127.0.0.1");
 * ```
 */
export function toNodeListener(
  handler: FetchHandler,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    serveOne(handler, request, response).catch(() => {
      if (!response.headersSent) {
        response.writeHead(500, { "content-type": "text/plain" });
        response.end("internal error");
      } else response.destroy();
    });
  };
}

async function serveOne(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(
    req.url ?? "/",
    `http://${req.headers.host ?? "localhost"}`,
  );
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) {
      for (const v of value) headers.append(name, v);
    } else if (value !== undefined) headers.set(name, value);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = {
    method,
    headers,
    ...(hasBody
      ? {
        body: Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>,
        duplex: "half",
      }
      : {}),
  };
  const response = await handler.fetch(new Request(url, init));
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => (out[name] = value));
  res.writeHead(response.status, out);
  if (response.body === null) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  res.on("close", () => void reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read();
    if (done || res.destroyed) break;
    if (!res.write(value)) {
      await new Promise<void>((resolve) => {
        res.once("drain", resolve);
        res.once("close", resolve);
      });
    }
  }
  res.end();
}
