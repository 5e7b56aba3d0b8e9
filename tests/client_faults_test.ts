/**
 * The connection dropped in every phase (connecting, during InitConnect, in
 * the middle of a packet, online), garbage on the wire and a silent OpenD:
 * the client always converges to Ready once the simulator recovers.
 */
import {
  assert,
  assertEquals,
  assertGreater,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { createServer } from "node:net";
import {
  ClientError,
  ClientErrorCode,
  type PushPacket,
} from "../client/mod.ts";
import { generateRsaKeyPem, ProtoId } from "../codec/mod.ts";
import { FaultProxy } from "./_client_proxy.ts";
import { clientFor, EventLog, nextEvent, startSim } from "./_client_helpers.ts";

Deno.test("fault while connecting: the port refuses, backoff, Ready once it accepts", async () => {
  await using sim = await startSim();
  await sim.refuseConnections(300);
  await using client = clientFor(sim);
  const log = new EventLog(client);
  const refused = await nextEvent(client, "lost");
  assertStringIncludes(refused.reason, "ECONNREFUSED");
  await sim.waitFor("accepting", undefined, { timeoutMs: 2_000 });
  await client.whenReady(5_000);
  const delays = log.of("reconnecting").map((e) => e.delayMs);
  assertGreater(delays.length, 0);
  assert(delays.every((d) => d <= 200), "backoff capped at 200 ms");
});

Deno.test("fault while connecting: the API link and the ops port word a refused connection alike", async () => {
  // A port nobody listens on.
  const server = createServer();
  await new Promise<void>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));

  await using client = clientFor({ port, opsPort: port });
  const lost = await nextEvent(client, "lost");
  assertStringIncludes(lost.reason, "connection refused (ECONNREFUSED)");
  const error = await assertRejects(
    () => client.ops({ command: "request_highest_quote_right" }),
    ClientError,
  );
  assertEquals(error.code, ClientErrorCode.OpsFailed);
  assertStringIncludes(error.message, "connection refused (ECONNREFUSED)");
});

Deno.test("fault while connecting: accepted and closed at once, Ready once it accepts", async () => {
  await using sim = await startSim();
  await sim.refuseConnections(200, "accept-and-close");
  await using client = clientFor(sim);
  await nextEvent(client, "lost");
  await sim.waitFor("accepting", undefined, { timeoutMs: 2_000 });
  await client.whenReady(5_000);
});

Deno.test("fault during InitConnect: the request is cut on its way, reconnect, Ready", async () => {
  const pem = generateRsaKeyPem();
  await using sim = await startSim({ rsaPrivateKey: pem });
  await using proxy = await FaultProxy.start(sim.address.port);
  proxy.cutInside("toServer", 30, ProtoId.InitConnect);
  await using client = clientFor({ port: proxy.port }, { rsaPrivateKey: pem });
  const lost = await nextEvent(client, "lost");
  assertEquals(proxy.applied, ["cut toServer 1001 after 30"]);
  assert(
    /InitConnect|went down/.test(lost.reason),
    `lost while initializing: ${lost.reason}`,
  );
  await client.whenReady(5_000);
  const inits = sim.events.filter((e) => e.type === "initConnect");
  assertEquals(inits.length, 1, "only the second connection got through");
  assertEquals(client.connection?.seq, 2);
});

Deno.test("fault during InitConnect: the response is cut in the middle, reconnect, Ready", async () => {
  const pem = generateRsaKeyPem();
  await using sim = await startSim({ rsaPrivateKey: pem });
  await using proxy = await FaultProxy.start(sim.address.port);
  proxy.cutInside("toClient", 50, ProtoId.InitConnect);
  await using client = clientFor({ port: proxy.port }, { rsaPrivateKey: pem });
  const lost = await nextEvent(client, "lost");
  assertStringIncludes(lost.reason, "in the middle of a packet");
  await client.whenReady(5_000);
  assertEquals(client.connection?.encryption, "AES_CBC");
});

Deno.test("fault in the middle of a packet: a quote push is cut, the next connection starts clean", async () => {
  await using sim = await startSim();
  await using proxy = await FaultProxy.start(sim.address.port);
  await using client = clientFor({ port: proxy.port });
  const pushes: PushPacket[] = [];
  client.onPush(3005, (p) => void pushes.push(p));
  await client.whenReady(5_000);

  proxy.cutInside("toClient", 10, 3005);
  const lost = nextEvent(client, "lost");
  const ready = nextEvent(client, "ready");
  sim.pushPacket(3005, new Uint8Array(200).fill(7));
  assertStringIncludes(
    (await lost).reason,
    "in the middle of a packet (TRUNCATED, 54 bytes",
  );
  await ready;
  const body = new Uint8Array(120).map((_, i) => i);
  const delivered = new Promise<void>((resolve) => {
    const off = client.onPush(3005, () => (off(), resolve()));
  });
  sim.pushPacket(3005, body);
  await delivered;
  assertEquals(pushes.length, 1, "the cut packet never reached a handler");
  assertEquals(pushes[0].body, body);
});

