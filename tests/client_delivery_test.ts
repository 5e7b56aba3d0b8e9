/**
 * Pushes reach `onPush` untouched and in arrival order with responses; a
 * slow push handler holds back only what is behind it, never keep-alives.
 */
import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertLess,
} from "@std/assert";
import {
  ClientError,
  ClientErrorCode,
  type PushPacket,
} from "../client/mod.ts";
import {
  decodeNotification,
  GtwEventType,
  ProgramStatusType,
  ProtoId,
} from "../codec/mod.ts";
import { FaultProxy } from "./_client_proxy.ts";
import {
  clientFor,
  deferred,
  nextEvent,
  quietFor,
  startSim,
} from "./_client_helpers.ts";

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

Deno.test("delivery: a quote push arrives untouched, with its format and serialNo", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const got = deferred<PushPacket>();
  client.onPush(3005, (push) => got.resolve(push));
  const body = new TextEncoder().encode('{"s2c":{"basicQotList":[]}}');
  sim.pushPacket(3005, body, 1);
  const push = await got.promise;
  assertEquals(push.protoId, 3005);
  assertEquals(push.protoFmt, 1);
  assertEquals(push.body, body);
  assertEquals(push.body.constructor, Uint8Array);
  assertEquals(typeof push.serialNo, "number");
});

Deno.test("delivery: responses and pushes in arrival order; an async handler is awaited first", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const order: string[] = [];
  const releaseA = deferred();
  const pushed2 = deferred();
  client.onPush(3005, async ({ body }) => {
    order.push(`push ${body[0]} start`);
    if (body[0] === 1) await releaseA.promise;
    order.push(`push ${body[0]} end`);
    if (body[0] === 2) pushed2.resolve();
  });

  // On the wire: push 1, then the response, then push 2 (the simulator
  // answers the request before push 2 is written).
  sim.pushPacket(3005, bytes(1));
  const since = sim.mark();
  const response = client.request(1004, { time: 1 }).then(() => {
    order.push("response");
  });
  await sim.waitFor("request", (e) => e.protoId === 1004, { since });
  sim.pushPacket(3005, bytes(2));

  // Push 1's handler holds the queue: the response waits behind it. (A
  // short wait can only prove that nothing overtook it.)
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(order, ["push 1 start"]);
  releaseA.resolve();
  await response;
  await pushed2.promise;
  assertEquals(order, [
    "push 1 start",
    "push 1 end",
    "response",
    "push 2 start",
    "push 2 end",
  ]);
});

Deno.test("delivery: a slow push handler does not stop keep-alives or the supervisor", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const release = deferred();
  const entered = deferred();
  client.onPush(3005, async () => {
    entered.resolve();
    await release.promise; // stuck until the test says so
  });
  sim.pushPacket(3005, bytes(1));
  await entered.promise;
  const since = sim.mark();
  // Three keep-alive round trips (one every 800 ms) while the handler is
  // stuck. A KeepAlive goes out only once the previous one was answered (or
  // after the 2 s request timeout), so three within 3.5 s means their
  // answers were read while the handler was stuck.
  const deadline = Date.now() + 3_500;
  let after = since;
  for (let i = 0; i < 3; i++) {
    const keepAlive = await sim.waitFor("request", (e) => e.protoId === 1004, {
      since: after,
      timeoutMs: Math.max(1, deadline - Date.now()),
    });
    after = keepAlive.seq + 1;
  }
  const keepAlives = sim.events.filter((e) =>
    e.type === "request" && e.protoId === 1004 && e.seq >= since
  );
  assertGreaterOrEqual(keepAlives.length, 3);
  // The supervisor also follows OpenD meanwhile (Notify is not queued).
  const status = deferred();
  const off = client.on("notification", () => status.resolve());
  sim.setProgramStatus(2);
  await status.promise;
  off();
  assertEquals(client.describe().gateway, "Loging");
  assertEquals(client.describe().link, "online");
  release.resolve();
});

