// The operations surface against the simulator, through the handler's
// public API: probes, metrics, status, events, codes, reset.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { ProgramStatusType } from "../codec/mod.ts";
import { _sseMessage, _SseStreams } from "../serve/_sse.ts";
import { createOpenDClient } from "../client/mod.ts";
import { startSimulator } from "../sim/mod.ts";
import { createServeHandler } from "../serve/mod.ts";
import {
  get,
  hasPromtool,
  ORIGIN,
  post,
  promtool,
  sample,
  startRig,
  total,
  until,
  waitStatus,
} from "./_serve_helpers.ts";

const CODE = "135790";

Deno.test("readyz follows kicked-out, phone-code and restart; metrics follow and pass promtool", async () => {
  await using rig = await startRig({
    client: {
      // This deployment takes the login back after a short cool-down.
      policy: {
        KickedOut: { reaction: "reloginAfterCooldown", cooldownMs: 1_000 },
      },
    },
  });
  const { sim, handler } = rig;
  const seen: number[] = [];
  const step = async (status: number) => {
    await waitStatus(handler, "/readyz", status);
    seen.push(status);
  };

  await step(200);
  const before = (await get(handler, "/metrics")).text;
  assertEquals(sample(before, "opend_ready"), 1);
  assertEquals(sample(before, 'opend_program_status{status="Ready"}'), 1);
  assertEquals(sample(before, 'opend_link_phase{phase="online"}'), 1);
  assertEquals(
    await post(handler, "/api/code", { code: CODE }).then((r) => r.status),
    409,
  );

  // Kicked out: another device logs in; the client logs in again.
  sim.runScenario("kicked-out", { timeScale: 0.1 });
  const notReady = JSON.parse(await waitStatus(handler, "/readyz", 503));
  seen.push(503);
  assertEquals(notReady.ready, false);
  assert(typeof notReady.reason === "string" && notReady.reason.length > 0);
  for (const key of ["link", "gateway", "recovery"]) assert(key in notReady);
  await step(200);

  // A phone code, typed into the console.
  sim.runScenario("phone-code", { timeScale: 0.1 });
  await step(503);
  await until(
    () => rig.handler.state.pendingCode !== null,
    "the code request",
  );
  const status = JSON.parse((await get(handler, "/api/status")).text);
  assertEquals(status.pendingCode.kind, "phone");
  assertEquals((await post(handler, "/api/code", { code: CODE })).status, 202);
  await step(200);

  // OpenD restarts: the link drops and comes back.
  await sim.restart(1_000);
  await step(503);
  await step(200);
  assertEquals(seen, [200, 503, 200, 503, 200, 503, 200]);

  await until(async () => {
    const m = (await get(handler, "/metrics")).text;
    return sample(m, "opend_recovery_seconds_count") >= 2;
  }, "the second recovery in the metrics");
  const after = await get(handler, "/metrics");
  assertMatch(after.headers.get("content-type") ?? "", /^text\/plain/);
  const m = after.text;
  assert(total(m, "opend_link_losses_total") >= 2, "losses counted");
  assert(sample(m, "opend_reconnect_attempts_total") >= 2, "reconnects");
  assertEquals(sample(m, 'opend_code_requests_total{kind="phone"}'), 1);
  assertEquals(sample(m, 'opend_codes_total{outcome="submitted"}'), 1);
  assertEquals(sample(m, 'opend_codes_total{outcome="accepted"}'), 1);
  assertEquals(sample(m, 'opend_codes_total{outcome="rejected"}'), 0);
  assert(sample(m, "opend_relogins_total") >= 1, "relogin counted");
  assert(
    sample(m, 'opend_notifications_total{type="GtwEvent"}') >= 2,
    "notifications by type",
  );
  await until(async () => {
    const m = (await get(handler, "/metrics")).text;
    return sample(m, "opend_keepalive_rtt_seconds_count") >= 1;
  }, "a keep-alive round trip in the metrics");
  assert(!m.includes(CODE), "the code never reaches the metrics");
  if (hasPromtool || Deno.env.get("CI") === "true") {
    assertEquals(await promtool(m), "");
  }
});

Deno.test("healthz turns 503 on BanLogin; reset is refused until then and taken after", async () => {
  await using rig = await startRig();
  const { sim, handler } = rig;
  await waitStatus(handler, "/healthz", 200);
  await waitStatus(handler, "/readyz", 200);
  assertEquals((await post(handler, "/api/reset", {})).status, 409);

  sim.runScenario("banned", { timeScale: 0.01 });
  const body = JSON.parse(await waitStatus(handler, "/healthz", 503));
  assertEquals(body.status, "fatal");
  assertMatch(body.reason, /BanLogin/);
  const m = (await get(handler, "/metrics")).text;
  assertEquals(sample(m, "opend_fatal"), 1);
  assertEquals(sample(m, "opend_supervisor_up"), 0);
  assertEquals(
    sample(m, 'opend_supervisor_events_total{type="fatal"}'),
    1,
  );
  assert(rig.handler.state.canReset);

  // The ban is lifted; a person resets from the console.
  sim.setAccount({ banned: false });
  sim.setProgramStatus(ProgramStatusType.Ready);
  const reset = await post(handler, "/api/reset", {});
  assertEquals(reset.status, 202);
  await waitStatus(handler, "/healthz", 200);
  await waitStatus(handler, "/readyz", 200);
});

