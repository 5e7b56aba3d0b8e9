/**
 * The session supervisor in situations an OpenD operator recognises, on a
 * manual clock against a fake OpenD (see machines_harness.ts). Time only
 * moves when a test advances it; no test sleeps.
 */
import {
  assert,
  assertArrayIncludes,
  assertEquals,
  assertStringIncludes,
} from "@std/assert";
import { createActor, fromPromise } from "xstate";
import { GtwEventType, ProgramStatusType } from "../codec/definitions.ts";
import {
  codeFrom,
  type CredentialsProviderInput,
  definePolicy,
  describeSession,
  type ReloginInput,
  Secret,
  sessionMachine,
  type SubmitCodeInput,
} from "../machines/mod.ts";
import {
  FakeOpenD,
  gtwEventNotification,
  ManualClock,
  rigSession,
  settle,
} from "./machines_harness.ts";

const S = ProgramStatusType;
const G = GtwEventType;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

Deno.test("OpenD restarts: the client backs off 1 s, 2 s, 4 s, reaches Ready, and the attempt count resets after a stable minute", async () => {
  await using rig = rigSession();
  await rig.start();
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);

  rig.opend.up = false;
  rig.opend.dropLink("OpenD exited");
  await rig.clock.advance(1 * SECOND); // attempt 1 refused
  await rig.clock.advance(2 * SECOND); // attempt 2 refused
  rig.opend.up = true; // OpenD is back
  await rig.clock.advance(4 * SECOND); // attempt 3 gets through

  assertEquals(rig.of("reconnecting"), [
    { type: "reconnecting", attempt: 1, delayMs: 1_000 },
    { type: "reconnecting", attempt: 2, delayMs: 2_000 },
    { type: "reconnecting", attempt: 3, delayMs: 4_000 },
  ]);
  assertEquals(rig.opend.log.linksOpened, [0, 1_000, 3_000, 7_000]);
  assertEquals(rig.of("ready").length, 2);
  const back = describeSession(rig.session.getSnapshot());
  assertEquals([back.link, back.gateway, back.ready], [
    "online",
    "Ready",
    true,
  ]);
  assertEquals(back.attempt, 3);

  await rig.clock.advance(MINUTE - 1);
  assertEquals(rig.session.getSnapshot().context.link.attempt, 3);
  await rig.clock.advance(1);
  assertEquals(rig.session.getSnapshot().context.link.attempt, 0);

  rig.opend.dropLink("another blip");
  await rig.clock.advance(0);
  assertEquals(rig.of("reconnecting").at(-1), {
    type: "reconnecting",
    attempt: 1,
    delayMs: 1_000,
  });
});

Deno.test("KickedOut while Ready causes no reconnect storm: one reconnect, one report, no relogin", async () => {
  await using rig = rigSession();
  await rig.start();

  // Another device logs in: OpenD says so, then drops every API connection.
  rig.opend.status = S.ForceLogout;
  rig.opend.push(gtwEventNotification(G.KickedOut, "logged in elsewhere"));
  rig.opend.dropLink("OpenD closed API connections");
  await rig.clock.advance(HOUR);

  assertEquals(rig.opend.log.linksOpened.length, 2);
  assertEquals(rig.opend.log.initConnect.length, 2);
  assertEquals(rig.opend.log.relogin, []);
  assertEquals(rig.opend.log.requestCode, []);
  assertEquals(rig.of("needsPerson"), [{
    type: "needsPerson",
    reason:
      "KickedOut: another login kicked this one out (logged in elsewhere)",
    eventType: G.KickedOut,
    status: S.ForceLogout,
  }]);
  const summary = describeSession(rig.session.getSnapshot());
  assertEquals(
    [summary.link, summary.gateway, summary.recovery, summary.ready],
    ["online", "ForceLogout", "parked", false],
  );
  assertArrayIncludes([...summary.tags], ["needsPerson"]);
  assertEquals(
    rig.session.getSnapshot().context.gateway.reason?.name,
    "KickedOut",
  );
});

