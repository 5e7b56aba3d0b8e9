/**
 * The simulator's named scenarios, end to end against a real client over
 * loopback: the stories an unattended bot must survive.
 */
import {
  assert,
  assertEquals,
  assertGreater,
  assertLessOrEqual,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { isClientError } from "../client/mod.ts";
import { GtwEventType, ProgramStatusType } from "../codec/mod.ts";
import type { CodeProviderInput } from "../machines/mod.ts";
import {
  clientFor,
  connectionsOpened,
  EventLog,
  neverSentExit,
  nextEvent,
  quietFor,
  startSim,
} from "./_client_helpers.ts";

const TIME_SCALE = 0.05;

Deno.test("scenario kicked-out: the user is told once; one reconnect, no storm, no relogin", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  const log = new EventLog(client);
  await client.whenReady(5_000);

  const told = nextEvent(client, "needsPerson");
  const lost = nextEvent(client, "lost");
  sim.runScenario("kicked-out", { timeScale: TIME_SCALE });
  const person = await told;
  assertEquals(person.eventType, GtwEventType.KickedOut);
  assertStringIncludes(person.reason, "KickedOut");
  await lost;
  // It reconnects once (to keep watching) and sees ForceLogout there.
  await sim.waitFor("initConnect", (e) => e.conn === 2);
  await sim.waitFor("request", (e) => e.conn === 2 && e.protoId === 1002);
  await quietFor(600); // many backoff periods: nothing more may happen
  assertEquals(connectionsOpened(sim), 2);
  assertEquals(sim.connections.length, 1, "the watching link stays up");
  const summary = client.describe();
  assertEquals(summary.link, "online");
  assertEquals(summary.gateway, "ForceLogout");
  assertEquals(summary.recovery, "parked");
  assertEquals(summary.ready, false);
  assertEquals(log.of("needsPerson").length, 1);
  assertEquals(log.of("ready").length, 1, "only the first ready");
  assert(!sim.events.some((e) => e.type === "relogin"), "no relogin");
  assert(!sim.events.some((e) => e.type === "opsConnectionOpened"));
});

Deno.test("scenario phone-code: the code provider is asked once, the code goes in with Verification, Ready", async () => {
  await using sim = await startSim({ phoneCode: "246810" });
  const asked: CodeProviderInput[] = [];
  await using client = clientFor(sim, {
    codeProvider: (request) => {
      const { signal: _signal, ...input } = request;
      asked.push(input);
      return Promise.resolve("246810");
    },
  });
  const log = new EventLog(client);
  await client.whenReady(5_000);

  const needsCode = nextEvent(client, "needsCode");
  const readyAgain = nextEvent(client, "ready");
  const since = sim.mark();
  sim.runScenario("phone-code", { timeScale: TIME_SCALE });
  assertEquals((await needsCode).kind, "phone");
  await readyAgain;
  await sim.waitFor("codeAccepted", (e) => e.via === "api", { since });
  assertEquals(asked, [{ kind: "phone", attempt: 1, reason: "needed" }]);
  const requested = sim.events.filter((e) =>
    e.type === "verificationRequested" && e.seq >= since
  );
  assertEquals(requested.length, 1, "one SMS requested");
  assertEquals(client.describe().gateway, "Ready");
  assertEquals(client.describe().ready, true);
  assertEquals(connectionsOpened(sim), 1, "the link never dropped");
  assertEquals(log.of("gaveUp"), []);
});