Deno.test("codes: refused without the token, from another origin, oversize, malformed or too often; nothing reaches OpenD", async () => {
  await using rig = await startRig({
    handler: {
      token: "s3cr3t-token",
      codeRateLimit: { max: 3, windowMs: 60_000 },
    },
  });
  const { sim, handler, client } = rig;
  await client.whenReady(20_000);
  sim.requireVerification("phone");
  await until(() => handler.state.pendingCode !== null, "the code request");
  const auth = { authorization: "Bearer s3cr3t-token" };

  const refusals = [
    await post(handler, "/api/code", { code: CODE }),
    await post(handler, "/api/code", { code: CODE }, {
      authorization: "Bearer s3cr3t-tokem",
    }),
    await post(handler, "/api/code", { code: CODE }, {
      ...auth,
      origin: "https://evil.example",
    }),
    await post(handler, "/api/code", { code: CODE }, {
      ...auth,
      origin: "",
      "sec-fetch-site": "cross-site",
    }),
    await post(handler, "/api/code", `code=${CODE}`, {
      ...auth,
      "content-type": "application/x-www-form-urlencoded",
    }),
    await post(
      handler,
      "/api/code",
      { code: CODE, padding: "x".repeat(5000) },
      auth,
    ),
    await post(handler, "/api/code", "{not json", auth),
    await post(handler, "/api/code", { code: "12" }, auth),
    await post(handler, "/api/code", { code: "1357 90; rm" }, auth),
  ];
  assertEquals(
    refusals.map((r) => r.status),
    [401, 401, 403, 403, 415, 413, 400, 422, 422],
  );
  for (const r of refusals) {
    assertEquals(r.json.error, true);
    assert(!JSON.stringify(r.json).includes(CODE));
  }
  // Two malformed codes used two of three slots: one left, then 429.
  assertEquals(
    (await post(handler, "/api/code", { code: "x" }, auth)).status,
    422,
  );
  const limited = await post(handler, "/api/code", { code: CODE }, auth);
  assertEquals(limited.status, 429);

  assertEquals(
    sim.events.filter((e) =>
      e.type === "codeAccepted" || e.type === "codeRejected"
    ).length,
    0,
  );
  assert(handler.state.pendingCode !== null, "still waiting for a code");
  const refused = (await get(handler, "/metrics")).text;
  assertEquals(
    sample(refused, 'opend_console_refused_total{reason="token"}'),
    2,
  );
  assertEquals(
    sample(refused, 'opend_console_refused_total{reason="origin"}'),
    2,
  );
  assertEquals(
    sample(refused, 'opend_console_refused_total{reason="rate-limited"}'),
    1,
  );
  assertEquals(sample(refused, 'opend_codes_total{outcome="submitted"}'), 0);
  // Reading is open: probes and the page need no token.
  assertEquals((await get(handler, "/readyz")).status, 503);
  assertEquals((await get(handler, "/")).status, 200);
});

Deno.test("codes: the right request is taken once, reaches OpenD, and the code never shows", async () => {
  await using rig = await startRig({ handler: { token: "t" } });
  const { sim, handler, client } = rig;
  await client.whenReady(20_000);
  sim.requireVerification("phone");
  await until(() => handler.state.pendingCode !== null, "the code request");
  const ok = await post(handler, "/api/code", { code: CODE }, {
    authorization: "Bearer t",
  });
  assertEquals(ok.status, 202);
  await sim.waitFor("codeAccepted", undefined, { timeoutMs: 10_000 });
  await waitStatus(handler, "/readyz", 200);
  // Nothing pending any more.
  assertEquals(
    (await post(handler, "/api/code", { code: CODE }, {
      authorization: "Bearer t",
    })).status,
    409,
  );
  for (const path of ["/api/status", "/metrics", "/"]) {
    assert(!(await get(handler, path)).text.includes(CODE), path);
  }
  assertEquals(rig.logs, []);
});

