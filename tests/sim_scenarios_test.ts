import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  decodeNotification,
  GtwEventType,
  ProgramStatusType,
  ProtoId,
  VerificationOp,
  VerificationType,
} from "../codec/mod.ts";
import {
  DEFAULT_NEW_PASSWORD,
  namedScenario,
  type OpenDSimulator,
  runScenario,
  SCENARIO_NAMES,
  type ScenarioStep,
  startSimulator,
  validateScenario,
} from "../sim/mod.ts";
import { OpsClient, RawClient } from "./_sim_helpers.ts";

// 1000 ms of story take 20 ms here.
const SCALE = 0.02;

async function online(sim: OpenDSimulator): Promise<RawClient> {
  const client = await RawClient.connect(sim.address.port);
  await client.initConnect();
  return client;
}

async function nextGtwEvent(client: RawClient): Promise<number> {
  for (;;) {
    const p = await client.next((p) => p.protoId === ProtoId.Notify);
    const n = decodeNotification(p.body);
    if (n.kind === "gtwEvent") return n.eventType;
  }
}

async function statusOf(client: RawClient): Promise<number | undefined> {
  return (await client.request(ProtoId.GetGlobalState, { userID: "1" })).s2c
    ?.programStatus?.type;
}

function reached(sim: OpenDSimulator, status: number, since = 0) {
  return sim.waitFor("statusChanged", (e) => e.status === status, {
    since,
    timeoutMs: 2000,
  });
}

Deno.test("scenario kicked-out: event, drop, ForceLogout after reconnecting, relogin -> Ready", async () => {
  await using sim = await startSimulator({ loginDelayMs: 20 });
  const client = await online(sim);
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    const run = sim.runScenario("kicked-out", { timeScale: SCALE });
    assertEquals(await nextGtwEvent(client), GtwEventType.KickedOut);
    await client.waitClosed();
    assertEquals(await run.done, "completed");
    const again = await online(sim);
    try {
      assertEquals(await statusOf(again), ProgramStatusType.ForceLogout);
      assertEquals(await ops.command("relogin"), "relogin: OK, logging in");
      await reached(sim, ProgramStatusType.Ready);
      assertEquals(await statusOf(again), ProgramStatusType.Ready);
    } finally {
      await again.close();
    }
  } finally {
    await client.close();
    await ops.close();
  }
});

Deno.test("scenario phone-code: Loging, NeedPhoneVerifyCode, code via the API -> Ready", async () => {
  await using sim = await startSimulator({
    loginDelayMs: 20,
    opsPort: false,
    phoneCode: "112233",
  });
  const client = await online(sim);
  try {
    const run = sim.runScenario("phone-code", { timeScale: SCALE });
    assertEquals(await nextGtwEvent(client), GtwEventType.NeedPhoneVerifyCode);
    await run.done;
    assertEquals(await statusOf(client), ProgramStatusType.NeedPhoneVerifyCode);
    const ask = await client.request(ProtoId.Verification, {
      type: VerificationType.Phone,
      op: VerificationOp.Request,
    });
    assertEquals(ask.retType, 0);
    const submit = await client.request(ProtoId.Verification, {
      type: VerificationType.Phone,
      op: VerificationOp.InputAndLogin,
      code: "112233",
    });
    assertEquals(submit.retType, 0);
    await reached(sim, ProgramStatusType.Ready);
    const statuses = sim.events.flatMap((e) =>
      e.type === "statusChanged" ? [e.status] : []
    );
    assertEquals(statuses, [
      ProgramStatusType.Loging,
      ProgramStatusType.NeedPhoneVerifyCode,
      ProgramStatusType.Loging,
      ProgramStatusType.Ready,
    ]);
  } finally {
    await client.close();
  }
});

Deno.test("scenario password-changed: only the new password logs back in", async () => {
  await using sim = await startSimulator({
    loginDelayMs: 20,
    loginPassword: "old-password",
  });
  const client = await online(sim);
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    sim.runScenario("password-changed", { timeScale: SCALE });
    assertEquals(await nextGtwEvent(client), GtwEventType.LoginPwdChanged);
    await client.waitClosed();
    assertEquals(
      await ops.command("relogin"),
      "relogin: FAILED, password error",
    );
    assertEquals(
      await ops.command("relogin -login_pwd=old-password"),
      "relogin: FAILED, password error",
    );
    assertEquals(
      await ops.command(`relogin -login_pwd=${DEFAULT_NEW_PASSWORD}`),
      "relogin: OK, logging in",
    );
    await reached(sim, ProgramStatusType.Ready);
    // OpenD now keeps the new password: a plain relogin works again.
    assertEquals(await ops.command("relogin"), "relogin: OK, logging in");
  } finally {
    await client.close();
    await ops.close();
  }
});

Deno.test("scenario device-lock: relogin leads to NeedPhoneVerifyCode, the code to Ready", async () => {
  await using sim = await startSimulator({ loginDelayMs: 20 });
  const client = await online(sim);
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    sim.runScenario("device-lock", { timeScale: SCALE });
    assertEquals(await nextGtwEvent(client), GtwEventType.EnableDeviceLock);
    await client.waitClosed();
    const since = sim.mark();
    assertEquals(await ops.command("relogin"), "relogin: OK, logging in");
    await reached(sim, ProgramStatusType.NeedPhoneVerifyCode, since);
    assertEquals(
      await ops.command("input_phone_verify_code -code=123456"),
      "input_phone_verify_code: OK, logging in",
    );
    await reached(sim, ProgramStatusType.Ready, since);
  } finally {
    await client.close();
    await ops.close();
  }
});