Deno.test("NeedPhoneVerifyCode requests one code per 60 s plus a 3 s margin at most, submits it, and reaches Ready", async () => {
  await using rig = rigSession(
    { providerTimeoutMs: 45 * SECOND },
    (opend) => {
      opend.status = S.NeedPhoneVerifyCode;
    },
  );
  await rig.start();
  assertEquals(rig.opend.log.requestCode, [{ kind: "phone", at: 0 }]);
  assertEquals(rig.of("needsCode"), [
    { type: "needsCode", kind: "phone", attempt: 1, reason: "needed" },
  ]);
  assert(rig.session.getSnapshot().hasTag("needsCode"));

  // Nobody answers within 45 s: the code may have expired, a new one is
  // wanted, but OpenD allows one SMS a minute.
  await rig.clock.advance(45 * SECOND);
  assertEquals(rig.opend.log.requestCode.length, 1);

  // The link blips while waiting; the resync says NeedPhoneVerifyCode again.
  rig.opend.dropLink("Wi-Fi hiccup");
  await rig.clock.advance(5 * SECOND);
  assertEquals(rig.opend.log.initConnect.length, 2);
  assertEquals(rig.opend.log.requestCode.length, 1);

  rig.opend.codeAnswers.push("123456");
  await rig.clock.advance(14 * SECOND);

  // Not at 60 s: network jitter could make it reach OpenD a moment early.
  assertEquals(rig.opend.log.requestCode, [
    { kind: "phone", at: 0 },
    { kind: "phone", at: MINUTE + 3 * SECOND },
  ]);
  assertEquals(rig.opend.log.submitCode, [
    { kind: "phone", code: "123456", at: MINUTE + 3 * SECOND },
  ]);
  assertEquals(rig.of("needsCode").map((event) => event.reason), [
    "needed",
    "timeout",
  ]);
  assertEquals(rig.of("ready").length, 1);
  const summary = describeSession(rig.session.getSnapshot());
  assertEquals([summary.gateway, summary.recovery, summary.ready], [
    "Ready",
    "watching",
    true,
  ]);
  assertEquals(rig.session.getSnapshot().context.recovery.codeAttempts, 0);

  await rig.clock.advance(HOUR);
  assertEquals(rig.opend.log.requestCode.length, 2);
});

Deno.test("a wrong code three times stops and reports, and asks for no more codes", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.status = S.NeedPhoneVerifyCode;
    opend.codeAnswers = ["111111", "222222", "333333"];
  });
  await rig.start();

  assertEquals(rig.opend.log.submitCode.map((submit) => submit.code), [
    "111111",
    "222222",
    "333333",
  ]);
  assertEquals(
    rig.opend.log.codeProvider.map(({ attempt, reason }) => [attempt, reason]),
    [[1, "needed"], [2, "wrongCode"], [3, "wrongCode"]],
  );
  const gaveUp = rig.of("gaveUp");
  assertEquals(gaveUp.length, 1);
  assertStringIncludes(gaveUp[0].reason, "the code was refused");
  assertStringIncludes(gaveUp[0].reason, "verification code is wrong");
  assertStringIncludes(gaveUp[0].reason, "NeedPhoneVerifyCode");
  const summary = describeSession(rig.session.getSnapshot());
  assertEquals([summary.link, summary.recovery], ["online", "gaveUp"]);
  assertEquals(summary.stoppedReason, gaveUp[0].reason);
  assertArrayIncludes([...summary.tags], ["needsPerson", "needsCode"]);

  // Reconnecting and hearing NeedPhoneVerifyCode again changes nothing.
  rig.opend.dropLink();
  await rig.clock.advance(HOUR);
  assertEquals(rig.opend.log.requestCode.length, 1);
  assertEquals(rig.opend.log.submitCode.length, 3);
  assertEquals(rig.of("gaveUp").length, 1);

  // A person fixes it and resets the supervisor.
  rig.session.send({ type: "RESET" });
  assertEquals(describeSession(rig.session.getSnapshot()).recovery, "watching");
});

