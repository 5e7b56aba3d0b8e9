import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  apiQuotaNotification,
  decodeNotification,
  generateRsaKeyPem,
  GtwEventType,
  PacketEncAlgo,
  ProgramStatusType,
  ProtoId,
  type SystemNotification,
} from "../codec/mod.ts";
import { type OpenDSimulator, startSimulator } from "../sim/mod.ts";
import { delay, OpsClient, probeConnect, RawClient } from "./_sim_helpers.ts";

async function online(sim: OpenDSimulator): Promise<RawClient> {
  const client = await RawClient.connect(sim.address.port);
  await client.initConnect();
  return client;
}

function notifications(client: RawClient): SystemNotification[] {
  return client.received.filter((p) => p.protoId === ProtoId.Notify).map((p) =>
    decodeNotification(p.body)
  );
}

Deno.test("sim fault: dropAllConnections closes every API socket", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const a = await online(sim);
  const b = await RawClient.connect(sim.address.port); // not even initialized
  try {
    await sim.waitFor("connectionOpened", (e) => e.conn === 2);
    assertEquals(sim.dropAllConnections(), 2);
    await a.waitClosed();
    await b.waitClosed();
    await sim.waitFor(
      "connectionClosed",
      (e) => e.conn === 2 && e.reason === "dropped by the simulator",
    );
    assertEquals(sim.connections, []);
    // And it still accepts new ones.
    const c = await online(sim);
    await c.close();
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("sim fault: refuseConnections closes the port for a while, keeping open connections", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const kept = await online(sim);
  try {
    await sim.refuseConnections(300);
    assertEquals(await probeConnect(sim.address.port), "refused");
    assertEquals(
      (await kept.request(ProtoId.KeepAlive, { time: 1 })).retType,
      0,
    );
    await sim.waitFor("accepting", undefined, { timeoutMs: 2000 });
    const back = await online(sim);
    await back.close();
  } finally {
    await kept.close();
  }
});

Deno.test("sim fault: refuseConnections in accept-and-close mode", async () => {
  await using sim = await startSimulator({ opsPort: false });
  await sim.refuseConnections(300, "accept-and-close");
  assertEquals(await probeConnect(sim.address.port), "closed");
  await sim.waitFor("connectionRefused");
  await sim.waitFor("accepting", undefined, { timeoutMs: 2000 });
  assertEquals(await probeConnect(sim.address.port, 100), "open");
});

Deno.test("sim fault: keep-alive answering off -> no reply; on again -> replies", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const client = await online(sim);
  try {
    sim.setKeepAliveAnswering(false);
    await assertRejects(
      () => client.request(ProtoId.KeepAlive, { time: 1 }, 0, 300),
      Error,
      "timed out",
    );
    await sim.waitFor("keepAliveIgnored");
    // Other requests are still answered: only keep-alives go unanswered.
    assertEquals(
      (await client.request(ProtoId.GetGlobalState, { userID: "1" })).retType,
      0,
    );
    sim.setKeepAliveAnswering(true);
    assertEquals(
      (await client.request(ProtoId.KeepAlive, { time: 2 })).retType,
      0,
    );
  } finally {
    await client.close();
  }
});

Deno.test("sim fault: sendGarbage makes the client's FrameDecoder report BAD_MAGIC", async () => {
  const pem = generateRsaKeyPem(1024);
  await using sim = await startSimulator({
    opsPort: false,
    rsaPrivateKey: pem,
  });
  const client = await RawClient.connect(sim.address.port, { rsaPem: pem });
  try {
    await client.initConnect({ packetEncAlgo: PacketEncAlgo.AES_CBC });
    assertEquals(sim.sendGarbage(), 1);
    const error = await client.errors.take(() => true, 2000, "a decoder error");
    assertEquals(error.code, "BAD_MAGIC");
    await sim.waitFor("garbageSent", (e) => e.recipients === 1);
  } finally {
    await client.close();
  }
});

