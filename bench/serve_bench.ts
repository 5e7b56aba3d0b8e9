/**
 * What the operations surface costs the supervisor:
 * `deno bench --allow-net bench/serve_bench.ts`. A client online with the
 * simulator takes `BYTES_RECEIVED` (what every arriving chunk sends), bare and
 * with a serve handler observing it (metrics, event streams, the console's
 * state). The handler should add a small fraction, never a multiple.
 */
import { createOpenDClient } from "../client/mod.ts";
import { startSimulator } from "../sim/mod.ts";
import { createServeHandler } from "../serve/mod.ts";

const sim = await startSimulator({ port: 0, opsPort: false });
const bare = createOpenDClient({ port: sim.address.port });
const observed = createOpenDClient({ port: sim.address.port });
const handler = createServeHandler(observed, { log: () => {} });
await Promise.all([bare.whenReady(20_000), observed.whenReady(20_000)]);
// An open event stream, as when the console is on screen.
const stream = (await handler.fetch(
  new Request("http://127.0.0.1/api/events"),
)).body!.getReader();
const draining = (async () => {
  while (!(await stream.read()).done) { /* a consumer keeping up */ }
})();

const bytes = { type: "BYTES_RECEIVED" } as const;

Deno.bench("supervisor: BYTES_RECEIVED, no handler", {
  group: "serve",
  baseline: true,
}, () => {
  bare.actor.send(bytes as never);
});

Deno.bench(
  "supervisor: BYTES_RECEIVED, with a serve handler and an event stream",
  { group: "serve" },
  () => {
    observed.actor.send(bytes as never);
  },
);

globalThis.addEventListener("unload", () => {
  void (async () => {
    await handler.close();
    await draining;
    await Promise.all([bare.close(), observed.close()]);
    await sim.close();
  })();
});
