/**
 * Draws the machines into `docs/`: Mermaid sources (for the README and
 * forges) and Graphviz DOT with its SVG, rendered by a WebAssembly Graphviz
 * (no system binaries; nothing downloaded at run time). The output is
 * deterministic, so `--check` can tell when `docs/` lags behind the machines.
 * Mermaid blocks in README.md marked `<!-- viz: docs/NAME.mmd -->` are kept
 * equal to those files.
 *
 * ```sh
 * deno task viz            # rewrite docs/
 * deno task viz --check    # exit 1 if docs/ is stale
 * ```
 * @module
 */
// The renderer is pinned here, where it is used (and by tests through this
// module), not in the import map: library code never draws SVGs.
// deno-lint-ignore no-import-prefix
import { instance } from "npm:@viz-js/viz@3.31.0";
import type { AnyStateMachine } from "../deps.ts";
import { programStatusMachine, sessionMachine } from "../machines/mod.ts";
import { type DiagramOptions, toDot, toMermaid } from "../viz/mod.ts";
import { parseCommandLine } from "../cli/_args.ts";

/** One machine drawn into `docs/<name>.{mmd,dot,svg}`. */
export interface DiagramSpec {
  readonly name: string;
  readonly machine: AnyStateMachine;
  readonly mermaid: DiagramOptions;
  readonly dot: DiagramOptions;
}

const SESSION_OVERVIEW_COLLAPSED = [
  "gateway",
  "link.session.online",
  "recovery.flow.verifying",
  "recovery.flow.relogging",
];

/** The diagrams `deno task viz` writes. */
export const DIAGRAMS: readonly DiagramSpec[] = [
  {
    name: "program_status",
    machine: programStatusMachine,
    mermaid: {},
    dot: { direction: "LR" },
  },
  {
    name: "session",
    machine: sessionMachine,
    mermaid: {},
    dot: { direction: "LR" },
  },
  {
    // For the README: the whole session at a glance; `gateway` is the
    // program-status machine, drawn on its own.
    name: "session_overview",
    machine: sessionMachine,
    mermaid: { collapse: SESSION_OVERVIEW_COLLAPSED },
    dot: { direction: "LR", collapse: SESSION_OVERVIEW_COLLAPSED },
  },
];

/** Where `docs/` is. */
export const DOCS_DIR: URL = new URL("../docs/", import.meta.url);

/**
 * SVG from DOT, by Graphviz compiled to WebAssembly.
 *
 * @example
 * ```ts ignore
 * import { renderSvg } from "./viz.ts";
 * const svg = await renderSvg("digraph { a -> b }");
 * svg.startsWith("<?xml"); // true
 * ```
 */
export async function renderSvg(dot: string): Promise<string> {
  const viz = await instance();
  const result = viz.render(dot, { format: "svg" });
  const errors = result.errors.filter((e) => e.level === "error");
  if (result.status !== "success" || errors.length > 0) {
    throw new Error(
      `Graphviz failed: ${result.errors.map((e) => e.message).join("; ")}`,
    );
  }
  return result.output;
}

/**
 * Every file of `docs/` that the diagrams make, by file name.
 *
 * @example
 * ```ts ignore
 * import { renderDocs } from "./viz.ts";
 * const files = await renderDocs();
 * files.get("session.mmd")?.startsWith("stateDiagram-v2"); // true
 * ```
 */
export async function renderDocs(
  diagrams: readonly DiagramSpec[] = DIAGRAMS,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const { name, machine, mermaid, dot } of diagrams) {
    files.set(`${name}.mmd`, toMermaid(machine, mermaid));
    const source = toDot(machine, dot);
    files.set(`${name}.dot`, source);
    files.set(`${name}.svg`, await renderSvg(source));
  }
  return files;
}

/** The README, whose marked Mermaid blocks are kept equal to `docs/`. */
export const README_FILE: URL = new URL("../README.md", import.meta.url);

// `deno fmt` puts a blank line between the marker and the block.
const MARKED_BLOCK =
  /(<!-- viz: docs\/([\w.-]+\.mmd) -->\s*```mermaid\r?\n)([^]*?)(```)/g;

/**
 * `readme` with each Mermaid block that follows a marker
 * `<!-- viz: docs/NAME.mmd -->` replaced by that file of `files`, so the
 * diagrams in the README cannot drift from the machines either.
 *
 * @example
 * ```ts ignore
 * import { syncReadme } from "./viz.ts";
 * const readme = "<!-- viz: docs/a.mmd -->\n```mermaid\nold\n```\n";
 * syncReadme(readme, new Map([["a.mmd", "new\n"]]));
 * // "<!-- viz: docs/a.mmd -->\n```mermaid\nnew\n```\n"
 * ```
 */
export function syncReadme(
  readme: string,
  files: ReadonlyMap<string, string>,
): string {
  return readme.replace(MARKED_BLOCK, (_block, head, name, _body, tail) => {
    const text = files.get(name);
    if (text === undefined) {
      throw new Error(`README.md marks docs/${name}, which viz does not make`);
    }
    return `${head}${text}${tail}`;
  });
}

/** Where {@link main} writes; the defaults are the project's. */
export interface VizOptions {
  readonly docsDir?: URL;
  /** The README to keep in step; `null` for none. */
  readonly readme?: URL | null;
  readonly diagrams?: readonly DiagramSpec[];
}

const USAGE = `Usage: deno task viz [--check]
Draws the machines into docs/ (Mermaid, DOT and SVG) and keeps the marked
Mermaid blocks of README.md equal to them.
  --check      write nothing; exit 1 when docs/ or README.md is stale
  -h, --help   this text`;

/**
 * Writes `docs/`, or with `--check` only reports which files are stale.
 * Returns the process exit code: 0 done or up to date, 1 stale (with
 * `--check`), 2 bad arguments (nothing is drawn or written).
 *
 * @example
 * ```ts ignore
 * import { main } from "./viz.ts";
 * const code = await main(["--check"]); // 1 when docs/ is stale
 * ```
 */
export async function main(
  args: readonly string[],
  options: VizOptions = {},
): Promise<number> {
  const parsed = parseCommandLine("viz", {
    args: [...args],
    options: {
      check: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  const check = parsed.values.check ?? false;
  const dir = options.docsDir ?? DOCS_DIR;
  const files = await renderDocs(options.diagrams);
  const stale: string[] = [];
  for (const [name, text] of files) {
    if (await readOrNull(new URL(name, dir)) !== text) stale.push(name);
  }
  const shown = dir === DOCS_DIR ? "docs/" : dir.href;
  const readmeFile = options.readme === undefined
    ? (dir === DOCS_DIR ? README_FILE : null)
    : options.readme;
  const readme = readmeFile === null ? null : await readOrNull(readmeFile);
  const readmeWanted = readme === null ? null : syncReadme(readme, files);
  if (readmeWanted !== readme) stale.push("README.md");
  if (stale.length === 0) {
    console.log(`${shown} is up to date`);
    return 0;
  }
  if (check) {
    console.error(
      `${shown} is stale (${stale.join(", ")}): run \`deno task viz\``,
    );
    return 1;
  }
  await Deno.mkdir(dir, { recursive: true });
  for (const name of stale) {
    if (name === "README.md") {
      await Deno.writeTextFile(readmeFile!, readmeWanted!);
      console.log("updated the diagrams in README.md");
      continue;
    }
    await Deno.writeTextFile(new URL(name, dir), files.get(name)!);
    console.log(`wrote ${shown}${name}`);
  }
  return 0;
}

async function readOrNull(file: URL): Promise<string | null> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
