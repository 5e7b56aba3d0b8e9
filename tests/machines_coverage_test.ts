/**
 * Model-based tests: XState's graph utilities generate paths through both
 * machines, real actors follow every path, and every state and every
 * transition of each definition must be reached. Adding a state nobody can
 * reach, or a transition no path takes, fails here.
 */
import { type AnyStateMachine, StateMachine } from "xstate";
import { assert, assertEquals } from "@std/assert";
import { GtwEventType, ProgramStatusType } from "../codec/definitions.ts";
import {
  definePolicy,
  programStatusMachine,
  sessionMachine,
} from "../machines/mod.ts";
import {
  type CoverageGap,
  eventsToExplore,
  type Exploration,
  explore,
  gapOf,
  mergeReached,
  type ModelEvent,
  nothingReached,
  type Reached,
  testPaths,
} from "./machines_coverage.ts";
import { statusNotification } from "./machines_harness.ts";

const S = ProgramStatusType;
const G = GtwEventType;
const UNKNOWN = 99;

/** Every input the gateway understands, and one of each it does not. */
const gatewayInputs: ModelEvent[] = [
  ...Object.values(S).map((status) => ({
    type: "PROGRAM_STATUS",
    status,
    strExtDesc: "from OpenD",
  })),
  { type: "PROGRAM_STATUS", status: UNKNOWN },
  ...Object.values(G).map((eventType) => ({
    type: "GTW_EVENT",
    eventType,
    desc: "from OpenD",
  })),
  { type: "GTW_EVENT", eventType: UNKNOWN },
  { type: "CONN_STATUS", qotLogined: true, trdLogined: false },
  { type: "QOT_RIGHT", rights: { hkQotRight: 2 } },
  { type: "API_QUOTA", subQuota: 100, historyKLQuota: 30 },
  { type: "USED_QUOTA", usedSubQuota: 3 },
  { type: "API_LEVEL", apiLevel: "LV1" },
  { type: "UNKNOWN_NOTIFICATION", notifyType: UNKNOWN },
  { type: "RESET" },
];

/** The program-status machine has no details but its state worth keeping. */
const byValue: Exploration["serializeState"] = (state) =>
  JSON.stringify(state.value);

function describeGap(gap: CoverageGap): string {
  return [
    `unreached states:\n  ${gap.unreachedStates.join("\n  ")}`,
    `untaken transitions:\n  ${gap.untakenTransitions.join("\n  ")}`,
  ].join("\n");
}

/**
 * The policy is data, so the machines can follow a GtwEvent to any status and
 * answer any status with any reaction. The default table leaves some of those
 * branches unused; this policy uses them.
 */
const policyUsingEveryBranch = definePolicy({
  None: { impliedStatus: "None" },
  NetCfgMissing: { impliedStatus: "Loaded" },
  LocalCfgLoadFailed: { impliedStatus: "Loging" },
  APISvrRunFailed: { impliedStatus: "NessaryDataPreparing" },
  TradePwdChanged: { impliedStatus: "Ready" },
  AppDataNotExist: { impliedStatus: "DisclaimerPullFailed" },
  statuses: { DisclaimerPullFailed: { reaction: "notify" } },
});

async function coverProgramStatus(machine: AnyStateMachine) {
  const reached = nothingReached();
  let paths = 0;
  for (const policy of [undefined, policyUsingEveryBranch]) {
    const exploration: Exploration = {
      input: policy && { policy },
      events: eventsToExplore(machine, gatewayInputs),
      serializeState: byValue,
    };
    const explored = explore(machine, exploration);
    mergeReached(reached, explored.reached);
    await testPaths(machine, explored.paths, exploration, reached);
    paths += explored.paths.length;
  }
  return { paths, gap: gapOf(machine, reached) };
}

Deno.test("program status: generated paths reach every state and take every transition", async () => {
  const { paths, gap } = await coverProgramStatus(programStatusMachine);
  assertEquals(
    gap,
    { unreachedStates: [], untakenTransitions: [] },
    describeGap(gap),
  );
  assert(paths >= 13, `only ${paths} paths for 13 statuses`);
});

// The supervisor's regions are explored one focus at a time: the full product
// of link x gateway x recovery states is large and mostly says nothing new.
// Each focus keeps the details its guards read and folds the rest together.