Deno.test("scenario password-changed: the credentials provider gives the new password, relogin over the ops port, Ready", async () => {
  await using sim = await startSim({ loginPassword: "old-password" });
  const reasons: string[] = [];
  await using client = clientFor(sim, {
    credentialsProvider: ({ reason }) => {
      reasons.push(reason);
      return Promise.resolve({ password: "changed-elsewhere" });
    },
  });
  const log = new EventLog(client);
  await client.whenReady(5_000);

  const since = sim.mark();
  sim.runScenario(
    [
      {
        afterMs: 20,
        action: "setAccount",
        args: { password: "changed-elsewhere" },
      },
      {
        afterMs: 0,
        action: "forceLogout",
        args: { eventType: "LoginPwdChanged", desc: "login password changed" },
      },
    ],
    { name: "password-changed" },
  );
  const relogin = await sim.waitFor("relogin", undefined, {
    since,
    timeoutMs: 5_000,
  });
  assertEquals(relogin.ok, true);
  assertEquals(relogin.via, "ops");
  // Only the MD5 crossed the wire; the simulator checked it.
  assertEquals(relogin.password, "md5");
  await sim.waitFor("statusChanged", (e) => e.status === 10, { since });
  await sim.waitFor("initConnect", (e) => e.conn === 2);
  await client.whenReady(5_000);
  assertEquals(reasons.length, 1);
  assertStringIncludes(reasons[0], "LoginPwdChanged");
  assert(neverSentExit(sim));
  // The password never shows: not in events, snapshots, inspect, JSON.
  const seen = [
    JSON.stringify(log.events),
    JSON.stringify(client.getSnapshot()),
    JSON.stringify(client),
    Deno.inspect(client, { depth: 10 }),
    Deno.inspect(client.getSnapshot().context, { depth: 10 }),
    JSON.stringify(sim.events),
  ].join("\n");
  assert(!seen.includes("changed-elsewhere"), "the password leaked");
});

Deno.test("scenario password-changed (named, as shipped): relogin with the scenario's new password", async () => {
  await using sim = await startSim({ loginPassword: "old-password" });
  await using client = clientFor(sim, {
    credentialsProvider: () => Promise.resolve({ password: "new-password" }),
  });
  await client.whenReady(5_000);
  const since = sim.mark();
  sim.runScenario("password-changed", { timeScale: TIME_SCALE });
  const relogin = await sim.waitFor("relogin", undefined, { since });
  assertEquals(relogin.ok, true);
  await sim.waitFor("initConnect", (e) => e.conn === 2);
  await client.whenReady(5_000);
  assert(neverSentExit(sim));
});

Deno.test("scenario password-changed, a wrong password first: the provider is asked again, told why, and the next one gets back to Ready", async () => {
  await using sim = await startSim({ loginPassword: "old-password" });
  const asked: { attempt?: number; lastFailure?: string }[] = [];
  const answers = ["typo-password", "new-password"];
  await using client = clientFor(sim, {
    credentialsProvider: ({ attempt, lastFailure }) => {
      asked.push({ attempt, lastFailure });
      const password = answers.shift();
      return Promise.resolve(password === undefined ? undefined : { password });
    },
  });
  await client.whenReady(5_000);
  const since = sim.mark();
  sim.runScenario("password-changed", { timeScale: TIME_SCALE });
  await sim.waitFor("relogin", (e) => e.ok, { since });
  await sim.waitFor("statusChanged", (e) => e.status === 10, { since });
  await client.whenReady(5_000);
  const relogins = sim.events.filter((e) =>
    e.type === "relogin" && e.seq >= since
  );
  assertEquals(relogins.map((e) => e.type === "relogin" && e.ok), [
    false,
    true,
  ]);
  assertEquals(asked.length, 2);
  assertEquals(asked[0], { attempt: 1, lastFailure: undefined });
  assertEquals(asked[1].attempt, 2);
  assertStringIncludes(asked[1].lastFailure ?? "", "password error");
  assertEquals(client.describe().ready, true);
});

Deno.test("scenario password-changed without a credentials provider: stops and says why", async () => {
  await using sim = await startSim({ loginPassword: "old-password" });
  await using client = clientFor(sim);
  await client.whenReady(5_000);
  const gaveUp = nextEvent(client, "gaveUp");
  sim.runScenario("password-changed", { timeScale: TIME_SCALE });
  assertStringIncludes((await gaveUp).reason, "no credentials");
  assert(!sim.events.some((e) => e.type === "relogin"));
});

Deno.test("scenario device-lock: relogin, then a phone code, then Ready", async () => {
  await using sim = await startSim();
  let asked = 0;
  await using client = clientFor(sim, {
    codeProvider: () => {
      asked++;
      return "123456";
    },
  });
  await client.whenReady(5_000);
  const since = sim.mark();
  sim.runScenario("device-lock", { timeScale: TIME_SCALE });
  const relogin = await sim.waitFor("relogin", undefined, { since });
  assertEquals([relogin.ok, relogin.password], [true, "none"]);
  await sim.waitFor("codeAccepted", undefined, { since, timeoutMs: 5_000 });
  await sim.waitFor("statusChanged", (e) => e.status === 10, { since });
  await client.whenReady(5_000);
  assertEquals(asked, 1);
});

