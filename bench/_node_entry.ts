/**
 * The Node side of `deno task bench`: bundled against `dist/` and run by
 * `node`, it prints the figures as JSON.
 * @module
 */
import process from "node:process";
import { type BenchOptions, runCases } from "./_cases.ts";

const options = JSON.parse(process.argv[2]) as BenchOptions;
const result = await runCases(options);
process.stdout.write(
  JSON.stringify({
    runtime: `Node ${process.versions.node} (V8 ${process.versions.v8})`,
    ...result,
  }),
);
// Sockets and timers of the connection figures are closed; exit regardless.
process.exit(0);
