/**
 * Events per second through both machines: `deno bench bench/machines_bench.ts`.
 * One `send` per iteration, so ops/s is events/s. The session runs online, on
 * a clock that never fires and actors that never answer, so only the
 * statechart's own cost is measured.
 */
import { createActor, fromCallback, fromPromise } from "xstate";
import type { SystemNotification } from "../codec/system_notification.ts";
import {
  type ConnectionInput,
  type GetGlobalStateOutput,
  type InitConnectInput,
  type InitConnectOutput,
  type LinkEvent,
  type LinkInput,
  programStatusMachine,
  sessionMachine,
} from "../machines/mod.ts";

const stillClock = {
  setTimeout: (): number => 0,
  clearTimeout: (): void => {},
};

const never = () => new Promise<never>(() => {});

/** Actors that never answer; the bench delivers their results itself. */
const silentActors = {
  link: fromCallback<LinkEvent, LinkInput>(() => {}),
  initConnect: fromPromise<InitConnectOutput, InitConnectInput>(never),
  getGlobalState: fromPromise<GetGlobalStateOutput, ConnectionInput>(never),
  keepAlive: fromPromise<unknown, ConnectionInput>(never),
};

const status = createActor(programStatusMachine).start();

const session = createActor(
  sessionMachine.provide({ actors: silentActors }),
  { clock: stillClock },
).start();
session.send({ type: "START" });
session.send({ type: "LINK_UP" });
session.send({
  type: "xstate.done.actor.initConnect",
  output: { keepAliveInterval: 10, connId: 1 },
} as never);
session.send({
  type: "xstate.done.actor.getGlobalState",
  output: { programStatus: { type: 10 }, qotLogined: true, trdLogined: true },
} as never);
if (!session.getSnapshot().hasTag("online")) {
  throw new Error("the bench session did not get online");
}

const ready = { type: "PROGRAM_STATUS", status: 10 } as const;
const loging = { type: "PROGRAM_STATUS", status: 2 } as const;
const quota = { type: "USED_QUOTA", usedSubQuota: 3 } as const;
const readyPush: SystemNotification = {
  kind: "programStatus",
  type: 2,
  typeName: "ProgramStatus",
  status: 10,
  statusName: "Ready",
};
let flip = false;

Deno.bench({
  name: "program status: PROGRAM_STATUS (Ready <-> Loging)",
  group: "status change",
  baseline: true,
  fn: () => {
    flip = !flip;
    status.send(flip ? ready : loging);
  },
});

Deno.bench({
  name: "session: PROGRAM_STATUS (Ready <-> Loging) while online",
  group: "status change",
  fn: () => {
    flip = !flip;
    session.send(flip ? ready : loging);
  },
});

Deno.bench({
  name: "program status: USED_QUOTA (context only)",
  group: "context only",
  baseline: true,
  fn: () => {
    status.send(quota);
  },
});

Deno.bench({
  name: "session: USED_QUOTA (context only) while online",
  group: "context only",
  fn: () => {
    session.send(quota);
  },
});

Deno.bench({
  name: "session: BYTES_RECEIVED (every received chunk) while online",
  group: "session hot path",
  baseline: true,
  fn: () => {
    session.send({ type: "BYTES_RECEIVED", byteLength: 64 });
  },
});

Deno.bench({
  name: "session: NOTIFICATION (decoded Notify push) while online",
  group: "session hot path",
  fn: () => {
    session.send({ type: "NOTIFICATION", notification: readyPush });
  },
});