Deno.test("scenario banned: fatal, told once, no further connections attempted", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  const log = new EventLog(client);
  await client.whenReady(5_000);

  const fatal = nextEvent(client, "fatal");
  sim.runScenario("banned", { timeScale: TIME_SCALE });
  const event = await fatal;
  assertEquals(event.eventType, GtwEventType.BanLogin);
  assertStringIncludes(event.reason, "banned");
  await sim.waitFor("connectionClosed", (e) => e.conn === 1);
  await quietFor(600); // three backoff caps: still nothing
  assertEquals(connectionsOpened(sim), 1);
  const summary = client.describe();
  assertEquals([summary.link, summary.fatal], ["stopped", true]);
  assertEquals(log.of("fatal").length, 1);
  assertEquals(log.of("reconnecting"), []);
  const error = await assertRejects(() => client.whenReady(1_000));
  assert(isClientError(error, "STOPPED"), String(error));
  assert(!sim.events.some((e) => e.type === "relogin"));
});

Deno.test("scenario flaky-network: drops and a refusing port, converges to Ready", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  const log = new EventLog(client);
  await client.whenReady(5_000);
  const run = sim.runScenario("flaky-network", { timeScale: 0.1 });
  assertEquals(await run.done, "completed");
  const lastDrop = sim.events.findLast((e) => e.type === "connectionsDropped");
  assert(lastDrop);
  await sim.waitFor("initConnect", undefined, { since: lastDrop.seq });
  await client.whenReady(5_000);
  assertGreater(log.of("lost").length, 3);
  assertLessOrEqual(connectionsOpened(sim), 20, "no reconnect storm");
  assertEquals(log.of("stopped"), []);
  assertEquals(
    Number((await client.request(1004, { time: 1 })).time) > 0,
    true,
    "requests go through again",
  );
});

Deno.test("scenario opend-restart: OpenD goes away, comes back, logs in: Ready", async () => {
  await using sim = await startSim();
  await using client = clientFor(sim);
  const log = new EventLog(client);
  await client.whenReady(5_000);
  sim.runScenario("opend-restart", { timeScale: 0.1 });
  const back = await sim.waitFor("restarted", undefined, { timeoutMs: 5_000 });
  await sim.waitFor("initConnect", undefined, { since: back.seq });
  await sim.waitFor(
    "statusChanged",
    (e) => e.status === ProgramStatusType.Ready,
    { since: back.seq },
  );
  await client.whenReady(5_000);
  assertGreater(log.of("lost").length, 0);
  assert(
    log.of("lost").some((e) => e.reason.includes("ECONNREFUSED")),
    "while OpenD is down, connecting is refused",
  );
  assertEquals(client.describe().gateway, "Ready");
});

Deno.test("one question to the code provider at a time: a provider that ignores the abort is not asked again until it answers", async () => {
  await using sim = await startSim();
  const answers: ((code: string) => void)[] = [];
  await using client = clientFor(sim, {
    session: { pictureCodeIntervalMs: 50, rateLimitMarginMs: 0 },
    // A provider that never looks at its abort signal.
    codeProvider: () => new Promise<string>((resolve) => answers.push(resolve)),
  });
  await client.whenReady(5_000);
  const firstAsk = nextEvent(client, "needsCode");
  sim.requireVerification("picture");
  await firstAsk;
  assertEquals(answers.length, 1);

  // OpenD logs in by itself, then wants a new picture at once.
  const ready = nextEvent(client, "ready");
  sim.setProgramStatus(ProgramStatusType.Ready);
  await ready;
  const secondAsk = nextEvent(client, "needsCode");
  sim.requireVerification("picture");
  await secondAsk;
  await quietFor(200);
  assertEquals(answers.length, 1, "the first question is still open");

  // The first answer comes late (it is dropped); only then the second question.
  const readyAgain = nextEvent(client, "ready");
  answers[0]("stale");
  while (answers.length < 2) await quietFor(10);
  answers[1]("1234");
  await readyAgain;
  assertEquals(answers.length, 2);
});