Deno.test("delivery: Notify feeds the supervisor and reaches onPush(1003) subscribers", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const raw = deferred<PushPacket>();
  client.onPush(ProtoId.Notify, (push) => raw.resolve(push));
  const told = deferred<string>();
  client.on("needsPerson", ({ reason }) => told.resolve(reason));
  sim.pushGtwEvent(GtwEventType.TradePwdChanged, "trade password changed");
  const push = await raw.promise;
  const notification = decodeNotification(push.body, push.protoFmt);
  assertEquals(notification.kind, "gtwEvent");
  assert((await told.promise).includes("TradePwdChanged"));
  assertEquals(
    client.getSnapshot().context.gateway.lastEvent?.eventType,
    GtwEventType.TradePwdChanged,
  );
});

Deno.test("delivery: a throwing handler is reported, the others still run; unsubscribe works", async () => {
  await using sim = await startSim();
  const errors: unknown[] = [];
  await using client = clientFor(sim, {
    onHandlerError: (error, context) => errors.push([context, error]),
  });
  await client.whenReady(5_000);
  const seen: string[] = [];
  client.onPush(3005, () => {
    throw new Error("boom");
  });
  client.onPush(3005, () => Promise.reject(new Error("async boom")));
  const off = client.onPush(3005, () => void seen.push("removed"));
  client.onPush("*", ({ protoId }) => void seen.push(`any ${protoId}`));
  off();
  client.on("ready", () => {
    throw new Error("event boom");
  });
  const done = deferred();
  client.onPush("*", () => done.resolve()); // the last handler to run
  sim.pushPacket(3005, bytes(9));
  await done.promise;
  assertEquals(seen, ["any 3005"]);
  assertEquals(errors.length, 2);
  assertEquals(
    errors.map((e) => (e as [{ source: string }])[0].source),
    ["push", "push"],
  );
});

Deno.test("delivery: the supervisor sees its responses and Notify in wire order (a GetGlobalState answer never overrides a newer push)", async () => {
  await using sim = await startSim({ programStatus: ProgramStatusType.Loging });
  await using proxy = await FaultProxy.start(sim.address.port);
  // GetGlobalState's answer (Loging) is held back; Ready is pushed behind
  // it; both then arrive in one chunk.
  proxy.holdFrom("toClient", ProtoId.GetGlobalState);
  await using client = clientFor({ port: proxy.port });
  const ready = nextEvent(client, "ready");
  await sim.waitFor("request", (e) => e.protoId === ProtoId.GetGlobalState);
  sim.setProgramStatus(ProgramStatusType.Ready);
  await proxy.holding(2); // the answer, then the push
  proxy.release();
  await ready;
  assertEquals(proxy.applied, ["hold toClient 1002"]);
  assertEquals(client.describe().gateway, "Ready");
});

Deno.test("delivery: a request's timeoutMs holds when a push handler ahead of its response never settles", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const entered = deferred();
  client.onPush(3005, () => {
    entered.resolve();
    return new Promise<void>(() => {}); // never settles
  });
  sim.pushPacket(3005, bytes(1));
  await entered.promise;
  const since = sim.mark();
  const started = Date.now();
  const outcome = client.request(1002, { userID: "0" }, { timeoutMs: 300 })
    .then(
      () => "resolved",
      (error: unknown) => error,
    );
  // The response does arrive (OpenD answered) ...
  await sim.waitFor("request", (e) => e.protoId === 1002, { since });
  // ... but it waits behind the stuck handler: the timeout still holds.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const error = await Promise.race([
    outcome,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve("still pending after 3 s"), 3_000);
    }),
  ]);
  clearTimeout(timer);
  assert(error instanceof ClientError, String(error));
  assertEquals(error.code, ClientErrorCode.Timeout);
  assertEquals(error.protoId, 1002);
  assert(error.message.includes("300 ms"), error.message);
  assertLess(Date.now() - started, 2_000);
});

Deno.test("delivery: a response delivered in time is not failed by its timeout later", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const release = deferred();
  const entered = deferred();
  client.onPush(3005, async () => {
    entered.resolve();
    await release.promise;
  });
  sim.pushPacket(3005, bytes(1));
  await entered.promise;
  const since = sim.mark();
  const response = client.request(1002, { userID: "0" }, { timeoutMs: 400 });
  await sim.waitFor("request", (e) => e.protoId === 1002, { since });
  await quietFor(100);
  release.resolve(); // the handler settles before the timeout: delivered
  const state = await response;
  assertEquals(typeof state.qotLogined, "boolean");
  await quietFor(500); // past the timeout: nothing left to fire
});
