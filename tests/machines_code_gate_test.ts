/**
 * The supervisor's one gate for verification codes: phone and picture rounds
 * within OpenD's documented limits plus a margin, and OpenD's "too frequent"
 * answer. On a manual clock against a fake OpenD; no test sleeps.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { GtwEventType, ProgramStatusType } from "../codec/definitions.ts";
import { describeSession } from "../machines/mod.ts";
import { gtwEventNotification, rigSession } from "./machines_harness.ts";

const S = ProgramStatusType;
const G = GtwEventType;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;

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
