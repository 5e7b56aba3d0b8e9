// The built package through `import` (its ESM build). Cases: _cases.cjs.
import { createRequire } from "node:module";
import { createActor } from "xstate";
import defineCases from "./_cases.cjs";

const require = createRequire(import.meta.url);
const pkgExports = require("opend-machine/package.json").exports;
const entries = {};
for (const subpath of Object.keys(pkgExports)) {
  if (subpath === "./package.json") continue;
  entries[subpath] = await import(
    subpath === "." ? "opend-machine" : `opend-machine/${subpath.slice(2)}`
  );
}

defineCases({
  format: "esm",
  entries,
  resolved: import.meta.resolve("opend-machine"),
  createActor,
});
