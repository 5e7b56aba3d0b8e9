import { assert, assertEquals } from "@std/assert";

const root = new URL("../", import.meta.url);
const denoJson = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
) as {
  tasks: Record<string, string | { description?: string; command: string }>;
  publish?: { exclude?: string[] };
};

/** The npm packages (name@version) in the module graph of `entry`. */
async function npmGraphOf(entry: string, args: string[]): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", ...args, new URL(entry, root).pathname],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    npmPackages?: Record<string, unknown>;
  };
  return Object.keys(info.npmPackages ?? {}).sort();
}

/** npm package names a source names with full `npm:` specifiers. */
async function npmPackagesIn(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const entry of Deno.readDir(new URL(dir, root))) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(`${dir}${entry.name}`, root));
    for (const m of text.matchAll(/["']npm:((?:@[^/@"']+\/)?[^/@"']+)/g)) {
      names.add(m[1]);
    }
  }
  return names;
}

Deno.test("`deno task` lists every task with a description", () => {
  const bare = Object.entries(denoJson.tasks)
    .filter(([, task]) => typeof task === "string" || !task.description)
    .map(([name]) => name);
  assertEquals(bare, [], "tasks without a description");
});

Deno.test("the demo's lock file holds no build or test tooling: `deno task demo` downloads only what the library needs", async () => {
  // `deno task` installs every npm package of deno.lock before running any
  // task, so build tooling lives in deno.dev.lock, used by the tasks that
  // need it.
  const library = await npmPackagesIn("./");
  const tooling = new Set(
    [...await npmPackagesIn("scripts/"), ...await npmPackagesIn("examples/")]
      .filter((name) => !library.has(name)),
  );
  assert(tooling.has("esbuild") && tooling.has("typescript"));
  const lock = JSON.parse(
    await Deno.readTextFile(new URL("deno.lock", root)),
  ) as { npm?: Record<string, unknown> };
  const locked = Object.keys(lock.npm ?? {}).map((key) =>
    key.slice(0, key.indexOf("@", 1))
  );
  assertEquals(
    locked.filter((name) => tooling.has(name)),
    [],
    "deno.lock holds build tooling: rebuild it with " +
      "`rm deno.lock && deno task demo --help` (the tooling is locked in " +
      "deno.dev.lock by the tasks that use it)",
  );
  for (const task of ["test", "check", "build", "viz"]) {
    const command = JSON.stringify(denoJson.tasks[task]);
    assert(command.includes("--lock=deno.dev.lock"), `${task}: ${command}`);
  }
});

Deno.test("a URL import loads only xstate, protobufjs (with long) and the simulator's ws", async () => {
  const exports = (JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  ) as { exports: Record<string, string> }).exports;
  // ws has no dependencies of its own; the simulator loads it on first use.
  const library = new Set(["long", "protobufjs", "ws", "xstate"]);
  const names = (keys: string[]) =>
    [...new Set(keys.map((k) => k.slice(0, k.indexOf("@", 1))))].sort();
  // The serve entry alone adds its metrics library.
  const serveOnly = new Set([
    "prom-client",
    "tdigest",
    "bintrees",
    "@opentelemetry/api",
  ]);
  for (const entry of Object.values(exports)) {
    // As a URL importer sees it: no deno.json, no lock file.
    const graph = await npmGraphOf(entry, ["--no-config", "--no-lock"]);
    const extra = names(graph).filter((name) =>
      !library.has(name) && !(entry === "./serve/mod.ts" && serveOnly.has(name))
    );
    assertEquals(extra, [], entry);
  }
});

Deno.test("a JSR publish leaves out tests, benchmarks, scripts, CI and docs", () => {
  const excluded = denoJson.publish?.exclude ?? [];
  for (const dir of ["tests/", "bench/", "scripts/", ".ci/", "docs/"]) {
    assert(excluded.includes(dir), `publish.exclude lacks ${dir}`);
  }
});