Deno.test("sim fault: setProgramStatus, pushGtwEvent and pushNotification reach the client", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const client = await online(sim);
  try {
    sim.setProgramStatus(ProgramStatusType.UnAgreeDisclaimer, "agree first");
    sim.pushGtwEvent(GtwEventType.TradePwdChanged, "trade password changed");
    sim.pushNotification(apiQuotaNotification(100, 200));
    await client.next((p) => p.protoId === ProtoId.Notify);
    await client.next((p) => p.protoId === ProtoId.Notify);
    await client.next((p) => p.protoId === ProtoId.Notify);
    const [status, event, quota] = notifications(client);
    assert(status.kind === "programStatus");
    assertEquals([status.status, status.strExtDesc], [
      ProgramStatusType.UnAgreeDisclaimer,
      "agree first",
    ]);
    assert(event.kind === "gtwEvent");
    assertEquals([event.eventType, event.desc], [
      GtwEventType.TradePwdChanged,
      "trade password changed",
    ]);
    assert(quota.kind === "apiQuota");
    assertEquals(quota.subQuota, 100);
    // Pushes carry fresh serialNos that match no request.
    const serials = client.received.filter((p) => p.protoId === ProtoId.Notify)
      .map((p) => p.serialNo);
    assertEquals(new Set(serials).size, 3);
    const state = await client.request(ProtoId.GetGlobalState, { userID: "1" });
    assertEquals(state.s2c?.programStatus, {
      type: ProgramStatusType.UnAgreeDisclaimer,
      strExtDesc: "agree first",
    });
  } finally {
    await client.close();
  }
});

Deno.test("sim fault: forceLogout pushes the event and status, drops, and ForceLogout is seen after reconnecting", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const client = await online(sim);
  try {
    assertEquals(
      sim.forceLogout(GtwEventType.KickedOut, "logged in elsewhere"),
      1,
    );
    await client.waitClosed();
    const [event, status] = notifications(client);
    assert(
      event.kind === "gtwEvent" && event.eventType === GtwEventType.KickedOut,
    );
    assert(
      status.kind === "programStatus" &&
        status.status === ProgramStatusType.ForceLogout,
    );
    const again = await online(sim);
    const state = await again.request(ProtoId.GetGlobalState, { userID: "1" });
    assertEquals(state.s2c?.programStatus, {
      type: ProgramStatusType.ForceLogout,
      strExtDesc: "logged in elsewhere",
    });
    assertEquals(state.s2c?.qotLogined, false);
    await again.close();
  } finally {
    await client.close();
  }
});

Deno.test("sim fault: restart drops everything, refuses both ports, comes back Loging -> Ready", async () => {
  await using sim = await startSimulator({ loginDelayMs: 400 });
  const client = await online(sim);
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    await sim.restart(300);
    await client.waitClosed();
    await ops.closed;
    assertEquals(await probeConnect(sim.address.port), "refused");
    assertEquals(await probeConnect(sim.address.opsPort!), "refused");
    await sim.waitFor("restarted", undefined, { timeoutMs: 2000 });
    const back = await online(sim);
    try {
      const state = await back.request(ProtoId.GetGlobalState, { userID: "1" });
      assertEquals(state.s2c?.programStatus?.type, ProgramStatusType.Loging);
      const push = await back.next((p) => p.protoId === ProtoId.Notify);
      const n = decodeNotification(push.body);
      assert(
        n.kind === "programStatus" && n.status === ProgramStatusType.Ready,
      );
      const ops2 = await OpsClient.connect(sim.address.opsPort!);
      assertEquals(
        await ops2.command("exit"),
        "exit: REFUSED, this simulator does not stop on request",
      );
      await ops2.close();
    } finally {
      await back.close();
    }
  } finally {
    await client.close();
    await ops.close();
  }
});

Deno.test("sim: close releases everything, rejects pending waits, and is idempotent", async () => {
  const sim = await startSimulator();
  const client = await online(sim);
  const ops = await OpsClient.connect(sim.address.opsPort!);
  await sim.refuseConnections(10_000, "accept-and-close");
  sim.runScenario([{ afterMs: 60_000, action: "dropAllConnections" }]);
  const pending = sim.waitFor("restarted", undefined, { timeoutMs: 60_000 });
  await sim.close();
  await assertRejects(() => pending, Error, "simulator closed");
  await client.closed;
  await ops.closed;
  await sim.close();
  assert(sim.isClosed);
  assertEquals(sim.events.at(-1)?.type, "closed");
  assertEquals(sim.dropAllConnections(), 0);
  await assertRejects(
    () => sim.waitFor("listening", (e) => e.port === -1),
    Error,
    "closed",
  );
});

Deno.test("sim: startSimulator rejects a port in use and leaks nothing", async () => {
  await using first = await startSimulator({ opsPort: false });
  await assertRejects(() =>
    startSimulator({ port: first.address.port, opsPort: false })
  );
  await delay(1);
});
