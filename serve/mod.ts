/**
 * The operations surface to run beside OpenD: a Web-standard handler
 * (`Request -> Promise<Response>`) over a client, serving health and
 * readiness probes (`/healthz`, `/readyz`), Prometheus metrics (`/metrics`),
 * the supervisor's status and live events (`/api/status`, `/api/events`),
 * the web console (`/`) with the live statechart, code submission and reset
 * (`POST /api/code`, `POST /api/reset`), and signed webhook alerts.
 *
 * The same handler runs under `Deno.serve`, Node's `node:http` (through
 * `toNodeListener`) or any fetch-style server, or a test calling
 * `handler.fetch(request)` directly.
 *
 * @example
 * ```ts
 * import { createOpenDClient } from "../client/mod.ts";
 * import { startSimulator } from "../sim/mod.ts";
 * import { createServeHandler } from "./mod.ts";
 * await using sim = await startSimulator({ port: 0, opsPort: false });
 * await using client = createOpenDClient({ port: sim.address.port });
 * await using handler = createServeHandler(client, { token: "t0ken" });
 * const server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen() {} },
 *   handler.fetch,
 * );
 * const health = await fetch(`http://127.0.0.1:${server.addr.port}/healthz`);
 * console.log(health.status, await health.json());
 * await server.shutdown();
 * ```
 * @module
 */
export {
  type ConsoleEvent,
  type ConsoleState,
  createServeHandler,
  type PendingCode,
  type ServeHandler,
  type ServeHandlerOptions,
} from "./handler.ts";
export {
  type Alert,
  type AlertType,
  type DeliveryResult,
  SIGNATURE_HEADER,
  signWebhookBody,
  verifyWebhookSignature,
  type WebhookHooks,
  WebhookNotifier,
  type WebhookOptions,
} from "./webhooks.ts";
export { activeStateIds, type StateValueLike } from "./active_states.ts";
export { isIpLiteral, isLoopbackHost, parseListen } from "./listen.ts";
export { type FetchHandler, toNodeListener } from "./node_listener.ts";
