/**
 * `deno task fuzz [--n N] [--seed S] [--replay SEED:INDEX]`: the frame and
 * message fuzz. Exit 0 when every promise held, 1 with the seed and index
 * of each failure, 2 for a usage mistake.
 * @module
 */
import { intFlag, type ParsedFlags, runCommand, UsageError } from "./_args.ts";
import { type FuzzReport, replayKey, runFuzz } from "./fuzz_campaign.ts";

const USAGE = `Usage: deno task fuzz [--n N] [--seed S] [--replay SEED:INDEX]

Generated and corrupted OpenD frame streams (plaintext, FTAES_ECB, AES_ECB,
AES_CBC, RSA InitConnect with the AES key learned mid-stream) decoded under
several chunkings, and message bodies through every decoder. Checks: only
CodecError; no hang; never more than 44 bytes + maxBodyBytes buffered; the
same results however the bytes are chunked; every packet before the first
corruption delivered once, intact.

  --n N              streams (and bodies) to run (default 10000)
  --seed S           the campaign's seed (default: drawn, and printed)
  --from I           first stream index (default 0)
  --replay SEED:INDEX run exactly one stream again, as a failure printed it
  --watchdog-ms MS   a stream running longer is a hang (default 20000)
  --json             print the report as JSON
  --help             this text`;

const FLAGS = [
  { name: "n", value: true },
  { name: "seed", value: true },
  { name: "from", value: true },
  { name: "replay", value: true },
  { name: "watchdog-ms", value: true },
  { name: "json", value: false },
] as const;

function parseReplay(text: string): { seed: number; index: number } {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--replay takes SEED:INDEX, got ${text}`);
  return { seed: Number(m[1]), index: Number(m[2]) };
}

/** The report as the command prints it. */
export function formatFuzzReport(r: FuzzReport): string {
  const mb = (r.bytes / 1e6).toFixed(1);
  const lines = [
    `fuzz seed ${r.seed}: ${r.streams} streams (${r.mutated} corrupted, ${r.packets} packets, ${mb} MB in ${r.chunks} chunks), ${r.bodies} bodies through every decoder, ${
      (r.elapsedMs / 1000).toFixed(1)
    } s`,
    `modes: ${Object.entries(r.modes).map(([k, v]) => `${k} ${v}`).join(", ")}`,
  ];
  for (const f of r.failures) {
    lines.push(
      `FAIL ${f.what} stream ${f.index} (${f.detail}): ${
        f.violations.join("; ")
      }`,
      `  replay: deno task fuzz --replay ${replayKey(f.seed, f.index)}`,
    );
  }
  lines.push(
    r.failures.length === 0
      ? "ok: every promise held"
      : `${r.failures.length} failures`,
  );
  return lines.join("\n");
}

async function main(flags: ParsedFlags): Promise<number> {
  const replay = flags.values.get("replay");
  const watchdogMs = intFlag(flags, "watchdog-ms", 20_000);
  let seed: number;
  let from: number;
  let n: number;
  if (replay !== undefined) {
    ({ seed, index: from } = parseReplay(replay));
    n = 1;
  } else {
    seed = intFlag(flags, "seed", Math.floor(Math.random() * 0xffffffff));
    from = intFlag(flags, "from", 0);
    n = intFlag(flags, "n", 10_000);
  }
  if (seed > 0xffffffff) throw new UsageError("--seed must fit in 32 bits");
  const report = await runFuzz({
    seed,
    from,
    n,
    watchdogMs,
    onProgress: (done, total) => {
      if (total > 5000 && !flags.values.has("json")) {
        console.error(`  ${done}/${total} streams`);
      }
    },
  });
  console.log(
    flags.values.has("json")
      ? JSON.stringify(report)
      : formatFuzzReport(report),
  );
  // A worker stuck in a loop cannot always be stopped: do not wait for it.
  if (report.failures.some((f) => f.what === "hang")) Deno.exit(1);
  return report.failures.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  await runCommand(USAGE, Deno.args, FLAGS, main);
}
