/**
 * The simulator's WebSocket port seen byte by byte through a plain
 * WebSocket client: framing, faults, malformed frames, the key, and the
 * controls every TCP client is subject to.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import {
  CodecErrorCode,
  decodeInitWebSocketResponse,
  decodeNotification,
  decodeResponse,
  decodeWsResponse,
  encodeInitWebSocketRequest,
  encodeRequest,
  encodeWsRequest,
  GtwEventType,
  ProtoId,
  webSocketKeyDigest,
  type WsResponseFrame,
} from "../codec/mod.ts";
import { type OpenDSimulator, startSimulator } from "../sim/mod.ts";
import { connect } from "node:net";
import { OpsClient } from "./_sim_helpers.ts";

const FAST = { opsPort: false, loginDelayMs: 10 } as const;

/** A bare WebSocket client that speaks frames, not an SDK. */
class RawWs {
  readonly received: Uint8Array[] = [];
  readonly closed: Promise<CloseEvent>;
  readonly #ws: WebSocket;
  #wake: (() => void)[] = [];
  #section = 100n;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      this.received.push(new Uint8Array(e.data as ArrayBuffer));
      for (const wake of this.#wake.splice(0)) wake();
    };
    this.closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        resolve(e);
        for (const wake of this.#wake.splice(0)) wake();
      };
    });
  }

  static async open(port: number): Promise<RawWs> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const raw = new RawWs(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("could not connect"));
    });
    return raw;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  send(bytes: Uint8Array | string): void {
    this.#ws.send(bytes);
  }

  /** Sends a request; returns its section. */
  request(cmd: number, body: Uint8Array = new Uint8Array()): bigint {
    const section = this.#section++;
    this.send(encodeWsRequest({ cmd, section, body }));
    return section;
  }

  /** The `index`-th message received, waiting for it (rejects when closed first). */
  async message(index: number, timeoutMs = 5000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length <= index) {
      if (!this.isOpen && this.#ws.readyState === WebSocket.CLOSED) {
        throw new Error(`closed after ${this.received.length} message(s)`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no message in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#wake.push(r);
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
    return this.received[index];
  }

  async frame(index: number): Promise<WsResponseFrame> {
    return decodeWsResponse(await this.message(index));
  }

  /** Logs in with InitWebSocket (optionally with a key); returns the answer frame. */
  async init(key?: string): Promise<WsResponseFrame> {
    const index = this.received.length;
    this.request(
      1,
      encodeInitWebSocketRequest({
        websocketKey: key ?? "",
        programmingLanguage: "JavaScript",
      }),
    );
    return await this.frame(index);
  }

  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await this.closed;
  }
}

async function loggedIn(sim: OpenDSimulator): Promise<RawWs> {
  const ws = await RawWs.open(sim.address.wsPort!);
  const answer = await ws.init();
  assertEquals(answer.error, 0);
  return ws;
}

Deno.test("ws port: InitWebSocket logs in; requests echo their section; pushes carry section 0", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });
  const ws = await RawWs.open(sim.address.wsPort!);
  try {
    // Before InitWebSocket, a request is answered with a failure.
    const early = ws.request(
      ProtoId.KeepAlive,
      encodeRequest(1004, { time: 1 }),
    );
    const refused = await ws.frame(0);
    assertEquals(refused.section, early);
    assertEquals(
      decodeResponse(1004, refused.body).retMsg,
      "InitWebSocket first",
    );

    const answer = await ws.init();
    assertEquals([answer.cmd, answer.error, answer.errmsg], [1, 0, ""]);
    const init = decodeInitWebSocketResponse(answer.body);
    assertEquals(init.retType, 0);
    assertEquals(init.s2c?.connID, sim.connections[0].connId);

    const section = ws.request(
      ProtoId.GetGlobalState,
      encodeRequest(1002, { userID: "0" }),
    );
    const state = await ws.frame(2);
    assertEquals([state.cmd, state.section, state.error], [1002, section, 0]);
    assertEquals(
      decodeResponse(1002, state.body).s2c?.connID,
      init.s2c?.connID,
    );

    assertEquals(sim.pushGtwEvent(GtwEventType.KickedOut, "elsewhere"), 1);
    const push = await ws.frame(3);
    assertEquals([push.cmd, push.section], [1003, 0n]);
    const notification = decodeNotification(push.body);
    assertEquals(notification.kind, "gtwEvent");
  } finally {
    await ws.close();
  }
});

Deno.test("ws port: WebSocket clients are never dropped for idleness, unlike TCP ones", async () => {
  await using sim = await startSimulator({
    ...FAST,
    wsPort: 0,
    idleTimeoutMs: 30,
  });
  const ws = await loggedIn(sim);
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert(ws.isOpen);
    assertEquals(sim.events.filter((e) => e.type === "idleTimeout"), []);
    assertEquals(sim.connections.map((c) => c.transport), ["ws"]);
  } finally {
    await ws.close();
  }
});

