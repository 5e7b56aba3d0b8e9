/**
 * `deno task build`: writes `dist/` as the publishable npm package
 * `opend-machine` for Node >= 20.
 *
 * - `dist/esm/`: ESM, one file per entry of deno.json `exports` (`index.js`
 *   for `.`, `codec.js` for `./codec`, ...) with shared code in `chunks/`.
 * - `dist/cjs/`: CommonJS, one bundle (`bundle.cjs`) holding every entry's
 *   namespace and a two-line file per entry (`index.cjs`, `codec.cjs`, ...),
 *   so classes are the same objects whichever entry they are required from.
 * - `dist/types/`: the declarations, bundled into one file (`bundle.d.cts`,
 *   read by ESM and CommonJS users alike, as XState's own are), with a short
 *   file per entry and format naming what that entry exports.
 * - `dist/package.json` (`exports` with import/require/types conditions,
 *   `engines`, `"sideEffects": false`, and the npm packages the code imports
 *   as `dependencies`, as caret ranges of the versions pinned in `deps.ts`,
 *   so an app with a newer 5.x XState gets one copy of it), `dist/LICENSE`
 *   and a short `dist/README.md` with the bundle sizes of this build.
 *
 * npm packages are never inlined: `npm:pkg@range` imports become `pkg` and
 * are installed by npm next to the bundle. This file bundles the code with
 * esbuild; the declarations are `_npm_declarations.ts`, the package's own
 * files (package.json, README with the sizes, LICENSE) `_npm_package_files.ts`,
 * and the entries and the package's name `_npm_entries.ts`.
 * @module
 */
// Build tools are pinned here, where they are used, not in the import map:
// the library's own dependencies are the only ones deno.json names.
// deno-lint-ignore-file no-import-prefix
import * as esbuild from "npm:esbuild@0.28.2";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type NpmSpecifier,
  npmSpecifierPlugin,
  parseNpmSpecifier,
} from "./_esbuild_npm_plugin.ts";
import {
  BuildError,
  entriesOf,
  type Entry,
  NODE_MAJOR,
  NPM_NAME,
  packageOf,
} from "./_npm_entries.ts";
import {
  rewriteExampleImports,
  rewriteNpmSpecifiers,
  writeDeclarations,
} from "./_npm_declarations.ts";
import {
  filesUnder,
  formatSizes,
  type SizeRow,
  writePackageFiles,
} from "./_npm_package_files.ts";
import { parseCommandLine } from "../cli/_args.ts";

export {
  entriesOf,
  type Entry,
  formatSizes,
  NPM_NAME,
  rewriteExampleImports,
  rewriteNpmSpecifiers,
  type SizeRow,
};

/** What {@link buildNpm} wrote, with the sizes of each build. */
export interface BuildResult {
  outDir: string;
  entries: Entry[];
  dependencies: Record<string, string>;
  sizes: SizeRow[];
}

/**
 * The npm packages pinned in deps.ts: package name -> version range, read
 * from its `npm:pkg@range` specifiers. One range per package.
 */
export function pinsOf(depsSource: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const m of depsSource.matchAll(/["'](npm:[^"'\s]+)["']/g)) {
    const spec = parseNpmSpecifier(m[1]);
    if (spec === undefined || spec.range === "") {
      throw new BuildError(`deps.ts: "${m[1]}" has no version`);
    }
    const seen = pins.get(spec.name);
    if (seen !== undefined && seen !== spec.range) {
      throw new BuildError(
        `deps.ts pins ${spec.name} twice: ${seen} and ${spec.range}`,
      );
    }
    pins.set(spec.name, spec.range);
  }
  return pins;
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

