/**
 * The pieces of `deno task build` that decide what the npm package imports.
 * The build itself, and the package on Node, are tested by CI (.ci/run: it
 * builds, installs dist/ with npm and runs node_test/).
 * @module
 */
// Build tools are pinned here, where they are used, not in the import map:
// the library's own dependencies are the only ones deno.json names.
// deno-lint-ignore-file no-import-prefix
import { assert, assertEquals, assertThrows } from "@std/assert";
import * as esbuild from "npm:esbuild@0.28.2";
import {
  npmSpecifierPlugin,
  parseNpmSpecifier,
} from "../scripts/_esbuild_npm_plugin.ts";
import {
  entriesOf,
  pinsOf,
  rewriteExampleImports,
  rewriteNpmSpecifiers,
} from "../scripts/build_npm.ts";

Deno.test("parseNpmSpecifier takes npm: specifiers apart", () => {
  assertEquals(parseNpmSpecifier("npm:xstate@5.33.3"), {
    name: "xstate",
    range: "5.33.3",
    subpath: "",
  });
  assertEquals(parseNpmSpecifier("npm:xstate@5.33.3/graph"), {
    name: "xstate",
    range: "5.33.3",
    subpath: "/graph",
  });
  assertEquals(parseNpmSpecifier("npm:@types/node@^20/fs"), {
    name: "@types/node",
    range: "^20",
    subpath: "/fs",
  });
  assertEquals(parseNpmSpecifier("npm:protobufjs"), {
    name: "protobufjs",
    range: "",
    subpath: "",
  });
  assertEquals(parseNpmSpecifier("xstate"), undefined);
  assertEquals(parseNpmSpecifier("jsr:@std/assert@1"), undefined);
});

Deno.test("pinsOf reads deps.ts's versions and refuses two for one package", () => {
  const pins = pinsOf(`
    export { setup } from "npm:xstate@5.33.3";
    export type { Actor } from 'npm:xstate@5.33.3';
    export { default as protobuf } from "npm:protobufjs@8.8.1";
  `);
  assertEquals(Object.fromEntries(pins), {
    xstate: "5.33.3",
    protobufjs: "8.8.1",
  });
  assertThrows(
    () => pinsOf(`"npm:xstate@5.33.3"; "npm:xstate@5.34.0"`),
    Error,
    "pins xstate twice",
  );
  assertThrows(() => pinsOf(`"npm:xstate"`), Error, "has no version");
});

Deno.test("the real deps.ts pins every npm package the library imports", async () => {
  const pins = pinsOf(
    await Deno.readTextFile(new URL("../deps.ts", import.meta.url)),
  );
  assert(pins.has("xstate"));
  assert(pins.has("protobufjs"));
});

Deno.test("entriesOf maps deno.json exports to dist file names", () => {
  assertEquals(
    entriesOf({ ".": "./mod.ts", "./codec": "./codec/mod.ts" }),
    [
      { subpath: ".", name: "index", source: "mod.ts" },
      { subpath: "./codec", name: "codec", source: "codec/mod.ts" },
    ],
  );
  assertEquals(entriesOf("./mod.ts"), [
    { subpath: ".", name: "index", source: "mod.ts" },
  ]);
  assertThrows(() => entriesOf({ "./codec": "./codec/mod.ts" }), Error, '"."');
  assertThrows(() => entriesOf({ ".": "./mod.ts", "./index": "./x.ts" }));
});

Deno.test("rewriteNpmSpecifiers leaves bare names for the declarations", () => {
  assertEquals(
    rewriteNpmSpecifiers(
      `import { setup } from "npm:xstate@5.33.3";\n` +
        `import type { X } from 'npm:xstate@5.33.3/graph';\n` +
        `import { createHash } from "node:crypto";\n` +
        `type P = typeof import("npm:protobufjs@8.8.1");\n`,
    ),
    `import { setup } from "xstate";\n` +
      `import type { X } from 'xstate/graph';\n` +
      `import { createHash } from "node:crypto";\n` +
      `type P = typeof import("protobufjs");\n`,
  );
});

Deno.test("rewriteExampleImports points doc examples at package entries", () => {
  const entries = entriesOf({
    ".": "./mod.ts",
    "./machines": "./machines/mod.ts",
  });
  const names = new Map([
    ["index", ["RsaKey", "generateRsaKeyPem"]],
    ["machines", ["sessionMachine", "RsaKey"]],
  ]);
  const dts = [
    "/**",
    ' * import { generateRsaKeyPem, RsaKey } from "./rsa.ts";',
    ' * import { sessionMachine } from "./session_machine.ts";',
    ' * import { type RsaKey as K, sessionMachine as m } from "../machines/mod.ts";',
    ' * import { nowhere } from "./mod.ts";',
    " */",
    'import { x } from "./not-a-comment.ts";',
  ].join("\n");
  assertEquals(
    rewriteExampleImports(dts, entries, names).split("\n"),
    [
      "/**",
      ' * import { generateRsaKeyPem, RsaKey } from "opend-machine";',
      ' * import { sessionMachine } from "opend-machine/machines";',
      ' * import { type RsaKey as K, sessionMachine as m } from "opend-machine/machines";',
      ' * import { nowhere } from "./mod.ts";',
      " */",
      'import { x } from "./not-a-comment.ts";',
    ],
  );
});

Deno.test("the esbuild plugin keeps npm packages external and rejects import-map names", async () => {
  const seen: string[] = [];
  const bundle = (contents: string) =>
    esbuild.build({
      stdin: { contents, loader: "ts", resolveDir: Deno.cwd() },
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "silent",
      plugins: [
        npmSpecifierPlugin({
          onPackage: (spec) => seen.push(`${spec.name}@${spec.range}`),
        }),
      ],
    });
  try {
    const ok = await bundle(
      `import { createActor } from "npm:xstate@5.33.3";\n` +
        `import { getShortestPaths } from "npm:xstate@5.33.3/graph";\n` +
        `import protobuf from "npm:protobufjs@8.8.1";\n` +
        `import { createHash } from "node:crypto";\n` +
        `export const all = [createActor, getShortestPaths, protobuf, createHash];\n`,
    );
    const code = ok.outputFiles[0].text;
    assert(code.includes(`from "xstate"`), code);
    assert(code.includes(`from "xstate/graph"`), code);
    assert(code.includes(`from "protobufjs"`), code);
    assert(code.includes(`from "node:crypto"`), code);
    assert(!code.includes("npm:"), code);
    assertEquals(seen, ["xstate@5.33.3", "xstate@5.33.3", "protobufjs@8.8.1"]);

    for (const bare of ["xstate", "@std/assert", "jsr:@std/assert@1"]) {
      const error = await bundle(`import ${JSON.stringify(bare)};`).then(
        () => undefined,
        (e: Error) => e,
      );
      assert(error !== undefined, `${bare} was accepted`);
      assert(
        error.message.includes("is not an npm: specifier"),
        error.message,
      );
    }
  } finally {
    await esbuild.stop();
  }
});
