/**
 * The session supervisor relogging in through OpenD's operations port: new
 * passwords, refused ones, out-of-date statuses, unconfirmed relogins. On a
 * manual clock against a fake OpenD (see machines_harness.ts); no test sleeps.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createActor, fromPromise } from "xstate";
import { GtwEventType, ProgramStatusType } from "../codec/definitions.ts";
import {
  type CredentialsProviderInput,
  describeSession,
  type ReloginInput,
  Secret,
  sessionMachine,
} from "../machines/mod.ts";
import { gtwEventNotification, rigSession } from "./machines_harness.ts";

const S = ProgramStatusType;
const G = GtwEventType;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

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