Deno.test("BanLogin is fatal: said once, nothing reconnects, START is refused until RESET", async () => {
  await using rig = rigSession();
  await rig.start();
  rig.opend.push(gtwEventNotification(G.BanLogin, "account banned"));
  rig.opend.dropLink("OpenD closed API connections");
  await rig.clock.advance(HOUR);

  assertEquals(rig.of("fatal"), [{
    type: "fatal",
    reason: "BanLogin: this account is banned from logging in (account banned)",
    eventType: G.BanLogin,
  }]);
  assertEquals(rig.opend.log.linksOpened, [0]);
  assertEquals(rig.of("reconnecting"), []);
  const summary = describeSession(rig.session.getSnapshot());
  assertEquals(
    [summary.link, summary.gateway, summary.recovery, summary.fatal],
    ["stopped", "LoginFailed", "stopped", true],
  );
  assertEquals(rig.clock.pending, 0, "no timer is left running");

  rig.session.send({ type: "START" });
  rig.session.send({ type: "PROGRAM_STATUS", status: S.Ready });
  rig.session.send({ type: "GTW_EVENT", eventType: G.ForceUpdate });
  await rig.clock.advance(HOUR);
  assertEquals(rig.opend.log.linksOpened, [0]);
  assertEquals(rig.of("fatal").length, 1);
  assert(rig.session.getSnapshot().hasTag("fatal"));

  rig.session.send({ type: "RESET" });
  assertEquals(describeSession(rig.session.getSnapshot()).fatal, false);
  assertEquals(describeSession(rig.session.getSnapshot()).link, "idle");
  await rig.start();
  assertEquals(rig.opend.log.linksOpened, [0, HOUR * 2]);
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("ForceLogout is seen after a reconnect, through GetGlobalState", async () => {
  await using rig = rigSession();
  await rig.start();

  // Forced out without a push reaching us: only the dropped link tells.
  rig.opend.status = S.ForceLogout;
  rig.opend.dropLink("OpenD closed API connections");
  await rig.clock.advance(10 * MINUTE);

  assertEquals(rig.opend.log.getGlobalState, [0, 1_000]);
  const summary = describeSession(rig.session.getSnapshot());
  assertEquals(
    [summary.link, summary.gateway, summary.recovery, summary.ready],
    ["online", "ForceLogout", "parked", false],
  );
  assertEquals(rig.of("needsPerson"), [{
    type: "needsPerson",
    reason: "ForceLogout: OpenD was forced to log out",
    status: S.ForceLogout,
  }]);
  assertEquals(rig.of("ready").length, 1);
  assertEquals(rig.opend.log.relogin, []);

  // Someone logs OpenD back in by hand: the supervisor follows.
  rig.opend.setStatus(S.Ready);
  await rig.clock.advance(0);
  assertEquals(rig.of("ready").length, 2);
  assertEquals(describeSession(rig.session.getSnapshot()).recovery, "watching");
});

Deno.test("the link drops during InitConnect: backoff, then a clean reconnect", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.initConnect = "hangs";
  });
  await rig.start();
  assertEquals(
    describeSession(rig.session.getSnapshot()).link,
    "initializing",
  );

  rig.opend.initConnect = "answers";
  rig.opend.dropLink("reset during InitConnect");
  await rig.clock.advance(0);
  assertEquals(rig.of("lost"), [{
    type: "lost",
    reason: "the link went down: reset during InitConnect",
  }]);
  assertEquals(describeSession(rig.session.getSnapshot()).link, "backoff");

  await rig.clock.advance(1 * SECOND);
  assertEquals(rig.opend.log.initConnect, [0, 1_000]);
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
  assertEquals(rig.of("ready").length, 1);
});

Deno.test("an InitConnect that never answers times out after 12 s and the link is retried", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.initConnect = "hangs";
  });
  await rig.start();
  await rig.clock.advance(12 * SECOND - 1);
  assertEquals(rig.of("lost"), []);
  await rig.clock.advance(1);
  assertEquals(rig.of("lost"), [{
    type: "lost",
    reason: "InitConnect timed out after 12000 ms",
  }]);
  assertEquals(rig.opend.openLinks, 0, "the half-open link was closed");
});

Deno.test("keep-alive goes out every keepAliveInterval x 4/5, and 33 s of silence means the link is lost", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.keepAliveIntervalS = 10;
  });
  await rig.start();
  await rig.clock.advance(40 * SECOND);
  assertEquals(rig.opend.log.keepAlive, [
    8_000,
    16_000,
    24_000,
    32_000,
    40_000,
  ]);
  assertEquals(rig.of("lost"), []);

  // OpenD hangs: KeepAlives get no reply, nothing arrives.
  rig.opend.answersKeepAlive = false;
  await rig.clock.advance(33 * SECOND - 1);
  assertEquals(rig.of("lost"), []);
  await rig.clock.advance(1);
  assertEquals(rig.of("lost"), [{
    type: "lost",
    reason: "nothing received after 33000 ms",
  }]);
});

Deno.test("a long keepAliveInterval stretches the silence timeout: at 50 s (a KeepAlive every 40 s) only 40 + 12 s of silence is a loss", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.keepAliveIntervalS = 50;
  });
  await rig.start();
  // Only KeepAlive answers arrive: 40 s apart, longer than the 33 s default.
  await rig.clock.advance(10 * MINUTE);
  assertEquals(rig.opend.log.keepAlive.slice(0, 3), [40_000, 80_000, 120_000]);
  assertEquals(rig.opend.log.keepAlive.length, 15);
  assertEquals(rig.of("lost"), []);
  assertEquals(rig.opend.log.linksOpened.length, 1, "never reconnected");

  // OpenD hangs right after answering the KeepAlive at 600 s.
  rig.opend.answersKeepAlive = false;
  await rig.clock.advance(52 * SECOND - 1);
  assertEquals(rig.of("lost"), []);
  await rig.clock.advance(1);
  assertEquals(rig.of("lost"), [{
    type: "lost",
    reason: "nothing received after 52000 ms",
  }]);
});

Deno.test("silenceTimeoutMs longer than a keep-alive round trip is kept as it is", async () => {
  await using rig = rigSession({ silenceTimeoutMs: 90 * SECOND }, (opend) => {
    opend.keepAliveIntervalS = 50;
    opend.answersKeepAlive = false;
  });
  await rig.start();
  await rig.clock.advance(90 * SECOND - 1);
  assertEquals(rig.of("lost"), []);
  await rig.clock.advance(1);
  assertEquals(rig.of("lost"), [{
    type: "lost",
    reason: "nothing received after 90000 ms",
  }]);
});