/** Small budgets keep every counter's range finite and explorable. */
const sessionInput = {
  maxReconnectAttempts: 2,
  maxCodeAttempts: 2,
  maxCodeRequests: 2,
  maxRelogins: 2,
  maxKeepAliveMisses: 2,
  maxPermanentFailures: 1,
  random: () => 1,
};

/** An actor's failure, plain or with the hints the supervisor acts on. */
function failures(actor: string, ...hints: object[]): ModelEvent[] {
  return [{}, ...hints].map((hint) => ({
    type: `xstate.error.actor.${actor}`,
    error: Object.assign(new Error("failed in the model"), hint),
  }));
}

const tooFrequent = { retryAfterMs: 5_000 };

const actorOutputs = {
  initConnect: [{ keepAliveInterval: 10, connId: 1 }],
  getGlobalState: [
    { programStatus: { type: S.Ready }, qotLogined: true, trdLogined: true },
    { programStatus: { type: S.ForceUpdate } },
  ],
  codeProvider: ["123456", ""],
  credentialsProvider: [{ password: "model-only" }, undefined],
};

const linkEvent = (type: string) =>
  /\.link\.|actor\.(link|initConnect|getGlobalState|keepAlive|closeLink)$|^(START|CLOSE|RESET|LINK_UP|PACKET_RECEIVED)$/
    .test(type);

const recoveryEvent = (type: string) =>
  /\.recovery\.|actor\.(requestVerificationCode|codeProvider|submitVerificationCode|credentialsProvider|relogin)$|^(RESET|CLOSE)$/
    .test(type);

// deno-lint-ignore no-explicit-any
type Snapshot = any;

const sessionExplorations: Record<string, Exploration> = {
  link: {
    input: sessionInput,
    events: eventsToExplore(
      sessionMachine,
      [
        { type: "LINK_DOWN", reason: "connection reset" },
        {
          type: "LINK_DOWN",
          reason: "host not found (ENOTFOUND)",
          permanent: "unknown host",
        },
        { type: "PROGRAM_STATUS", status: S.Ready },
        { type: "PROGRAM_STATUS", status: S.Loging },
        { type: "GTW_EVENT", eventType: G.BanLogin },
        { type: "NOTIFICATION", notification: statusNotification(S.Ready) },
        { type: "NOTIFICATION", notification: null },
      ],
      actorOutputs,
      linkEvent,
    ),
    serializeState: (s: Snapshot) =>
      JSON.stringify([
        s.value.link,
        s.value.gateway,
        s.value.recovery.flow,
        s.context.link.attempt,
        s.context.link.readyAnnounced,
        s.context.link.keepAliveMisses,
      ]),
  },
  recovery: {
    input: sessionInput,
    events: eventsToExplore(
      sessionMachine,
      [
        ...Object.values(G).map((eventType) => ({
          type: "GTW_EVENT",
          eventType,
        })),
        { type: "GTW_EVENT", eventType: UNKNOWN },
        ...[
          S.Ready,
          S.Loging,
          S.NeedPhoneVerifyCode,
          S.NeedPicVerifyCode,
          S.LoginFailed,
          S.ForceLogout,
          UNKNOWN,
        ].map((status) => ({ type: "PROGRAM_STATUS", status })),
        // What a reconnect's GetGlobalState says, read mid-relogin.
        { type: "PROGRAM_STATUS", status: S.LoginFailed, seeded: true },
        { type: "SUBMIT_CODE", code: "123456" },
        { type: "SUBMIT_CODE", code: " " },
        ...failures("requestVerificationCode", tooFrequent),
        ...failures("submitVerificationCode", tooFrequent),
        ...failures("relogin", tooFrequent, { wrongPassword: true }),
      ],
      actorOutputs,
      recoveryEvent,
    ),
    serializeState: (s: Snapshot) => {
      const { recovery } = s.context;
      return JSON.stringify([
        s.value.recovery,
        recovery.trigger?.name,
        recovery.trigger?.source,
        recovery.codeAttempts,
        recovery.codeRequests,
        recovery.reloginAttempts,
        recovery.reloginDelayMs > 0,
      ]);
    },
  },
  gateway: {
    input: sessionInput,
    events: gatewayInputs,
    serializeState: (s: Snapshot) => JSON.stringify(s.value.gateway),
  },
  gatewayUnderAnotherPolicy: {
    input: { ...sessionInput, policy: policyUsingEveryBranch },
    events: gatewayInputs,
    serializeState: (s: Snapshot) => JSON.stringify(s.value.gateway),
  },
};

