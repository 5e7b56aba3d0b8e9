/**
 * The bench still runs: every figure of `deno task bench` is measured with
 * tiny workloads (the figures themselves mean nothing here), the table has a
 * row for each, and the command refuses unknown flags.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { runCases } from "../bench/_cases.ts";
import { renderTable } from "../bench/_table.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("every bench figure is measured with a tiny workload", async () => {
  const options = {
    rounds: 1,
    scale: 0.005,
    rssPackets: 5_000,
    clients: 3,
    root: ROOT,
  };
  const { figures, errors } = await runCases(options);
  assertEquals(errors, []);
  const keys = figures.map((f) => f.key);
  for (
    const key of [
      "small",
      "smallPython",
      "smallAes",
      "large64KiB",
      "largeAes1MiB",
      "copies",
      "rss",
      "rssAes",
      "statechart",
      "statechartTree",
      "clientsReady",
      "clientHeap",
      "dropBlock",
    ]
  ) {
    assert(keys.includes(key), `no figure ${key}`);
  }
  for (const f of figures) assert(Number.isFinite(f.value), f.key);
  const table = renderTable({
    date: "2026-01-01",
    machine: "test",
    options,
    pythonNote: "recorded",
    deno: { runtime: "Deno", figures, errors },
  });
  assertStringIncludes(table, "| 39-byte Notify");
  assertStringIncludes(table, "Node not run");
  // Only the 16 MiB rows wait for the full-size run.
  assertEquals(
    table.split("\n").filter((l) => l.includes("| n/a |")).length,
    2,
  );
});

Deno.test("bench: --help, and an unknown flag exits 2 with one line", async () => {
  const run = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--lock=deno.dev.lock",
        "-A",
        `${ROOT}bench/main.ts`,
        ...args,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const help = await run("--help");
  assertEquals(help.code, 0);
  assertStringIncludes(new TextDecoder().decode(help.stdout), "--readme");
  const bad = await run("--fast");
  assertEquals(bad.code, 2);
  const lines = new TextDecoder().decode(bad.stderr).trim().split("\n");
  assertEquals(lines.length, 1);
  assertStringIncludes(lines[0], "--fast");
  for (
    const [args, says] of [
      [["--only", "smal"], "unknown group smal"],
      [["--only"], "--only needs a value"],
      [["--readme", "--only", "small"], "--readme needs every group"],
    ] as [string[], string][]
  ) {
    const refused = await run(...args);
    assertEquals(refused.code, 2, args.join(" "));
    const text = new TextDecoder().decode(refused.stderr).trim();
    assertEquals(text.split("\n").length, 1);
    assertStringIncludes(text, says);
  }
});

Deno.test("bench --only measures just the groups named", async () => {
  const { figures, errors } = await runCases({
    rounds: 1,
    scale: 0.005,
    rssPackets: 5_000,
    clients: 3,
    root: ROOT,
    only: ["statecharts"],
  });
  assertEquals(errors, []);
  assertEquals(figures.map((f) => f.key), ["statechart", "statechartTree"]);
});

Deno.test("the README keeps a generated performance section", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assert(readme.indexOf("<!-- bench:start -->") >= 0);
  assert(
    readme.indexOf("<!-- bench:end -->") >
      readme.indexOf("<!-- bench:start -->"),
  );
});
