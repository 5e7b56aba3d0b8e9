// Alerts posted to webhook receivers on loopback while the simulator plays
// stories: each alert once and signed; failing receivers get retries; a
// receiver that never answers slows nothing down.
import { createHmac } from "node:crypto";
import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  type Alert,
  SIGNATURE_HEADER,
  verifyWebhookSignature,
  WebhookNotifier,
} from "../serve/mod.ts";
import { get, post, sample, startRig, until } from "./_serve_helpers.ts";

const SECRET = "whsec-test";

interface Received {
  alert: Alert;
  body: string;
  signature: string | null;
}

/** A receiver on loopback; `answer` decides each response. */
function receiver(
  answer: (n: number) => number | "hang" = () => 200,
) {
  const received: Received[] = [];
  const hanging: (() => void)[] = [];
  let n = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const body = await request.text();
      received.push({
        alert: JSON.parse(body),
        body,
        signature: request.headers.get(SIGNATURE_HEADER),
      });
      const what = answer(++n);
      if (what === "hang") {
        await new Promise<void>((resolve) => hanging.push(resolve));
        return new Response("late");
      }
      return new Response(null, { status: what });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    async close() {
      for (const release of hanging) release();
      await server.shutdown();
    },
  };
}

Deno.test("webhooks: needsCode, Ready again (after the code, after a loss) and fatal reach the receiver once each, signed", async () => {
  const hook = receiver();
  try {
    await using rig = await startRig({
      handler: {
        webhooks: { urls: [hook.url], secret: SECRET, backoffMs: 20 },
      },
    });
    const { sim, client, handler } = rig;
    await client.whenReady(20_000);

    sim.requireVerification("phone");
    await until(() => handler.state.pendingCode !== null, "the code request");
    assertEquals(
      (await post(handler, "/api/code", { code: "135790" })).status,
      202,
    );
    await client.whenReady(20_000);
    await sim.restart(200);
    await until(
      () => hook.received.filter((r) => r.alert.type === "ready").length === 2,
      "the ready alert after the restart",
    );
    sim.runScenario("banned", { timeScale: 0.01 });
    await until(
      () => hook.received.some((r) => r.alert.type === "fatal"),
      "the fatal alert",
    );

    const types = hook.received.map((r) => r.alert.type);
    assertEquals(types, ["needsCode", "ready", "ready", "fatal"]);
    assertEquals(new Set(hook.received.map((r) => r.alert.id)).size, 4);
    for (const { alert, body, signature } of hook.received) {
      const expected = "sha256=" +
        createHmac("sha256", SECRET).update(body).digest("hex");
      assertEquals(signature, expected);
      assert(verifyWebhookSignature(SECRET, body, signature));
      assertEquals(alert.source, "opend-machine");
      assertEquals(alert.opend, client.address);
      assert(alert.text.length > 10);
      assert(!body.includes("135790"));
    }
    const [needsCode, resolved, ready, fatal] = hook.received.map((r) =>
      r.alert
    );
    assertMatch(needsCode.text, /needs a phone verification code/);
    assertEquals(needsCode.details.kind, "phone");
    assertMatch(resolved.text, /Ready again \(after needsCode\)/);
    assertMatch(ready.text, /Ready again after \d+\.\d s/);
    assert((ready.details.downMs as number) >= 0);
    assertMatch(fatal.text, /BanLogin/);
    // The receiver has the last alert before the notifier has its answer.
    await until(async () => {
      const m = (await get(handler, "/metrics")).text;
      return sample(m, 'opend_webhook_deliveries_total{result="ok"}') === 4;
    }, "four deliveries counted");
    assertEquals(rig.logs, []);
  } finally {
    await hook.close();
  }
});

Deno.test("webhooks: a failing receiver gets retries, logged once per streak; a stuck one holds up nothing", async () => {
  const flaky = receiver((n) => (n <= 2 ? 500 : 200));
  const stuck = receiver(() => "hang");
  try {
    await using rig = await startRig({
      handler: {
        webhooks: {
          urls: [flaky.url, stuck.url],
          secret: SECRET,
          backoffMs: 20,
          timeoutMs: 60_000,
        },
      },
    });
    const { sim, client, handler } = rig;
    await client.whenReady(20_000);
    const keepAlivesBefore = sim.events.filter((e) =>
      e.type === "request" && e.protoId === 1004
    ).length;

    sim.requireVerification("phone");
    await until(() => handler.state.pendingCode !== null, "the code request");
    await until(() => flaky.received.length === 3, "three attempts");
    assertEquals(new Set(flaky.received.map((r) => r.alert.id)).size, 1);
    assertEquals(stuck.received.length, 1);

    // While the stuck receiver holds its request open, the supervisor goes
    // on: the code goes through, OpenD is Ready, keep-alives keep flowing.
    assertEquals(
      (await post(handler, "/api/code", { code: "135790" })).status,
      202,
    );
    await client.whenReady(20_000);
    await until(
      () =>
        sim.events.filter((e) => e.type === "request" && e.protoId === 1004)
          .length >= keepAlivesBefore + 2,
      "keep-alives while a webhook hangs",
    );
    assertEquals(stuck.received.length, 1, "one delivery at a time per URL");

    await until(async () => {
      const m = (await get(handler, "/metrics")).text;
      // The needsCode alert's third attempt, then the Ready-again one.
      return sample(m, 'opend_webhook_deliveries_total{result="ok"}') === 2;
    }, "the third attempt and the Ready alert counted");
    const m = (await get(handler, "/metrics")).text;
    assertEquals(
      sample(m, 'opend_webhook_deliveries_total{result="failed"}'),
      2,
    );
    const flakyLogs = rig.logs.filter((l) =>
      l.includes(new URL(flaky.url).host)
    );
    assertEquals(flakyLogs.length, 2, flakyLogs.join("\n"));
    assertMatch(flakyLogs[0], /failed: HTTP 500/);
    assertMatch(flakyLogs[1], /delivering again/);
  } finally {
    await flaky.close();
    await stuck.close();
  }
});

Deno.test("webhooks: send() returns at once and gives up after maxAttempts", async () => {
  const down = receiver(() => 503);
  const results: string[] = [];
  const notifier = new WebhookNotifier(
    { urls: [down.url], maxAttempts: 3, backoffMs: 10 },
    { onResult: (r) => results.push(r), log: () => {} },
  );
  try {
    notifier.send({
      id: "a1",
      type: "gaveUp",
      text: "gave up",
      at: new Date().toISOString(),
      source: "opend-machine",
      opend: "127.0.0.1:11111",
      link: "online",
      gateway: "NeedPhoneVerifyCode",
      details: {},
    });
    assertEquals(down.received.length, 0, "nothing sent synchronously");
    await until(() => results.includes("dropped"), "giving up");
    assertEquals(results, ["failed", "failed", "failed", "dropped"]);
    assertEquals(down.received.length, 3);
    assertEquals(down.received[0].signature, null);
  } finally {
    await notifier.close();
    await down.close();
  }
});

Deno.test("webhooks: only http(s) URLs", () => {
  let message = "";
  try {
    new WebhookNotifier({ urls: ["file:///etc/passwd"] });
  } catch (error) {
    message = (error as Error).message;
  }
  assertMatch(message, /must be http\(s\)/);
});