Deno.test("ws port: malformed frames get a typed error, a clean close, and the simulator carries on", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });
  const good = encodeWsRequest({ cmd: 1004, section: 1 });
  const wrongSign = good.slice();
  wrongSign.set(new TextEncoder().encode("FT"), 0);
  const cases: [string, Uint8Array | string, string, number][] = [
    ["short header", good.subarray(0, 12), CodecErrorCode.Truncated, 1002],
    ["wrong sign", wrongSign, CodecErrorCode.BadMagic, 1002],
    ["a text message", "ft-v1.0 hello", CodecErrorCode.BadMagic, 1003],
    [
      "a 2 MiB body",
      encodeWsRequest({ cmd: 3001, section: 2, body: new Uint8Array(2 << 20) }),
      CodecErrorCode.BodyTooLarge,
      1009,
    ],
    [
      "a 5 MiB message (refused by the WebSocket layer itself)",
      new Uint8Array(5 << 20),
      CodecErrorCode.BodyTooLarge,
      1009,
    ],
  ];
  for (const [what, bytes, code, closeCode] of cases) {
    const since = sim.mark();
    const ws = await RawWs.open(sim.address.wsPort!);
    ws.send(bytes);
    const closed = await ws.closed;
    assertEquals(closed.code, closeCode, what);
    const bad = await sim.waitFor("badPacket", undefined, { since });
    assertEquals(bad.code, code, what);
    await sim.waitFor("connectionClosed", (e) => e.conn === bad.conn, {
      since,
    });
  }
  // A well-framed InitWebSocket whose body is not protobuf: refused, closed.
  const since = sim.mark();
  const garbled = await RawWs.open(sim.address.wsPort!);
  garbled.send(
    encodeWsRequest({ cmd: 1, section: 9, body: new Uint8Array([0x0a, 0x05]) }),
  );
  const answer = await garbled.frame(0);
  assert(answer.error !== 0);
  assertMatch(
    decodeInitWebSocketResponse(answer.body).retMsg ?? "",
    /^invalid InitWebSocket/,
  );
  await garbled.closed;
  await sim.waitFor("initConnectFailed", undefined, { since });
  // Still serving.
  const ws = await loggedIn(sim);
  await ws.close();
});

Deno.test("ws port: fault modes bend the answers", async (t) => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });

  await t.step("init-error: an error frame, then a close", async () => {
    sim.setWebSocketFault("init-error");
    const ws = await RawWs.open(sim.address.wsPort!);
    const answer = await ws.init();
    assert(answer.error !== 0);
    assertEquals(answer.errmsg, "init failed");
    await ws.closed;
  });

  await t.step("init-silent: no answer, the socket stays open", async () => {
    sim.setWebSocketFault("init-silent");
    const since = sim.mark();
    const ws = await RawWs.open(sim.address.wsPort!);
    ws.request(1, encodeInitWebSocketRequest({}));
    await sim.waitFor(
      "initConnectFailed",
      (e) => e.reason.includes("not answered"),
      { since },
    );
    // A later request proves the first one really went unanswered.
    ws.request(ProtoId.KeepAlive, encodeRequest(1004, { time: 1 }));
    const reply = await ws.frame(0);
    assertEquals(reply.cmd, ProtoId.KeepAlive);
    assert(ws.isOpen);
    await ws.close();
  });

  await t.step("wrong-section: responses match no request", async () => {
    sim.setWebSocketFault(undefined);
    const ws = await loggedIn(sim);
    sim.setWebSocketFault("wrong-section");
    const section = ws.request(
      ProtoId.GetGlobalState,
      encodeRequest(1002, { userID: "0" }),
    );
    const reply = await ws.frame(1);
    assertEquals(reply.cmd, ProtoId.GetGlobalState);
    assert(reply.section !== section && reply.section !== 0n);
    await ws.close();
  });

  await t.step("bad-sign: frames do not start with ft-v1.0", async () => {
    sim.setWebSocketFault(undefined);
    const ws = await loggedIn(sim);
    sim.setWebSocketFault("bad-sign");
    sim.pushGtwEvent(GtwEventType.KickedOut, "x");
    const bytes = await ws.message(1);
    assertEquals(new TextDecoder().decode(bytes.subarray(0, 7)), "Ft-v1.0");
    await ws.close();
  });

  await t.step("drop-after-login: a good answer, then a close", async () => {
    sim.setWebSocketFault("drop-after-login");
    const ws = await RawWs.open(sim.address.wsPort!);
    const answer = await ws.init();
    assertEquals(answer.error, 0);
    await ws.closed;
    sim.setWebSocketFault(undefined);
  });
  assertEquals(
    sim.events.filter((e) => e.type === "webSocketFault").map((e) =>
      e.type === "webSocketFault" && e.fault
    ),
    [
      "init-error",
      "init-silent",
      "off",
      "wrong-section",
      "off",
      "bad-sign",
      "drop-after-login",
      "off",
    ],
  );
});

