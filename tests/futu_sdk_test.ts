/**
 * Futu's official JavaScript SDK (npm `futu-api`, unchanged, pinned by
 * its npm: specifier and deno.dev.lock) against the simulator's WebSocket port, over ws and wss.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
// deno-lint-ignore no-import-prefix -- test-only: kept out of deno.json so `deno task demo` never fetches it
import protoRoot from "npm:futu-api@10.11.7108/proto.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GtwEventType } from "../codec/mod.ts";
import { startSimulator } from "../sim/mod.ts";
import { type SdkLine, SdkProcess, TLS_FIXTURES } from "./_sdk_helpers.ts";

const FAST = { opsPort: false, loginDelayMs: 10 } as const;

/** Every field the SDK's own schema marks required in GetGlobalState.S2C. */
const REQUIRED_GLOBAL_STATE: string[] = (protoRoot as unknown as {
  lookupType(
    name: string,
  ): { fieldsArray: { name: string; required: boolean }[] };
}).lookupType("GetGlobalState.S2C").fieldsArray.filter((f) => f.required)
  .map((f) => f.name);

const TLS = {
  cert: readFileSync(TLS_FIXTURES.cert, "utf8"),
  key: readFileSync(TLS_FIXTURES.key, "utf8"),
};

function isNotify(type: number, eventType?: number) {
  return (l: SdkLine) =>
    l.event === "push" && l.cmd === 1003 && l.message?.s2c?.type === type &&
    (eventType === undefined || l.message.s2c.event?.eventType === eventType);
}

Deno.test("official SDK over ws: logs in, GetGlobalState with every required field, KeepAlive", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });
  const sdk = SdkProcess.start({ port: sim.address.wsPort! });
  try {
    const login = await sdk.next((l) => l.event === "login");
    assertEquals(login.ok, true);
    const init = await sim.waitFor("initConnect", (e) => e.transport === "ws");
    assertEquals(login.connID, init.connId);
    assertEquals(init.programmingLanguage, "JavaScript");

    const state = await sdk.call("GetGlobalState");
    assertEquals(state.ok, true, JSON.stringify(state));
    assert(REQUIRED_GLOBAL_STATE.length >= 10);
    for (const field of REQUIRED_GLOBAL_STATE) {
      assert(field in state.message.s2c, `GetGlobalState.S2C lacks ${field}`);
    }
    assertEquals(
      state.message.s2c.programStatus.type,
      "ProgramStatusType_Ready",
    );
    assertEquals(state.message.s2c.connID, login.connID);

    const keepAlive = await sdk.call("KeepAlive");
    assertEquals(keepAlive.ok, true, JSON.stringify(keepAlive));
    assert(Number(keepAlive.message.s2c.time) > 1_700_000_000);
    assertEquals(
      sim.connections.map((c) => [c.transport, c.initialized, c.recvNotify]),
      [["ws", true, true]],
    );
  } finally {
    await sdk.close();
  }
});

Deno.test("official SDK over ws: the phone-code scenario (answered with a code) and kicked-out arrive through onPush; it reconnects and sees ForceLogout", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });
  const sdk = SdkProcess.start({ port: sim.address.wsPort! });
  try {
    await sdk.next((l) => l.event === "login" && l.ok === true);
    let from = sdk.lines.length;
    sim.runScenario("phone-code", { timeScale: 0 });
    const need = await sdk.next(isNotify(1, GtwEventType.NeedPhoneVerifyCode), {
      from,
    });
    assert(need.message.s2c.event.desc.length > 0);
    const status = await sdk.next(
      (l) =>
        isNotify(2)(l) &&
        l.message.s2c.programStatus.programStatus.type ===
          "ProgramStatusType_NeedPhoneVerifyCode",
      { from },
    );
    assert(status.message.s2c.programStatus.programStatus.strExtDesc);
    // The bot answers with the code (Verification 1006: phone, input and log in).
    const answered = await sdk.call("Verification", {
      type: 2,
      op: 2,
      code: "123456",
    });
    assertEquals(answered.ok, true, JSON.stringify(answered));
    await sdk.next(
      (l) =>
        isNotify(2)(l) &&
        l.message.s2c.programStatus.programStatus.type ===
          "ProgramStatusType_Ready",
      { from },
    );
    await sim.waitFor("codeAccepted", (e) => e.via === "api");

    from = sdk.lines.length;
    sim.runScenario("kicked-out", { timeScale: 0 });
    const kicked = await sdk.next(isNotify(1, GtwEventType.KickedOut), {
      from,
    });
    assertEquals(kicked.message.s2c.event.eventType, GtwEventType.KickedOut);
    await sdk.next((l) => l.event === "close", { from });
    // The SDK reconnects by itself (after 1 s) and logs in again.
    const again = await sdk.next((l) => l.event === "login" && l.ok === true, {
      from,
    });
    const state = await sdk.call("GetGlobalState");
    assertEquals(
      state.message.s2c.programStatus.type,
      "ProgramStatusType_ForceLogout",
    );
    assertEquals(state.message.s2c.connID, again.connID);
  } finally {
    await sdk.close();
  }
});

