// The handler under node:http (as Node users run it), in Deno's Node layer.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { assert, assertEquals } from "@std/assert";
import { toNodeListener } from "../serve/mod.ts";
import { startRig, until } from "./_serve_helpers.ts";

Deno.test("node:http: probes, a posted code and the live event stream go through toNodeListener", async () => {
  await using rig = await startRig();
  const { sim, client, handler } = rig;
  const server = createServer(toNodeListener(handler));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await client.whenReady(20_000);
    const ready = await fetch(`${base}/readyz`);
    assertEquals(ready.status, 200);
    assertEquals((await ready.json()).gateway, "Ready");

    const events = await fetch(`${base}/api/events`);
    const reader = events.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    try {
      while (!text.includes("event: state")) {
        text += (await reader.read()).value;
      }
      sim.requireVerification("phone");
      while (!text.includes('"type":"needsCode"')) {
        text += (await reader.read()).value;
      }
    } finally {
      await reader.cancel();
    }

    const code = await fetch(`${base}/api/code`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ code: "135790" }),
    });
    assertEquals(code.status, 202);
    await code.body?.cancel();
    const big = await fetch(`${base}/api/code`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: "1".repeat(10_000) }),
    });
    assertEquals(big.status, 413);
    await big.body?.cancel();
    await until(() => client.describe().ready, "Ready after the code");
    const metrics = await fetch(`${base}/metrics`);
    assert((await metrics.text()).includes("opend_ready 1"));
  } finally {
    await handler.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
