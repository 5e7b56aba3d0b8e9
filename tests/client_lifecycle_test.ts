/**
 * Starting, closing (every socket and timer released: Deno's sanitizers are
 * on), people typing codes, the operations port (never `exit`, rate limits
 * kept), and what users see through `subscribe`, `describe` and `whenReady`.
 */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  ClientError,
  formatOpsCommand,
  isClientError,
  type OpsCommand,
  passwordMd5,
} from "../client/mod.ts";
import { GtwEventType, ProgramStatusType } from "../codec/mod.ts";
import type { SessionSummary } from "../machines/mod.ts";
import {
  clientFor,
  connectionsOpened,
  deferred,
  EventLog,
  neverSentExit,
  nextEvent,
  quietFor,
  startSim,
} from "./_client_helpers.ts";

Deno.test("close: graceful, idempotent, releases every socket and timer", async () => {
  await using sim = await startSim();
  const client = clientFor(sim);
  const log = new EventLog(client);
  await client.whenReady(5_000);
  client.onPush(3005, () => new Promise(() => {})); // a handler that never ends
  sim.pushPacket(3005, new Uint8Array([1]));
  const first = client.close();
  assertStrictEquals(client.close(), first);
  await first;
  await sim.waitFor(
    "connectionClosed",
    (e) => e.conn === 1 && e.reason === "closed by the client",
  );
  assertEquals(client.describe().link, "closed");
  assertEquals(log.of("closed").length, 1);
  assertThrows(() => client.start(), ClientError, "closed");
  const error = await assertRejects(() => client.whenReady());
  assert(isClientError(error, "CLOSED"));
  assertEquals(client.submitCode("123456"), false);
});

Deno.test("close: while backing off from a refusing port, promptly", async () => {
  await using sim = await startSim();
  await sim.refuseConnections(10_000);
  const client = clientFor(sim, { reconnect: { baseMs: 5_000, capMs: 5_000 } });
  const waiting = client.whenReady();
  await nextEvent(client, "reconnecting");
  const started = Date.now();
  await client.close();
  assert(Date.now() - started < 1_000, "no backoff timer is waited for");
  const error = await assertRejects(() => waiting);
  assert(isClientError(error, "CLOSED"));
});

Deno.test("close: before starting, and right after starting (mid-connect)", async () => {
  await using sim = await startSim();
  const idle = clientFor(sim, { autoStart: false });
  await quietFor(50);
  assertEquals(connectionsOpened(sim), 0, "autoStart false: no connection");
  await idle.close();
  const hasty = clientFor(sim);
  await hasty.close();
});

Deno.test("start: autoStart false waits for start()", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim, { autoStart: false });
  assertEquals(client.describe().link, "idle");
  client.start();
  await client.whenReady(5_000);
  assertEquals(connectionsOpened(sim), 1);
});

Deno.test("subscribe: the summary now and on every change, not on every byte", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim, { autoStart: false });
  const seen: SessionSummary[] = [];
  const off = client.subscribe((summary) => void seen.push(summary));
  assertEquals(seen.map((s) => s.link), ["idle"]);
  client.start();
  await client.whenReady(5_000);
  const count = seen.length;
  await client.request(1004, { time: 1 }); // bytes come and go
  await client.request(1004, { time: 2 });
  assertEquals(seen.length, count);
  const links = seen.map((s) => s.link);
  assertEquals(links.slice(0, 2), ["idle", "connecting"]);
  assertEquals(seen.at(-1)?.ready, true);
  off();
});

Deno.test("a person types the code: needsCode, submitCode, Ready", async () => {
  await using sim = await startSim({ phoneCode: "135790" });
  await using client = clientFor(sim); // no codeProvider
  await client.whenReady(5_000);
  assertEquals(client.submitCode("135790"), false, "nobody asked yet");
  const needsCode = nextEvent(client, "needsCode");
  sim.requireVerification("phone");
  assertEquals((await needsCode).kind, "phone");
  assertEquals(client.describe().recovery, "verifying.askingProvider");
  const ready = nextEvent(client, "ready");
  assertEquals(client.submitCode("135790"), true);
  await ready;
  await sim.waitFor("codeAccepted", (e) => e.via === "api");
});

Deno.test("reset: after a fatal gateway is fixed, the client starts over", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const fatal = nextEvent(client, "fatal");
  sim.pushGtwEvent(GtwEventType.ForceUpdate, "upgrade OpenD");
  await fatal;
  assertEquals(client.describe().link, "stopped");
  // OpenD was upgraded: it is Ready again.
  sim.setProgramStatus(ProgramStatusType.Ready);
  client.reset();
  await client.whenReady(5_000);
  assertEquals(client.describe().fatal, false);
  assertEquals(connectionsOpened(sim), 2);
});