Deno.test("LoginPwdChanged asks for the new password and relogins with it; the password shows up nowhere", async () => {
  const password = "correct horse battery staple";
  await using rig = rigSession({}, (opend) => {
    opend.credentials = { password };
  });
  await rig.start();
  const everySnapshot: string[] = [];
  rig.session.subscribe(() => {
    everySnapshot.push(JSON.stringify(rig.session.getPersistedSnapshot()));
  });
  rig.opend.push(gtwEventNotification(G.LoginPwdChanged, "password changed"));
  await rig.clock.advance(SECOND);

  assertEquals(rig.opend.log.credentialsAsked.length, 1);
  assertEquals(rig.opend.log.relogin.length, 1);
  const credentials = rig.opend.log.relogin[0].credentials;
  assert(credentials instanceof Secret);
  assertEquals(credentials.reveal(), { password });
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);

  const everywhere = JSON.stringify([
    rig.session.getPersistedSnapshot(),
    rig.session.getSnapshot().context,
    rig.emitted,
    describeSession(rig.session.getSnapshot()),
  ]) + Deno.inspect(rig.opend.log.relogin, { depth: 10 }) +
    everySnapshot.join("");
  assert(
    everySnapshot.some((json) => json.includes('"credentials":"[redacted]"')),
    "the relogin in flight was seen, with its credentials boxed",
  );
  assert(!everywhere.includes(password), "the password leaked");
});

Deno.test("a status OpenD reported before the relogin went out does not count against the new password", async () => {
  // The old password had just been refused when the link came back: the
  // reconnect's GetGlobalState still says LoginFailed, and its answer can
  // arrive after the next relogin was sent, even after that relogin's OK.
  await using rig = rigSession({}, (opend) => {
    opend.credentials = { password: "the new one" };
  });
  const replies: ((value: unknown) => void)[] = [];
  const actors = rig.opend.actors();
  const session = createActor(
    sessionMachine.provide({
      actors: {
        ...actors,
        relogin: fromPromise<unknown, ReloginInput>(({ input }) => {
          rig.opend.log.relogin.push({ ...input, at: rig.clock.now() });
          return new Promise((resolve) => replies.push(resolve));
        }),
      },
    }),
    { clock: rig.clock, input: { random: () => 1 } },
  );
  const relogging = () => {
    const { flow } = session.getSnapshot().value.recovery as {
      flow: { relogging?: string };
    };
    return flow.relogging;
  };
  const gaveUp: unknown[] = [];
  session.on("gaveUp", (event) => gaveUp.push(event));
  session.start();
  session.send({ type: "START" });
  await rig.clock.advance(0);
  rig.opend.push(gtwEventNotification(G.LoginPwdChanged, "password changed"));
  rig.opend.status = S.LoginFailed;
  await rig.clock.advance(0);
  assertEquals(rig.opend.log.relogin.length, 1, "the relogin is in flight");

  rig.opend.dropLink(); // reconnects; GetGlobalState: LoginFailed (stale)
  await rig.clock.advance(10 * SECOND);
  assertEquals(rig.opend.log.getGlobalState.length, 2);
  assertEquals(relogging(), "sending", "the relogin's own answer decides");
  replies[0]({}); // OpenD: "relogin: OK, logging in"
  await rig.clock.advance(0);
  // Twice more with the relogin already accepted: the snapshots still say
  // ForceLogout (the trigger's status) and LoginFailed.
  for (const status of [S.ForceLogout, S.LoginFailed]) {
    rig.opend.status = status;
    rig.opend.dropLink();
    await rig.clock.advance(10 * SECOND);
    assertEquals(relogging(), "awaitingLogin", `after ${status}`);
  }
  assertEquals(rig.opend.log.getGlobalState.length, 4);
  rig.opend.setStatus(S.Loging);
  rig.opend.setStatus(S.Ready);
  await rig.clock.advance(0);

  assertEquals(rig.opend.log.credentialsAsked.length, 1, "asked once");
  assertEquals(rig.opend.log.relogin.length, 1, "one relogin");
  assertEquals(gaveUp, []);
  const summary = describeSession(session.getSnapshot());
  assertEquals([summary.ready, summary.recovery], [true, "watching"]);
  session.stop();
});

