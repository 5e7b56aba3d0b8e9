/**
 * The package's TypeScript declarations: emitted by TypeScript from a copy of
 * the sources whose `npm:` specifiers are rewritten to bare names, compiled
 * against the real packages (installed by `deno install` into a temporary
 * directory, from Deno's npm cache), bundled with rollup-plugin-dts (on
 * rollup's WebAssembly build) into one file, with one small file per entry.
 * @module
 */
// Build tools are pinned here, where they are used, not in the import map.
// deno-lint-ignore-file no-import-prefix
import ts from "npm:typescript@5.9.3";
import { rollup } from "npm:@rollup/wasm-node@4.68.4";
import { dts } from "npm:rollup-plugin-dts@6.5.1";
import { dirname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseNpmSpecifier } from "./_esbuild_npm_plugin.ts";
import {
  BuildError,
  type Entry,
  NPM_NAME,
  packageOf,
  specifierOf,
} from "./_npm_entries.ts";

/** Type packages the declarations are compiled against (build time only). */
const TYPES_NODE_VERSION = "20.19.43";

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

/**
 * Writes `types/`: the bundled declarations (checked to import nothing but
 * Node and the package's dependencies), then a short file per entry and
 * format naming what that entry exports; `valueNames` (the runtime exports
 * esbuild saw) tells values from types.
 */
export async function writeDeclarations(
  root: string,
  outDir: string,
  entries: Entry[],
  dependencies: Record<string, string>,
  valueNames: Map<string, string[]>,
): Promise<void> {
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
}