Deno.test("ws port: the key's MD5 is compared in any case; a wrong key is refused loudly or silently", async () => {
  await using loud = await startSimulator({ ...FAST, wsPort: 0, wsKey: "k3y" });
  const upper = await RawWs.open(loud.address.wsPort!);
  assertEquals(
    (await upper.init(webSocketKeyDigest("k3y").toUpperCase())).error,
    0,
  );
  await upper.close();
  const none = await RawWs.open(loud.address.wsPort!);
  const refused = await none.init();
  assert(refused.error !== 0);
  assertEquals(refused.errmsg, "websocket key error");
  assertEquals(
    decodeInitWebSocketResponse(refused.body).retMsg,
    "no websocket key",
  );
  await none.closed;

  await using quiet = await startSimulator({
    ...FAST,
    wsPort: 0,
    wsKey: "k3y",
    wsKeyRefusal: "silent",
  });
  const since = quiet.mark();
  const wrong = await RawWs.open(quiet.address.wsPort!);
  wrong.request(
    1,
    encodeInitWebSocketRequest({ websocketKey: webSocketKeyDigest("nope") }),
  );
  await quiet.waitFor("initConnectFailed", undefined, { since });
  // The first frame to come back answers a later KeepAlive: Init got none.
  wrong.request(ProtoId.KeepAlive, encodeRequest(1004, { time: 1 }));
  assertEquals((await wrong.frame(0)).cmd, ProtoId.KeepAlive);
  await wrong.close();
  assert(!JSON.stringify([...loud.events, ...quiet.events]).includes("k3y"));
});

Deno.test("ws port: ops close_api_conn, restart and refused connections reach WebSocket clients", async () => {
  await using sim = await startSimulator({ loginDelayMs: 10, wsPort: 0 });
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    const ws = await loggedIn(sim);
    const connId = sim.connections[0].connId!;
    assertEquals(
      await ops.command(`close_api_conn -conn_id=${connId}`),
      `close_api_conn: OK, closed connection ${connId}`,
    );
    await ws.closed;

    const again = await loggedIn(sim);
    await sim.restart(100);
    await again.closed;
    await assertRefused(sim.address.wsPort!);
    await sim.waitFor("restarted");
    await (await loggedIn(sim)).close();

    await sim.refuseConnections(100);
    await assertRefused(sim.address.wsPort!);
    await sim.waitFor("accepting");
    const back = await loggedIn(sim);
    await back.close();
    const opened = sim.events.filter((e) =>
      e.type === "connectionOpened" && e.transport === "ws"
    );
    assert(opened.length >= 4);
  } finally {
    await ops.close();
  }
});

async function assertRefused(port: number): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const outcome = await new Promise<string>((resolve) => {
    ws.onopen = () => resolve("open");
    ws.onerror = () => resolve("error");
  });
  if (outcome === "open") ws.close();
  await new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve();
    else ws.onclose = () => resolve();
  });
  assertMatch(outcome, /^error$/);
}

Deno.test("ws port: a scenario step switches a fault mode on and off", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });
  const run = sim.runScenario([
    {
      afterMs: 0,
      action: "setWebSocketFault",
      args: { fault: "init-error" },
    },
  ]);
  await run.done;
  const ws = await RawWs.open(sim.address.wsPort!);
  assert((await ws.init()).error !== 0);
  await ws.closed;
  await sim.runScenario([
    { afterMs: 0, action: "setWebSocketFault", args: { fault: "off" } },
  ]).done;
  await (await loggedIn(sim)).close();
  assertThrows(
    () =>
      sim.runScenario([
        {
          afterMs: 0,
          action: "setWebSocketFault",
          args: { fault: "often" as unknown as "off" },
        },
      ]),
    TypeError,
    "fault must be",
  );
});

Deno.test("ws port: a plain HTTP request is told to upgrade (426), and nothing is recorded as a client", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });
  const response = await fetch(`http://127.0.0.1:${sim.address.wsPort}/`);
  assertEquals(response.status, 426);
  assertMatch(await response.text(), /WebSocket only/);
  assertEquals(
    sim.events.filter((e) => e.type === "connectionOpened"),
    [],
  );
});

Deno.test("ws port: a half-sent HTTP request neither holds close() nor survives a refusal", async () => {
  const sim = await startSimulator({ ...FAST, wsPort: 0 });
  const socket = connect(sim.address.wsPort!, "127.0.0.1");
  socket.on("error", () => {});
  const gone = new Promise((resolve) => socket.once("close", resolve));
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // never finished
  const ws = await loggedIn(sim);
  await sim.refuseConnections(50);
  await within(gone, "the half-sent request to be closed"); // not a client yet

  assert(ws.isOpen, "an upgraded client is kept while refusing");
  await sim.waitFor("accepting");
  await ws.close();
  await within(sim.close(), "close()"); // nothing half-open holds it
});

/** `promise`, or a failure after 5 s saying what did not happen. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} in 5 s`)), 5000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
