/**
 * `deno task bench`: every performance figure of the receive path, the
 * statecharts and the connections, in Deno and in Node (the `dist/` bundle,
 * built when missing), as one table with each figure's ratio against its
 * baseline, the date and the machine.
 *
 * ```sh
 * deno task bench                   # Deno and Node, full size (a few minutes)
 * deno task bench --readme          # also rewrite the README's performance section
 * deno task bench --quick --no-node # a smoke run
 * ```
 * @module
 */
// deno-lint-ignore-file no-import-prefix
import * as esbuild from "npm:esbuild@0.28.2";
import { cpSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { npmSpecifierPlugin } from "../scripts/_esbuild_npm_plugin.ts";
import {
  type BenchOptions,
  type Figure,
  GROUPS,
  PYTHON_NOTE,
  runCases,
} from "./_cases.ts";
import { renderTable, type RunResult } from "./_table.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const MARK_START = "<!-- bench:start -->";
const MARK_END = "<!-- bench:end -->";

const USAGE =
  `usage: deno task bench [--quick] [--no-node] [--build] [--readme] [--only GROUPS]
  --quick        tiny workloads (checks that the bench runs, figures mean nothing)
  --no-node      measure Deno only
  --build        rebuild dist/ first (otherwise built only when missing)
  --readme       rewrite the README's performance section with the table
  --only GROUPS  measure only these groups, comma-separated: ${
    GROUPS.join(", ")
  }`;

interface Args {
  quick: boolean;
  node: boolean;
  build: boolean;
  readme: boolean;
  only?: string[];
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = { quick: false, node: true, build: false, readme: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--only") {
      const value = argv[++i];
      if (value === undefined) return "--only needs a value";
      const only = value.split(",").map((g) => g.trim());
      const unknown = only.find((g) => !GROUPS.includes(g));
      if (unknown !== undefined) return `unknown group ${unknown}`;
      args.only = only;
    } else if (a === "--quick") args.quick = true;
    else if (a === "--no-node") args.node = false;
    else if (a === "--build") args.build = true;
    else if (a === "--readme") args.readme = true;
    else if (a === "--help" || a === "-h") return "help";
    else return `unknown option ${a}`;
  }
  if (args.readme && args.only !== undefined) {
    return "--readme needs every group (drop --only)";
  }
  return args;
}

function optionsFor(quick: boolean): BenchOptions {
  return quick
    ? { rounds: 1, scale: 0.01, rssPackets: 20_000, clients: 5, root: ROOT }
    : {
      rounds: 7,
      scale: 1,
      rssPackets: 10_000_000,
      clients: 1000,
      root: ROOT,
    };
}

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Bundles the cases against the published entries and runs them in Node. */
async function runNode(
  options: BenchOptions,
  build: boolean,
): Promise<RunResult> {
  const dist = join(ROOT, "dist");
  if (build || !(await exists(join(dist, "package.json")))) {
    await run(Deno.execPath(), ["task", "build"], ROOT);
  }
  const work = await Deno.makeTempDir({ prefix: "opend-machine-bench-" });
  try {
    const pkg = JSON.parse(await Deno.readTextFile(join(dist, "package.json")));
    await Deno.writeTextFile(
      join(work, "package.json"),
      JSON.stringify({
        private: true,
        type: "module",
        dependencies: pkg.dependencies,
      }),
    );
    // The bundle's dependencies, from Deno's npm cache.
    await run(Deno.execPath(), ["install", "--quiet"], work);
    // A copy, not a symlink: Node resolves a package's imports from its real path.
    cpSync(dist, join(work, "node_modules", pkg.name), { recursive: true });
    const entries: Record<string, string> = {
      [join(ROOT, "codec", "mod.ts")]: `${pkg.name}/codec`,
      [join(ROOT, "machines", "mod.ts")]: `${pkg.name}/machines`,
      [join(ROOT, "client", "mod.ts")]: `${pkg.name}/client`,
      [join(ROOT, "sim", "mod.ts")]: `${pkg.name}/sim`,
    };
    await esbuild.build({
      entryPoints: [join(ROOT, "bench", "_node_entry.ts")],
      outfile: join(work, "bench.mjs"),
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "error",
      plugins: [
        {
          name: "public-entries",
          setup(b) {
            b.onResolve({ filter: /mod\.ts$/ }, (args) => {
              const target = entries[resolve(args.resolveDir, args.path)];
              return target === undefined
                ? undefined
                : { path: target, external: true };
            });
          },
        },
        npmSpecifierPlugin(),
      ],
    });
    const stdout = await run(
      "node",
      ["--expose-gc", "bench.mjs", JSON.stringify(options)],
      work,
    );
    return JSON.parse(stdout) as RunResult;
  } finally {
    await esbuild.stop();
    await Deno.remove(work, { recursive: true });
  }
}

async function rewriteReadme(section: string): Promise<void> {
  const path = join(ROOT, "README.md");
  const text = await Deno.readTextFile(path);
  const start = text.indexOf(MARK_START);
  const end = text.indexOf(MARK_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${MARK_START} ... ${MARK_END} section`);
  }
  await Deno.writeTextFile(
    path,
    text.slice(0, start + MARK_START.length) + "\n\n" + section + "\n" +
      text.slice(end),
  );
  // Kept as `deno fmt` writes it, so `deno task check` stays clean.
  await run(Deno.execPath(), ["fmt", "--quiet", path], ROOT);
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  if (typeof args === "string") {
    console.error(`bench: ${args} (see --help)`);
    return 2;
  }
  const options = { ...optionsFor(args.quick), only: args.only };
  const deno: RunResult = {
    runtime: `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`,
    ...(await runCases(options)),
  };
  let node: RunResult | undefined;
  if (args.node) {
    try {
      node = await runNode(options, args.build);
    } catch (error) {
      // The Deno figures are still worth printing.
      const why = error instanceof Error ? error.message : String(error);
      node = { runtime: "Node (not run)", figures: [], errors: [why] };
    }
  }
  const cpus = os.cpus();
  const table = renderTable({
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${
      Math.round(os.totalmem() / 2 ** 30)
    } GiB, ${os.platform()} ${os.release()}`,
    options,
    pythonNote: PYTHON_NOTE,
    deno,
    node,
  });
  console.log(table);
  for (const r of [deno, node]) {
    for (const e of r?.errors ?? []) console.error(`${r!.runtime}: ${e}`);
  }
  if (args.readme) await rewriteReadme(table);
  const failed = deno.errors.length + (node?.errors.length ?? 0);
  return failed === 0 ? 0 : 1;
}

export type { Figure };

if (import.meta.main) Deno.exit(await main(Deno.args));
