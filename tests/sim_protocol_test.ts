import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";
import {
  decodeNotification,
  decodeResponse,
  encodePacket,
  encodeRequest,
  generateRsaKeyPem,
  GtwEventType,
  PacketEncAlgo,
  ProgramStatusType,
  ProtoFmt,
  ProtoId,
} from "../codec/mod.ts";
import { startSimulator } from "../sim/mod.ts";
import { delay, RawClient } from "./_sim_helpers.ts";

// One key for the file: generating RSA keys is slow.
const PEM = generateRsaKeyPem(1024);

/** Protobuf bytes written by hand, the way the Python SDK's serializer lays them out. */
function pythonSdkInitConnect(packetEncAlgo: number): Uint8Array {
  const text = (s: string) => [...new TextEncoder().encode(s)];
  const varint = (n: number) => {
    const out: number[] = [];
    let v = BigInt.asUintN(64, BigInt(n));
    do {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v > 0n ? byte | 0x80 : byte);
    } while (v > 0n);
    return out;
  };
  const c2s = [
    0x08,
    ...varint(300), // clientVer
    0x12,
    8,
    ...text("PyNormal"), // clientID
    0x18,
    1, // recvNotify
    0x20,
    ...varint(packetEncAlgo), // packetEncAlgo: -1 takes 10 bytes
    0x28,
    0, // pushProtoFmt
    0x32,
    6,
    ...text("Python"), // programmingLanguage
    0x38,
    0, // aiType: newer SDKs send a field this schema does not know
  ];
  return Uint8Array.from([0x0a, c2s.length, ...c2s]);
}

Deno.test("sim: a plain InitConnect as the Python SDK sends it, then GetGlobalState and KeepAlive", async () => {
  await using sim = await startSimulator({
    opsPort: false,
    keepAliveInterval: 7,
    loginUserId: "18446744073709551615",
  });
  const client = await RawClient.connect(sim.address.port);
  try {
    const body = pythonSdkInitConnect(-1);
    assertEquals(body.length, 2 + 3 + 10 + 2 + 11 + 2 + 8 + 2); // the 10-byte varint is in there
    const serialNo = client.send(ProtoId.InitConnect, body);
    const packet = await client.response(ProtoId.InitConnect, serialNo);
    assertEquals(packet.protoFmt, ProtoFmt.Protobuf);
    const init = decodeResponse(ProtoId.InitConnect, packet.body);
    assertEquals(init.retType, 0);
    const s2c = init.s2c!;
    assertEquals(s2c.serverVer, 905);
    assertEquals(s2c.loginUserID, "18446744073709551615");
    assertEquals(s2c.keepAliveInterval, 7);
    assertMatch(s2c.connAESKey, /^[0-9A-Za-z]{16}$/);
    assertEquals(s2c.aesCBCiv, undefined);
    assertEquals(s2c.userAttribution, 1);
    const opened = await sim.waitFor("initConnect");
    assertEquals(opened.clientID, "PyNormal");
    assertEquals(opened.programmingLanguage, "Python");
    assertEquals(opened.requestedEncAlgo, -1);
    assertEquals(opened.encryption, "none");

    const state = await client.request(ProtoId.GetGlobalState, {
      userID: s2c.loginUserID,
    });
    assertEquals(state.retType, 0);
    assertEquals(state.s2c?.programStatus, { type: ProgramStatusType.Ready });
    assertEquals(state.s2c?.connID, s2c.connID);
    assertEquals(state.s2c?.qotLogined, true);
    assertEquals(state.s2c?.marketHK, 0);
    // Bodies after InitConnect stay plaintext: the wire length is the body length.
    assertEquals(state.packet.bodyLen, state.packet.body.length);

    const before = Math.floor(Date.now() / 1000);
    const alive = await client.request(ProtoId.KeepAlive, { time: before });
    assertEquals(alive.retType, 0);
    assert(Math.abs(Number(alive.s2c!.time) - before) <= 2);
    assertEquals(
      sim.events.filter((e) => e.type === "request").map((e) =>
        e.type === "request" && e.protoId
      ),
      [1001, 1002, 1004],
    );
  } finally {
    await client.close();
  }
});

