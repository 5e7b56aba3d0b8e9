import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { runDemo } from "../cli/demo.ts";

Deno.test("the demo plays kicked out, relogin, phone code, restart and backoff, and ends Ready", async () => {
  const lines: string[] = [];
  // A quarter of the real pauses: the same story, in the same order.
  const result = await runDemo({
    write: (line) => lines.push(line),
    color: false,
    timeScale: 0.25,
  });
  assert(result.endedReady);
  assertEquals(result.connections, 3);
  assertEquals(result.codeRequests, 1, "one SMS, not a storm of them");
  assertEquals(result.relogins, 1);
  assertEquals(result.exitSent, false);
  assertEquals(result.reconnectDelaysMs, [250, 250, 500, 1_000]);
  const text = lines.join("\n");
  assertStringIncludes(
    text,
    'GtwEvent KickedOut "Account logged in on another device"',
  );
  assertStringIncludes(text, "person  types the phone code");
  assert(!text.includes("246810"), "the code itself is never printed");
  assertStringIncludes(
    text,
    "Policy: KickedOut changed from the default `park`",
  );
  assertStringIncludes(text, "gateway -> NeedPhoneVerifyCode");
  assertStringIncludes(text, "reconnecting in 1 s (attempt 3)");
  assert(!text.includes("\x1b["), "no colour when asked for none");
  assert(result.elapsedMs < 60_000);
});

Deno.test("deno task demo prints no colour when piped", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      new URL("../cli/demo.ts", import.meta.url).pathname,
      "--time-scale",
      "0.25",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assertEquals(code, 0);
  assert(!text.includes("\x1b["));
  assertStringIncludes(text, "exit never sent to OpenD");
});

Deno.test("deno task demo --help prints the usage; a typo is refused in one line, exit 2, before any story", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        new URL("../cli/demo.ts", import.meta.url).pathname,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
  const help = await run(["--help"]);
  assertEquals(help.code, 0);
  assertStringIncludes(
    new TextDecoder().decode(help.stdout),
    "Usage: deno task demo",
  );
  const typo = await run(["--fast"]);
  assertEquals(typo.code, 2);
  assertEquals(new TextDecoder().decode(typo.stdout), "");
  assertEquals(
    new TextDecoder().decode(typo.stderr).trim(),
    "demo: unknown option --fast (see --help)",
  );
});