/** Builds the npm package into `outDir` (default `<root>/dist`). */
export async function buildNpm(
  root: string,
  outDir = join(root, "dist"),
): Promise<BuildResult> {
  const denoJson = JSON.parse(
    await Deno.readTextFile(join(root, "deno.json")),
  ) as { version?: string; license?: string; exports?: unknown };
  const version = denoJson.version;
  if (version === undefined) throw new BuildError("deno.json has no version");
  const entries = entriesOf(denoJson.exports);
  const pins = pinsOf(await Deno.readTextFile(join(root, "deps.ts")));

  // Never wipe the repository itself or a folder that holds it.
  if (!relative(outDir, root).startsWith("..")) {
    throw new BuildError(`refusing to replace ${outDir}`);
  }
  await Deno.remove(outDir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.mkdir(outDir, { recursive: true });

  // npm packages the code imports, checked against deps.ts.
  const used = new Map<string, string>();
  const problems: string[] = [];
  const onPackage = (spec: NpmSpecifier, importer: string) => {
    const pin = pins.get(spec.name);
    const where = relative(root, importer) || importer;
    if (pin === undefined) {
      problems.push(`${where}: npm:${spec.name} is not pinned in deps.ts`);
    } else if (spec.range !== pin) {
      problems.push(
        `${where}: npm:${spec.name}@${spec.range} differs from deps.ts (${pin})`,
      );
    }
    used.set(spec.name, pin ?? spec.range);
  };
  const common: esbuild.BuildOptions = {
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    target: `node${NODE_MAJOR}`,
    charset: "utf8",
    legalComments: "inline",
    logLevel: "warning",
    tsconfigRaw: {},
    plugins: [npmSpecifierPlugin({ onPackage })],
  };

  try {
    // ESM: one file per entry, shared code split into chunks.
    const esm = await esbuild.build({
      ...common,
      entryPoints: Object.fromEntries(
        entries.map((e) => [e.name, join(root, e.source)]),
      ),
      format: "esm",
      splitting: true,
      metafile: true,
      outdir: join(outDir, "esm"),
      chunkNames: "chunks/[name]-[hash]",
    });
    // CommonJS: one bundle holding every entry's namespace.
    await esbuild.build({
      ...common,
      stdin: {
        contents: entries.map((e, i) =>
          `export * as entry${i} from ${JSON.stringify("./" + e.source)};\n`
        ).join(""),
        resolveDir: root,
        sourcefile: "entries.ts",
        loader: "ts",
      },
      format: "cjs",
      outfile: join(outDir, "cjs", "bundle.cjs"),
    });
    if (problems.length > 0) {
      throw new BuildError([...new Set(problems)].join("\n"));
    }

    // Runtime exports of each entry, as esbuild sees them.
    const valueNames = new Map<string, string[]>();
    for (const [path, output] of Object.entries(esm.metafile.outputs)) {
      const entry = entries.find((e) =>
        output.entryPoint !== undefined &&
        resolve(root, output.entryPoint) === join(root, e.source)
      );
      if (entry !== undefined) {
        valueNames.set(entry.name, [...output.exports].sort());
      }
      if (!path.endsWith(".js")) continue;
      for (const imp of output.imports) {
        if (!imp.external) continue;
        if (imp.path.startsWith("node:")) continue;
        if (!used.has(packageOf(imp.path))) {
          throw new BuildError(`${path} imports undeclared "${imp.path}"`);
        }
      }
    }
    for (const [i, e] of entries.entries()) {
      await Deno.writeTextFile(
        join(outDir, "cjs", `${e.name}.cjs`),
        `"use strict";\n// ${NPM_NAME}${e.subpath.slice(1)}\n` +
          `module.exports = require("./bundle.cjs").entry${i};\n`,
      );
    }

    // Empty chunks (modules whose code all went elsewhere) are imported for
    // their side effects, which are none: drop them and their imports.
    for (const file of await filesUnder(join(outDir, "esm"))) {
      if ((await Deno.stat(file)).size !== 0) continue;
      await Deno.remove(file);
      const name = file.slice(file.lastIndexOf(sep) + 1);
      for (const js of await filesUnder(join(outDir, "esm"))) {
        const text = await Deno.readTextFile(js);
        const kept = text.replace(
          new RegExp(
            `^import "[./]*(?:chunks/)?${
              name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
            }";\n`,
            "gm",
          ),
          "",
        );
        if (kept !== text) await Deno.writeTextFile(js, kept);
      }
    }

    // deps.ts pins exact versions for Deno; npm users get caret ranges, so
    // an app's own newer minor version is shared, not installed twice.
    const dependencies = Object.fromEntries(
      [...used].sort(([a], [b]) => a.localeCompare(b)),
    );
    const npmRanges = Object.fromEntries(
      Object.entries(dependencies).map(([name, pin]) => [
        name,
        /^\d+\.\d+\.\d+$/.test(pin) ? `^${pin}` : pin,
      ]),
    );

    // Declarations.
    await writeDeclarations(root, outDir, entries, dependencies, valueNames);

    // package.json, LICENSE and README.
    const sizes = await writePackageFiles(root, outDir, entries, {
      version,
      declaredLicense: denoJson.license,
      dependencies: npmRanges,
    });
    return { outDir, entries, dependencies: npmRanges, sizes };
  } finally {
    await esbuild.stop();
  }
}

if (import.meta.main) {
  const parsed = parseCommandLine("build", {
    args: Deno.args,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (typeof parsed === "number") Deno.exit(parsed);
  if (parsed.values.help) {
    console.log(`Usage: deno task build
Writes dist/ as the npm package ${NPM_NAME} (ESM, CommonJS, declarations,
package.json, README with the sizes, LICENSE) and prints the sizes.
  -h, --help   this text`);
    Deno.exit(0);
  }
  const root = fileURLToPath(new URL("..", import.meta.url));
  const started = performance.now();
  try {
    const result = await buildNpm(root);
    const dir = toPosix(relative(root, result.outDir)) || ".";
    console.log(
      `built ${NPM_NAME} into ${dir}/ in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s: entries ${
        result.entries.map((e) => e.subpath).join(", ")
      }; dependencies ${JSON.stringify(result.dependencies)}`,
    );
    console.log(formatSizes(result.sizes));
  } catch (e) {
    if (e instanceof BuildError) {
      console.error(`build failed: ${e.message}`);
      Deno.exit(1);
    }
    if (e instanceof Error && "errors" in e && "warnings" in e) {
      console.error("build failed: esbuild reported the errors above");
      Deno.exit(1);
    }
    throw e;
  }
}