Deno.test("sim: connIDs increase per connection and are 64-bit", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const a = await RawClient.connect(sim.address.port);
  const b = await RawClient.connect(sim.address.port);
  try {
    const idA = BigInt((await a.initConnect()).s2c!.connID);
    const idB = BigInt((await b.initConnect()).s2c!.connID);
    assert(idB > idA);
    assert(idA > BigInt(Number.MAX_SAFE_INTEGER));
    assertEquals(sim.connections.map((c) => c.connId), [
      String(idA),
      String(idB),
    ]);
  } finally {
    await a.close();
    await b.close();
  }
});

for (
  const [label, algo, encryption, hasIv] of [
    ["AES_CBC", PacketEncAlgo.AES_CBC, "AES_CBC", true],
    ["FTAES_ECB", PacketEncAlgo.FTAES_ECB, "FTAES_ECB", false],
    [
      "AES_ECB (granted as FTAES_ECB)",
      PacketEncAlgo.AES_ECB,
      "FTAES_ECB",
      false,
    ],
  ] as const
) {
  Deno.test(`sim: RSA InitConnect with ${label}, then encrypted requests and pushes`, async () => {
    await using sim = await startSimulator({
      opsPort: false,
      rsaPrivateKey: PEM,
    });
    const client = await RawClient.connect(sim.address.port, { rsaPem: PEM });
    try {
      const init = await client.initConnect({ packetEncAlgo: algo });
      assertEquals(init.retType, 0);
      assertEquals(init.s2c!.aesCBCiv !== undefined, hasIv);
      if (hasIv) assertMatch(init.s2c!.aesCBCiv!, /^[0-9A-Za-z]{16}$/);
      // The InitConnect response itself was RSA: 128-byte chunks.
      const initPacket = client.received[0];
      assertEquals(initPacket.bodyLen % 128, 0);
      assertEquals((await sim.waitFor("initConnect")).encryption, encryption);

      const state = await client.request(ProtoId.GetGlobalState, {
        userID: init.s2c!.loginUserID,
      });
      assertEquals(state.s2c?.programStatus?.type, ProgramStatusType.Ready);
      assertEquals(state.packet.bodyLen % 16, 0);
      assertNotEquals(state.packet.bodyLen, state.packet.body.length);
      const alive = await client.request(ProtoId.KeepAlive, { time: 1 });
      assertEquals(alive.retType, 0);

      sim.pushGtwEvent(GtwEventType.KickedOut, "elsewhere");
      const push = await client.next((p) => p.protoId === ProtoId.Notify);
      assertEquals(push.bodyLen % 16, 0);
      const n = decodeNotification(push.body);
      assert(
        n.kind === "gtwEvent" && n.eventType === GtwEventType.KickedOut &&
          n.desc === "elsewhere",
      );
    } finally {
      await client.close();
    }
  });
}

Deno.test("sim: RSA configured, packetEncAlgo absent -> FTAES_ECB; -1 -> plaintext after the RSA InitConnect", async () => {
  await using sim = await startSimulator({
    opsPort: false,
    rsaPrivateKey: PEM,
  });
  const ecb = await RawClient.connect(sim.address.port, { rsaPem: PEM });
  const plain = await RawClient.connect(sim.address.port, { rsaPem: PEM });
  try {
    // No packetEncAlgo at all: written by hand, since the helper always sets one.
    const body = encodeRequest(ProtoId.InitConnect, {
      clientVer: 100,
      clientID: "bare",
    });
    const serialNo = ecb.send(ProtoId.InitConnect, body);
    const r = decodeResponse(
      ProtoId.InitConnect,
      (await ecb.response(ProtoId.InitConnect, serialNo)).body,
    );
    assertEquals(r.retType, 0);
    assertEquals(r.s2c!.aesCBCiv, undefined);
    const first = await sim.waitFor(
      "initConnect",
      (e) => e.clientID === "bare",
    );
    assertEquals(first.encryption, "FTAES_ECB");
    assertEquals(first.recvNotify, false);

    const init = await plain.initConnect({ packetEncAlgo: PacketEncAlgo.None });
    assertEquals(init.retType, 0);
    assertEquals(plain.received[0].bodyLen % 128, 0);
    const state = await plain.request(ProtoId.GetGlobalState, { userID: "1" });
    assertEquals(state.packet.bodyLen, state.packet.body.length);
  } finally {
    await ecb.close();
    await plain.close();
  }
});