Deno.test("ops: commands are data; exit cannot be built, nor smuggled in a value", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  for (
    const command of [
      { command: "exit" },
      { command: "relogin -login_pwd=x\r\nexit" },
      { command: "relogin", credentials: { password: "" } },
      { command: "input_phone_verify_code", code: "1 -x=exit" },
      { command: "relogin", credentials: { passwordMd5: "not-hex" } },
    ]
  ) {
    assertThrows(
      () => formatOpsCommand(command as OpsCommand),
      ClientError,
      "ops command",
    );
    const error = await assertRejects(() => client.ops(command as OpsCommand));
    assert(isClientError(error, "INVALID_ARGUMENT"), String(error));
    assert(!String(error).includes("pw\r\n"), "no password echoed");
  }
  // A password goes out as its MD5 only: nothing in it can reach the line.
  for (const password of ["p@ss", "pw\r\nexit", "two words"]) {
    assertEquals(
      formatOpsCommand({ command: "relogin", credentials: { password } })
        .reveal(),
      `relogin -login_pwd_md5=${passwordMd5(password)}`,
    );
  }
  assertEquals(passwordMd5("password"), "5f4dcc3b5aa765d61d8327deb882cf99");
  assert(!sim.events.some((e) => e.type === "opsConnectionOpened"));
  assert(neverSentExit(sim));
});

Deno.test("ops: replies, FAILED replies, rate limits kept client-side", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const ok = await client.ops({ command: "request_highest_quote_right" });
  assertStringIncludes(ok, "OK");
  // Not needed now: OpenD says FAILED.
  const failed = await assertRejects(() =>
    client.ops({ command: "req_phone_verify_code" })
  );
  assert(isClientError(failed, "OPS_FAILED"), String(failed));
  assertStringIncludes(failed.message, "no phone verification code");
  // One phone code request a minute: the second never leaves the client.
  const limited = await assertRejects(() =>
    client.ops({ command: "req_phone_verify_code" })
  );
  assert(isClientError(limited, "RATE_LIMITED"), String(limited));
  assert((limited.retryAfterMs ?? 0) > 50_000);
  const sent = sim.events.filter((e) =>
    e.type === "opsCommand" && e.command === "req_phone_verify_code"
  );
  assertEquals(sent.length, 1);
  assert(neverSentExit(sim));
});

Deno.test("ops: without an ops port, relogin reports why instead of hanging", async () => {
  await using sim = await startSim();
  await using client = clientFor({ port: sim.address.port });
  await client.whenReady(5_000);
  const error = await assertRejects(() => client.ops({ command: "relogin" }));
  assert(isClientError(error, "OPS_FAILED"), String(error));
  assertStringIncludes(error.message, "no operations port configured");
  const gaveUp = nextEvent(client, "gaveUp", () => true, 5_000);
  sim.pushGtwEvent(GtwEventType.EnableDeviceLock, "device lock");
  assertStringIncludes((await gaveUp).reason, "relogin");
});

Deno.test("handlers see the supervisor's events with types; whenReady times out with a reason", async () => {
  await using sim = await startSim();
  await sim.refuseConnections(5_000);
  await using client = clientFor(sim);
  const lost = deferred<string>();
  const off = client.on("lost", ({ reason }) => lost.resolve(reason));
  assertStringIncludes(await lost.promise, "ECONNREFUSED");
  off();
  const error = await assertRejects(() => client.whenReady(100));
  assert(isClientError(error, "TIMEOUT"), String(error));
  assertStringIncludes(error.message, "ECONNREFUSED");
  assertStringIncludes(String(client), "OpenDClient {");
});

Deno.test("reconnect budget: stops after maxAttempts, says why; start() tries again", async () => {
  await using sim = await startSim();
  await sim.refuseConnections(60_000);
  await using client = clientFor(sim, { reconnect: { maxAttempts: 2 } });
  const stopped = await nextEvent(client, "stopped");
  assertStringIncludes(stopped.reason, "gave up after 2 reconnect attempts");
  assertStringIncludes(stopped.reason, "ECONNREFUSED");
  const error = await assertRejects(() => client.whenReady());
  assert(isClientError(error, "STOPPED"), String(error));
  await sim.restart(10); // listening again, without the refusal
  await sim.waitFor("restarted");
  client.start();
  await client.whenReady(5_000);
});