Deno.test("events: a live stream starts with history and state, then every supervisor event, without secrets", async () => {
  await using rig = await startRig();
  const { sim, handler, client } = rig;
  await client.whenReady(20_000);
  const response = await handler.fetch(new Request(`${ORIGIN}/api/events`));
  assertEquals(
    response.headers.get("content-type"),
    "text/event-stream; charset=utf-8",
  );
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  const readUntil = async (what: string) => {
    while (!text.includes(what)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${what}`);
      text += value;
    }
  };
  try {
    await readUntil("event: state");
    assert(text.includes("event: history"));
    assert(text.includes('"type":"ready"'));
    sim.requireVerification("phone");
    await readUntil('"type":"needsCode"');
    await readUntil('"pendingCode":{"kind":"phone"');
    client.submitCode(CODE);
    await readUntil('"gateway":"Ready"');
    assert(!text.includes(CODE));
    assert(text.includes("session.recovery.flow.verifying"));
  } finally {
    await reader.cancel();
  }
});

Deno.test("routes: unknown paths 404, wrong methods 405, HEAD on probes, security headers on the page", async () => {
  await using rig = await startRig({ sim: { port: 0 } });
  const { handler, client } = rig;
  await client.whenReady(20_000);
  assertEquals((await get(handler, "/nope")).status, 404);
  assertEquals((await get(handler, "/api/code")).status, 405);
  const wrong = await handler.fetch(
    new Request(`${ORIGIN}/readyz`, { method: "DELETE" }),
  );
  await wrong.body?.cancel();
  assertEquals(wrong.status, 405);
  const head = await get(handler, "/healthz", "HEAD");
  assertEquals([head.status, head.text], [200, ""]);
  const page = await get(handler, "/");
  assertMatch(
    page.headers.get("content-security-policy") ?? "",
    /default-src 'none'/,
  );
  assertEquals(page.headers.get("x-frame-options"), "DENY");
  assert(page.text.includes("<title>session.link.session.online</title>"));
  assertEquals((await get(handler, "/assets/console.js")).status, 200);
  assertEquals((await get(handler, "/api/picture")).status, 404);
  // No token: a page whose domain was rebound to 127.0.0.1 is refused.
  const rebound = await handler.fetch(
    new Request("http://rebound.example:8080/api/reset", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: "http://rebound.example:8080",
      },
      body: "{}",
    }),
  );
  assertEquals(rebound.status, 403);
  await rebound.body?.cancel();
});

Deno.test("picture code: the console serves the picture OpenD saved, and the letters typed reach OpenD", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opend-picture-" });
  const picturePath = `${dir}/PicVerifyCode.png`;
  // A PNG signature and a few bytes: the console serves the file as it is.
  const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3, 4]);
  await Deno.writeFile(picturePath, png);
  try {
    await using rig = await startRig({
      sim: { pictureCode: "Ab3d" },
      client: { picturePath },
    });
    const { sim, handler, client } = rig;
    await client.whenReady(20_000);
    assertEquals((await get(handler, "/api/picture")).status, 404);
    sim.requireVerification("picture");
    await until(
      () => handler.state.pendingCode?.kind === "picture",
      "the picture code request",
    );
    assertEquals(handler.state.pendingCode?.picturePath, picturePath);
    const response = await handler.fetch(
      new Request(`${ORIGIN}/api/picture`),
    );
    assertEquals(response.status, 200);
    assertEquals(response.headers.get("content-type"), "image/png");
    assertEquals(new Uint8Array(await response.arrayBuffer()), png);
    assertEquals(
      (await post(handler, "/api/code", { code: "Ab3d" })).status,
      202,
    );
    await sim.waitFor("codeAccepted", undefined, { timeoutMs: 10_000 });
    await waitStatus(handler, "/readyz", 200);
    assertEquals((await get(handler, "/api/picture")).status, 404);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("events: a consumer that stops reading is cut off, not buffered without bound", async () => {
  const streams = new _SseStreams(10, 60_000);
  const stalled = streams.open([]);
  const reading = streams.open([]);
  const reader = reading.getReader();
  for (let i = 0; i < 50; i++) {
    streams.broadcast(_sseMessage("event", { i }));
    await reader.read();
  }
  assertEquals(streams.size, 1, "only the reader is left");
  // The stalled one got what was queued before it fell behind, then its end.
  let chunks = 0;
  for await (const _ of stalled) chunks++;
  assert(chunks >= 10 && chunks <= 13, `${chunks} chunks`);
  await reader.cancel();
  assertEquals(streams.size, 0);
  streams.close();
});

Deno.test("events: open streams are capped", () => {
  const streams = new _SseStreams(10, 60_000, 2);
  const a = streams.open([]);
  assert(!streams.full);
  const b = streams.open([]);
  assert(streams.full);
  streams.close();
  assertEquals(streams.size, 0);
  void a.cancel();
  void b.cancel();
});

Deno.test("an empty token is refused up front, never taken as no password", async () => {
  await using sim = await startSimulator({ port: 0, opsPort: false });
  await using client = createOpenDClient({
    port: sim.address.port,
    autoStart: false,
  });
  let message = "";
  try {
    createServeHandler(client, { token: "" });
  } catch (error) {
    message = (error as Error).message;
  }
  assertMatch(message, /token must be a non-empty string/);
});