async function coverSession(
  machine: AnyStateMachine,
  foci: readonly string[],
): Promise<{ gap: CoverageGap; paths: number }> {
  const reached: Reached = nothingReached();
  let paths = 0;
  for (const focus of foci) {
    const exploration = sessionExplorations[focus];
    const explored = explore(machine, exploration);
    mergeReached(reached, explored.reached);
    await testPaths(machine, explored.paths, exploration, reached);
    paths += explored.paths.length;
  }
  return { gap: gapOf(machine, reached), paths };
}

Deno.test("session supervisor: generated paths reach every state and take every transition of every region", async () => {
  const { gap, paths } = await coverSession(
    sessionMachine,
    Object.keys(sessionExplorations),
  );
  assertEquals(
    gap,
    { unreachedStates: [], untakenTransitions: [] },
    describeGap(gap),
  );
  assert(paths > 100, `only ${paths} paths`);
});

// The coverage measurement itself must be able to fail.

Deno.test("coverage fails when a program status state becomes unreachable", async () => {
  const orphaned = new StateMachine(
    {
      ...programStatusMachine.config,
      states: {
        ...programStatusMachine.config.states,
        status: {
          ...programStatusMachine.config.states!.status,
          states: {
            ...programStatusMachine.config.states!.status.states,
            orphan: {},
          },
        },
      },
    },
    programStatusMachine.implementations,
  ) as unknown as AnyStateMachine;
  const { gap } = await coverProgramStatus(orphaned);
  assertEquals(gap.unreachedStates, ["programStatus.status.orphan"]);
});

Deno.test("coverage fails when a program status transition is never taken", async () => {
  const config = programStatusMachine.config;
  const status = config.states!.status;
  const untakeable = new StateMachine(
    {
      ...config,
      states: {
        ...config.states,
        status: {
          ...status,
          on: {
            ...status.on,
            CONN_STATUS: { guard: () => false, target: ".Ready" },
          },
        },
      },
    },
    programStatusMachine.implementations,
  ) as unknown as AnyStateMachine;
  const { gap } = await coverProgramStatus(untakeable);
  assertEquals(gap.unreachedStates, []);
  assertEquals(gap.untakenTransitions, [
    "programStatus.status --CONN_STATUS[0]--> programStatus.status.Ready",
  ]);
});

Deno.test("coverage fails when a supervisor state becomes unreachable", async () => {
  const flow = sessionMachine.config.states!.recovery.states!.flow;
  const orphaned = new StateMachine(
    {
      ...sessionMachine.config,
      states: {
        ...sessionMachine.config.states,
        recovery: {
          ...sessionMachine.config.states!.recovery,
          states: {
            ...sessionMachine.config.states!.recovery.states,
            flow: { ...flow, states: { ...flow.states, orphan: {} } },
          },
        },
      },
    },
    sessionMachine.implementations,
  ) as unknown as AnyStateMachine;
  const { gap } = await coverSession(orphaned, ["gateway"]);
  assert(
    gap.unreachedStates.includes("session.recovery.flow.orphan"),
    describeGap(gap),
  );
});

Deno.test("coverage fails when a supervisor transition is never taken", async () => {
  const link = sessionMachine.config.states!.link;
  const untakeable = new StateMachine(
    {
      ...sessionMachine.config,
      states: {
        ...sessionMachine.config.states,
        link: {
          ...link,
          on: {
            ...link.on,
            CONN_STATUS: { guard: () => false, target: ".closed" },
          },
        },
      },
    },
    sessionMachine.implementations,
  ) as unknown as AnyStateMachine;
  const { gap } = await coverSession(untakeable, ["gateway"]);
  assert(
    gap.untakenTransitions.includes(
      "session.link --CONN_STATUS[0]--> session.link.closed",
    ),
    describeGap(gap),
  );
});
