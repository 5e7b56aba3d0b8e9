/**
 * OpenD's program status as a statechart: what each input does to it.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createActor } from "xstate";
import {
  GtwEventType,
  type GtwEventTypeName,
  ProgramStatusType,
  type ProgramStatusTypeName,
} from "../codec/definitions.ts";
import {
  defaultPolicy,
  definePolicy,
  type FatalEmitted,
  MAX_UNKNOWN_INPUTS,
  type Policy,
  programStatusMachine,
  type ProgramStatusMachineEvent,
  STATUS_STATE_PATHS,
} from "../machines/mod.ts";

const S = ProgramStatusType;
const G = GtwEventType;
const STATUS_NAMES = Object.keys(S) as ProgramStatusTypeName[];
const EVENT_NAMES = Object.keys(G) as GtwEventTypeName[];

function gateway(policy?: Policy) {
  const actor = createActor(programStatusMachine, {
    input: policy ? { policy } : undefined,
  });
  const fatal: FatalEmitted[] = [];
  actor.on("fatal", (event) => fatal.push(event));
  actor.start();
  const send = (...events: ProgramStatusMachineEvent[]) => {
    for (const event of events) actor.send(event);
    return actor.getSnapshot();
  };
  return { actor, fatal, send, snapshot: () => actor.getSnapshot() };
}

Deno.test("one state for each of the 13 statuses, grouped starting / loggingIn / preparing / Ready / stopped", () => {
  const groups: Record<string, string[]> = {};
  for (const name of STATUS_NAMES) {
    const path = STATUS_STATE_PATHS[name];
    const node = programStatusMachine.getStateNodeById(
      `programStatus.status.${path.join(".")}`,
    );
    assertEquals(node.key, name);
    (groups[path.length === 1 ? name : path[0]] ??= []).push(name);
  }
  assertEquals(groups, {
    starting: ["None", "Loaded"],
    loggingIn: ["Loging", "NeedPicVerifyCode", "NeedPhoneVerifyCode"],
    preparing: ["NessaryDataPreparing"],
    Ready: ["Ready"],
    stopped: [
      "LoginFailed",
      "ForceUpdate",
      "NessaryDataMissing",
      "UnAgreeDisclaimer",
      "ForceLogout",
      "DisclaimerPullFailed",
    ],
  });
});

Deno.test("a fresh gateway is None, healthy, and knows nothing yet", () => {
  const { snapshot } = gateway();
  assertEquals(snapshot().value, {
    status: { starting: "None" },
    fault: "healthy",
  });
  assertEquals(snapshot().context.statusName, "None");
  assertEquals([...snapshot().tags], []);
});

Deno.test("PROGRAM_STATUS is authoritative: any status moves to any other, keeping strExtDesc", () => {
  for (const from of STATUS_NAMES) {
    for (const to of STATUS_NAMES) {
      const { send } = gateway();
      send({ type: "PROGRAM_STATUS", status: S[from] });
      const after = send({
        type: "PROGRAM_STATUS",
        status: S[to],
        strExtDesc: `now ${to}`,
      });
      assertEquals(after.value.status, toValue(STATUS_STATE_PATHS[to]));
      assertEquals(after.context.status, S[to]);
      assertEquals(after.context.statusName, to);
      assertEquals(after.context.strExtDesc, `now ${to}`);
    }
  }
});

function toValue(path: readonly string[]): string | Record<string, string> {
  return path.length === 1 ? path[0] : { [path[0]]: path[1] };
}

Deno.test("every GtwEvent follows the policy table: implied status, fatal, trading lock", () => {
  for (const name of EVENT_NAMES) {
    const rule = defaultPolicy.gtwEvents[name];
    const { send, fatal } = gateway();
    send({ type: "PROGRAM_STATUS", status: S.Ready });
    const after = send({ type: "GTW_EVENT", eventType: G[name], desc: "d" });
    const expected = rule.impliedStatus ?? "Ready";
    assertEquals(after.context.statusName, expected, name);
    assertEquals(after.hasTag("fatal"), rule.reaction === "fatal", name);
    assertEquals(fatal.length, rule.reaction === "fatal" ? 1 : 0, name);
    assertEquals(after.context.tradingLocked, name === "TradePwdChanged", name);
    assertEquals(after.context.lastEvent, {
      eventType: G[name],
      name,
      desc: "d",
    });
  }
});

Deno.test("KickedOut, LoginPwdChanged and EnableDeviceLock lead to ForceLogout with the reason kept", () => {
  for (const name of ["KickedOut", "LoginPwdChanged", "EnableDeviceLock"]) {
    const { send } = gateway();
    send({ type: "PROGRAM_STATUS", status: S.Ready });
    send({ type: "GTW_EVENT", eventType: G[name as GtwEventTypeName] });
    const confirmed = send({ type: "PROGRAM_STATUS", status: S.ForceLogout });
    assert(confirmed.matches({ status: { stopped: "ForceLogout" } }));
    assert(confirmed.hasTag("needsPerson"));
    assertEquals(confirmed.context.reason?.name, name);
    const recovered = send({ type: "PROGRAM_STATUS", status: S.Ready });
    assertEquals(recovered.context.reason, null);
  }
});

Deno.test("NeedPhoneVerifyCode and NeedPicVerifyCode need a code", () => {
  const { send } = gateway();
  const phone = send({ type: "GTW_EVENT", eventType: G.NeedPhoneVerifyCode });
  assert(phone.matches({ status: { loggingIn: "NeedPhoneVerifyCode" } }));
  assert(phone.hasTag("needsCode"));
  const picture = send({ type: "GTW_EVENT", eventType: G.NeedPicVerifyCode });
  assert(picture.matches({ status: { loggingIn: "NeedPicVerifyCode" } }));
  assert(picture.hasTag("needsCode"));
  assert(
    !send({ type: "PROGRAM_STATUS", status: S.Ready }).hasTag("needsCode"),
  );
});

Deno.test("BanLogin means LoginFailed and fatal, said once", () => {
  const { send, fatal } = gateway();
  send({ type: "PROGRAM_STATUS", status: S.Ready });
  const banned = send({
    type: "GTW_EVENT",
    eventType: G.BanLogin,
    desc: "risk control",
  });
  assert(
    banned.matches({ status: { stopped: "LoginFailed" }, fault: "fatal" }),
  );
  send({ type: "GTW_EVENT", eventType: G.BanLogin });
  send({ type: "PROGRAM_STATUS", status: S.ForceUpdate });
  assertEquals(fatal, [{
    type: "fatal",
    reason: "BanLogin: this account is banned from logging in (risk control)",
    eventType: G.BanLogin,
  }]);
});

Deno.test("gateway faults are fatal without changing the status", () => {
  for (
    const name of ["LocalCfgLoadFailed", "APISvrRunFailed", "AppDataNotExist"]
  ) {
    const { send } = gateway();
    send({ type: "PROGRAM_STATUS", status: S.Ready });
    const after = send({
      type: "GTW_EVENT",
      eventType: G[name as GtwEventTypeName],
    });
    assert(after.matches({ status: "Ready", fault: "fatal" }), name);
    assertStringIncludes(after.context.fatal?.reason ?? "", name);
  }
});

Deno.test("ForceUpdate reported as a status is fatal too", () => {
  const { send, fatal } = gateway();
  const after = send({ type: "PROGRAM_STATUS", status: S.ForceUpdate });
  assert(after.hasTag("fatal") && after.hasTag("needsPerson"));
  assertEquals(fatal[0].status, S.ForceUpdate);
});

Deno.test("fatal stays fatal whatever OpenD says, until RESET", () => {
  const { send } = gateway();
  send({ type: "GTW_EVENT", eventType: G.APISvrRunFailed });
  for (const status of Object.values(S)) {
    assert(send({ type: "PROGRAM_STATUS", status }).hasTag("fatal"));
  }
  for (const eventType of Object.values(G)) {
    assert(send({ type: "GTW_EVENT", eventType }).hasTag("fatal"));
  }
  const reset = send({ type: "RESET" });
  assertEquals(reset.value, { status: { starting: "None" }, fault: "healthy" });
  assertEquals(reset.context.fatal, null);
});

Deno.test("an unknown status or event is recorded, never followed", () => {
  const { send } = gateway();
  send({ type: "PROGRAM_STATUS", status: S.Ready });
  const after = send(
    { type: "PROGRAM_STATUS", status: 42, strExtDesc: "from the future" },
    { type: "GTW_EVENT", eventType: 77 },
    { type: "UNKNOWN_NOTIFICATION", notifyType: 9 },
  );
  assertEquals(after.value, { status: "Ready", fault: "healthy" });
  assertEquals(after.context.statusName, "Ready");
  assertEquals(after.context.unknown, [
    { kind: "programStatus", value: 42, desc: "from the future" },
    { kind: "gtwEvent", value: 77 },
    { kind: "notification", value: 9, desc: "Unknown(9)" },
  ]);
});

Deno.test("the unknown list keeps only the newest entries", () => {
  const { send } = gateway();
  for (let value = 100; value < 140; value++) {
    send({ type: "GTW_EVENT", eventType: value });
  }
  const { unknown } = send({ type: "GTW_EVENT", eventType: 140 }).context;
  assertEquals(unknown.length, MAX_UNKNOWN_INPUTS);
  assertEquals(unknown.at(-1), { kind: "gtwEvent", value: 140 });
});

Deno.test("logins, quote rights and quotas land in context without moving the state", () => {
  const { send } = gateway();
  const after = send(
    { type: "CONN_STATUS", qotLogined: true, trdLogined: false },
    { type: "QOT_RIGHT", rights: { hkQotRight: 2, hkOptionQotRight: true } },
    { type: "API_QUOTA", subQuota: 100, historyKLQuota: 30 },
    { type: "USED_QUOTA", usedSubQuota: 3, usedKLineQuota: 1 },
    { type: "USED_QUOTA", usedSubQuota: 4 },
    { type: "API_LEVEL", apiLevel: "LV2" },
  );
  assertEquals(after.value, { status: { starting: "None" }, fault: "healthy" });
  const { context } = after;
  assertEquals([context.qotLogined, context.trdLogined], [true, false]);
  assertEquals(context.qotRights, { hkQotRight: 2, hkOptionQotRight: true });
  assertEquals(context.apiQuota, { subQuota: 100, historyKLQuota: 30 });
  assertEquals(context.usedQuota, { usedSubQuota: 4, usedKLineQuota: 1 });
  assertEquals(context.apiLevel, "LV2");
});

Deno.test("a user's policy changes what an event implies", () => {
  const policy = definePolicy({
    NetCfgMissing: { impliedStatus: "LoginFailed", reaction: "fatal" },
  });
  const { send } = gateway(policy);
  const after = send({ type: "GTW_EVENT", eventType: G.NetCfgMissing });
  assert(after.matches({ status: { stopped: "LoginFailed" }, fault: "fatal" }));
});
