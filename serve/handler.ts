/**
 * The operations surface beside OpenD as one Web-standard handler
 * (`Request -> Promise<Response>`): health and readiness probes, Prometheus
 * metrics, the supervisor's status and live events, the web console, and
 * the two things a person may do (give a verification code, reset after a
 * fatal stop). It observes a client through its public API and never holds
 * a decision of its own.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import type { OpenDClient } from "../client/mod.ts";
import { Secret, type SessionEmitted } from "../machines/mod.ts";
import { SlidingWindowLimiter } from "../codec/ops_rate_limits.ts";
import { DIAGRAM_STATE_IDS } from "./_diagram.ts";
import { _Metrics } from "./_metrics.ts";
import { _Observer, type ConsoleState } from "./_observer.ts";
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from "./_page.ts";
import { _sseMessage, _SseStreams } from "./_sse.ts";
import { isIpLiteral, isLoopbackHost } from "./listen.ts";
import {
  type Alert,
  type AlertType,
  WebhookNotifier,
  type WebhookOptions,
} from "./webhooks.ts";

export type { ConsoleEvent, ConsoleState, PendingCode } from "./_observer.ts";

/** Options of {@link createServeHandler}. */
export interface ServeHandlerOptions {
  /**
   * When set, `POST /api/code` and `POST /api/reset` need
   * `Authorization: Bearer <token>` (compared in constant time).
   */
  readonly token?: string | Secret<string>;
  /**
   * Origins allowed to post besides the request's own (for a console behind
   * a proxy that rewrites Host), e.g. `https://opend.example.com`.
   */
  readonly allowedOrigins?: readonly string[];
  /** Largest request body accepted (default 4096 bytes). */
  readonly maxBodyBytes?: number;
  /** Code submissions allowed per window (default 5 per 60000 ms). */
  readonly codeRateLimit?: { readonly max: number; readonly windowMs: number };
  /** Alerts to post; see {@link WebhookOptions}. */
  readonly webhooks?: WebhookOptions;
  /** Where the handler's few log lines go (default `console.error`). */
  readonly log?: (line: string) => void;
}

/** The handler and what it holds; {@link close} it when done. */
export interface ServeHandler extends AsyncDisposable {
  /** Answers one request (for `Deno.serve`, Node adapters, any fetch-style server). */
  fetch(request: Request): Promise<Response>;
  /** What the console shows now. */
  readonly state: ConsoleState;
  /** Ends the event streams, stops the webhooks and lets go of the client (which stays open). */
  close(): Promise<void>;
}

const CODE_PATTERN = /^[A-Za-z0-9]{4,12}$/;
const MAX_PICTURE_BYTES = 2 * 1024 * 1024;

type Json = Record<string, unknown>;

function json(
  status: number,
  body: Json,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}

function refusal(
  status: number,
  message: string,
  headers?: Record<string, string>,
) {
  return json(status, { error: true, message }, headers);
}

const PAGE_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/** Reads at most `max` bytes of the body; `undefined` when it is longer. */
async function readCapped(
  request: Request,
  max: number,
): Promise<string | undefined> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > max) {
    await request.body?.cancel();
    return undefined;
  }
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}

const ALERT_TYPES: ReadonlySet<string> = new Set<AlertType>([
  "needsCode",
  "needsPerson",
  "fatal",
  "gaveUp",
]);

function alertText(event: SessionEmitted, opend: string): string | undefined {
  switch (event.type) {
    case "needsCode":
      return `OpenD ${opend} needs a ${event.kind} verification code (attempt ${event.attempt}): open the console to type it.`;
    case "needsPerson":
      return `OpenD ${opend} needs a person: ${event.reason}.`;
    case "fatal":
      return `OpenD ${opend} stopped (fatal): ${event.reason}. Fix the cause, then reset.`;
    case "gaveUp":
      return `OpenD ${opend}: recovery gave up: ${event.reason}.`;
    default:
      return undefined;
  }
}