Deno.test("scenario banned: BanLogin, LoginFailed, every relogin fails", async () => {
  await using sim = await startSimulator({ loginDelayMs: 20 });
  const client = await online(sim);
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    await sim.runScenario("banned", { timeScale: SCALE }).done;
    assertEquals(await nextGtwEvent(client), GtwEventType.BanLogin);
    const state = await client.request(ProtoId.GetGlobalState, { userID: "1" });
    assertEquals(state.s2c?.programStatus, {
      type: ProgramStatusType.LoginFailed,
      strExtDesc: "account banned",
    });
    assertEquals(
      await ops.command("relogin"),
      "relogin: FAILED, account banned",
    );
    // Even a restart cannot log a banned account in.
    await sim.restart(10);
    await reached(sim, ProgramStatusType.LoginFailed, sim.mark());
  } finally {
    await client.close();
    await ops.close();
  }
});

Deno.test("scenario flaky-network: drops, a refusal window, and recovery", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const client = await online(sim);
  try {
    const run = sim.runScenario("flaky-network", { timeScale: SCALE });
    await client.waitClosed();
    assertEquals(await run.done, "completed");
    const kinds = sim.events.flatMap((e) =>
      e.type === "connectionsDropped" || e.type === "refusing" ||
        e.type === "accepting"
        ? [e.type]
        : []
    );
    assertEquals(kinds, [
      "connectionsDropped",
      "connectionsDropped",
      "refusing",
      "connectionsDropped",
      "accepting",
      "connectionsDropped",
    ]);
    const refusing = sim.events.find((e) => e.type === "refusing");
    assert(refusing?.type === "refusing" && refusing.ms === 3000 * SCALE);
    const back = await online(sim);
    await back.close();
  } finally {
    await client.close();
  }
});

Deno.test("scenario opend-restart: down, back up, Ready", async () => {
  await using sim = await startSimulator({ loginDelayMs: 20 });
  await sim.runScenario("opend-restart", { timeScale: SCALE }).done;
  await sim.waitFor("restarted", undefined, { timeoutMs: 2000 });
  await reached(sim, ProgramStatusType.Ready);
  const client = await online(sim);
  assertEquals(await statusOf(client), ProgramStatusType.Ready);
  await client.close();
});

Deno.test("scenario: every name has steps that validate; options.scenario runs at start", async () => {
  for (const name of SCENARIO_NAMES) validateScenario(namedScenario(name));
  assertEquals(
    namedScenario("password-changed", { newPassword: "x" })[0].args,
    { password: "x" },
  );
  await using sim = await startSimulator({
    opsPort: false,
    scenario: "banned",
    scenarioTimeScale: SCALE,
  });
  await sim.waitFor(
    "scenarioEnded",
    (e) => e.scenario === "banned" && !e.cancelled,
  );
  assertEquals(sim.programStatus.type, ProgramStatusType.LoginFailed);
});

Deno.test("scenario: custom steps as data, names or numbers, zero delays in one tick, repeat and cancel", async () => {
  await using sim = await startSimulator({ opsPort: false });
  const steps: ScenarioStep[] = JSON.parse(JSON.stringify([
    {
      afterMs: 5,
      action: "pushGtwEvent",
      args: { eventType: "NessaryDataMissing", desc: "x" },
    },
    { afterMs: 0, action: "setProgramStatus", args: { status: 8 } },
    { afterMs: 0, action: "setKeepAliveAnswering", args: { on: false } },
    { afterMs: 5, action: "setAccount", args: { deviceLock: true } },
  ]));
  const run = runScenario(sim, steps, { name: "mine" });
  assertEquals(await run.done, "completed");
  const stepEvents = sim.events.filter((e) => e.type === "scenarioStep");
  assertEquals(stepEvents.length, 4);
  // Zero-delay steps follow at once: only their own effects in between.
  assertEquals(stepEvents[1].seq - stepEvents[0].seq, 2); // + notificationPushed
  assertEquals(stepEvents[2].seq - stepEvents[1].seq, 3); // + statusChanged, notificationPushed
  assertEquals(sim.programStatus.type, ProgramStatusType.NessaryDataMissing);

  const looping = sim.runScenario([{ afterMs: 5, action: "sendGarbage" }], {
    repeat: true,
    name: "loop",
  });
  await sim.waitFor("garbageSent", undefined, { since: sim.mark() });
  await sim.waitFor("garbageSent", undefined, { since: sim.mark() });
  looping.cancel();
  assertEquals(await looping.done, "cancelled");

  // A step that throws is recorded; the story goes on.
  const broken = sim.runScenario([
    {
      afterMs: 0,
      action: "pushNotification",
      args: { notification: { kind: "nope" } as never },
    },
    { afterMs: 1, action: "sendGarbage" },
  ]);
  assertEquals(await broken.done, "completed");
  await sim.waitFor("scenarioError");
});

Deno.test("scenario: malformed steps are rejected before anything runs", () => {
  const bad = (steps: unknown) => () =>
    validateScenario(steps as ScenarioStep[]);
  assertThrows(
    bad([{ afterMs: -1, action: "sendGarbage" }]),
    TypeError,
    "afterMs",
  );
  assertThrows(
    bad([{ afterMs: 1, action: "explode" }]),
    TypeError,
    "unknown action",
  );
  assertThrows(
    bad([{
      afterMs: 1,
      action: "setProgramStatus",
      args: { status: "Sleepy" },
    }]),
    TypeError,
    "Sleepy",
  );
  assertThrows(
    bad([{ afterMs: 1, action: "restart", args: {} }]),
    TypeError,
    "downMs",
  );
  assertThrows(
    bad([{
      afterMs: 1,
      action: "requireVerification",
      args: { codeType: "sms" },
    }]),
    TypeError,
    "codeType",
  );
  assertThrows(bad("nope"), TypeError);
});
