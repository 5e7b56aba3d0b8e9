// `deno task serve` and `deno task demo:serve` as a user runs them.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { startSimulator } from "../sim/mod.ts";
import { main as demoMain } from "../cli/demo_serve.ts";

const SERVE = new URL("../cli/serve.ts", import.meta.url).pathname;
const LOCK = new URL("../deno.dev.lock", import.meta.url).pathname;

function serveCommand(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    // As `deno task serve` runs it: prom-client is locked in deno.dev.lock.
    args: [
      "run",
      `--lock=${LOCK}`,
      "--allow-net",
      "--allow-read",
      "--allow-env",
      SERVE,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  });
}

async function run(args: string[], env: Record<string, string> = {}) {
  const out = await serveCommand(args, env).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("serve CLI: --help, and one line with exit 2 for what it refuses", async () => {
  const help = await run(["--help"]);
  assertEquals(help.code, 0);
  assertMatch(help.stdout, /--token-env NAME/);
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--bogus"], {}, /bogus/],
    [["--listen", "0.0.0.0:8080"], {}, /not loopback: give a token/],
    [["--listen", "nope"], {}, /--listen takes HOST:PORT/],
    [["--token-env", "OPEND_TEST_UNSET_TOKEN"], {}, /is not set/],
    [["--port", "70000"], {}, /port number/],
    [["--webhook", "ftp://x/"], {}, /webhook URL must be http\(s\)/],
    [
      ["--allow-origin", "https://x.example/path"],
      {},
      /--allow-origin takes an origin/,
    ],
  ];
  for (const [args, env, pattern] of cases) {
    const result = await run(args, env);
    assertEquals(result.code, 2, args.join(" "));
    assertMatch(result.stderr, pattern);
    assertEquals(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});

Deno.test("serve CLI: serves the probes for a simulated OpenD, token from the environment; SIGTERM stops it", async () => {
  await using sim = await startSimulator({ port: 0, opsPort: false });
  const child = serveCommand([
    "--port",
    String(sim.address.port),
    "--listen",
    "127.0.0.1:0",
    "--token-env",
    "OPEND_CONSOLE_TOKEN",
  ], { OPEND_CONSOLE_TOKEN: "cli-token" }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
    assert(url, out);
    assert(!out.includes("cli-token"));
    let status = 0;
    for (let i = 0; i < 400 && status !== 200; i++) {
      const response = await fetch(`${url}readyz`);
      status = response.status;
      await response.body?.cancel();
      if (status !== 200) await new Promise((r) => setTimeout(r, 25));
    }
    assertEquals(status, 200);
    const reset = await fetch(`${url}api/reset`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assertEquals(reset.status, 401);
    await reset.body?.cancel();
    const authorized = await fetch(`${url}api/reset`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer cli-token",
      },
      body: "{}",
    });
    assertEquals(authorized.status, 409);
    await authorized.body?.cancel();
  } finally {
    child.kill("SIGTERM");
    await lines.cancel();
  }
  assertEquals((await child.status).code, 0);
  assertEquals(await stderr, "");
});

Deno.test("demo:serve prints the console's URL; the console shows a simulated OpenD", async () => {
  const lines: string[] = [];
  const stop = Promise.withResolvers<void>();
  const running = demoMain(
    ["--listen", "127.0.0.1:0"],
    stop.promise,
    (line) => lines.push(line),
  );
  try {
    let url: string | undefined;
    for (let i = 0; i < 400 && url === undefined; i++) {
      url = lines.map((l) => /http:\/\/127\.0\.0\.1:\d+\//.exec(l)?.[0])
        .find((u) => u !== undefined);
      if (url === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    assert(url, lines.join("\n"));
    assert(lines.some((l) => l.includes("246810")));
    const page = await fetch(url);
    assertMatch(await page.text(), /Statechart/);
    let status = 0;
    for (let i = 0; i < 400 && status !== 200; i++) {
      const response = await fetch(`${url}readyz`);
      status = response.status;
      await response.body?.cancel();
      if (status !== 200) await new Promise((r) => setTimeout(r, 25));
    }
    assertEquals(status, 200);
  } finally {
    stop.resolve();
  }
  assertEquals(await running, 0);
});
