// A bot built on Futu's official JavaScript SDK (npm futu-api), unchanged,
// tested against the simulator's WebSocket port instead of a live account:
//
//   deno task sim --ws-port 33333 --scenario kicked-out
//   node examples/futu_sdk_bot.mjs 33333        # npm i futu-api ws (ws: Node 20 only)
//
// It logs in, reads OpenD's state, prints every notification, and stops when
// OpenD says it was logged in elsewhere (it does not fight the other login).
import process from "node:process";
import ftWebsocket from "futu-api";

// Node 22 and Deno have a WebSocket global; on Node 20 the ws package is it.
globalThis.WebSocket ??= (await import("ws")).default;

const port = Number(process.argv[2] ?? 33333);
const KICKED_OUT = 7; // GtwEventType_KickedOut
const api = new ftWebsocket();

api.onlogin = async (ok, detail) => {
  if (!ok) {
    console.log(`bot: login refused (${detail}); check the WebSocket key`);
    return api.websock.close();
  }
  const { s2c } = await api.GetGlobalState({ c2s: { userID: 0 } });
  console.log(
    `bot: logged in, connID ${api.getConnID()}, OpenD status ${s2c.programStatus?.type}`,
  );
};

api.onPush = (cmd, message) => {
  if (cmd !== 1003) return; // Notify
  const { type, event, programStatus } = message.s2c;
  if (type === 1) {
    console.log(`bot: gateway event ${event.eventType}: ${event.desc}`);
  }
  if (type === 2) {
    console.log(`bot: OpenD status ${programStatus.programStatus.type}`);
  }
  if (type === 1 && event.eventType === KICKED_OUT) {
    console.log("bot: logged in elsewhere; stopping");
    api.websock.close();
  }
};

api.start("127.0.0.1", port, false, process.env.OPEND_WS_KEY ?? null);
