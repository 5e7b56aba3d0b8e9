/**
 * Generic request/response: typed and raw, matched by (protoID, serialNo),
 * and every way a request can fail, each with its ClientError code. Nothing
 * is ever left hanging.
 */
import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  ClientError,
  createOpenDClient,
  isClientError,
} from "../client/mod.ts";
import { decodeResponse, ProtoId, RetType } from "../codec/mod.ts";
import { FaultProxy } from "./_client_proxy.ts";
import { clientFor, nextEvent, startSim } from "./_client_helpers.ts";

Deno.test("request: typed in, typed out; raw bytes in, raw packet out", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const state = await client.request(ProtoId.GetGlobalState, { userID: "1" });
  assertEquals(state.programStatus?.type, 10);
  assertEquals(state.qotLogined, true);
  const alive = await client.request(ProtoId.KeepAlive, { time: 1 });
  assertGreater(alive.time, 1_600_000_000);
  // An unknown protocol, raw: the caller reads the body.
  const raw = await client.request(3004, new Uint8Array([0x0a, 0x00]));
  assertEquals(raw.protoId, 3004);
  const response = decodeResponse(ProtoId.KeepAlive, raw.body, raw.protoFmt);
  assertEquals(response.retType, RetType.Failed);
  assertStringIncludes(response.retMsg ?? "", "unknown protocol");
});

Deno.test("request: serial numbers start at time % 10000 and go up by one per request", async () => {
  await using sim = await startSim();
  const before = Math.floor(Date.now() / 1000) % 10_000;
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  await client.request(1004, { time: 1 });
  await client.request(1004, { time: 2 });
  const serials = sim.events.flatMap((e) =>
    e.type === "request" ? [e.serialNo] : []
  );
  assert(
    serials[0] === before || serials[0] === (before + 1) % 10_000,
    `first serial ${serials[0]} from ${before}`,
  );
  assertEquals(serials, serials.map((_, i) => serials[0] + i));
});

Deno.test("request in flight when the link drops: rejected with DISCONNECTED at once", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  sim.setKeepAliveAnswering(false); // this request will get no answer
  const inFlight = client.request(1004, { time: 1 }, { timeoutMs: 10_000 });
  await sim.waitFor("keepAliveIgnored");
  const started = Date.now();
  sim.dropAllConnections();
  const error = await assertRejects(() => inFlight);
  assert(isClientError(error, "DISCONNECTED"), String(error));
  assertEquals([error.protoId, typeof error.serialNo], [1004, "number"]);
  assertStringIncludes(error.message, "dropped while it was in flight");
  assert(Date.now() - started < 1_000, "not after the timeout");
  sim.setKeepAliveAnswering(true);
  await client.whenReady(5_000);
});

Deno.test("request with no answer: TIMEOUT", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  sim.setKeepAliveAnswering(false);
  const error = await assertRejects(() =>
    client.request(1004, { time: 1 }, { timeoutMs: 150 })
  );
  assert(isClientError(error, "TIMEOUT"), String(error));
  assertStringIncludes(error.message, "150 ms");
  sim.setKeepAliveAnswering(true);
});

Deno.test("request refused by OpenD: REQUEST_FAILED with retType and retMsg", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const error = await assertRejects(() =>
    client.request(ProtoId.Verification, { type: 2, op: 1 })
  );
  assertInstanceOf(error, ClientError);
  assertEquals(error.code, "REQUEST_FAILED");
  assertEquals(error.retType, -1);
  assertStringIncludes(error.retMsg ?? "", "no phone verification code");
});

Deno.test("request answered 'too frequent' by OpenD: REQUEST_FAILED says how long to wait", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const needsCode = nextEvent(client, "needsCode");
  sim.requireVerification("phone");
  await needsCode; // the supervisor requested the one SMS a minute allows
  const error = await assertRejects(() =>
    client.request(ProtoId.Verification, { type: 2, op: 1 })
  );
  assert(isClientError(error, "REQUEST_FAILED"), String(error));
  assertStringIncludes(error.retMsg ?? "", "too frequent");
  const wait = error.retryAfterMs ?? 0;
  assert(wait > 50_000 && wait <= 60_000, `retryAfterMs ${wait}`);
});

Deno.test("request whose response is spoilt on the way: PROTOCOL", async () => {
  await using sim = await startSim();
  await using proxy = await FaultProxy.start(sim.address.port);
  await using client = clientFor({ port: proxy.port });
  await client.whenReady(5_000);
  proxy.corrupt("toClient", ProtoId.GetGlobalState);
  const error = await assertRejects(() =>
    client.request(ProtoId.GetGlobalState, { userID: "0" })
  );
  assert(isClientError(error, "PROTOCOL"), String(error));
  assertStringIncludes(error.message, "SHA1_MISMATCH");
  // The link is fine: the next one goes through.
  assertEquals(
    Number((await client.request(1004, { time: 1 })).time) > 0,
    true,
  );
});

Deno.test("request before connecting, after closing, or malformed: rejected, never thrown", async () => {
  await using sim = await startSim();
  const client = clientFor(sim, { autoStart: false });
  const notYet = await assertRejects(() => client.request(1004, { time: 1 }));
  assert(isClientError(notYet, "NOT_CONNECTED"), String(notYet));
  const initConnect = await assertRejects(() =>
    client.request(1001 as 1002, { userID: "0" })
  );
  assert(isClientError(initConnect, "INVALID_ARGUMENT"));
  const untyped = await assertRejects(() =>
    client.request(3004 as 1002, { userID: "0" })
  );
  assert(isClientError(untyped, "INVALID_ARGUMENT"), String(untyped));
  const badMessage = await assertRejects(() =>
    client.request(1004, { time: "soon" } as unknown as { time: number })
  );
  assert(isClientError(badMessage, "INVALID_ARGUMENT"), String(badMessage));
  await client.close();
  const closed = await assertRejects(() => client.request(1004, { time: 1 }));
  assert(isClientError(closed, "CLOSED"), String(closed));
});

Deno.test("request in flight when the client closes: CLOSED", async () => {
  await using sim = await startSim();
  const client = clientFor(sim);
  await client.whenReady(5_000);
  sim.setKeepAliveAnswering(false);
  const inFlight = client.request(1004, { time: 1 }, { timeoutMs: 10_000 });
  await sim.waitFor("keepAliveIgnored");
  await client.close();
  const error = await assertRejects(() => inFlight);
  assert(isClientError(error, "CLOSED"), String(error));
});

Deno.test("options: nonsense is refused at once with INVALID_ARGUMENT", () => {
  for (
    const options of [
      { port: 0 },
      { port: 70_000 },
      { packetEncAlgo: "aes_cbc" as const }, // needs a key
      { protoFmt: 2 as 0 },
      { rsaPrivateKey: "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n" },
      { session: { silenceTimeoutMs: -1 } },
      { policy: { KickedOut: { reaction: "fight" as "park" } } },
    ]
  ) {
    let caught: unknown;
    try {
      createOpenDClient({ autoStart: false, ...options });
    } catch (error) {
      caught = error;
    }
    assert(
      isClientError(caught, "INVALID_ARGUMENT"),
      `${JSON.stringify(options)}: ${caught}`,
    );
    assert(!String(caught).includes("not a key"), "no key material echoed");
  }
});
