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
 * are installed by npm next to the bundle. The declarations are emitted by
 * TypeScript from a copy of the sources whose `npm:` specifiers are rewritten
 * to bare names, compiled against the real packages (installed by
 * `deno install` into a temporary directory, from Deno's npm cache), and
 * bundled with rollup-plugin-dts (on rollup's WebAssembly build).
 * @module
 */
// Build tools are pinned here, where they are used, not in the import map:
// the library's own dependencies are the only ones deno.json names.
// deno-lint-ignore-file no-import-prefix
import * as esbuild from "npm:esbuild@0.28.2";
import ts from "npm:typescript@5.9.3";
import { rollup } from "npm:@rollup/wasm-node@4.68.4";
import { dts } from "npm:rollup-plugin-dts@6.5.1";
import { gzipSync } from "node:zlib";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type NpmSpecifier,
  npmSpecifierPlugin,
  parseNpmSpecifier,
} from "./_esbuild_npm_plugin.ts";
import { parseCommandLine } from "../cli/_args.ts";

/** The package's name on npm. */
export const NPM_NAME = "opend-machine";
/** Node versions the bundle supports; also its esbuild target. */
const NODE_MAJOR = 20;
/** Type packages the declarations are compiled against (build time only). */
const TYPES_NODE_VERSION = "20.19.43";

/** One entry of deno.json `exports`. */
export interface Entry {
  /** The export's subpath: `.`, `./codec`, ... */
  subpath: string;
  /** The file stem used in dist: `index`, `codec`, ... */
  name: string;
  /** The source module, relative to the repository root: `mod.ts`, ... */
  source: string;
}

/** What {@link buildNpm} wrote, with the sizes of each build. */
export interface BuildResult {
  outDir: string;
  entries: Entry[];
  dependencies: Record<string, string>;
  sizes: SizeRow[];
}

/** Raw and gzip sizes of one part of the package. */
export interface SizeRow {
  label: string;
  files: number;
  raw: number;
  gzip: number;
}

class BuildError extends Error {
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

/** Rewrites every `"npm:pkg@range/sub"` string literal to `"pkg/sub"`. */
export function rewriteNpmSpecifiers(source: string): string {
  return source.replace(
    /(["'])(npm:[^"'\s]+)\1/g,
    (whole, quote: string, specifier: string) => {
      const spec = parseNpmSpecifier(specifier);
      return spec === undefined
        ? whole
        : `${quote}${spec.name}${spec.subpath}${quote}`;
    },
  );
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

async function run(
  args: string[],
  cwd: string,
  what: string,
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new BuildError(
      `${what} failed:\n${text.decode(out.stderr)}${text.decode(out.stdout)}`,
    );
  }
  return text.decode(out.stdout);
}

/** Local source files (absolute paths) in the module graph of `entries`. */
async function localGraph(root: string, entries: Entry[]): Promise<string[]> {
  const files = new Set<string>();
  for (const entry of entries) {
    const json = await run(
      ["info", "--json", "--no-config", "--no-lock", join(root, entry.source)],
      root,
      `deno info ${entry.source}`,
    );
    const info = JSON.parse(json) as {
      modules: { specifier: string; error?: string; kind?: string }[];
    };
    for (const mod of info.modules) {
      if (mod.error !== undefined) {
        throw new BuildError(`${mod.specifier}: ${mod.error}`);
      }
      if (!mod.specifier.startsWith("file:")) continue;
      const path = fileURLToPath(mod.specifier);
      const rel = relative(root, path);
      if (rel.startsWith("..")) {
        throw new BuildError(`${path} is outside the repository`);
      }
      files.add(path);
    }
  }
  return [...files].sort();
}

function formatDiagnostics(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => "",
    getNewLine: () => "\n",
  });
}

interface TypesResult {
  /** The bundled declarations. */
  bundle: string;
  /** Every name each entry exports, values and types alike. */
  names: Map<string, string[]>;
}

/**
 * Emits declarations with TypeScript from a rewritten copy of the sources,
 * compiled against the real npm packages, and bundles them into one file.
 */
async function buildTypes(
  root: string,
  entries: Entry[],
  dependencies: Record<string, string>,
): Promise<TypesResult> {
  const work = await Deno.makeTempDir({ prefix: "opend-machine-types-" });
  try {
    // 1. The packages, installed for real (from Deno's npm cache).
    await Deno.writeTextFile(
      join(work, "package.json"),
      JSON.stringify(
        {
          private: true,
          type: "module",
          dependencies: { ...dependencies, "@types/node": TYPES_NODE_VERSION },
        },
        null,
        2,
      ),
    );
    await run(["install", "--quiet"], work, "deno install (types)");

    // 2. The sources, with npm: specifiers rewritten to bare names.
    const src = join(work, "src");
    for (const file of await localGraph(root, entries)) {
      const target = join(src, relative(root, file));
      await Deno.mkdir(dirname(target), { recursive: true });
      const text = await Deno.readTextFile(file);
      await Deno.writeTextFile(
        target,
        /\.[cm]?tsx?$/.test(file) ? rewriteNpmSpecifiers(text) : text,
      );
    }
    const allEntry = join(src, "__all__.ts");
    await Deno.writeTextFile(
      allEntry,
      entries.map((e) => `export * from ${JSON.stringify("./" + e.source)};\n`)
        .join(""),
    );

    // 3. Declarations, after a full type check.
    const compilerOptionsJson = {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "Bundler",
      lib: ["ES2023"],
      types: ["node"],
      typeRoots: ["node_modules/@types"],
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      declaration: true,
      emitDeclarationOnly: true,
      rootDir: "src",
      outDir: "decl",
    };
    await Deno.writeTextFile(
      join(work, "tsconfig.json"),
      JSON.stringify({ compilerOptions: compilerOptionsJson }, null, 2),
    );
    const parsed = ts.convertCompilerOptionsFromJson(compilerOptionsJson, work);
    if (parsed.errors.length > 0) {
      throw new BuildError(formatDiagnostics(parsed.errors));
    }
    const program = ts.createProgram([allEntry], parsed.options);
    const diagnostics = ts.getPreEmitDiagnostics(program);
    if (diagnostics.length > 0) {
      throw new BuildError(
        "the library does not type-check against Node's types and the npm " +
          "packages' own declarations:\n" + formatDiagnostics(diagnostics),
      );
    }
    const emitted = program.emit();
    if (emitted.emitSkipped || emitted.diagnostics.length > 0) {
      throw new BuildError(formatDiagnostics(emitted.diagnostics));
    }

    // 4. Every name each entry exports.
    const checker = program.getTypeChecker();
    const names = new Map<string, string[]>();
    for (const entry of entries) {
      const file = program.getSourceFile(join(src, entry.source));
      const symbol = file && checker.getSymbolAtLocation(file);
      if (symbol === undefined) {
        throw new BuildError(`no module symbol for ${entry.source}`);
      }
      names.set(
        entry.name,
        checker.getExportsOfModule(symbol).map((s) => s.name)
          .filter((n) => n !== "default").sort(),
      );
    }

    // 5. One declaration file.
    const bundler = await rollup({
      input: join(work, "decl", "__all__.d.ts"),
      plugins: [dts({ tsconfig: join(work, "tsconfig.json") })],
      external: (id) => !id.startsWith(".") && !isAbsolute(id),
    });
    let bundle: string;
    try {
      const { output } = await bundler.generate({ format: "es" });
      if (output.length !== 1) {
        throw new BuildError("declarations did not bundle into one file");
      }
      bundle = output[0].code;
    } finally {
      await bundler.close();
    }
    return { bundle, names };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** How a user names an entry: `opend-machine`, `opend-machine/codec`. */
function specifierOf(entry: Entry): string {
  return entry.subpath === "."
    ? NPM_NAME
    : `${NPM_NAME}/${entry.subpath.slice(2)}`;
}

/**
 * Points the `@example` imports in doc comments (`from "./mod.ts"`,
 * `from "./rsa.ts"`) at the package entry that exports every imported name,
 * the root first, so that editors show Node users examples they can paste.
 * An import no single entry satisfies is left as it is.
 */
export function rewriteExampleImports(
  dts: string,
  entries: Entry[],
  names: Map<string, string[]>,
): string {
  const ordered = [...entries].sort((a, b) =>
    Number(b.subpath === ".") - Number(a.subpath === ".")
  );
  return dts.replace(
    /^(\s*\*\s*import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*)(["'])\.{1,2}\/[^"']*\.ts\3/gm,
    (whole, head: string, list: string, quote: string) => {
      const wanted = list.split(",")
        .map((part) => part.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0])
        .filter((n) => n !== "");
      const entry = ordered.find((e) => {
        const exported = names.get(e.name) ?? [];
        return wanted.every((n) => exported.includes(n));
      });
      return entry === undefined
        ? whole
        : `${head}${quote}${specifierOf(entry)}${quote}`;
    },
  );
}

/** Module names a declaration file imports or references (not comments). */
function importedModules(dts: string): Set<string> {
  const info = ts.preProcessFile(dts, true, true);
  return new Set([
    ...info.importedFiles.map((f) => f.fileName),
    ...info.referencedFiles.map((f) => f.fileName),
    ...info.typeReferenceDirectives.map((f) => f.fileName),
  ]);
}

function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await filesUnder(path));
    else out.push(path);
  }
  return out.sort();
}

async function sizeOf(
  label: string,
  files: string[],
): Promise<SizeRow> {
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const bytes = await Deno.readFile(file);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { label, files: files.length, raw, gzip };
}

function kib(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** The sizes as a small Markdown table. */
export function formatSizes(rows: SizeRow[]): string {
  const lines = [
    "| part | files | raw | gzip |",
    "| --- | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.label} | ${r.files} | ${kib(r.raw)} (${r.raw} B) | ${
        kib(r.gzip)
      } (${r.gzip} B) |`
    ),
  ];
  return lines.join("\n");
}

function packageReadme(
  version: string,
  entries: Entry[],
  dependencies: Record<string, string>,
  sizes: SizeRow[],
): string {
  const subpaths = entries.map((e) => `- \`${specifierOf(e)}\``).join("\n");
  const deps = Object.entries(dependencies).map(([n, v]) => `${n}@${v}`)
    .join(", ");
  return `# ${NPM_NAME}

Know what a Futu / moomoo **OpenD** gateway is doing, and react correctly,
unattended: the OpenD wire protocol (header, frame decoder, RSA and AES
bodies, protobuf and JSON messages) and XState v5 statecharts of OpenD's
program status and of a session supervisor.

This is the Node.js build (Node >= ${NODE_MAJOR}) of a Deno-first module, version
${version}: ESM and CommonJS, with bundled TypeScript declarations. Its npm
dependencies (${deps}) are installed with it, not inlined.

\`\`\`sh
npm install ${NPM_NAME}
\`\`\`

\`\`\`js
import { decodeNotification, encodeNotification, gtwEventNotification, GtwEventType } from "${NPM_NAME}";
// or: const { decodeNotification, ... } = require("${NPM_NAME}");

const body = encodeNotification(gtwEventNotification(GtwEventType.KickedOut, "logged in elsewhere"));
console.log(decodeNotification(body).kind); // "gtwEvent"
\`\`\`

Entry points:

${subpaths}

Sizes of this build (measured by the build itself):

${formatSizes(sizes)}

The full documentation, the statecharts and the simulator are described in
the project's README.
`;
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
    const types = await buildTypes(root, entries, dependencies);
    for (const mod of importedModules(types.bundle)) {
      if (mod.startsWith("node:") || mod === "node") continue;
      if (mod.startsWith(".")) {
        throw new BuildError(`bundled declarations still import "${mod}"`);
      }
      if (!(packageOf(mod) in dependencies)) {
        throw new BuildError(
          `bundled declarations import "${mod}", which is not a dependency`,
        );
      }
    }
    const typesDir = join(outDir, "types");
    await Deno.mkdir(typesDir, { recursive: true });
    const declarations = rewriteExampleImports(
      types.bundle,
      entries,
      types.names,
    );
    // One declaration bundle for both formats: CommonJS-format (.d.cts), so
    // the ESM entries may re-export it (ESM can import CommonJS; the reverse
    // needs TypeScript 5.8).
    await Deno.writeTextFile(join(typesDir, "bundle.d.cts"), declarations);
    for (const e of entries) {
      const all = types.names.get(e.name) ?? [];
      const values = new Set(valueNames.get(e.name) ?? []);
      const missing = [...values].filter((n) => !all.includes(n));
      if (missing.length > 0) {
        throw new BuildError(
          `${e.source}: no declarations for ${missing.join(", ")}`,
        );
      }
      const list = (ns: string[]) => ns.map((n) => `  ${n},\n`).join("");
      const body = (from: string) => {
        const v = all.filter((n) => values.has(n));
        const t = all.filter((n) => !values.has(n));
        let text = `// ${NPM_NAME}${e.subpath.slice(1)}\n`;
        if (v.length > 0) text += `export {\n${list(v)}} from "${from}";\n`;
        if (t.length > 0) {
          text += `export type {\n${list(t)}} from "${from}";\n`;
        }
        if (all.length === 0) text += "export {};\n";
        return text;
      };
      await Deno.writeTextFile(
        join(typesDir, `${e.name}.d.ts`),
        body("./bundle.cjs"),
      );
      await Deno.writeTextFile(
        join(typesDir, `${e.name}.d.cts`),
        body("./bundle.cjs"),
      );
    }

    // package.json and README.
    const exportsField: Record<string, unknown> = {};
    for (const e of entries) {
      exportsField[e.subpath] = {
        import: {
          types: `./types/${e.name}.d.ts`,
          default: `./esm/${e.name}.js`,
        },
        require: {
          types: `./types/${e.name}.d.cts`,
          default: `./cjs/${e.name}.cjs`,
        },
      };
    }
    exportsField["./package.json"] = "./package.json";
    const license = denoJson.license ?? await licenseOf(root);
    const pkg = {
      name: NPM_NAME,
      version,
      description:
        "Know what a Futu / moomoo OpenD gateway is doing: the OpenD wire " +
        "protocol and XState statecharts of its program status and session.",
      license,
      type: "module",
      main: "./cjs/index.cjs",
      module: "./esm/index.js",
      types: "./types/index.d.ts",
      exports: exportsField,
      files: ["esm/", "cjs/", "types/", "README.md", "LICENSE"],
      sideEffects: false,
      engines: { node: `>=${NODE_MAJOR}` },
      dependencies: npmRanges,
      keywords: ["futu", "moomoo", "opend", "xstate", "statechart", "protobuf"],
    };
    await Deno.writeTextFile(
      join(outDir, "package.json"),
      JSON.stringify(pkg, null, 2) + "\n",
    );
    const licenseFile = await licenseFileOf(root);
    if (licenseFile !== undefined) {
      await Deno.copyFile(join(root, licenseFile), join(outDir, "LICENSE"));
    }

    const all = await filesUnder(outDir);
    const sizes = [
      await sizeOf("ESM (esm/)", all.filter((f) => f.endsWith(".js"))),
      await sizeOf("CommonJS (cjs/)", all.filter((f) => f.endsWith(".cjs"))),
      await sizeOf(
        "declarations (types/)",
        all.filter((f) => f.endsWith(".d.ts") || f.endsWith(".d.cts")),
      ),
    ];
    await Deno.writeTextFile(
      join(outDir, "README.md"),
      packageReadme(version, entries, npmRanges, sizes),
    );
    return { outDir, entries, dependencies: npmRanges, sizes };
  } finally {
    await esbuild.stop();
  }
}

async function licenseFileOf(root: string): Promise<string | undefined> {
  for (const name of ["LICENSE", "LICENSE.md", "LICENSE.txt"]) {
    try {
      await Deno.stat(join(root, name));
      return name;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return undefined;
}

async function licenseOf(root: string): Promise<string> {
  for (const name of ["LICENSE", "LICENSE.md", "LICENSE.txt"]) {
    try {
      const text = await Deno.readTextFile(join(root, name));
      if (/MIT License/i.test(text)) return "MIT";
      if (/Apache License/i.test(text)) return "Apache-2.0";
      return `SEE LICENSE IN ${name}`;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  console.warn(
    "warning: no license in deno.json and no LICENSE file: " +
      'package.json says "UNLICENSED"',
  );
  return "UNLICENSED";
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
