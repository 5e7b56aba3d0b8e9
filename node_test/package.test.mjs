// The installed package as npm delivered it: what ships, and how it declares
// its dependencies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";

const require = createRequire(import.meta.url);
const root = dirname(require.resolve("opend-machine/package.json"));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]
  );
}

test("package: ships its LICENSE and says it has no side effects", () => {
  assert.match(readFileSync(join(root, "LICENSE"), "utf8"), /MIT License/);
  assert.equal(pkg.license, "MIT");
  assert.equal(pkg.sideEffects, false);
});

test("package: runtime dependencies are caret ranges, so an app's XState 5 is shared", () => {
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), [
    "prom-client", // opend-machine/serve's metrics
    "protobufjs",
    "ws",
    "xstate",
  ]);
  for (const [name, range] of Object.entries(pkg.dependencies)) {
    assert.match(range, /^\^\d+\.\d+\.\d+$/, `${name}: ${range}`);
  }
});

test("package: no empty file, one declaration bundle", () => {
  const files = filesUnder(root).filter((f) =>
    !relative(root, f).startsWith("node_modules")
  );
  const empty = files.filter((f) => statSync(f).size === 0);
  assert.deepEqual(empty, []);
  const big = files.filter((f) => /\.d\.c?ts$/.test(f))
    .filter((f) => statSync(f).size > 20_000)
    .map((f) => relative(root, f));
  assert.deepEqual(big, ["types/bundle.d.cts"]);
});
