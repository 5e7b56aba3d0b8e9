/**
 * The layers of ARCHITECTURE.md stay true: the module graph of every
 * deno.json `exports` entry, every CLI and every script (as `deno info` sees
 * it, type-only imports included) has no import cycle, and each folder
 * imports only the folders below it.
 * @module
 */
import { assertEquals } from "@std/assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = new URL("..", import.meta.url);

// What a command may import: the whole library below it.
const LIBRARY = [
  "mod.ts",
  "serve",
  "client",
  "sim",
  "viz",
  "machines",
  "codec",
  "deps.ts",
] as const;

/**
 * What each folder (or top-level file) may import besides itself: the
 * layering rules of ARCHITECTURE.md, as data. A folder missing here is a
 * violation too, so a new folder gets a place in the layers.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  "deps.ts": [],
  codec: ["deps.ts"],
  machines: ["codec", "deps.ts"],
  sim: ["codec", "deps.ts"],
  viz: ["machines", "codec", "deps.ts"],
  client: ["machines", "codec", "deps.ts"],
  serve: ["client", "viz", "machines", "codec", "deps.ts"],
  "mod.ts": ["serve", "client", "sim", "viz", "machines", "codec", "deps.ts"],
  cli: LIBRARY,
  scripts: ["cli", ...LIBRARY],
  campaigns: ["cli", ...LIBRARY],
};

/**
 * Cycles that exist and are waiting to be broken, each exactly as
 * {@link importCycles} reports it. The test fails when one of them is gone
 * too, so this list only ever shrinks.
 */
const KNOWN_CYCLES: readonly (readonly string[])[] = [];

/** Repository-relative path -> the repository files it imports. */
type Graph = Map<string, Set<string>>;

/** `codec/frame.ts` -> `codec`; `mod.ts` -> `mod.ts`. */
function folderOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? path : path.slice(0, slash);
}

/** Imports that break {@link MAY_IMPORT}, as `from -> to` lines. */
function layeringViolations(graph: Graph): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    const allowed = MAY_IMPORT[folderOf(from)];
    for (const to of targets) {
      if (folderOf(to) === folderOf(from)) continue;
      if (allowed === undefined) {
        found.push(`${from} -> ${to} (${folderOf(from)} has no layer)`);
      } else if (!allowed.includes(folderOf(to))) {
        found.push(`${from} -> ${to}`);
      }
    }
  }
  return found.sort();
}

/**
 * Every import cycle, one per strongly connected component (Tarjan), each
 * as its files in a stable order.
 */
function importCycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v)) {
      cycles.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** The files `deno info` starts from: entries, CLIs, scripts, campaigns. */
async function roots(): Promise<string[]> {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { exports: Record<string, string> };
  const found = Object.values(denoJson.exports).map((p) =>
    p.replace(/^\.\//, "")
  );
  for (const dir of ["cli", "scripts", "campaigns"]) {
    for await (const entry of Deno.readDir(new URL(dir + "/", ROOT))) {
      if (entry.isFile && entry.name.endsWith(".ts")) {
        found.push(`${dir}/${entry.name}`);
      }
    }
  }
  found.push("sim/main.ts");
  return [...new Set(found)].sort();
}

interface DenoInfo {
  modules: {
    specifier: string;
    error?: string;
    dependencies?: {
      code?: { specifier: string };
      type?: { specifier: string };
    }[];
  }[];
}

/** The repository's own module graph, from one `deno info --json`. */
async function moduleGraph(): Promise<Graph> {
  const dir = await Deno.makeTempDir({ prefix: "opend-machine-layers-" });
  try {
    const all = join(dir, "all.ts");
    await Deno.writeTextFile(
      all,
      (await roots()).map((p) =>
        `import ${JSON.stringify(new URL(p, ROOT).href)};\n`
      ).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "info",
        "--json",
        "--no-lock",
        "--config",
        fileURLToPath(new URL("deno.json", ROOT)),
        all,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder();
    if (!out.success) throw new Error(text.decode(out.stderr));
    const info = JSON.parse(text.decode(out.stdout)) as DenoInfo;
    const graph: Graph = new Map();
    const local = (specifier: string) =>
      specifier.startsWith(ROOT.href)
        ? specifier.slice(ROOT.href.length)
        : undefined;
    for (const mod of info.modules) {
      const from = local(mod.specifier);
      if (from === undefined) continue;
      if (mod.error !== undefined) throw new Error(`${from}: ${mod.error}`);
      const targets = graph.get(from) ?? new Set<string>();
      graph.set(from, targets);
      for (const dep of mod.dependencies ?? []) {
        for (const target of [dep.code, dep.type]) {
          const to = target && local(target.specifier);
          if (to !== undefined) targets.add(to);
        }
      }
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the library, its CLIs and scripts have no import cycle, and every folder imports only the layers below it", async () => {
  const graph = await moduleGraph();
  // The walk reached every layer, so an empty answer below means something.
  const folders = new Set([...graph.keys()].map(folderOf));
  for (const folder of Object.keys(MAY_IMPORT)) {
    assertEquals(folders.has(folder), true, `${folder} not in the graph`);
  }
  assertEquals(importCycles(graph), KNOWN_CYCLES, "import cycles");
  assertEquals(layeringViolations(graph), [], "imports against the layers");
});

Deno.test("an import cycle, or machines/ reaching up into viz/, is caught", () => {
  const graph: Graph = new Map([
    ["machines/policy.ts", new Set(["viz/to_dot.ts", "codec/mod.ts"])],
    ["viz/to_dot.ts", new Set(["viz/_graph_diagram.ts"])],
    ["viz/_graph_diagram.ts", new Set(["viz/to_dot.ts", "machines/mod.ts"])],
    ["codec/mod.ts", new Set(["client/mod.ts"])],
    ["client/mod.ts", new Set(["codec/mod.ts"])],
    ["examples/x.ts", new Set(["mod.ts"])],
  ]);
  assertEquals(importCycles(graph), [
    ["client/mod.ts", "codec/mod.ts"],
    ["viz/_graph_diagram.ts", "viz/to_dot.ts"],
  ]);
  assertEquals(layeringViolations(graph), [
    "codec/mod.ts -> client/mod.ts",
    "examples/x.ts -> mod.ts (examples has no layer)",
    "machines/policy.ts -> viz/to_dot.ts",
  ]);
});
