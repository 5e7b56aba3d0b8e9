/**
 * Ad-hoc measurements of the session supervisor's costs (not part of
 * `deno task bench`):
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/_supervisor_costs.ts [clients]
 * ```
 *
 * - cost per PROGRAM_STATUS of the supervisor, against a bare XState machine
 *   with literally the same active states (the supervisor's state tree, no
 *   guards but the status routing, no actions but one assign);
 * - N clients (default 1000; 0 skips this) against one simulator in this process: time and
 *   CPU time until all are Ready, heap per client (with the simulator's share);
 * - the simulator drops every connection: the longest the event loop was
 *   blocked until every client lost its link, and until all are Ready again.
 *
 * Wall-clock figures depend on the load of the machine; CPU time less so.
 * @module
 */
import process from "node:process";
import { assign, createActor, fromCallback, fromPromise, setup } from "xstate";
import { createOpenDClient, type OpenDClient } from "../client/mod.ts";
import { ProgramStatusType } from "../codec/mod.ts";
import { sessionMachine, STATUS_STATE_PATHS } from "../machines/mod.ts";
import { startSimulator } from "../sim/mod.ts";

const never = () => new Promise<never>(() => {});
const stillClock = { setTimeout: (): number => 0, clearTimeout: () => {} };
const median = (values: number[]) =>
  values.sort((a, b) => a - b)[values.length >> 1];

function statechartRatio(): string {
  const session = createActor(
    sessionMachine.provide({
      // Actors that never answer: the events below stand in for them.
      actors: {
        link: fromCallback(() => {}),
        initConnect: fromPromise(never),
        getGlobalState: fromPromise(never),
        keepAlive: fromPromise(never),
      } as never,
    }),
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
    output: { programStatus: { type: 10 } },
  } as never);
  const names = Object.keys(
    ProgramStatusType,
  ) as (keyof typeof ProgramStatusType)[];
  const groups: Record<
    string,
    { initial?: string; states?: Record<string, object> }
  > = {};
  for (const name of names) {
    const [group, leaf] = STATUS_STATE_PATHS[name];
    if (leaf === undefined) groups[group] = {};
    else {
      groups[group] ??= { initial: leaf, states: {} };
      groups[group].states![leaf] = {};
    }
  }
  const bare = createActor(
    setup({
      types: {} as {
        context: { status: number };
        events: { type: "PROGRAM_STATUS"; status: number };
      },
    }).createMachine({
      context: { status: 0 },
      type: "parallel",
      states: {
        link: {
          initial: "session",
          states: {
            session: {
              initial: "online",
              states: {
                online: {
                  type: "parallel",
                  states: {
                    keepAlive: {
                      initial: "waiting",
                      states: { waiting: {}, sending: {} },
                    },
                    liveness: {
                      initial: "listening",
                      states: { listening: {} },
                    },
                    stability: {
                      initial: "settling",
                      states: { settling: {}, stable: {} },
                    },
                  },
                },
              },
            },
          },
        },
        gateway: {
          type: "parallel",
          states: {
            status: {
              initial: "Ready",
              states: groups as never,
              on: {
                PROGRAM_STATUS: names.map((name) => ({
                  guard: ({ event }: { event: { status: number } }) =>
                    event.status === ProgramStatusType[name],
                  target: `.${STATUS_STATE_PATHS[name].join(".")}`,
                  actions: assign({ status: ({ event }) => event.status }),
                })),
              },
            },
            fault: { initial: "healthy", states: { healthy: {}, fatal: {} } },
          },
        },
        recovery: {
          type: "parallel",
          states: {
            flow: { initial: "watching", states: { watching: {} } },
            codeGate: { initial: "open", states: { open: {}, closed: {} } },
          },
        },
      },
    }),
  ).start();
  type StatusEvent = { type: "PROGRAM_STATUS"; status: number };
  const ready: StatusEvent = { type: "PROGRAM_STATUS", status: 10 };
  const loging: StatusEvent = { type: "PROGRAM_STATUS", status: 2 };
  const run = (actor: { send(event: StatusEvent): void }, n: number) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) actor.send(i & 1 ? ready : loging);
    return (performance.now() - start) / n * 1_000;
  };
  for (let i = 0; i < 3; i++) run(session, 5_000), run(bare, 5_000);
  const s: number[] = [], b: number[] = [];
  for (let i = 0; i < 11; i++) {
    s.push(run(session, 5_000)), b.push(run(bare, 5_000));
  }
  session.stop();
  bare.stop();
  const [sm, bm] = [median(s), median(b)];
  return `PROGRAM_STATUS: supervisor ${
    sm.toFixed(1)
  } us, bare machine with the same states ${bm.toFixed(1)} us: ${
    (sm / bm).toFixed(2)
  }x`;
}

async function clients(n: number): Promise<string[]> {
  const sim = await startSimulator({ port: 0, opsPort: false });
  const gc = (globalThis as { gc?: () => void }).gc;
  const all: OpenDClient[] = [];
  try {
    gc?.();
    const heap = process.memoryUsage().heapUsed;
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      all.push(createOpenDClient({ port: sim.address.port }));
    }
    await Promise.all(all.map((client) => client.whenReady(120_000)));
    const readyMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    gc?.();
    const perClient = (process.memoryUsage().heapUsed - heap) / n / 1024;

    let worst = 0;
    let last = performance.now();
    let watching = true;
    const tick = () => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      if (watching) setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    worst = 0;
    last = performance.now();
    const lost = all.map((client) =>
      new Promise<void>((resolve) => {
        const off = client.on("lost", () => (off(), resolve()));
      })
    );
    const dropped = performance.now();
    sim.dropAllConnections();
    await Promise.all(lost);
    const lostMs = performance.now() - dropped;
    const blockedByThen = worst;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    watching = false;
    await Promise.all(all.map((client) => client.whenReady(120_000)));
    return [
      `${n} clients Ready in ${readyMs.toFixed(0)} ms (CPU ${
        ((used.user + used.system) / 1_000).toFixed(0)
      } ms), heap ${perClient.toFixed(1)} KiB per client`,
      `drop of all: lost in ${
        lostMs.toFixed(0)
      } ms, event loop blocked at most ${
        blockedByThen.toFixed(0)
      } ms until then, ${
        worst.toFixed(0)
      } ms over the next 1.5 s of reconnects`,
    ];
  } finally {
    await Promise.all(all.map((client) => client.close()));
    await sim.close();
  }
}

if (import.meta.main) {
  console.log(statechartRatio());
  const n = Number(Deno.args[0] ?? 1_000);
  for (const line of n > 0 ? await clients(n) : []) console.log(line);
}
