// The built package's simulator serving its WebSocket port under Node, with
// Futu's official JavaScript SDK (npm futu-api, unchanged) as the client.
import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";
import { startSimulator } from "opend-machine/sim";

// The SDK expects the browser WebSocket API as a global: Node 22 has one,
// Node 20 does not, and ws (a dependency of the package) provides it.
globalThis.WebSocket ??= WebSocket;
const { default: FtWebsocket } = await import("futu-api");

test("esm: the official JavaScript SDK logs in over the simulator's WebSocket port, reads state, gets a push", {
  timeout: 30_000,
}, async () => {
  const sim = await startSimulator({
    wsPort: 0,
    opsPort: false,
    loginDelayMs: 10,
  });
  // The SDK talks on the console; this test stays quiet.
  const saved = { log: console.log, debug: console.debug };
  console.log = console.debug = () => {};
  const sdk = new FtWebsocket();
  try {
    const login = new Promise((resolve) => {
      sdk.onlogin = (ok) => resolve(ok);
    });
    const pushed = new Promise((resolve) => {
      sdk.onPush = (cmd, message) => {
        if (cmd === 1003 && message.s2c.type === 1) resolve(message.s2c.event);
      };
    });
    sdk.start("127.0.0.1", sim.address.wsPort, false, null);
    assert.equal(await login, true);
    const state = await sdk.GetGlobalState({ c2s: { userID: 0 } });
    assert.equal(state.retType, 0);
    assert.equal(state.s2c.programStatus.type, 10); // Ready
    assert.equal(String(state.s2c.connID), String(sdk.getConnID()));
    sim.pushGtwEvent(7, "logged in on another device");
    const event = await pushed;
    assert.equal(event.eventType, 7); // KickedOut
    assert.equal(event.desc, "logged in on another device");
  } finally {
    const base = sdk.websock;
    const closed = new Promise((resolve) => {
      if (base?.websock == null) return resolve();
      base.onclose = () => resolve();
    });
    base?.close();
    await sim.close();
    // The SDK logs the close too: wait for it before speaking again.
    await closed;
    Object.assign(console, saved);
  }
});