Deno.test("official SDK over wss (TLS, the fixture CA trusted): logs in, reads state, gets a push", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0, wsTls: TLS });
  assertEquals(sim.address.wsTls, true);
  const sdk = SdkProcess.start({ port: sim.address.wsPort!, tls: true });
  try {
    const login = await sdk.next((l) => l.event === "login");
    assertEquals(login.ok, true);
    const init = await sim.waitFor("initConnect", (e) => e.transport === "wss");
    assertEquals(init.encryption, "TLS");
    const state = await sdk.call("GetGlobalState");
    for (const field of REQUIRED_GLOBAL_STATE) {
      assert(field in state.message.s2c, `GetGlobalState.S2C lacks ${field}`);
    }
    const from = sdk.lines.length;
    sim.pushGtwEvent(GtwEventType.KickedOut, "logged in elsewhere");
    const push = await sdk.next(isNotify(1, GtwEventType.KickedOut), { from });
    assertEquals(push.message.s2c.event.desc, "logged in elsewhere");
  } finally {
    await sdk.close();
  }
});

Deno.test("official SDK with a WebSocket key: the right key logs in, a wrong one is refused for good", async () => {
  await using sim = await startSimulator({
    ...FAST,
    wsPort: 0,
    wsKey: "open sesame",
  });
  const right = SdkProcess.start({
    port: sim.address.wsPort!,
    key: "open sesame",
  });
  const wrong = SdkProcess.start({ port: sim.address.wsPort!, key: "guess" });
  try {
    assertEquals((await right.next((l) => l.event === "login")).ok, true);
    const refused = await wrong.next((l) => l.event === "login");
    assertEquals(refused.ok, false);
    assert(refused.error !== 0, "the SDK is told by the frame's error");
    await sim.waitFor(
      "initConnectFailed",
      (e) => e.reason === "wrong websocket key",
    );
    // "For good": the SDK would reconnect 1 s after a drop; it does not.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assertEquals(
      sim.events.filter((e) => e.type === "connectionOpened").length,
      2,
    );
    assert(!JSON.stringify(sim.events).includes("open sesame"));
    assert(!JSON.stringify(sim.events).includes("guess"));
  } finally {
    await Promise.all([right.close(), wrong.close()]);
  }
});

Deno.test("the README's SDK bot example logs in, reports the kick, and stops", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });
  // The bot imports "futu-api" and "ws" by bare name, as a Node project would;
  // this map stands in for its node_modules (the SDK is kept out of deno.json
  // so that `deno task demo` never fetches it).
  const importMap = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    importMap,
    JSON.stringify({
      imports: { "futu-api": "npm:futu-api@10.11.7108", ws: "npm:ws@8.23.0" },
    }),
  );
  const bot = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--lock=deno.dev.lock",
      `--import-map=${importMap}`,
      "--allow-net=127.0.0.1",
      "--allow-env",
      fileURLToPath(new URL("../examples/futu_sdk_bot.mjs", import.meta.url)),
      String(sim.address.wsPort),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  await sim.waitFor("initConnect", (e) => e.transport === "ws");
  await sim.waitFor("request", (e) => e.protoId === 1002);
  sim.runScenario("kicked-out", { timeScale: 0 });
  const { code, stdout } = await bot.output().finally(() =>
    Deno.remove(importMap)
  );
  const out = new TextDecoder().decode(stdout);
  assertEquals(code, 0, out);
  assertMatch(out, /bot: logged in, connID \d+, OpenD status 10/);
  assertMatch(
    out,
    /bot: gateway event 7: the account logged in on another device/,
  );
  assertMatch(out, /bot: logged in elsewhere; stopping/);
});

Deno.test("official SDK over ws: flaky network and an OpenD restart drop it; it comes back by itself", async () => {
  await using sim = await startSimulator({ ...FAST, wsPort: 0 });
  const sdk = SdkProcess.start({ port: sim.address.wsPort! });
  try {
    await sdk.next((l) => l.event === "login" && l.ok === true);
    const from = sdk.lines.length;
    await sim.runScenario("flaky-network", { timeScale: 0.1 }).done;
    await sim.runScenario("opend-restart", { timeScale: 0.1 }).done;
    const restarted = await sim.waitFor("restarted");
    // The SDK waits 1 s before reconnecting, so it meets some of the drops.
    const closes = sdk.lines.slice(from).filter((l) => l.event === "close");
    assert(closes.length >= 2, JSON.stringify(sdk.lines));
    // Once OpenD is back, the SDK reconnects by itself and logs in again.
    const init = await sim.waitFor(
      "initConnect",
      (e) => e.transport === "ws",
      { since: restarted.seq },
    );
    await sdk.next((l) => l.event === "login" && l.connID === init.connId);
    await sim.waitFor("statusChanged", (e) => e.status === 10, {
      since: restarted.seq,
    });
    const state = await sdk.call("GetGlobalState");
    assertEquals(
      state.message.s2c.programStatus.type,
      "ProgramStatusType_Ready",
    );
  } finally {
    await sdk.close();
  }
});