Deno.test("sim: an InitConnect that does not decrypt gets retType -1 in plaintext and the connection closes", async () => {
  await using sim = await startSimulator({
    opsPort: false,
    rsaPrivateKey: PEM,
  });
  const client = await RawClient.connect(sim.address.port); // no key: sends plaintext
  try {
    const init = await client.initConnect();
    assertEquals(init.retType, -1);
    assertStringIncludes(init.retMsg ?? "", "InitConnect");
    await client.waitClosed();
    await sim.waitFor("initConnectFailed");
  } finally {
    await client.close();
  }
});

Deno.test("sim: a malformed InitConnect body gets retType -1 and the connection closes", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const client = await RawClient.connect(sim.address.port);
  try {
    const serialNo = client.send(
      ProtoId.InitConnect,
      Uint8Array.of(0x0a, 0x05, 0xff),
    );
    const r = decodeResponse(
      ProtoId.InitConnect,
      (await client.response(ProtoId.InitConnect, serialNo)).body,
    );
    assertEquals(r.retType, -1);
    assertStringIncludes(r.retMsg ?? "", "invalid InitConnect");
    await client.waitClosed();
  } finally {
    await client.close();
  }
});

Deno.test("sim: JSON requests are answered in JSON with numeric enums and 64-bit strings; JSON pushes", async () => {
  await using sim = await startSimulator({
    opsPort: false,
    rsaPrivateKey: PEM,
  });
  const client = await RawClient.connect(sim.address.port, { rsaPem: PEM });
  try {
    const init = await client.initConnect({
      fmt: ProtoFmt.Json,
      packetEncAlgo: PacketEncAlgo.AES_CBC,
      pushProtoFmt: ProtoFmt.Json,
    });
    assertEquals(init.retType, 0);
    assertEquals(client.received[0].protoFmt, ProtoFmt.Json);
    const text = new TextDecoder().decode(client.received[0].body);
    assertMatch(text, /"connID":"\d+"/);

    const state = await client.request(
      ProtoId.GetGlobalState,
      { userID: "1" },
      ProtoFmt.Json,
    );
    assertEquals(state.packet.protoFmt, ProtoFmt.Json);
    const json = JSON.parse(new TextDecoder().decode(state.packet.body));
    assertEquals(json.s2c.programStatus.type, 10);
    assertEquals(typeof json.s2c.connID, "string");
    assertEquals(typeof json.s2c.time, "string");

    sim.setProgramStatus(ProgramStatusType.NessaryDataMissing, "missing");
    const push = await client.next((p) => p.protoId === ProtoId.Notify);
    assertEquals(push.protoFmt, ProtoFmt.Json);
    const pushed = JSON.parse(new TextDecoder().decode(push.body));
    assertEquals(pushed.s2c.programStatus.programStatus.type, 8);
    assertEquals(pushed.s2c.type, 2);
  } finally {
    await client.close();
  }
});

Deno.test("sim: unknown protoIDs and requests before InitConnect get retType -1, serialNo echoed", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const client = await RawClient.connect(sim.address.port);
  try {
    const early = await client.request(ProtoId.GetGlobalState, { userID: "1" });
    assertEquals(early.retType, -1);
    assertEquals(early.retMsg, "InitConnect first");
    await client.initConnect();
    const serialNo = client.send(3004, Uint8Array.of(0x0a, 0x00));
    const packet = await client.response(3004, serialNo);
    const r = decodeResponse(ProtoId.KeepAlive, packet.body);
    assertEquals(r.retType, -1);
    assertEquals(r.retMsg, "unknown protocol 3004");
    const jsonSerial = client.send(
      2005,
      new TextEncoder().encode("{}"),
      ProtoFmt.Json,
    );
    const jsonPacket = await client.response(2005, jsonSerial);
    assertEquals(jsonPacket.protoFmt, ProtoFmt.Json);
    assertEquals(
      JSON.parse(new TextDecoder().decode(jsonPacket.body)).retType,
      -1,
    );
    // A malformed body of a known protocol is a failed request, not a dropped link.
    const bad = client.send(ProtoId.KeepAlive, Uint8Array.of(0xff));
    const badReply = decodeResponse(
      ProtoId.KeepAlive,
      (await client.response(ProtoId.KeepAlive, bad)).body,
    );
    assertEquals(badReply.retType, -1);
    assertStringIncludes(badReply.retMsg ?? "", "invalid request");
    assertEquals(
      (await client.request(ProtoId.KeepAlive, { time: 1 })).retType,
      0,
    );
  } finally {
    await client.close();
  }
});

