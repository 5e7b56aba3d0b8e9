/**
 * The simulator's bookkeeping under load: a drop of every connection closes
 * them all at once but ends their sockets a batch per turn of the event loop
 * (the simulator shares its process with the clients it serves), and the
 * event record stays capped without moving every kept event per new one.
 */
import { assert, assertEquals } from "@std/assert";
import { connect, type Socket } from "node:net";
import { setImmediate } from "node:timers";
import {
  type _AnyConnection,
  _Connections,
  _DROP_BATCH,
} from "../sim/_connections.ts";
import { _EventLog } from "../sim/_event_log.ts";
import { startSimulator } from "../sim/mod.ts";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A connection that records when its socket would be ended. */
function fakeConnection(id: number, ended: number[]) {
  let closing = false;
  let reason: string | undefined;
  const conn = {
    id,
    connId: undefined,
    get closing() {
      return closing;
    },
    get reason() {
      return reason;
    },
    beginClose(why: string) {
      if (closing) return undefined;
      closing = true;
      reason = why;
      return () => ended.push(id);
    },
    destroy(why: string) {
      closing = true;
      reason ??= why;
    },
    closed: Promise.resolve(),
  };
  return conn;
}

Deno.test("sim connections: dropAll closes every one at once and ends the sockets a batch per turn", async () => {
  const events = new _EventLog({ maxEvents: 100 });
  const connections = new _Connections(events);
  const ended: number[] = [];
  const total = 2 * _DROP_BATCH + 3;
  const conns = Array.from(
    { length: total },
    (_, i) => fakeConnection(i + 1, ended),
  );
  for (const c of conns) connections.add(c as unknown as _AnyConnection);
  conns[0].beginClose("closing already"); // not counted, not ended again
  ended.length = 0;

  assertEquals(connections.dropAll("dropped by the simulator"), total - 1);
  // Every one is closing now (no more input or pushes to any of them)...
  assert(conns.every((c) => c.closing));
  assert(conns.slice(1).every((c) => c.reason === "dropped by the simulator"));
  assertEquals(connections.info(), []);
  const dropped = events.events.filter((e) => e.type === "connectionsDropped");
  assertEquals(dropped.map((e) => e.count), [total - 1]);
  // ...but only the first batch of sockets is ended in this turn.
  assertEquals(ended.length, _DROP_BATCH);
  await turn();
  assertEquals(ended.length, 2 * _DROP_BATCH);
  await turn();
  assertEquals(ended.length, total - 1);
  // Each once, in order.
  assertEquals(ended, conns.slice(1).map((c) => c.id));
  await turn();
  assertEquals(ended.length, total - 1);
});

Deno.test("sim connections: a few connections are all ended at once, as before", () => {
  const connections = new _Connections(new _EventLog({ maxEvents: 10 }));
  const ended: number[] = [];
  for (let i = 1; i <= 3; i++) {
    connections.add(fakeConnection(i, ended) as unknown as _AnyConnection);
  }
  assertEquals(connections.dropAll("blip"), 3);
  assertEquals(ended, [1, 2, 3]);
});

Deno.test("sim connections: destroying everything forgets the sockets still to end", async () => {
  const connections = new _Connections(new _EventLog({ maxEvents: 10 }));
  const ended: number[] = [];
  const total = _DROP_BATCH + 5;
  for (let i = 1; i <= total; i++) {
    connections.add(fakeConnection(i, ended) as unknown as _AnyConnection);
  }
  connections.dropAll("blip");
  assertEquals(ended.length, _DROP_BATCH);
  await Promise.all(connections.destroyAll("simulator closed"));
  await turn();
  assertEquals(ended.length, _DROP_BATCH);
});

Deno.test("sim events: the record keeps the last maxEvents, oldest first", () => {
  const seen: number[] = [];
  const log = new _EventLog({
    maxEvents: 3,
    onEvent: (e) => seen.push(e.seq),
  });
  for (let i = 0; i < 10; i++) {
    log.record({ type: "garbageSent", recipients: i });
  }
  assertEquals(log.events.map((e) => e.seq), [8, 9, 10]);
  assertEquals(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

Deno.test("sim: dropAllConnections with more sockets than one batch ends every one of them", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const total = _DROP_BATCH + 20;
  const sockets: Socket[] = [];
  const ends: Promise<void>[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const socket = connect({ host: "127.0.0.1", port: sim.address.port });
      socket.on("error", () => {});
      ends.push(
        new Promise((resolve) => socket.once("close", () => resolve())),
      );
      // As OpenD's clients do: the link closes when the peer ends it.
      socket.resume();
      sockets.push(socket);
    }
    await sim.waitFor("connectionOpened", (e) => e.conn === total);
    assertEquals(sim.dropAllConnections(), total);
    assertEquals(sim.connections, []);
    await Promise.all(ends);
    for (let conn = 1; conn <= total; conn++) {
      await sim.waitFor(
        "connectionClosed",
        (e) => e.conn === conn && e.reason === "dropped by the simulator",
      );
    }
  } finally {
    for (const socket of sockets) socket.destroy();
  }
});
