/**
 * Helpers for the serve tests: a simulated OpenD with a client and the
 * handler over it, and small HTTP helpers that call the handler directly.
 * @module
 */
import { createOpenDClient, type OpenDClient } from "../client/mod.ts";
import type { OpenDClientOptions } from "../client/mod.ts";
import {
  type OpenDSimulator,
  type SimulatorOptions,
  startSimulator,
} from "../sim/mod.ts";
import {
  createServeHandler,
  type ServeHandler,
  type ServeHandlerOptions,
} from "../serve/mod.ts";

/** The console's own origin in these tests. */
export const ORIGIN = "http://127.0.0.1:8080";

/** A simulator, a client and a handler; dispose to close all three. */
export interface Rig extends AsyncDisposable {
  sim: OpenDSimulator;
  client: OpenDClient;
  handler: ServeHandler;
  logs: string[];
}

/** Starts the three; the client connects at once. */
export async function startRig(
  options: {
    sim?: SimulatorOptions;
    client?: OpenDClientOptions;
    handler?: ServeHandlerOptions;
  } = {},
): Promise<Rig> {
  const sim = await startSimulator({
    port: 0,
    opsPort: 0,
    phoneCode: "135790",
    keepAliveInterval: 1,
    loginDelayMs: 50,
    ...options.sim,
  });
  const client = createOpenDClient({
    port: sim.address.port,
    opsPort: sim.address.opsPort,
    reconnect: { baseMs: 100, capMs: 400, stableMs: 200 },
    session: { random: () => 1 },
    onHandlerError: () => {},
    ...options.client,
  });
  const logs: string[] = [];
  const handler = createServeHandler(client, {
    log: (line) => logs.push(line),
    ...options.handler,
  });
  return {
    sim,
    client,
    handler,
    logs,
    async [Symbol.asyncDispose]() {
      await handler.close();
      await client.close();
      await sim.close();
    },
  };
}

/** GET (or HEAD) through the handler: status and text. */
export async function get(
  handler: ServeHandler,
  path: string,
  method: "GET" | "HEAD" = "GET",
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await handler.fetch(
    new Request(`${ORIGIN}${path}`, { method }),
  );
  return {
    status: response.status,
    text: await response.text(),
    headers: response.headers,
  };
}

/** POST through the handler, as the console page does unless told otherwise. */
export async function post(
  handler: ServeHandler,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await handler.fetch(
    new Request(`${ORIGIN}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: ORIGIN,
        ...headers,
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

/** Polls `path` until it answers `status`; throws after `timeoutMs`. */
export async function waitStatus(
  handler: ServeHandler,
  path: string,
  status: number,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = { status: 0, text: "" };
  while (Date.now() < deadline) {
    last = await get(handler, path);
    if (last.status === status) return last.text;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(
    `${path} stayed ${last.status} (${last.text}), wanted ${status}`,
  );
}

/** Polls until `check()` is true; throws after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One sample's value from Prometheus text (`name{labels}` as written). */
export function sample(metrics: string, series: string): number {
  for (const line of metrics.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length));
  }
  return NaN;
}

/** Sum of every sample of a metric, whatever its labels. */
export function total(metrics: string, name: string): number {
  let sum = 0;
  for (const line of metrics.split("\n")) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

/** Runs `promtool check metrics` on `text`; its complaints, or "" when clean. */
export async function promtool(text: string): Promise<string> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const said = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return out.code === 0 ? said.trim() : `exit ${out.code}: ${said}`;
}

/** Whether promtool is installed (CI installs it; see .ci/run). */
export const hasPromtool: boolean = (() => {
  try {
    new Deno.Command("promtool", { args: ["--version"] }).outputSync();
    return true;
  } catch {
    return false;
  }
})();
