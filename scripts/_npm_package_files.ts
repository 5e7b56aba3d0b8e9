/**
 * The package's own files: `package.json`, `LICENSE`, and a `README.md` with
 * the sizes of this build, measured raw and gzipped.
 * @module
 */
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import {
  type Entry,
  NODE_MAJOR,
  NPM_NAME,
  specifierOf,
} from "./_npm_entries.ts";

/** Raw and gzip sizes of one part of the package. */
export interface SizeRow {
  /** What the row measures: `ESM (esm/)`, ... */
  label: string;
  /** How many files. */
  files: number;
  /** Their bytes. */
  raw: number;
  /** Their bytes, each gzipped at level 9. */
  gzip: number;
}

/** Every file under `dir`, recursively, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
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

/** What goes into `package.json` beside the entries. */
export interface PackageFacts {
  /** deno.json `version`. */
  version: string;
  /** deno.json `license`; the LICENSE file decides when absent. */
  declaredLicense: string | undefined;
  /** npm package -> the range users install. */
  dependencies: Record<string, string>;
}

/**
 * Writes `package.json` (the `exports` conditions for each entry), `LICENSE`
 * and `README.md` with the sizes of what is already in `outDir`; returns the
 * sizes.
 */
export async function writePackageFiles(
  root: string,
  outDir: string,
  entries: Entry[],
  { version, declaredLicense, dependencies }: PackageFacts,
): Promise<SizeRow[]> {
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
  const license = declaredLicense ?? await licenseOf(root);
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
    dependencies,
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
    packageReadme(version, entries, dependencies, sizes),
  );
  return sizes;
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
