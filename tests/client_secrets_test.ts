/**
 * Verification codes are secrets: with inspection on, a session that gets a
 * code (from the code provider or typed with `submitCode`) never shows it in
 * an inspection event, a snapshot, an emitted event or an error message.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  ClientError,
  ClientErrorCode,
  describeOpsCommand,
  formatOpsCommand,
  type OpenDClient,
} from "../client/mod.ts";
import type { OpenDSimulator } from "../sim/mod.ts";
import { clientFor, nextEvent, startSim } from "./_client_helpers.ts";

const CODE = "987654";
const TIME_SCALE = 0.05;

/** Everything JSON shows of `value`, Errors (message, cause) included. */
function dump(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return String(v);
    if (typeof v === "function") return `[function ${v.name}]`;
    if (v instanceof Error) {
      return {
        ...v,
        name: v.name,
        message: v.message,
        stack: v.stack,
        cause: v.cause,
      };
    }
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[seen]";
      seen.add(v);
    }
    return v;
  }) ?? String(value);
}

/** A client that records everything it shows, as text. */
function observedClient(
  sim: OpenDSimulator,
  codeProvider?: () => Promise<string>,
): { client: OpenDClient; observed: string[] } {
  const observed: string[] = [];
  const client = clientFor(sim, {
    inspect: (event) => observed.push(dump(event)),
    ...(codeProvider === undefined ? {} : { codeProvider }),
  });
  client.on("*", (event) => observed.push(dump(event)));
  client.subscribe((summary, snapshot) => {
    observed.push(dump(summary), dump(snapshot));
    observed.push(Deno.inspect(snapshot.context, { depth: 20 }));
  });
  client.actor.subscribe((snapshot) => observed.push(dump(snapshot)));
  return { client, observed };
}

/** Plays OpenD's phone-code story until the client is ready again. */
async function phoneCodeStory(
  sim: OpenDSimulator,
  client: OpenDClient,
  onNeedsCode: () => void = () => {},
): Promise<void> {
  await client.whenReady(5_000);
  const needsCode = nextEvent(client, "needsCode");
  const readyAgain = nextEvent(client, "ready");
  const since = sim.mark();
  sim.runScenario("phone-code", { timeScale: TIME_SCALE });
  assertEquals((await needsCode).kind, "phone");
  onNeedsCode();
  await readyAgain;
  await sim.waitFor("codeAccepted", (e) => e.via === "api", { since });
}

/** Errors of ops commands carrying the code, as the user sees them. */
async function opsErrors(client: OpenDClient): Promise<string[]> {
  const seen: string[] = [];
  // OpenD needs no code now: it refuses, and the error quotes the command.
  const refused = await assertRejects(
    () => client.ops({ command: "input_phone_verify_code", code: CODE }),
    ClientError,
  );
  assertEquals(refused.code, ClientErrorCode.OpsFailed);
  seen.push(dump(refused), String(refused), refused.stack ?? "");
  // An unusable code is refused before sending, without quoting it.
  const invalid = await assertRejects(
    () => client.ops({ command: "input_pic_verify_code", code: `${CODE} x` }),
    ClientError,
  );
  assertEquals(invalid.code, ClientErrorCode.InvalidArgument);
  seen.push(dump(invalid), String(invalid), invalid.stack ?? "");
  return seen;
}

function assertNoCode(observed: readonly string[]): void {
  assert(observed.length > 0);
  for (const text of observed) {
    assert(!text.includes(CODE), `the code shows in: ${text.slice(0, 2000)}`);
  }
}

Deno.test("secrets: an inspected session never shows a code from the code provider", async () => {
  await using sim = await startSim({ phoneCode: CODE });
  const { client, observed } = observedClient(
    sim,
    () => Promise.resolve(CODE),
  );
  await using _client = client;
  await phoneCodeStory(sim, client);
  observed.push(...await opsErrors(client));
  observed.push(dump(client), String(client), Deno.inspect(client));
  // The inspection did see the provider's answer and the submit's input.
  assert(
    observed.some((text) => text.includes("xstate.done.actor.codeProvider")),
  );
  assert(observed.some((text) => text.includes("submitVerificationCode")));
  assertNoCode(observed);
});

Deno.test("secrets: an inspected session never shows a code typed with submitCode", async () => {
  await using sim = await startSim({ phoneCode: CODE });
  const { client, observed } = observedClient(sim);
  await using _client = client;
  await phoneCodeStory(sim, client, () => {
    assert(client.submitCode(CODE));
  });
  observed.push(...await opsErrors(client));
  assert(observed.some((text) => text.includes("SUBMIT_CODE")));
  assertNoCode(observed);
});

Deno.test("secrets: ops commands show codes redacted; the line still carries them", () => {
  for (
    const command of [
      "input_phone_verify_code",
      "input_pic_verify_code",
    ] as const
  ) {
    assertEquals(
      describeOpsCommand({ command, code: CODE }),
      `${command} -code=[redacted]`,
    );
    assertEquals(
      formatOpsCommand({ command, code: CODE }).reveal(),
      `${command} -code=${CODE}`,
    );
  }
});
