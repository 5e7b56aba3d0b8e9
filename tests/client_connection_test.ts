/**
 * One connection against raw loopback peers (no simulator): every way a
 * socket can end becomes one LINK_DOWN reason, nothing throws, and pending
 * requests are told.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createServer, type Server, type Socket } from "node:net";
import { encodePacket } from "../codec/mod.ts";
import { _Connection, type _ConnectionHooks } from "../client/_connection.ts";

interface Peer {
  readonly port: number;
  readonly accepted: Promise<Socket>;
  close(): Promise<void>;
}

async function peer(): Promise<Peer> {
  let accept!: (socket: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => accept = resolve);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    accept(socket);
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
  );
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    accepted,
    async close() {
      const closed = [...sockets].map((s) =>
        new Promise<void>((resolve) => {
          if (s.destroyed) return resolve();
          s.once("close", () => resolve());
          s.destroy();
        })
      );
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        ...closed,
      ]);
    },
  };
}

function connect(port: number) {
  const events: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  const seen = (text: string) =>
    new Promise<void>((resolve) =>
      events.includes(text) ? resolve() : waiters.push({ text, resolve })
    );
  const note = (text: string) => {
    events.push(text);
    for (const w of waiters.filter((w) => w.text === text)) w.resolve();
  };
  let down!: (reason: string) => void;
  const wentDown = new Promise<string>((resolve) => down = resolve);
  let up!: () => void;
  const wentUp = new Promise<void>((resolve) => up = resolve);
  const hooks: _ConnectionHooks = {
    onUp: () => (note("up"), up()),
    onPackets: (n) => note(`packets ${n}`),
    onPacket: (p) => note(`packet ${p.protoId}`),
    onDown: (reason) => (note(`down ${reason}`), down(reason)),
  };
  const conn = new _Connection(1, {
    host: "127.0.0.1",
    port,
    rsa: undefined,
    maxBodyBytes: 1024,
  }, hooks);
  return { conn, events, seen, wentUp, wentDown };
}

Deno.test("connection: write after close returns false and never throws", async () => {
  const server = await peer();
  const { conn, wentUp, wentDown } = connect(server.port);
  await wentUp;
  assert(conn.write(new Uint8Array([1])));
  conn.destroy("test over");
  assertEquals(conn.write(new Uint8Array([2])), false);
  assertEquals(await wentDown, "test over");
  assertEquals(conn.write(new Uint8Array([3])), false);
  conn.destroy("again"); // idempotent
  await conn.end();
  await server.close();
});

Deno.test("connection: refused, reset, garbage and a half packet each say why", async () => {
  // Refused: a port nobody listens on.
  const gone = await peer();
  const port = gone.port;
  await gone.close();
  const refused = connect(port);
  assertStringIncludes(await refused.wentDown, "ECONNREFUSED");
  assertEquals(refused.events, [`down ${await refused.wentDown}`]);
  await refused.conn.closed;

  // Garbage: a framing error closes the link with the codec's code.
  const noisy = await peer();
  const garbage = connect(noisy.port);
  (await noisy.accepted).write("HTTP/1.1 400 Bad Request\r\n\r\n");
  assertStringIncludes(await garbage.wentDown, "BAD_MAGIC");
  await garbage.conn.closed;
  await noisy.close();

  // Half a packet, then the peer half-closes.
  const cut = await peer();
  const half = connect(cut.port);
  const rejected: string[] = [];
  half.conn.register({
    protoId: 1004,
    serialNo: 9,
    onResponse: () => rejected.push("response?"),
    onUnreadable: () => rejected.push("unreadable?"),
    onDisconnect: (reason) => rejected.push(reason),
  });
  const packet = encodePacket({
    protoId: 1004,
    serialNo: 9,
    body: new Uint8Array(40),
  });
  (await cut.accepted).end(packet.subarray(0, 60));
  const reason = await half.wentDown;
  assertStringIncludes(reason, "closed by OpenD in the middle of a packet");
  assertStringIncludes(reason, "60 bytes");
  assertEquals(rejected, [reason]);
  assertEquals(half.conn.inFlight, 0);
  await half.conn.closed;
  await cut.close();

  // Reset by the peer.
  const rude = await peer();
  const reset = connect(rude.port);
  await reset.wentUp;
  const socket = await rude.accepted;
  socket.resetAndDestroy();
  assert(
    /ECONNRESET|closed by OpenD|connection closed/.test(await reset.wentDown),
  );
  await reset.conn.closed;
  await rude.close();
});

Deno.test("connection: packets are matched or handed on; a detached one reports nothing", async () => {
  const server = await peer();
  const { conn, events, seen, wentUp } = connect(server.port);
  await wentUp;
  const responses: number[] = [];
  conn.register({
    protoId: 1004,
    serialNo: 1,
    onResponse: (p) => void responses.push(p.serialNo),
    onUnreadable: () => {},
    onDisconnect: () => {},
  });
  const socket = await server.accepted;
  const both = new Uint8Array([
    ...encodePacket({ protoId: 1004, serialNo: 1, body: new Uint8Array(2) }),
    ...encodePacket({ protoId: 3005, serialNo: 7, body: new Uint8Array(3) }),
  ]);
  socket.write(both);
  await seen("packet 3005");
  assertEquals(responses, [1]);
  conn.detach();
  conn.destroy("detached");
  await conn.closed;
  assert(!events.some((e) => e.startsWith("down")), "no hook after detach");
  await server.close();
});