Deno.test("fault online: every connection dropped, Ready again", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const lost = nextEvent(client, "lost");
  const ready = nextEvent(client, "ready");
  sim.dropAllConnections();
  assertStringIncludes((await lost).reason, "closed by OpenD");
  await ready;
  assertEquals(client.describe().ready, true);
  assertEquals(client.connection?.seq, 2);
});

Deno.test("fault online: garbage bytes are a framing error (BAD_MAGIC), Ready again", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const lost = nextEvent(client, "lost");
  const ready = nextEvent(client, "ready");
  sim.sendGarbage();
  assertStringIncludes((await lost).reason, "BAD_MAGIC");
  await ready;
});

Deno.test("fault online: OpenD goes silent, the link is declared dead, Ready again", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const lost = nextEvent(client, "lost");
  sim.setKeepAliveAnswering(false);
  const reason = (await lost).reason;
  assertStringIncludes(reason, "nothing received");
  sim.setKeepAliveAnswering(true);
  await sim.waitFor("initConnect", (e) => e.conn === 2);
  await client.whenReady(5_000);
});

Deno.test("fault online: a spoilt push body (SHA-1 mismatch) is dropped, the link stays", async () => {
  await using sim = await startSim();
  await using proxy = await FaultProxy.start(sim.address.port);
  await using client = clientFor({ port: proxy.port });
  const pushes: number[] = [];
  client.onPush(3005, (p) => void pushes.push(p.body[0]));
  await client.whenReady(5_000);
  proxy.corrupt("toClient", 3005);
  sim.pushPacket(3005, new Uint8Array([1, 1, 1]));
  sim.pushPacket(3005, new Uint8Array([2, 2, 2]));
  await client.request(1004, { time: 1 }); // behind both pushes
  assertEquals(pushes, [2]);
  assertEquals(proxy.applied, ["corrupt toClient 3005"]);
  assertEquals(client.connection?.seq, 1, "no reconnect");
});

Deno.test("fault online: a header that lies about a large body makes the link deaf; unanswered KeepAlives drop it, Ready again", async () => {
  await using sim = await startSim();
  await using proxy = await FaultProxy.start(sim.address.port);
  await using client = clientFor({ port: proxy.port }, {
    session: { maxKeepAliveMisses: 1, silenceTimeoutMs: 60_000 },
  });
  await client.whenReady(5_000);
  const lost = nextEvent(client, "lost");
  const ready = nextEvent(client, "ready");
  // "FT", a quote push's protoID, a 1 MiB body (well under maxBodyBytes):
  // every later KeepAlive answer disappears into that body.
  const header = new Uint8Array(44);
  const view = new DataView(header.buffer);
  header.set([0x46, 0x54]);
  view.setUint32(2, 3005, true);
  view.setUint32(12, 1 << 20, true);
  proxy.inject("toClient", header);
  assertStringIncludes((await lost).reason, "KeepAlive went unanswered");
  await ready;
  assertEquals(client.describe().ready, true);
  assertEquals(client.connection?.seq, 2);
});

Deno.test("fault online: with the default knobs, a deaf link is dead after the silence limit (whole packets, not bytes)", async () => {
  await using sim = await startSim();
  await using proxy = await FaultProxy.start(sim.address.port);
  await using client = clientFor({ port: proxy.port });
  await client.whenReady(5_000);
  const lost = nextEvent(client, "lost");
  const header = new Uint8Array(44);
  const view = new DataView(header.buffer);
  header.set([0x46, 0x54]);
  view.setUint32(2, 3005, true);
  view.setUint32(12, 1 << 20, true);
  proxy.inject("toClient", header);
  // Pushes keep bytes flowing into the lying body: they prove nothing.
  const pushing = setInterval(
    () => sim.pushPacket(3005, new Uint8Array(64)),
    50,
  );
  try {
    assert(
      /nothing received|KeepAlive went unanswered/.test((await lost).reason),
    );
  } finally {
    clearInterval(pushing);
  }
  await client.whenReady(5_000);
});
