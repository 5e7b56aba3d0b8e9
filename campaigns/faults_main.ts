/**
 * `deno task faults [--runs N] [--seed S]`: seeded fault runs of the client
 * against the simulator through a fault proxy. Exit 0 when every run kept
 * every promise, 1 with each failing run's seed and index, 2 for a usage
 * mistake.
 * @module
 */
import { intFlag, type ParsedFlags, runCommand, UsageError } from "./_args.ts";
import { type FaultsReport, runFaults } from "./fault_campaign.ts";
import { FAULT_KIND_NAMES, FAULT_RUN_TIMINGS } from "./fault_run.ts";

const T = FAULT_RUN_TIMINGS;
const USAGE = `Usage: deno task faults [--runs N] [--seed S] [options]

Each run starts the simulator, a fault proxy and a client (keep-alive every
${
  T.keepAliveIntervalS * 800
} ms, silence limit ${T.silenceTimeoutMs} ms, backoff ${T.reconnectBaseMs}..${T.reconnectCapMs} ms) in a
process of its own, applies 1 to 3 faults and checks: Ready again within the
fault's duration + backoff cap + silence limit + ${T.marginMs} ms; a request and 10
pushes succeed afterwards; pushes arrive in order, never twice; every request
settles; never two links at once; no unhandled rejection; the process exits
by itself after close().

Faults: ${FAULT_KIND_NAMES.join(", ")}

  --runs N        runs to do (default 50)
  --seed S        the campaign's seed (default: drawn, and printed)
  --from I        first run index (default 0)
  --replay SEED:INDEX run exactly one run again
  --parallel P    runs at once (default 2)
  --only K,K      only these fault kinds
  --json          print the report as JSON
  --help          this text`;

const FLAGS = [
  { name: "runs", value: true },
  { name: "seed", value: true },
  { name: "from", value: true },
  { name: "replay", value: true },
  { name: "parallel", value: true },
  { name: "only", value: true },
  { name: "json", value: false },
] as const;

/** The report as the command prints it. */
export function formatFaultsReport(r: FaultsReport): string {
  const lines = [
    `faults seed ${r.seed}: ${r.runs} runs, ${r.faults} faults, ${r.requests} requests, ${r.pushesReceived} pushes received, ${
      (r.elapsedMs / 1000).toFixed(1)
    } s`,
    `slowest recovery ${r.worstRecoveryMs} ms; slowest exit after close() ${r.worstExitMs} ms`,
    `by kind: ${
      Object.entries(r.byKind).sort().map(([k, v]) => `${k} ${v}`).join(", ")
    }`,
  ];
  for (const f of r.failures) {
    lines.push(
      `FAIL run ${f.index} (${f.faults.join(", ")}): ${
        f.violations.join("; ")
      }`,
      `  replay: deno task faults --replay ${f.seed}:${f.index}`,
    );
  }
  lines.push(
    r.failures.length === 0
      ? "ok: every promise held"
      : `${r.failures.length} of ${r.runs} runs failed`,
  );
  return lines.join("\n");
}

async function main(flags: ParsedFlags): Promise<number> {
  let seed = intFlag(flags, "seed", Math.floor(Math.random() * 0xffffffff));
  let from = intFlag(flags, "from", 0);
  let runs = intFlag(flags, "runs", 50);
  const replay = flags.values.get("replay");
  if (replay !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(replay);
    if (!m) throw new UsageError(`--replay takes SEED:INDEX, got ${replay}`);
    seed = Number(m[1]);
    from = Number(m[2]);
    runs = 1;
  }
  const only = flags.values.get("only")?.split(",");
  const known = new Set(FAULT_KIND_NAMES);
  const unknown = only?.find((k) => !known.has(k));
  if (unknown !== undefined) {
    throw new UsageError(`--only: no fault ${unknown}`);
  }
  const json = flags.values.has("json");
  let done = 0;
  const report = await runFaults({
    seed,
    from,
    runs,
    parallel: Math.max(1, intFlag(flags, "parallel", 2)),
    kinds: only,
    onRun: (o) => {
      done++;
      if (!json && runs >= 10 && done % 10 === 0) {
        console.error(`  ${done}/${runs} runs`);
      }
      void o;
    },
  });
  console.log(json ? JSON.stringify(report) : formatFaultsReport(report));
  return report.failures.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  await runCommand(USAGE, Deno.args, FLAGS, main);
}
