/**
 * Properties over random input: whatever OpenD (or a broken client) sends, in
 * whatever order, the machines never throw, never end up in a configuration
 * their definition does not have, and a fatal gateway stays fatal, with every
 * loop stopped, until the user resets it. On a manual clock, a random OpenD
 * never gets hammered.
 */
import fc from "fast-check";
import {
  type AnyStateMachine,
  type AnyStateNode,
  createActor,
  initialTransition,
  transition,
} from "xstate";
import { getStateNodes } from "xstate/graph";
import { assert, assertEquals } from "@std/assert";
import {
  GtwEventType,
  nameOf,
  ProgramStatusType,
} from "../codec/definitions.ts";
import type { SystemNotification } from "../codec/system_notification.ts";
import { programStatusMachine, sessionMachine } from "../machines/mod.ts";
import type { ModelEvent } from "./machines_coverage.ts";
import { rigSession } from "./machines_harness.ts";

const S = ProgramStatusType;
const G = GtwEventType;
const FATAL_EVENTS: readonly number[] = [
  G.BanLogin,
  G.ForceUpdate,
  G.LocalCfgLoadFailed,
  G.APISvrRunFailed,
  G.AppDataNotExist,
];
// Mostly survivable input: a run that turns fatal early tests little else.
const likelyEvent = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      ...Object.values(G).filter((type) => !FATAL_EVENTS.includes(type)),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...FATAL_EVENTS) },
);
const likelyStatus = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      ...Object.values(S).filter((status) => status !== S.ForceUpdate),
    ),
  },
  { weight: 1, arbitrary: fc.constant(S.ForceUpdate) },
);

const statusNumber = fc.oneof(
  { weight: 4, arbitrary: likelyStatus },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 40 }) },
);
const eventNumber = fc.oneof(
  { weight: 4, arbitrary: likelyEvent },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 40 }) },
);
const text = fc.string({ maxLength: 12 });

const gatewayInput: fc.Arbitrary<ModelEvent> = fc.oneof(
  fc.record({
    type: fc.constant("PROGRAM_STATUS"),
    status: statusNumber,
    strExtDesc: fc.option(text, { nil: undefined }),
  }),
  fc.record({
    type: fc.constant("GTW_EVENT"),
    eventType: eventNumber,
    desc: fc.option(text, { nil: undefined }),
  }),
  fc.record({
    type: fc.constant("CONN_STATUS"),
    qotLogined: fc.boolean(),
    trdLogined: fc.boolean(),
  }),
  fc.record({
    type: fc.constant("QOT_RIGHT"),
    rights: fc.dictionary(text, fc.oneof(fc.integer(), fc.boolean())),
  }),
  fc.record({
    type: fc.constant("API_QUOTA"),
    subQuota: fc.nat(),
    historyKLQuota: fc.nat(),
  }),
  fc.record({
    type: fc.constant("USED_QUOTA"),
    usedSubQuota: fc.option(fc.nat(), { nil: undefined }),
    usedKLineQuota: fc.option(fc.nat(), { nil: undefined }),
  }),
  fc.record({ type: fc.constant("API_LEVEL"), apiLevel: text }),
  fc.record({
    type: fc.constant("UNKNOWN_NOTIFICATION"),
    notifyType: fc.integer(),
  }),
  fc.constant({ type: "RESET" }),
  // What a confused client might send: right names, wrong payloads.
  fc.record({
    type: fc.constantFrom(
      "PROGRAM_STATUS",
      "GTW_EVENT",
      "CONN_STATUS",
      "QOT_RIGHT",
      "USED_QUOTA",
    ),
    status: fc.jsonValue(),
    eventType: fc.jsonValue(),
    rights: fc.jsonValue(),
  }),
);

/** Every state in the configuration exists, and regions are consistent. */
function assertValidConfiguration(
  machine: AnyStateMachine,
  nodes: readonly AnyStateNode[],
) {
  const known = new Set(getStateNodes(machine.root));
  const active = new Set(nodes);
  for (const node of nodes) {
    assert(
      node === machine.root || known.has(node),
      `unknown state ${node.id}`,
    );
    const children = Object.values(node.states) as AnyStateNode[];
    const activeChildren = children.filter((child) => active.has(child));
    if (node.type === "parallel") {
      assertEquals(activeChildren.length, children.length, node.id);
    } else if (node.type === "compound") {
      assertEquals(activeChildren.length, 1, node.id);
    }
  }
}

