/**
 * The npm package's shape as the build sees it: its name, the Node version
 * it targets, and its entries (one per deno.json `exports` subpath).
 * @module
 */

/** The package's name on npm. */
export const NPM_NAME = "opend-machine";
/** Node versions the bundle supports; also its esbuild target. */
export const NODE_MAJOR = 20;

/** One entry of deno.json `exports`. */
export interface Entry {
  /** The export's subpath: `.`, `./codec`, ... */
  subpath: string;
  /** The file stem used in dist: `index`, `codec`, ... */
  name: string;
  /** The source module, relative to the repository root: `mod.ts`, ... */
  source: string;
}

/** A build step that cannot go on; the CLI prints its message alone. */
export class BuildError extends Error {
  /** Always `BuildError`. */
  override name = "BuildError";
}

/** Reads deno.json `exports` into entries (`.` becomes `index`). */
export function entriesOf(exportsField: unknown): Entry[] {
  const map: Record<string, unknown> = typeof exportsField === "string"
    ? { ".": exportsField }
    : (exportsField ?? {}) as Record<string, unknown>;
  const entries: Entry[] = [];
  for (const [subpath, target] of Object.entries(map)) {
    if (typeof target !== "string") {
      throw new BuildError(`deno.json exports["${subpath}"] is not a path`);
    }
    const name = subpath === "."
      ? "index"
      : subpath.replace(/^\.\//, "").replaceAll("/", "-");
    if (
      !/^[A-Za-z0-9_-]+$/.test(name) || (name === "index" && subpath !== ".")
    ) {
      throw new BuildError(`unsupported export subpath "${subpath}"`);
    }
    entries.push({ subpath, name, source: target.replace(/^\.\//, "") });
  }
  if (!entries.some((e) => e.subpath === ".")) {
    throw new BuildError('deno.json exports has no "." entry');
  }
  return entries;
}

/** How a user names an entry: `opend-machine`, `opend-machine/codec`. */
export function specifierOf(entry: Entry): string {
  return entry.subpath === "."
    ? NPM_NAME
    : `${NPM_NAME}/${entry.subpath.slice(2)}`;
}

/** The npm package a bare specifier names: `xstate/graph` -> `xstate`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}