Deno.test("a reconnect while the credentials provider is asked neither drops nor repeats the question", async () => {
  await using rig = rigSession();
  const asked: CredentialsProviderInput[] = [];
  const session = createActor(
    sessionMachine.provide({
      actors: {
        ...rig.opend.actors(),
        credentialsProvider: fromPromise<never, CredentialsProviderInput>(
          ({ input }) => {
            asked.push(input);
            return new Promise(() => {}); // a person, taking their time
          },
        ),
      },
    }),
    { clock: rig.clock, input: { random: () => 1 } },
  );
  session.start();
  session.send({ type: "START" });
  await rig.clock.advance(0);
  rig.opend.push(gtwEventNotification(G.LoginPwdChanged, "password changed"));
  rig.opend.status = S.LoginFailed; // OpenD tried its old password meanwhile
  await rig.clock.advance(0);
  rig.opend.dropLink();
  await rig.clock.advance(MINUTE);
  assertEquals(rig.opend.log.getGlobalState.length, 2);
  assert(
    session.getSnapshot().matches({
      recovery: { flow: { relogging: "fetchingCredentials" } },
    }),
    JSON.stringify(session.getSnapshot().value),
  );
  assertEquals(asked.length, 1);
  assertEquals(rig.opend.log.relogin, []);
  session.stop();
});

Deno.test("LoginPwdChanged without a credentials provider stops with a clear reason", async () => {
  await using rig = rigSession();
  await rig.start();
  rig.opend.push(gtwEventNotification(G.LoginPwdChanged));
  await rig.clock.advance(MINUTE);
  assertEquals(rig.opend.log.relogin, []);
  assertEquals(rig.of("gaveUp").length, 1);
  assertStringIncludes(
    rig.of("gaveUp")[0].reason,
    "no credentials to relogin with",
  );
  assertStringIncludes(
    rig.of("gaveUp")[0].reason,
    "the login password changed",
  );
});

Deno.test("LoginFailed relogins with backoff (30 s, 60 s, 120 s), then stops and reports", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.statusAfterRelogin = S.LoginFailed;
  });
  await rig.start();
  rig.opend.setStatus(S.LoginFailed);
  await rig.clock.advance(HOUR);

  // OpenD reports each failure 100 ms after the relogin reply.
  assertEquals(rig.opend.log.relogin.map(({ at, attempt }) => [at, attempt]), [
    [30_000, 1],
    [30_100 + 60_000, 2],
    [90_200 + 120_000, 3],
  ]);
  assertEquals(rig.of("gaveUp").length, 1);
  assertStringIncludes(rig.of("gaveUp")[0].reason, "login failed again");
  assertEquals(describeSession(rig.session.getSnapshot()).recovery, "gaveUp");
});

Deno.test("a relogin that OpenD never confirms counts as failed after the confirmation timeout", async () => {
  await using rig = rigSession({ maxRelogins: 1 }, (opend) => {
    opend.statusAfterRelogin = S.Loging; // and nothing after that
  });
  await rig.start();
  rig.opend.push(gtwEventNotification(G.EnableDeviceLock));
  await rig.clock.advance(2 * MINUTE + SECOND);
  assertEquals(rig.opend.log.relogin.length, 1);
  assertEquals(rig.of("gaveUp").length, 1);
  assertStringIncludes(
    rig.of("gaveUp")[0].reason,
    "OpenD did not become ready after 120000 ms",
  );
});

