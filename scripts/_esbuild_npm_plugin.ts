/**
 * A small esbuild plugin for bundling this Deno-first library for Node.
 *
 * - `npm:pkg@range[/subpath]` becomes the bare `pkg[/subpath]` and stays
 *   external: the package is a real npm dependency of the bundle, installed by
 *   npm next to it, never inlined. Every package seen is reported with the
 *   version range it was imported with, so the build can check it against
 *   `deps.ts` and write it into `package.json`.
 * - `node:` built-ins are left to esbuild (external on platform `node`).
 * - Anything else that is not a relative or absolute path — an import-map name
 *   such as `xstate` or `@std/assert`, `jsr:`, `http(s):` — fails the build:
 *   library code must name npm packages with full `npm:` specifiers (see
 *   `deps.ts`), or it cannot be imported from a URL either.
 * @module
 */
// Build tools are pinned here, where they are used, not in the import map:
// the library's own dependencies are the only ones deno.json names.
// deno-lint-ignore-file no-import-prefix
import type { Plugin } from "npm:esbuild@0.28.2";

/** An `npm:` specifier taken apart. */
export interface NpmSpecifier {
  /** Package name, with its scope if any: `xstate`, `@types/node`. */
  name: string;
  /** The version range after `@`, or `""` when none was given. */
  range: string;
  /** The subpath after the name and range, with its leading `/`, or `""`. */
  subpath: string;
}

const NPM_SPECIFIER =
  /^npm:\/?((?:@[^/@\s]+\/)?[^/@\s]+)(?:@([^/\s]*))?(\/[^\s]*)?$/;

/**
 * Parses `npm:name@range/subpath` (scope, range and subpath optional).
 * Returns `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { parseNpmSpecifier } from "./_esbuild_npm_plugin.ts";
 * parseNpmSpecifier("npm:xstate@5.33.3/graph");
 * // { name: "xstate", range: "5.33.3", subpath: "/graph" }
 * ```
 */
export function parseNpmSpecifier(
  specifier: string,
): NpmSpecifier | undefined {
  const m = NPM_SPECIFIER.exec(specifier);
  if (m === null) return undefined;
  return { name: m[1], range: m[2] ?? "", subpath: m[3] ?? "" };
}

/** Options of {@link npmSpecifierPlugin}. */
export interface NpmSpecifierPluginOptions {
  /** Called for every `npm:` import the bundle keeps external. */
  onPackage?: (spec: NpmSpecifier, importer: string) => void;
}

/**
 * The plugin: maps `npm:` specifiers to external bare package names and
 * rejects every other bare or remote specifier with a message naming the
 * importing file.
 */
export function npmSpecifierPlugin(
  options: NpmSpecifierPluginOptions = {},
): Plugin {
  return {
    name: "npm-specifier",
    setup(build) {
      build.onResolve({ filter: /^npm:/ }, (args) => {
        const spec = parseNpmSpecifier(args.path);
        if (spec === undefined) {
          return {
            errors: [{ text: `malformed npm specifier "${args.path}"` }],
          };
        }
        options.onPackage?.(spec, args.importer);
        return { path: spec.name + spec.subpath, external: true };
      });
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith("node:")) return undefined; // esbuild's own
        if (args.kind === "entry-point") return undefined;
        if (/^[A-Za-z]:[\\/]/.test(args.path)) return undefined; // C:\ path
        return {
          errors: [{
            text: `"${args.path}" is not an npm: specifier, a node: built-in ` +
              `or a relative path. Library code must import npm packages ` +
              `with full npm:pkg@version specifiers (through deps.ts), so ` +
              `that it works without this project's import map.`,
          }],
        };
      });
    },
  };
}