function isUnknownInput(event: ModelEvent): boolean {
  if (event.type === "PROGRAM_STATUS") {
    return nameOf(S, event.status as number) === undefined;
  }
  if (event.type === "GTW_EVENT") {
    return nameOf(G, event.eventType as number) === undefined;
  }
  return false;
}

Deno.test("program status: random input never throws, never leaves the definition, and fatal holds until RESET", () => {
  fc.assert(
    fc.property(
      fc.array(gatewayInput, { minLength: 5, maxLength: 80 }),
      (events) => {
        const actor = createActor(programStatusMachine).start();
        let fatal = false;
        for (const event of events) {
          const before = actor.getSnapshot();
          actor.send(event as never);
          const after = actor.getSnapshot();
          assertEquals(after.status, "active");
          assertValidConfiguration(programStatusMachine, after._nodes);
          if (isUnknownInput(event)) assertEquals(after.value, before.value);
          if (event.type === "RESET") fatal = false;
          else if (fatal) assert(after.hasTag("fatal"), "fatal was forgotten");
          fatal = after.hasTag("fatal");
        }
        actor.stop();
      },
    ),
    { numRuns: 300 },
  );
});

const notification: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    kind: fc.constant("gtwEvent"),
    type: fc.constant(1),
    typeName: fc.constant("GtwEvent"),
    eventType: eventNumber,
    eventName: fc.constant(undefined),
    desc: text,
  }),
  fc.record({
    kind: fc.constant("programStatus"),
    type: fc.constant(2),
    typeName: fc.constant("ProgramStatus"),
    status: statusNumber,
    statusName: fc.constant(undefined),
  }),
  fc.record({
    kind: fc.constant("unknown"),
    type: fc.integer(),
    typeName: fc.constant(undefined),
    s2c: fc.constant({}),
  }),
  fc.jsonValue(),
);

/** Results an invoked actor might deliver, sensible or not. */
const actorOutput = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue(),
  fc.record({
    programStatus: fc.record({ type: statusNumber }),
    qotLogined: fc.boolean(),
    trdLogined: fc.boolean(),
  }),
  fc.record({
    keepAliveInterval: fc.integer({ min: -5, max: 120 }),
    connId: fc.oneof(fc.nat(), fc.bigInt(), text),
  }),
  fc.constantFrom("123456", "", " "),
  fc.record({ password: text }),
);

const FROM_THE_MACHINE = "(an actor result or timer)";

const sessionInput: fc.Arbitrary<ModelEvent> = fc.oneof(
  { weight: 3, arbitrary: gatewayInput },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      { type: "START" },
      { type: "START" },
      { type: "CLOSE" },
      { type: "LINK_UP" },
      { type: "PACKET_RECEIVED" },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant("LINK_DOWN"), reason: text }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant("SUBMIT_CODE"), code: text }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("NOTIFICATION"),
      notification,
    }),
  },
  {
    // An actor's result or a timer: which one is decided by the state.
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant(FROM_THE_MACHINE),
      pick: fc.nat(),
      output: actorOutput,
      error: fc.constant(new Error("random failure")),
    }),
  },
);

/** Actors that may run while the gateway is fatal: none. */
function runningActors(snapshot: { children: Record<string, unknown> }) {
  return Object.keys(snapshot.children);
}

/**
 * XState itself produces `xstate.*` events (actor results, timers), and only
 * while the state that invoked the actor or started the timer is active: one
 * of those, chosen by `pick` (successes three times as likely), or nothing
 * when none can happen now.
 */
function machineEvent(
  snapshot: { _nodes: readonly AnyStateNode[] },
  { pick, output, error }: ModelEvent,
): ModelEvent | undefined {
  const possible = [
    ...new Set(
      snapshot._nodes.flatMap((node) =>
        [...node.transitions.keys()].filter((type) =>
          type.startsWith("xstate.")
        )
      ),
    ),
  ].flatMap((type) =>
    type.startsWith("xstate.done.") ? [type, type, type] : [type]
  );
  if (possible.length === 0) return undefined;
  const type = possible[(pick as number) % possible.length];
  if (type.startsWith("xstate.done.")) return { type, output };
  if (type.startsWith("xstate.error.")) return { type, error };
  return { type };
}

