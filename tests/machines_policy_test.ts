/**
 * The reaction policy table, the codec seam (notifications to events), the
 * supervisor's options and backoff, and secret handling.
 */
import {
  assert,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { GtwEventType, ProgramStatusType } from "../codec/definitions.ts";
import type { SystemNotification } from "../codec/system_notification.ts";
import {
  defaultPolicy,
  defaultSessionOptions,
  definePolicy,
  fullJitterBackoff,
  impliedStatusOf,
  notificationToEvent,
  type PolicyOverrides,
  redactSecrets,
  resolveSessionOptions,
  Secret,
} from "../machines/mod.ts";

Deno.test("the default policy is DESIGN.md's table", () => {
  const table = Object.fromEntries(
    Object.entries(defaultPolicy.gtwEvents).map((
      [name, rule],
    ) => [name, [rule.impliedStatus, rule.reaction]]),
  );
  assertEquals(table, {
    NeedPhoneVerifyCode: ["NeedPhoneVerifyCode", "verifyCode"],
    NeedPicVerifyCode: ["NeedPicVerifyCode", "verifyCode"],
    LoginPwdChanged: ["ForceLogout", "relogin"],
    EnableDeviceLock: ["ForceLogout", "relogin"],
    KickedOut: ["ForceLogout", "park"],
    LoginFailed: ["LoginFailed", "reloginWithBackoff"],
    BanLogin: ["LoginFailed", "fatal"],
    ForceUpdate: ["ForceUpdate", "fatal"],
    UnAgreeDisclaimer: ["UnAgreeDisclaimer", "park"],
    NessaryDataMissing: ["NessaryDataMissing", "reloginAfterCooldown"],
    LocalCfgLoadFailed: [null, "fatal"],
    APISvrRunFailed: [null, "fatal"],
    AppDataNotExist: [null, "fatal"],
    TradePwdChanged: [null, "notify"],
    NetCfgMissing: [null, "record"],
    None: [null, "record"],
  });
  assertEquals(defaultPolicy.gtwEvents.LoginPwdChanged.askCredentials, true);
  assertEquals(defaultPolicy.gtwEvents.TradePwdChanged.locksTrading, true);
  assertEquals(defaultPolicy.gtwEvents.NeedPicVerifyCode.codeKind, "picture");
});

Deno.test("every GtwEventType and every ProgramStatusType has a rule", () => {
  assertEquals(
    Object.keys(defaultPolicy.gtwEvents).sort(),
    Object.keys(GtwEventType).sort(),
  );
  assertEquals(
    Object.keys(defaultPolicy.statuses).sort(),
    Object.keys(ProgramStatusType).sort(),
  );
  assertEquals(defaultPolicy.statuses.ForceUpdate.reaction, "fatal");
  assertEquals(defaultPolicy.statuses.ForceLogout.reaction, "park");
});

Deno.test("the default policy cannot be changed in place", () => {
  assert(Object.isFrozen(defaultPolicy.gtwEvents.KickedOut));
  assertThrows(() => {
    (defaultPolicy.gtwEvents.KickedOut as { reaction: string }).reaction =
      "relogin";
  });
});

Deno.test("definePolicy: relogin after a cool-down when kicked out, everything else default", () => {
  const policy = definePolicy({
    KickedOut: { reaction: "reloginAfterCooldown", cooldownMs: 300_000 },
    statuses: { DisclaimerPullFailed: { reaction: "record" } },
  });
  assertEquals(policy.gtwEvents.KickedOut, {
    impliedStatus: "ForceLogout",
    reaction: "reloginAfterCooldown",
    cooldownMs: 300_000,
    summary: "another login kicked this one out",
  });
  assertEquals(policy.statuses.DisclaimerPullFailed.reaction, "record");
  assertEquals(policy.gtwEvents.BanLogin, defaultPolicy.gtwEvents.BanLogin);
  assertEquals(defaultPolicy.gtwEvents.KickedOut.reaction, "park");
  assert(Object.isFrozen(policy.gtwEvents.KickedOut));
});

Deno.test("definePolicy refuses mistakes at configuration time", () => {
  const mistakes: [PolicyOverrides, string][] = [
    [
      { Kicked: { reaction: "park" } } as PolicyOverrides,
      'unknown GtwEventType "Kicked"',
    ],
    [
      { KickedOut: { reaction: "fight" as "park" } },
      'unknown reaction "fight"',
    ],
    [{ None: { reaction: "verifyCode" } }, "needs codeKind"],
    [
      { KickedOut: { reaction: "reloginAfterCooldown", cooldownMs: -1 } },
      "cooldownMs",
    ],
    [
      { KickedOut: { impliedStatus: "Gone" as "Ready" } },
      'unknown impliedStatus "Gone"',
    ],
    [
      { statuses: { Sleeping: { reaction: "park" } } } as PolicyOverrides,
      'unknown ProgramStatusType "Sleeping"',
    ],
  ];
  for (const [overrides, message] of mistakes) {
    const error = assertThrows(() => definePolicy(overrides), TypeError);
    assertStringIncludes(error.message, message);
  }
});

Deno.test("a cool-down without a duration waits five minutes", () => {
  const policy = definePolicy({
    KickedOut: { reaction: "reloginAfterCooldown" },
  });
  assertEquals(policy.gtwEvents.KickedOut.cooldownMs, 300_000);
});

Deno.test("impliedStatusOf reads the table and knows nothing of unknown events", () => {
  assertEquals(
    impliedStatusOf(defaultPolicy, GtwEventType.KickedOut),
    ProgramStatusType.ForceLogout,
  );
  assertEquals(
    impliedStatusOf(defaultPolicy, GtwEventType.TradePwdChanged),
    undefined,
  );
  assertEquals(impliedStatusOf(defaultPolicy, 99), undefined);
});

const base = { type: 1, typeName: "GtwEvent" } as const;

Deno.test("notificationToEvent maps every kind of Notify the codec decodes", () => {
  const cases: [SystemNotification, unknown][] = [
    [
      {
        ...base,
        kind: "gtwEvent",
        eventType: 7,
        eventName: "KickedOut",
        desc: "x",
      },
      { type: "GTW_EVENT", eventType: 7, desc: "x" },
    ],
    [
      {
        type: 2,
        typeName: "ProgramStatus",
        kind: "programStatus",
        status: 10,
        statusName: "Ready",
      },
      { type: "PROGRAM_STATUS", status: 10 },
    ],
    [
      {
        type: 2,
        typeName: "ProgramStatus",
        kind: "programStatus",
        status: 5,
        statusName: "LoginFailed",
        strExtDesc: "pwd",
      },
      { type: "PROGRAM_STATUS", status: 5, strExtDesc: "pwd" },
    ],
    [
      {
        type: 3,
        typeName: "ConnStatus",
        kind: "connStatus",
        qotLogined: true,
        trdLogined: false,
      },
      { type: "CONN_STATUS", qotLogined: true, trdLogined: false },
    ],
    [
      {
        type: 4,
        typeName: "QotRight",
        kind: "qotRight",
        rights: { hkQotRight: 2 },
      },
      { type: "QOT_RIGHT", rights: { hkQotRight: 2 } },
    ],
    [
      { type: 5, typeName: "APILevel", kind: "apiLevel", apiLevel: "LV1" },
      { type: "API_LEVEL", apiLevel: "LV1" },
    ],
    [
      {
        type: 6,
        typeName: "APIQuota",
        kind: "apiQuota",
        subQuota: 1,
        historyKLQuota: 2,
      },
      { type: "API_QUOTA", subQuota: 1, historyKLQuota: 2 },
    ],
    [
      { type: 7, typeName: "UsedQuota", kind: "usedQuota", usedKLineQuota: 3 },
      { type: "USED_QUOTA", usedKLineQuota: 3 },
    ],
    [
      { type: 42, typeName: undefined, kind: "unknown", s2c: { type: 42 } },
      { type: "UNKNOWN_NOTIFICATION", notifyType: 42 },
    ],
  ];
  for (const [notification, event] of cases) {
    assertEquals(notificationToEvent(notification), event);
  }
});

Deno.test("session options default to DESIGN.md's numbers", () => {
  const options = resolveSessionOptions(undefined);
  assertEquals(options, defaultSessionOptions);
  assertEquals(
    [
      options.silenceTimeoutMs,
      options.requestTimeoutMs,
      options.reconnectBaseMs,
      options.reconnectCapMs,
      options.stableOnlineMs,
      options.phoneCodeIntervalMs,
      options.maxCodeAttempts,
      options.maxReconnectAttempts,
    ],
    [33_000, 12_000, 1_000, 60_000, 60_000, 60_000, 3, undefined],
  );
  assertEquals(
    resolveSessionOptions({ maxRelogins: undefined }).maxRelogins,
    3,
  );
});

Deno.test("nonsensical session options are refused with their name", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ requestTimeoutMs: -1 }, "requestTimeoutMs"],
    [{ silenceTimeoutMs: Number.NaN }, "silenceTimeoutMs"],
    [{ maxCodeAttempts: 0 }, "maxCodeAttempts"],
    [{ maxReconnectAttempts: 1.5 }, "maxReconnectAttempts"],
    [{ random: 4 }, "random"],
  ];
  for (const [input, name] of cases) {
    const error = assertThrows(() => resolveSessionOptions(input), TypeError);
    assertStringIncludes(error.message, name);
  }
});

