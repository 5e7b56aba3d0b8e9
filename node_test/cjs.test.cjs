"use strict";
// The built package through `require` (its CommonJS build). Cases: _cases.cjs.
const { createActor } = require("xstate");
const defineCases = require("./_cases.cjs");

const pkgExports = require("opend-machine/package.json").exports;
const entries = {};
for (const subpath of Object.keys(pkgExports)) {
  if (subpath === "./package.json") continue;
  entries[subpath] = require(
    subpath === "." ? "opend-machine" : `opend-machine/${subpath.slice(2)}`,
  );
}

defineCases({
  format: "cjs",
  entries,
  resolved: require.resolve("opend-machine"),
  createActor,
});
