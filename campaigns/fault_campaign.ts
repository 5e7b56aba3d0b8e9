/**
 * Runs seeded fault runs, each in its own process, a few at a time, and
 * checks that each process exits by itself once everything was closed.
 * @module
 */
import type { FaultRunOutcome } from "./fault_run.ts";

/** Options of {@link runFaults}. */
export interface FaultsOptions {
  /** The campaign's seed. */
  readonly seed: number;
  /** Runs to do. */
  readonly runs: number;
  /** First run index (default 0). */
  readonly from?: number;
  /** Runs at once (default 2). */
  readonly parallel?: number;
  /** Only these fault kinds (default: all). */
  readonly kinds?: readonly string[];
  /** After close(), the process must be gone within this (default 3000 ms). */
  readonly exitWithinMs?: number;
  /** Called after each run. */
  readonly onRun?: (outcome: FaultRunOutcome) => void;
}

/** What {@link runFaults} reports. */
export interface FaultsReport {
  /** The campaign's seed. */
  readonly seed: number;
  /** Runs done. */
  readonly runs: number;
  /** Faults applied. */
  readonly faults: number;
  /** Faults applied, by kind. */
  readonly byKind: Readonly<Record<string, number>>;
  /** Slowest recovery over every run (ms). */
  readonly worstRecoveryMs: number;
  /** Slowest exit after close() (ms). */
  readonly worstExitMs: number;
  /** Requests sent. */
  readonly requests: number;
  /** Pushes received. */
  readonly pushesReceived: number;
  /** Wall-clock time. */
  readonly elapsedMs: number;
  /** The runs that broke a promise. */
  readonly failures: readonly FaultRunOutcome[];
}

const CHILD = new URL("./_fault_child.ts", import.meta.url);

async function runChild(
  seed: number,
  index: number,
  kinds: readonly string[] | undefined,
  exitWithinMs: number,
): Promise<FaultRunOutcome & { exitMs: number }> {
  const args = [
    "run",
    "-A",
    "--quiet",
    CHILD.href,
    String(seed),
    String(index),
  ];
  if (kinds !== undefined) args.push(kinds.join(","));
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  // A run takes seconds; one stuck for two minutes is killed and reported.
  const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const [out, status] = await Promise.all([child.output(), child.status]);
  clearTimeout(killer);
  const exitedAt = Date.now();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ??
    "";
  const stderr = new TextDecoder().decode(out.stderr).trim();
  let outcome: FaultRunOutcome;
  try {
    outcome = JSON.parse(text);
  } catch {
    return {
      seed,
      index,
      faults: [],
      worstRecoveryMs: 0,
      pushesReceived: 0,
      pushesSent: 0,
      requests: 0,
      violations: [
        `the run's process ended without a report (exit ${status.code}${
          status.signal ? `, ${status.signal}` : ""
        })${stderr ? `: ${stderr.split("\n").slice(0, 5).join(" | ")}` : ""}`,
      ],
      closedAt: exitedAt,
      exitMs: 0,
    };
  }
  const exitMs = exitedAt - outcome.closedAt;
  const violations = [...outcome.violations];
  if (exitMs > exitWithinMs || status.signal) {
    violations.push(
      `the process did not exit by itself within ${exitWithinMs} ms of close() (${exitMs} ms${
        status.signal ? `, killed` : ""
      })`,
    );
  }
  if (stderr !== "") {
    violations.push(`wrote to stderr: ${stderr.slice(0, 300)}`);
  }
  return { ...outcome, violations, exitMs };
}

/**
 * Runs `runs` fault runs of campaign `seed`.
 *
 * @example
 * ```ts ignore
 * import { runFaults } from "./fault_campaign.ts";
 * const report = await runFaults({ seed: 1, runs: 4 });
 * report.failures.length; // 0
 * ```
 */
export async function runFaults(options: FaultsOptions): Promise<FaultsReport> {
  const started = performance.now();
  const from = options.from ?? 0;
  const exitWithinMs = options.exitWithinMs ?? 3000;
  const byKind: Record<string, number> = {};
  const failures: FaultRunOutcome[] = [];
  let next = from;
  let faults = 0;
  let worst = 0;
  let worstExit = 0;
  let requests = 0;
  let pushes = 0;
  const worker = async () => {
    while (next < from + options.runs) {
      const index = next++;
      const o = await runChild(
        options.seed,
        index,
        options.kinds,
        exitWithinMs,
      );
      for (const f of o.faults) byKind[f] = (byKind[f] ?? 0) + 1;
      faults += o.faults.length;
      worst = Math.max(worst, o.worstRecoveryMs);
      worstExit = Math.max(worstExit, o.exitMs);
      requests += o.requests;
      pushes += o.pushesReceived;
      if (o.violations.length > 0) failures.push(o);
      options.onRun?.(o);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, options.parallel ?? 2) }, worker),
  );
  failures.sort((a, b) => a.index - b.index);
  return {
    seed: options.seed,
    runs: options.runs,
    faults,
    byKind,
    worstRecoveryMs: worst,
    worstExitMs: worstExit,
    requests,
    pushesReceived: pushes,
    elapsedMs: Math.round(performance.now() - started),
    failures,
  };
}