Deno.test("session supervisor: random input never throws, never leaves the definition, and fatal stops every loop until RESET", () => {
  fc.assert(
    fc.property(
      fc.array(sessionInput, { minLength: 20, maxLength: 150 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (events, jitter) => {
        let [snapshot] = initialTransition(sessionMachine, {
          random: () => jitter,
          maxReconnectAttempts: 3,
        });
        let fatal = false;
        for (const input of events) {
          const event = input.type === FROM_THE_MACHINE
            ? machineEvent(snapshot, input)
            : input;
          if (event === undefined) continue;
          const before = snapshot;
          [snapshot] = transition(sessionMachine, snapshot, event as never);
          assertEquals(snapshot.status, "active");
          assertValidConfiguration(sessionMachine, snapshot._nodes);
          if (isUnknownInput(event)) {
            assertEquals(snapshot.value, before.value);
          }
          if (event.type === "RESET") {
            fatal = false;
            continue;
          }
          if (fatal) {
            assert(snapshot.hasTag("fatal"), "fatal was forgotten");
            assert(
              ["stopped", "closed"].includes(snapshot.value.link as string),
              `link ${JSON.stringify(snapshot.value.link)} while fatal`,
            );
            assertEquals(snapshot.value.recovery.flow, "stopped");
            assertEquals(runningActors(snapshot), []);
          }
          fatal = snapshot.hasTag("fatal");
        }
      },
    ),
    { numRuns: 400 },
  );
});

/** What a random OpenD does to a running supervisor. */
const worldStep = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      ms: fc.integer({ min: 0, max: 120_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("drop" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("up" as const), up: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("event" as const),
      eventType: likelyEvent,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("status" as const),
      status: likelyStatus,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("answer" as const),
      code: fc.constantFrom("123456", "000000"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("relogin" as const),
      works: fc.boolean(),
    }),
  },
);

function gtw(eventType: number): SystemNotification {
  return {
    kind: "gtwEvent",
    type: 1,
    typeName: "GtwEvent",
    eventType,
    eventName: undefined,
    desc: "",
  };
}

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]);
}

Deno.test("whatever a random OpenD does, the supervisor never hammers it", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(worldStep, { minLength: 5, maxLength: 40 }),
      fc.double({ min: 0.1, max: 1, noNaN: true }),
      async (steps, jitter) => {
        await using rig = rigSession({ random: () => jitter });
        let readyReports = 0;
        rig.opend.onReady = () => readyReports++;
        await rig.start();
        let fatalAt: number | undefined;
        rig.session.on("fatal", () => fatalAt ??= rig.clock.now());
        for (const step of steps) {
          switch (step.op) {
            case "advance":
              await rig.clock.advance(step.ms);
              break;
            case "drop":
              rig.opend.dropLink();
              break;
            case "up":
              rig.opend.up = step.up;
              break;
            case "event":
              rig.opend.push(gtw(step.eventType));
              break;
            case "status":
              rig.opend.setStatus(step.status);
              break;
            case "answer":
              rig.opend.codeAnswers.push(step.code);
              break;
            case "relogin":
              rig.opend.relogin = step.works ? "succeeds" : "fails";
              break;
          }
        }
        await rig.clock.advance(10 * 60_000);

        assertEquals(rig.session.getSnapshot().status, "active");
        const { log } = rig.opend;
        const minimumGap = Math.floor(jitter * 1_000);
        for (const gap of gaps(log.linksOpened)) {
          assert(gap >= minimumGap, `links ${gap} ms apart`);
        }
        const phone = log.requestCode.filter((r) => r.kind === "phone").map((
          r,
        ) => r.at);
        for (const gap of gaps(phone)) {
          assert(gap >= 60_000, `SMS ${gap} ms apart`);
        }
        const { maxRelogins, maxCodeRequests } =
          rig.session.getSnapshot().context.options;
        assert(
          log.relogin.length <= maxRelogins * (readyReports + 1),
          "relogins unbounded",
        );
        assert(
          log.requestCode.length <= maxCodeRequests * (readyReports + 1),
          "code requests unbounded",
        );
        if (fatalAt !== undefined) {
          const after = (times: readonly number[]) =>
            times.filter((t) => t > fatalAt!);
          assertEquals(after(log.linksOpened), []);
          assertEquals(after(log.relogin.map((r) => r.at)), []);
          assertEquals(after(log.requestCode.map((r) => r.at)), []);
        }
      },
    ),
    { numRuns: 60 },
  );
});