Deno.test("sim: no push before the InitConnect response, none without recvNotify", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const eager = await RawClient.connect(sim.address.port);
  const quiet = await RawClient.connect(sim.address.port);
  try {
    await sim.waitFor("connectionOpened", (e) => e.conn === 2);
    assertEquals(sim.pushGtwEvent(GtwEventType.NetCfgMissing), 0);
    sim.setProgramStatus(ProgramStatusType.Loging);
    await delay(50);
    assertEquals(eager.received.length, 0);

    await eager.initConnect();
    await quiet.initConnect({ recvNotify: false });
    sim.setProgramStatus(ProgramStatusType.Ready);
    const push = await eager.next((p) => p.protoId === ProtoId.Notify);
    assertEquals(eager.received[0].protoId, ProtoId.InitConnect);
    assertEquals(decodeNotification(push.body).kind, "programStatus");
    // Raw pushes (quotes) go to every initialized connection.
    assertEquals(sim.pushPacket(3005, Uint8Array.of(1, 2, 3)), 2);
    const quote = await quiet.next((p) => p.protoId === 3005);
    assertEquals([...quote.body], [1, 2, 3]);
    assertEquals(
      quiet.received.filter((p) => p.protoId === ProtoId.Notify).length,
      0,
    );
  } finally {
    await eager.close();
    await quiet.close();
  }
});

Deno.test("sim: a second InitConnect on a connection is refused without changing keys", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const client = await RawClient.connect(sim.address.port);
  try {
    assertEquals((await client.initConnect()).retType, 0);
    const again = await client.initConnect();
    assertEquals(again.retType, -1);
    assertEquals(
      (await client.request(ProtoId.KeepAlive, { time: 1 })).retType,
      0,
    );
  } finally {
    await client.close();
  }
});

Deno.test("sim: a client sending garbage is disconnected and the simulator carries on", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const rude = await RawClient.connect(sim.address.port);
  try {
    rude.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await rude.waitClosed();
    const bad = await sim.waitFor("badPacket");
    assertEquals(bad.code, "BAD_MAGIC");
    await sim.waitFor(
      "connectionClosed",
      (e) => e.reason.includes("BAD_MAGIC"),
    );
  } finally {
    await rude.close();
  }
  // A header with a wrong SHA-1 is just as fatal for its connection.
  const liar = await RawClient.connect(sim.address.port);
  try {
    await liar.initConnect();
    const packet = encodePacket({
      protoId: ProtoId.KeepAlive,
      serialNo: 9,
      body: encodeRequest(ProtoId.KeepAlive, { time: 1 }),
    });
    packet[20] ^= 0xff;
    liar.socket.write(packet);
    await liar.waitClosed();
    await sim.waitFor("badPacket", (e) => e.code === "SHA1_MISMATCH");
  } finally {
    await liar.close();
  }
  const polite = await RawClient.connect(sim.address.port);
  try {
    assertEquals((await polite.initConnect()).retType, 0);
  } finally {
    await polite.close();
  }
});

Deno.test("sim: a connection that sends nothing for idleTimeoutMs is closed; keep-alives keep it open", async () => {
  // The chatty side sends every 50 ms against a 1 s limit: a loaded machine
  // may stretch a gap several times over and still not close it.
  await using sim = await startSimulator({
    opsPort: false,
    idleTimeoutMs: 1_000,
  });
  const silent = await RawClient.connect(sim.address.port);
  const chatty = await RawClient.connect(sim.address.port);
  try {
    await chatty.initConnect();
    for (let i = 0; !silent.isClosed && i < 200; i++) {
      await delay(50);
      await chatty.request(ProtoId.KeepAlive, { time: i });
    }
    await silent.waitClosed(1000);
    assert(!chatty.isClosed);
    const idle = await sim.waitFor("idleTimeout");
    assertEquals(idle.idleMs, 1_000);
    assertEquals(
      sim.events.filter((e) => e.type === "idleTimeout").length,
      1,
      "only the silent connection timed out",
    );
  } finally {
    await silent.close();
    await chatty.close();
  }
});