Deno.test("KickedOut with a cool-down policy relogins once after five minutes", async () => {
  const policy = definePolicy({
    KickedOut: { reaction: "reloginAfterCooldown", cooldownMs: 5 * MINUTE },
  });
  await using rig = rigSession({ policy });
  await rig.start();
  rig.opend.push(gtwEventNotification(G.KickedOut));
  await rig.clock.advance(HOUR);
  assertEquals(rig.opend.log.relogin.map((relogin) => relogin.at), [
    5 * MINUTE,
  ]);
  assertEquals(rig.of("needsPerson"), []);
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("EnableDeviceLock: relogin, then the phone code flow, then Ready", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.statusAfterRelogin = S.NeedPhoneVerifyCode;
    opend.codeAnswers = ["123456"];
  });
  await rig.start();
  rig.opend.push(gtwEventNotification(G.EnableDeviceLock));
  await rig.clock.advance(MINUTE);
  assertEquals(rig.opend.log.relogin.length, 1);
  assertEquals(rig.opend.log.requestCode.length, 1);
  assertEquals(rig.opend.log.submitCode.map((submit) => submit.code), [
    "123456",
  ]);
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("NeedPicVerifyCode hands the picture's path to the code provider", async () => {
  const picturePath =
    "/home/opend/.com.futunn.FutuOpenD/F3CNN/PicVerifyCode.png";
  await using rig = rigSession({ picturePath }, (opend) => {
    opend.correctCode = "ab12";
    opend.codeAnswers = ["ab12"];
  });
  await rig.start();
  rig.opend.setStatus(S.NeedPicVerifyCode);
  await rig.clock.advance(SECOND);
  assertEquals(rig.of("needsCode"), [{
    type: "needsCode",
    kind: "picture",
    picturePath,
    attempt: 1,
    reason: "needed",
  }]);
  assertEquals(rig.opend.log.codeProvider[0].picturePath, picturePath);
  assertEquals(rig.opend.log.requestCode, [], "OpenD made the picture already");
  assertEquals(rig.opend.log.submitCode[0], {
    kind: "picture",
    code: "ab12",
    at: 0,
  });
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("a person can type the code with SUBMIT_CODE when no code provider answers", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.status = S.NeedPhoneVerifyCode;
  });
  await rig.start();
  await rig.clock.advance(3 * MINUTE);
  rig.session.send({ type: "SUBMIT_CODE", code: " 123456 " });
  await rig.clock.advance(SECOND);
  assertEquals(rig.opend.log.submitCode[0].code, "123456");
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("UnAgreeDisclaimer parks with the link kept, until OpenD is Ready", async () => {
  await using rig = rigSession();
  await rig.start();
  rig.opend.setStatus(S.UnAgreeDisclaimer);
  await rig.clock.advance(HOUR);
  assertEquals(rig.of("needsPerson").length, 1);
  assertEquals(describeSession(rig.session.getSnapshot()).link, "online");
  assertEquals(rig.opend.log.linksOpened.length, 1);
  rig.opend.setStatus(S.Ready);
  await rig.clock.advance(0);
  assertEquals(describeSession(rig.session.getSnapshot()).recovery, "watching");
  assertEquals(rig.of("ready").length, 2);
});

Deno.test("TradePwdChanged marks trading locked and says so once, nothing else changes", async () => {
  await using rig = rigSession();
  await rig.start();
  rig.opend.push(gtwEventNotification(G.TradePwdChanged));
  rig.opend.push(gtwEventNotification(G.TradePwdChanged));
  await rig.clock.advance(0);
  assertEquals(rig.session.getSnapshot().context.gateway.tradingLocked, true);
  assertEquals(rig.of("needsPerson").length, 2, "each event is reported");
  const summary = describeSession(rig.session.getSnapshot());
  assertEquals([summary.ready, summary.recovery], [true, "watching"]);
});

Deno.test("every notification from the link is emitted for users and followed", async () => {
  await using rig = rigSession();
  await rig.start();
  const kicked = gtwEventNotification(G.NetCfgMissing, "no net config");
  rig.opend.push(kicked);
  await rig.clock.advance(0);
  assertEquals(rig.of("notification"), [{
    type: "notification",
    notification: kicked,
  }]);
  assertEquals(rig.session.getSnapshot().context.gateway.lastEvent, {
    eventType: G.NetCfgMissing,
    name: "NetCfgMissing",
    desc: "no net config",
  });
});

Deno.test("CLOSE lets the client close gracefully, then stays closed", async () => {
  await using rig = rigSession();
  await rig.start();
  rig.session.send({ type: "CLOSE" });
  await rig.clock.advance(HOUR);
  assertEquals(rig.opend.log.closeLink, [0]);
  assertEquals(rig.of("closed").length, 1);
  assertEquals(rig.of("lost"), []);
  assertEquals(describeSession(rig.session.getSnapshot()).link, "closed");
  assertEquals(rig.opend.openLinks, 0);
  assertEquals(rig.opend.log.linksOpened.length, 1);
});

Deno.test("with a reconnect budget, the supervisor stops after it and says why", async () => {
  await using rig = rigSession({ maxReconnectAttempts: 2 });
  await rig.start();
  rig.opend.up = false;
  rig.opend.dropLink("OpenD gone");
  await rig.clock.advance(HOUR);
  assertEquals(rig.opend.log.linksOpened.length, 3);
  const stopped = rig.of("stopped");
  assertEquals(stopped.length, 1);
  assertStringIncludes(stopped[0].reason, "gave up after 2 reconnect attempts");
  assertStringIncludes(stopped[0].reason, "connection refused");
  assertEquals(describeSession(rig.session.getSnapshot()).link, "stopped");

  // Not fatal: START tries again.
  rig.opend.up = true;
  rig.session.send({ type: "START" });
  await rig.clock.advance(0);
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("backoff never exceeds the cap, however long OpenD stays down", async () => {
  await using rig = rigSession({ reconnectCapMs: 60 * SECOND });
  await rig.start();
  rig.opend.up = false;
  rig.opend.dropLink();
  await rig.clock.advance(HOUR);
  const delays = rig.of("reconnecting").map((event) => event.delayMs);
  assertEquals(delays.slice(0, 7), [1e3, 2e3, 4e3, 8e3, 16e3, 32e3, 60e3]);
  assert(delays.every((delay) => delay <= 60 * SECOND));
  // Attempts 1..7 are announced by 63 s (1+2+4+8+16+32), then one a minute.
  assertEquals(delays.length, 7 + Math.floor((HOUR - 63 * SECOND) / MINUTE));
});

Deno.test("an actor nobody provided fails with a message that says how to provide it", async () => {
  const clock = new ManualClock();
  const session = createActor(sessionMachine, {
    clock,
    input: { maxReconnectAttempts: 1 },
  });
  const lost: string[] = [];
  session.on("lost", ({ reason }) => lost.push(reason));
  session.start();
  session.send({ type: "START" });
  await settle();
  assertStringIncludes(lost[0], 'the session actor "link" was not provided');
  assertStringIncludes(lost[0], "sessionMachine.provide({ actors: { link:");
  session.stop();
});

Deno.test("any wait can be replaced with .provide({ delays })", async () => {
  const clock = new ManualClock();
  const opend = new FakeOpenD(clock);
  const session = createActor(
    sessionMachine.provide({
      actors: opend.actors(),
      delays: { keepAliveInterval: 1_000 },
    }),
    { clock },
  );
  session.start();
  session.send({ type: "START" });
  await clock.advance(3_500);
  assertEquals(opend.log.keepAlive, [1_000, 2_000, 3_000]);
  session.stop();
});

Deno.test("codes reach submitVerificationCode only boxed; with codeFrom and a boxed SUBMIT_CODE, inspection never sees them", async () => {
  const clock = new ManualClock();
  const opend = new FakeOpenD(clock);
  opend.status = S.NeedPhoneVerifyCode;
  const seen: string[] = [];
  const show = (value: unknown) =>
    seen.push(JSON.stringify(
      value,
      (_key, v) => typeof v === "bigint" ? String(v) : v,
    ));
  const inputs: unknown[] = [];
  const submitted: string[] = [];
  const actors = opend.actors();
  const answers = ["314159"]; // wrong first, then the person types it
  const session = createActor(
    sessionMachine.provide({
      actors: {
        codeProvider: codeFrom(() => {
          const answer = answers.shift();
          return answer === undefined
            ? new Promise<never>(() => {}) // a person will type it
            : Promise.resolve(answer);
        }),
        submitVerificationCode: fromPromise<unknown, SubmitCodeInput>(
          ({ input }) => {
            inputs.push(input);
            const code = input.code.reveal(); // where the request is written
            submitted.push(code);
            if (code !== "271828") return Promise.reject(new Error("wrong"));
            opend.later(() => {
              opend.setStatus(S.Loging);
              opend.setStatus(S.Ready);
            });
            return Promise.resolve({});
          },
        ),
        link: actors.link,
        initConnect: actors.initConnect,
        getGlobalState: actors.getGlobalState,
        keepAlive: actors.keepAlive,
        requestVerificationCode: actors.requestVerificationCode,
      },
    }),
    {
      clock,
      input: { random: () => 1 },
      inspect: show,
    },
  );
  session.subscribe(show);
  session.on("*", show);
  session.start();
  session.send({ type: "START" });
  await clock.advance(SECOND);
  assertEquals(submitted, ["314159"]);
  // The wrong code: a new one is requested, the provider asked again.
  await clock.advance(2 * MINUTE);
  assertEquals(
    describeSession(session.getSnapshot()).recovery,
    "verifying.askingProvider",
  );
  session.send({ type: "SUBMIT_CODE", code: new Secret(" 271828 ") });
  await clock.advance(SECOND);
  assertEquals(submitted, ["314159", "271828"]);
  assert(inputs.length === 2);
  for (const input of inputs) {
    assert((input as SubmitCodeInput).code instanceof Secret);
  }
  assertEquals(describeSession(session.getSnapshot()).ready, true);
  assert(seen.some((text) => text.includes("xstate.done.actor.codeProvider")));
  assert(seen.some((text) => text.includes("SUBMIT_CODE")));
  for (const text of seen) {
    assert(!text.includes("314159") && !text.includes("271828"), text);
  }
  session.stop();
});

/** The most of `times` that fall in any window of `windowMs`. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  let most = 0;
  for (const start of times) {
    most = Math.max(
      most,
      times.filter((t) => t >= start && t < start + windowMs).length,
    );
  }
  return most;
}

for (const answered of [true, false]) {
  Deno.test(`NeedPicVerifyCode and Ready alternating every 700 ms for 10 minutes (${answered ? "a bot answers" : "nobody answers"}): at most 10 picture rounds in any 60 s, one question at a time`, async () => {
    await using rig = rigSession();
    await rig.start();
    if (answered) rig.opend.codeAnswers = Array(2_000).fill("123456");
    for (let t = 0; t < 10 * MINUTE; t += 700) {
      rig.opend.push(gtwEventNotification(G.NeedPicVerifyCode, "new picture"));
      rig.opend.setStatus(S.NeedPicVerifyCode);
      await rig.clock.advance(300);
      rig.opend.setStatus(S.Ready);
      await rig.clock.advance(400);
    }
    const asks = rig.opend.log.codeProvider.map((ask) => ask.at);
    const requests = rig.opend.log.requestCode.map((request) => request.at);
    const submits = rig.opend.log.submitCode.map((submit) => submit.at);
    assert(asks.length > 20, `asked only ${asks.length} times`);
    assert(
      busiestWindow(asks, MINUTE) <= 10,
      `${busiestWindow(asks, MINUTE)} asks`,
    );
    assert(busiestWindow(requests, MINUTE) <= 10);
    assert(busiestWindow(submits, MINUTE) <= 10);
    // The gate: rounds at least 6 s + the 3 s margin apart.
    for (let i = 1; i < asks.length; i++) {
      assert(asks[i] - asks[i - 1] >= 9 * SECOND, `asks at ${asks}`);
    }
    assertEquals(rig.opend.maxPendingQuestions, 1);
  });
}

Deno.test("phone and picture rounds share one gate: a picture right after a phone round waits for the phone interval", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.status = S.NeedPhoneVerifyCode;
    opend.codeAnswers = ["123456"];
  });
  await rig.start();
  assertEquals(rig.opend.log.requestCode, [{ kind: "phone", at: 0 }]);
  await rig.clock.advance(SECOND); // Ready at 100 ms
  rig.opend.setStatus(S.NeedPicVerifyCode);
  await rig.clock.advance(0);
  assertEquals(rig.opend.log.codeProvider.length, 1, "not before the gate");
  await rig.clock.advance(MINUTE + 3 * SECOND - SECOND - 1);
  assertEquals(rig.opend.log.codeProvider.length, 1);
  await rig.clock.advance(1);
  assertEquals(rig.opend.log.codeProvider.map(({ kind, at }) => [kind, at]), [
    ["phone", 0],
    ["picture", MINUTE + 3 * SECOND],
  ]);
});

Deno.test("OpenD answers a code request 'too frequent': the supervisor waits as told plus the margin, retries once, and goes on", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.status = S.NeedPhoneVerifyCode;
    opend.requestAnswers = ["tooFrequent"];
    opend.codeAnswers = ["123456"];
  });
  await rig.start();
  assertEquals(rig.opend.log.requestCode, [{ kind: "phone", at: 0 }]);
  assertEquals(rig.of("needsCode"), []);
  await rig.clock.advance(8 * SECOND - 1);
  assertEquals(rig.opend.log.requestCode.length, 1);
  await rig.clock.advance(1);
  assertEquals(rig.opend.log.requestCode.map(({ at }) => at), [0, 8 * SECOND]);
  await rig.clock.advance(SECOND);
  assertEquals(rig.of("gaveUp"), []);
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("'too frequent' twice in one round is a failed request: the next round waits for the gate", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.status = S.NeedPhoneVerifyCode;
    opend.requestAnswers = ["tooFrequent", "tooFrequent"];
    opend.codeAnswers = ["123456"];
  });
  await rig.start();
  await rig.clock.advance(10 * SECOND);
  assertEquals(rig.opend.log.requestCode.map(({ at }) => at), [0, 8 * SECOND]);
  assertStringIncludes(
    rig.session.getSnapshot().context.recovery.lastFailure ?? "",
    "requesting a code failed",
  );
  await rig.clock.advance(MINUTE);
  assertEquals(rig.opend.log.requestCode.map(({ at }) => at), [
    0,
    8 * SECOND,
    MINUTE + 3 * SECOND,
  ]);
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("a submitted code answered 'too frequent' is not a wrong code: after the wait the provider is asked again", async () => {
  await using rig = rigSession({}, (opend) => {
    opend.status = S.NeedPicVerifyCode;
    opend.submitAnswers = ["tooFrequent"];
    opend.codeAnswers = ["123456", "123456"];
  });
  await rig.start();
  assertEquals(rig.opend.log.submitCode.length, 1);
  await rig.clock.advance(MINUTE + 3 * SECOND);
  assertEquals(rig.opend.log.submitCode.map(({ at }) => at), [
    0,
    MINUTE + 3 * SECOND,
  ]);
  assertEquals(
    rig.opend.log.codeProvider.map(({ attempt, reason }) => [attempt, reason]),
    [[1, "needed"], [1, "needed"]],
  );
  await rig.clock.advance(SECOND);
  assertEquals(describeSession(rig.session.getSnapshot()).ready, true);
});

Deno.test("a deaf link: KeepAlives go unanswered while bytes may still flow; two misses in a row drop it", async () => {
  await using rig = rigSession({ silenceTimeoutMs: 10 * MINUTE });
  await rig.start();
  rig.opend.answersKeepAlive = false;
  // KeepAlive at 8 s, unanswered at 20 s; again at 28 s, unanswered at 40 s.
  await rig.clock.advance(40 * SECOND - 1);
  assertEquals(rig.of("lost"), []);
  await rig.clock.advance(1);
  assertEquals(rig.of("lost"), [{
    type: "lost",
    reason: "KeepAlive went unanswered after 12000 ms",
  }]);
});