Deno.test("backoff is exponential with full jitter under a cap", () => {
  const max = () => 1;
  assertEquals(
    [1, 2, 3, 4, 7, 8, 50].map((n) => fullJitterBackoff(n, 1_000, 60_000, max)),
    [1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000],
  );
  assertEquals(fullJitterBackoff(3, 1_000, 60_000, () => 0.5), 2_000);
  assertEquals(fullJitterBackoff(3, 1_000, 60_000, () => 0), 0);
  assertEquals(fullJitterBackoff(1, 1_000, 60_000, () => 7), 1_000);
  assertEquals(fullJitterBackoff(1, 1_000, 60_000, () => Number.NaN), 1_000);
  for (let attempt = 1; attempt < 80; attempt++) {
    const delay = fullJitterBackoff(attempt, 1_000, 60_000);
    assert(delay >= 0 && delay <= 60_000);
  }
});

Deno.test("a Secret never prints its contents", () => {
  const secret = new Secret({ password: "hunter2" });
  const shown = [
    JSON.stringify({ secret }),
    String(secret),
    `${secret}`,
    Deno.inspect({ secret }, { depth: 5 }),
    Deno.inspect(secret, { showHidden: true }),
  ].join(" ");
  assert(!shown.includes("hunter2"), shown);
  assertEquals(secret.reveal().password, "hunter2");
});

Deno.test("redactSecrets hides relogin passwords in messages", () => {
  assertEquals(
    redactSecrets("relogin -login_pwd=hunter2 failed"),
    "relogin -login_pwd=[redacted] failed",
  );
  assertEquals(
    redactSecrets('relogin -login_pwd_md5=5f4dcc3b: password: "abc def"'),
    "relogin -login_pwd_md5=[redacted] password: [redacted]",
  );
  assertEquals(redactSecrets("KickedOut: no secret"), "KickedOut: no secret");
});
