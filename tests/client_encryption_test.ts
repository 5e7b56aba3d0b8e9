/**
 * Encryption and body formats, end to end: RSA with FTAES_ECB, RSA with
 * AES_CBC, RSA with plaintext bodies, no key at all, and JSON bodies.
 */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { isClientError, type PushPacket } from "../client/mod.ts";
import {
  decodeNotification,
  generateRsaKeyPem,
  GtwEventType,
  PacketEncAlgo,
  ProtoFmt,
} from "../codec/mod.ts";
import type { OpenDSimulator } from "../sim/mod.ts";
import type { OpenDClient } from "../client/mod.ts";
import { clientFor, nextEvent, startSim } from "./_client_helpers.ts";

const PEM = generateRsaKeyPem(1024);

/** A request, a quote push and a Notify all make it through. */
async function exercise(sim: OpenDSimulator, client: OpenDClient) {
  const pushes: PushPacket[] = [];
  const offQuote = client.onPush(3005, (p) => void pushes.push(p));
  const offNotify = client.onPush(1003, (p) => void pushes.push(p));
  const state = await client.request(1002, { userID: "0" });
  assertEquals(state.programStatus?.type, 10);
  const body = new Uint8Array(100).map((_, i) => i);
  const gotQuote = new Promise<void>((resolve) => {
    const off = client.onPush(3005, () => (off(), resolve()));
  });
  const notified = nextEvent(client, "notification");
  sim.pushPacket(3005, body);
  sim.pushGtwEvent(GtwEventType.NetCfgMissing, "no net cfg");
  await gotQuote;
  const { notification } = await notified;
  assertEquals(notification.kind, "gtwEvent");
  await client.request(1004, { time: 1 }); // behind the pushes on the queue
  offQuote();
  offNotify();
  assertEquals(pushes.map((p) => p.protoId), [3005, 1003]);
  assertEquals(pushes[0].body, body);
  return pushes;
}

Deno.test("encryption: RSA + AES_CBC (the default with a key)", async () => {
  await using sim = await startSim({ rsaPrivateKey: PEM });
  await using client = clientFor(sim, { rsaPrivateKey: PEM });
  await client.whenReady(5_000);
  const init = await sim.waitFor("initConnect");
  assertEquals(init.requestedEncAlgo, PacketEncAlgo.AES_CBC);
  assertEquals(init.encryption, "AES_CBC");
  assertEquals(init.programmingLanguage, "TypeScript");
  assertEquals(init.recvNotify, true);
  assertEquals(client.connection?.encryption, "AES_CBC");
  await exercise(sim, client);
});

Deno.test("encryption: RSA + FTAES_ECB", async () => {
  await using sim = await startSim({ rsaPrivateKey: PEM });
  await using client = clientFor(sim, {
    rsaPrivateKey: PEM,
    packetEncAlgo: "ftaes_ecb",
  });
  await client.whenReady(5_000);
  const init = await sim.waitFor("initConnect");
  assertEquals(init.requestedEncAlgo, PacketEncAlgo.FTAES_ECB);
  assertEquals(init.encryption, "FTAES_ECB");
  assertEquals(client.connection?.encryption, "FTAES_ECB");
  await exercise(sim, client);
});

Deno.test("encryption: RSA for InitConnect only, plaintext bodies after", async () => {
  await using sim = await startSim({ rsaPrivateKey: PEM });
  await using client = clientFor(sim, {
    rsaPrivateKey: PEM,
    packetEncAlgo: "none",
  });
  await client.whenReady(5_000);
  const init = await sim.waitFor("initConnect");
  assertEquals(init.requestedEncAlgo, PacketEncAlgo.None);
  assertEquals(init.encryption, "none");
  await exercise(sim, client);
});

Deno.test("encryption: none (no key on either side)", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const init = await sim.waitFor("initConnect");
  assertEquals(init.requestedEncAlgo, PacketEncAlgo.None);
  assertEquals(init.encryption, "none");
  assertEquals(init.fmt, ProtoFmt.Protobuf);
  await exercise(sim, client);
});

Deno.test("body format: JSON requests and JSON pushes, encrypted", async () => {
  await using sim = await startSim({ rsaPrivateKey: PEM });
  await using client = clientFor(sim, { rsaPrivateKey: PEM, protoFmt: 1 });
  await client.whenReady(5_000);
  const init = await sim.waitFor("initConnect");
  assertEquals([init.fmt, init.pushProtoFmt], [1, 1]);
  const pushes = await exercise(sim, client);
  assertEquals(pushes[1].protoFmt, ProtoFmt.Json);
  assertEquals(decodeNotification(pushes[1].body, 1).kind, "gtwEvent");
  const requests = sim.events.filter((e) => e.type === "request");
  assert(requests.length >= 4);
  assert(requests.every((e) => e.fmt === 1), "every request in JSON");
});

Deno.test("body format: protobuf requests, JSON pushes", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim, { pushProtoFmt: 1 });
  await client.whenReady(5_000);
  const init = await sim.waitFor("initConnect");
  assertEquals([init.fmt, init.pushProtoFmt], [0, 1]);
  const ready = nextEvent(client, "ready");
  sim.setProgramStatus(2);
  sim.setProgramStatus(10);
  await ready; // the supervisor read the JSON Notify pushes
});

Deno.test("encryption: a wrong RSA key is reported, and retried with backoff", async () => {
  await using sim = await startSim({ rsaPrivateKey: PEM });
  await using client = clientFor(sim, { rsaPrivateKey: generateRsaKeyPem() });
  const lost = await nextEvent(client, "lost");
  assertStringIncludes(lost.reason, "InitConnect failed");
  assertStringIncludes(lost.reason, "RSA key");
  await nextEvent(client, "reconnecting");
  await sim.waitFor("initConnectFailed", (e) => e.conn === 2);
  assertEquals(client.describe().ready, false);
  const error = await assertRejects(() => client.request(1004, { time: 1 }));
  assert(isClientError(error, "NOT_CONNECTED"), String(error));
});

Deno.test("encryption: the RSA key never shows in inspect, JSON or errors", async () => {
  await using sim = await startSim({ rsaPrivateKey: PEM });
  await using client = clientFor(sim, { rsaPrivateKey: PEM });
  await client.whenReady(5_000);
  const keyLine = PEM.split("\n")[1];
  const seen = [
    Deno.inspect(client, { depth: 10, showHidden: true }),
    JSON.stringify(client),
    JSON.stringify(client.getSnapshot()),
    String(client),
  ].join("\n");
  assert(!seen.includes(keyLine));
  assert(!seen.includes("PRIVATE KEY"));
});
