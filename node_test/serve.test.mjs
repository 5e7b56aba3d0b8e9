// The built package's serve handler on Node: a client to the simulator, the
// handler answering /readyz and /metrics as Web-standard Request -> Response.
import test from "node:test";
import assert from "node:assert/strict";
import { createOpenDClient } from "opend-machine/client";
import { startSimulator } from "opend-machine/sim";
import { createServer } from "node:http";
import { createServeHandler, toNodeListener } from "opend-machine/serve";

const ORIGIN = "http://127.0.0.1:8080";

async function waitStatus(handler, path, status) {
  const deadline = Date.now() + 20_000;
  let last;
  while (Date.now() < deadline) {
    last = await handler.fetch(new Request(ORIGIN + path));
    if (last.status === status) return last;
    await last.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${path} stayed ${last?.status}, wanted ${status}`);
}

test("esm: the serve handler answers /readyz and /metrics for a simulated OpenD", {
  timeout: 30_000,
}, async () => {
  const sim = await startSimulator({ port: 0, opsPort: false, phoneCode: "2468" });
  const client = createOpenDClient({ port: sim.address.port });
  const handler = createServeHandler(client, { log: () => {} });
  try {
    const ready = await waitStatus(handler, "/readyz", 200);
    assert.deepEqual(await ready.json(), {
      ready: true,
      link: "online",
      gateway: "Ready",
      recovery: "watching",
      reason: null,
    });
    const metrics = await handler.fetch(new Request(ORIGIN + "/metrics"));
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type"), /^text\/plain/);
    const text = await metrics.text();
    assert.match(text, /^opend_ready 1$/m);
    assert.match(text, /^opend_program_status\{status="Ready"\} 1$/m);

    sim.requireVerification("phone");
    const waiting = await waitStatus(handler, "/readyz", 503);
    assert.equal((await waiting.json()).gateway, "NeedPhoneVerifyCode");
    // The supervisor asks OpenD to send the SMS first, then waits for a code.
    while (handler.state.pendingCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const code = await handler.fetch(
      new Request(ORIGIN + "/api/code", {
        method: "POST",
        headers: { "content-type": "application/json", origin: ORIGIN },
        body: JSON.stringify({ code: "2468" }),
      }),
    );
    assert.equal(code.status, 202);
    await (await waitStatus(handler, "/readyz", 200)).body?.cancel();
  } finally {
    await handler.close();
    await client.close();
    await sim.close();
  }
});

test("esm: toNodeListener serves the handler over node:http", {
  timeout: 30_000,
}, async () => {
  const sim = await startSimulator({ port: 0, opsPort: false });
  const client = createOpenDClient({ port: sim.address.port });
  const handler = createServeHandler(client, { log: () => {} });
  const server = createServer(toNodeListener(handler));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    await client.whenReady(20_000);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).gateway, "Ready");
    const metrics = await fetch(`${base}/metrics`);
    assert.match(await metrics.text(), /^opend_ready 1$/m);
    const cross = await fetch(`${base}/api/reset`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: "{}",
    });
    assert.equal(cross.status, 403);
    await cross.body?.cancel();
  } finally {
    await handler.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await client.close();
    await sim.close();
  }
});