/**
 * Creates the handler over a client. The client is observed, never closed:
 * close it yourself after {@link ServeHandler.close}. Throws `TypeError` for
 * an empty token or a webhook URL that is not http(s).
 *
 * @example
 * ```ts
 * import { createOpenDClient } from "../client/mod.ts";
 * import { startSimulator } from "../sim/mod.ts";
 * import { createServeHandler } from "./mod.ts";
 * await using sim = await startSimulator({ port: 0, opsPort: false });
 * await using client = createOpenDClient({ port: sim.address.port });
 * await using handler = createServeHandler(client);
 * await client.whenReady(30_000);
 * const ready = await handler.fetch(new Request("http://127.0.0.1/readyz"));
 * ready.status; // 200
 * await ready.body?.cancel();
 * ```
 */
export function createServeHandler(
  client: OpenDClient,
  options: ServeHandlerOptions = {},
): ServeHandler {
  const log = options.log ?? ((line: string) => console.error(line));
  const maxBody = options.maxBodyBytes ?? 4096;
  const token = options.token instanceof Secret
    ? options.token.reveal()
    : options.token;
  if (token !== undefined && (typeof token !== "string" || token === "")) {
    throw new TypeError("createServeHandler: token must be a non-empty string");
  }
  const tokenDigest = token === undefined ? undefined : digest(token);
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const codeLimiter = new SlidingWindowLimiter(
    options.codeRateLimit ?? { max: 5, windowMs: 60_000 },
  );
  // First what can throw (bad URLs), then the subscriptions to the client.
  const webhooks = options.webhooks && options.webhooks.urls.length > 0
    ? new WebhookNotifier(options.webhooks, {
      // Results arrive asynchronously, after `metrics` exists.
      onResult: (result) => metrics.webhooks.inc({ result }),
      log,
    })
    : undefined;
  const observer = new _Observer(client, DIAGRAM_STATE_IDS);
  const metrics = new _Metrics(observer);
  const streams = new _SseStreams();
  let closed = false;

  const alert = (
    type: AlertType,
    text: string,
    details: Record<string, unknown>,
  ) => {
    const { summary } = observer.state;
    const body: Alert = {
      id: crypto.randomUUID(),
      type,
      text,
      at: new Date().toISOString(),
      source: "opend-machine",
      opend: client.address,
      link: summary.link,
      gateway: summary.gateway,
      details,
    };
    webhooks?.send(body);
  };

  // `ready` is worth an alert after a loss, or after any alert: whoever was
  // told OpenD needs them is told when it no longer does.
  let outage: { downMs: number; lostReason: string } | undefined;
  let alertedSince: AlertType | undefined;
  observer.listen({
    recovered: (downMs, lostReason) => {
      outage = { downMs: Math.round(downMs), lostReason };
    },
    event: (entry, raw) => {
      streams.broadcast(_sseMessage("event", entry));
      if (raw?.type === "ready") {
        if (outage !== undefined) {
          alert(
            "ready",
            `OpenD ${client.address} is Ready again after ${
              (outage.downMs / 1000).toFixed(1)
            } s (${outage.lostReason}).`,
            { ...outage, ...(alertedSince ? { after: alertedSince } : {}) },
          );
        } else if (alertedSince !== undefined) {
          alert(
            "ready",
            `OpenD ${client.address} is Ready again (after ${alertedSince}).`,
            { after: alertedSince },
          );
        }
        outage = undefined;
        alertedSince = undefined;
        return;
      }
      if (raw === undefined || !ALERT_TYPES.has(raw.type)) return;
      const text = alertText(raw, client.address);
      if (text !== undefined) {
        const { type: _type, ...details } = entry.event;
        alertedSince = raw.type as AlertType;
        alert(alertedSince, text, details);
      }
    },
    state: (state) => streams.broadcast(_sseMessage("state", state)),
  });

  const allowedHosts = new Set(
    [...allowedOrigins].map((o) => {
      try {
        return new URL(o).hostname;
      } catch {
        return "";
      }
    }),
  );

  /** Same-origin JSON with the token, or why not. */
  const guard = (request: Request): Response | undefined => {
    const url = new URL(request.url);
    // Without a token, only a loopback or IP-literal Host: a page whose
    // domain was rebound to 127.0.0.1 is same-origin with itself, not with us.
    if (
      tokenDigest === undefined && !isLoopbackHost(url.hostname) &&
      !isIpLiteral(url.hostname) && !allowedHosts.has(url.hostname)
    ) {
      metrics.refused.inc({ reason: "host" });
      return refusal(403, `requests for host ${url.hostname} are refused`);
    }
    const origin = request.headers.get("origin");
    if (
      origin !== null && origin !== url.origin && !allowedOrigins.has(origin)
    ) {
      metrics.refused.inc({ reason: "origin" });
      return refusal(403, "cross-origin requests are refused");
    }
    const site = request.headers.get("sec-fetch-site");
    if (
      origin === null && site !== null && site !== "same-origin" &&
      site !== "none"
    ) {
      metrics.refused.inc({ reason: "origin" });
      return refusal(403, "cross-site requests are refused");
    }
    const type = (request.headers.get("content-type") ?? "").split(";")[0]
      .trim().toLowerCase();
    if (type !== "application/json") {
      metrics.refused.inc({ reason: "content-type" });
      return refusal(415, "send application/json");
    }
    if (tokenDigest !== undefined) {
      const auth = request.headers.get("authorization") ?? "";
      const given = /^Bearer (.+)$/i.exec(auth)?.[1] ?? "";
      if (!timingSafeEqual(digest(given), tokenDigest)) {
        metrics.refused.inc({ reason: "token" });
        return refusal(401, "a valid bearer token is required", {
          "www-authenticate": 'Bearer realm="opend-machine"',
        });
      }
    }
    return undefined;
  };

  const readJson = async (
    request: Request,
  ): Promise<Json | Response> => {
    const text = await readCapped(request, maxBody);
    if (text === undefined) {
      metrics.refused.inc({ reason: "too-large" });
      return refusal(413, `the body is larger than ${maxBody} bytes`);
    }
    try {
      const value: unknown = text === "" ? {} : JSON.parse(text);
      if (
        typeof value === "object" && value !== null && !Array.isArray(value)
      ) {
        return value as Json;
      }
    } catch { /* answered below */ }
    metrics.refused.inc({ reason: "bad-json" });
    return refusal(400, "the body must be a JSON object");
  };

  const postCode = async (request: Request): Promise<Response> => {
    const refused = guard(request);
    if (refused) return refused;
    const body = await readJson(request);
    if (body instanceof Response) return body;
    const verdict = codeLimiter.take(performance.now());
    if (!verdict.ok) {
      metrics.refused.inc({ reason: "rate-limited" });
      return refusal(429, "too many code submissions; wait", {
        "retry-after": String(Math.ceil(verdict.retryInMs / 1000)),
      });
    }
    const code = body.code;
    if (typeof code !== "string" || !CODE_PATTERN.test(code.trim())) {
      metrics.refused.inc({ reason: "malformed-code" });
      return refusal(422, "a code is 4 to 12 letters or digits");
    }
    if (!client.submitCode(new Secret(code.trim()))) {
      return refusal(409, "no code is being asked for now");
    }
    observer.note({ action: "code submitted" });
    return json(202, { accepted: true, message: "code submitted" });
  };

  const postReset = async (request: Request): Promise<Response> => {
    const refused = guard(request);
    if (refused) return refused;
    const body = await readJson(request);
    if (body instanceof Response) return body;
    if (!observer.state.canReset) {
      return refusal(409, "nothing to reset: not stopped, fatal or given up");
    }
    client.reset();
    observer.note({ action: "reset" });
    return json(202, { reset: true, message: "reset: connecting again" });
  };

  const picture = async (): Promise<Response> => {
    const pending = observer.state.pendingCode;
    if (pending?.kind !== "picture" || pending.picturePath === undefined) {
      return refusal(404, "no picture code is being asked for");
    }
    try {
      const info = await stat(pending.picturePath);
      if (!info.isFile() || info.size > MAX_PICTURE_BYTES) {
        throw new RangeError("not a picture");
      }
      const bytes = await readFile(pending.picturePath);
      return new Response(new Uint8Array(bytes), {
        headers: {
          "content-type": "image/png",
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        },
      });
    } catch {
      return refusal(404, "the picture is not readable here");
    }
  };

  const events = (): Response => {
    if (streams.full) {
      return refusal(503, "too many event streams are open", {
        "retry-after": "10",
      });
    }
    const initial = [
      _sseMessage("history", observer.history()),
      _sseMessage("state", observer.state),
    ];
    return new Response(streams.open(initial), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  };

  const health = (): Response => {
    const { summary, running } = observer.state;
    if (!running) {
      return json(503, {
        status: "stopped",
        reason: "the supervisor is not running",
      });
    }
    if (summary.fatal || summary.link === "stopped") {
      return json(503, {
        status: summary.fatal ? "fatal" : "stopped",
        reason: summary.fatalReason ?? summary.stoppedReason ?? "stopped",
        link: summary.link,
        gateway: summary.gateway,
      });
    }
    return json(200, {
      status: "ok",
      link: summary.link,
      gateway: summary.gateway,
    });
  };

  const ready = (): Response => {
    const s = observer.state.summary;
    const body = {
      ready: s.ready,
      link: s.link,
      gateway: s.gateway,
      recovery: s.recovery,
      reason: s.ready ? null : s.fatalReason ?? s.stoppedReason ??
        s.recoveryReason ?? s.lastReason ??
        `link ${s.link}, OpenD ${s.gateway}`,
    };
    return json(s.ready ? 200 : 503, body);
  };

  const text = (
    body: string,
    type: string,
    headers: Record<string, string> = {},
  ) =>
    new Response(body, {
      headers: {
        "content-type": `${type}; charset=utf-8`,
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
        ...headers,
      },
    });

  const GETS: Partial<
    Record<string, (request: Request) => Response | Promise<Response>>
  > = {
    "/": () => text(PAGE_HTML, "text/html", PAGE_HEADERS),
    "/assets/console.js": () => text(PAGE_JS, "text/javascript"),
    "/assets/console.css": () => text(PAGE_CSS, "text/css"),
    "/healthz": health,
    "/readyz": ready,
    "/metrics": async () =>
      text(await metrics.registry.metrics(), "text/plain", {
        "content-type": metrics.registry.contentType,
      }),
    "/api/status": () =>
      json(200, { opend: client.address, ...observer.state }),
    "/api/events": events,
    "/api/picture": picture,
  };
  const POSTS: Partial<
    Record<string, (request: Request) => Promise<Response>>
  > = {
    "/api/code": postCode,
    "/api/reset": postReset,
  };

  const route = async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    const get = GETS[pathname];
    const post = POSTS[pathname];
    if (request.method === "GET" || request.method === "HEAD") {
      if (get === undefined) {
        return refusal(
          post ? 405 : 404,
          post ? "use POST" : "not found",
          post ? { allow: "POST" } : {},
        );
      }
      const response = await get(request);
      if (request.method === "HEAD") {
        await response.body?.cancel();
        return new Response(null, {
          status: response.status,
          headers: response.headers,
        });
      }
      return response;
    }
    if (request.method === "POST" && post !== undefined) return post(request);
    if (get === undefined && post === undefined) {
      return refusal(404, "not found");
    }
    return refusal(405, "method not allowed", {
      allow: post ? "POST" : "GET, HEAD",
    });
  };

  return {
    async fetch(request: Request): Promise<Response> {
      if (closed) return refusal(503, "the console is closed");
      try {
        return await route(request);
      } catch {
        return refusal(500, "internal error");
      }
    },
    get state() {
      return observer.state;
    },
    async close() {
      if (closed) return;
      closed = true;
      streams.close();
      observer.close();
      metrics.close();
      await webhooks?.close();
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}
