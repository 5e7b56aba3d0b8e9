/**
 * One fault run in its own process, so the campaign can see that the
 * process ends by itself after `close()` (no timer or socket left behind).
 * Prints one JSON line: the run's outcome plus any unhandled rejection.
 * Usage: `_fault_child.ts SEED INDEX [KIND,KIND...]`.
 * @module
 */
import { runFaultRun } from "./fault_run.ts";

const unhandled: string[] = [];
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  unhandled.push(String(e.reason));
});

const [seed, index, only] = Deno.args;
const outcome = await runFaultRun(Number(seed), Number(index), {
  kinds: only ? only.split(",") : undefined,
});
// Rejections surface on a later turn: give them one before reporting.
await new Promise((r) => setTimeout(r, 0));
console.log(JSON.stringify({
  ...outcome,
  violations: [
    ...outcome.violations,
    ...unhandled.map((r) => `unhandled rejection: ${r}`),
  ],
}));
