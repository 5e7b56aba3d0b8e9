/**
 * Runs the frame and message fuzz over a range of seeded streams in a
 * worker, with a watchdog that names the stream that hangs.
 * @module
 */
import type { FuzzJob, FuzzWorkerMessage } from "./_fuzz_worker.ts";

type Totals = Exclude<FuzzWorkerMessage, { type: "failure" }>;

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** The campaign's seed. */
  readonly seed: number;
  /** First stream index (default 0). */
  readonly from?: number;
  /** Streams to run. */
  readonly n: number;
  /** A stream running longer than this is a hang (default 20000 ms). */
  readonly watchdogMs?: number;
  /** Streams per worker batch (default 5000); progress is reported per batch. */
  readonly batch?: number;
  /** Called after each batch. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** One broken promise, with what reproduces it. */
export interface FuzzFailure {
  /** The campaign's seed. */
  readonly seed: number;
  /** The stream (and body) index. */
  readonly index: number;
  /** Frame stream, message body, or a hang. */
  readonly what: "frame" | "message" | "hang";
  /** The stream in a few words. */
  readonly detail: string;
  /** What went wrong. */
  readonly violations: readonly string[];
}

/** What {@link runFuzz} reports. */
export interface FuzzReport {
  /** The campaign's seed. */
  readonly seed: number;
  /** Frame streams run. */
  readonly streams: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Chunks pushed into decoders, over every chunking. */
  readonly chunks: number;
  /** Packets generated. */
  readonly packets: number;
  /** Streams corrupted. */
  readonly mutated: number;
  /** Message bodies run through every decoder. */
  readonly bodies: number;
  /** Their bytes. */
  readonly bodyBytes: number;
  /** Streams by mode. */
  readonly modes: Readonly<Record<string, number>>;
  /** Wall-clock time. */
  readonly elapsedMs: number;
  /** Broken promises. */
  readonly failures: readonly FuzzFailure[];
}

/** `SEED:INDEX`, what `--replay` takes. */
export function replayKey(seed: number, index: number): string {
  return `${seed}:${index}`;
}

function runBatch(
  job: Omit<FuzzJob, "progress">,
  watchdogMs: number,
): Promise<
  {
    done?: Totals;
    failures: FuzzFailure[];
  }
> {
  const progress = new SharedArrayBuffer(4);
  const slot = new Int32Array(progress);
  const worker = new Worker(
    new URL("./_fuzz_worker.ts", import.meta.url).href,
    {
      type: "module",
    },
  );
  const failures: FuzzFailure[] = [];
  return new Promise((resolve) => {
    let last = -1;
    let since = Date.now();
    // The totals so far, for a batch cut short by a hang.
    let partial: Totals | undefined;
    const finish = (
      done?: Totals,
    ) => {
      clearInterval(watchdog);
      worker.terminate();
      resolve({ done, failures });
    };
    const watchdog = setInterval(() => {
      const now = Atomics.load(slot, 0);
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since > watchdogMs) {
        const index = Math.max(job.from, now - 1);
        failures.push({
          seed: job.seed,
          index,
          what: "hang",
          detail: `no progress for ${watchdogMs} ms`,
          violations: [
            `stream ${index} did not finish within ${watchdogMs} ms`,
          ],
        });
        finish(partial);
      }
    }, Math.min(1000, watchdogMs / 4));
    worker.onmessage = (e: MessageEvent<FuzzWorkerMessage>) => {
      const m = e.data;
      if (m.type === "failure") {
        failures.push({ seed: job.seed, ...m });
      } else if (m.type === "partial") {
        partial = m;
      } else finish(m);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      const index = Math.max(job.from, Atomics.load(slot, 0) - 1);
      failures.push({
        seed: job.seed,
        index,
        what: "frame",
        detail: "the worker died",
        violations: [`uncaught: ${e.message}`],
      });
      finish(partial);
    };
    worker.postMessage({ ...job, progress } satisfies FuzzJob);
  });
}

/**
 * Runs streams `from .. from+n-1` of campaign `seed`. A hang stops the
 * batch it happened in; the rest of the range still runs.
 *
 * @example
 * ```ts ignore
 * import { runFuzz } from "./fuzz_campaign.ts";
 * const report = await runFuzz({ seed: 1, n: 100 });
 * report.failures.length; // 0
 * ```
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { seed, n } = options;
  const from = options.from ?? 0;
  const batch = options.batch ?? 5000;
  const watchdogMs = options.watchdogMs ?? 20_000;
  const started = performance.now();
  const totals = {
    streams: 0,
    bytes: 0,
    chunks: 0,
    packets: 0,
    mutated: 0,
    bodies: 0,
    bodyBytes: 0,
    modes: {} as Record<string, number>,
  };
  const failures: FuzzFailure[] = [];
  for (let start = from; start < from + n; start += batch) {
    const to = Math.min(from + n, start + batch);
    let at = start;
    while (at < to) {
      const result = await runBatch({ seed, from: at, to }, watchdogMs);
      failures.push(...result.failures);
      if (result.done !== undefined) {
        const d = result.done;
        totals.streams += d.streams;
        totals.bytes += d.bytes;
        totals.chunks += d.chunks;
        totals.packets += d.packets;
        totals.mutated += d.mutated;
        totals.bodies += d.bodies;
        totals.bodyBytes += d.bodyBytes;
        for (const [k, v] of Object.entries(d.modes)) {
          totals.modes[k] = (totals.modes[k] ?? 0) + v;
        }
      }
      if (result.done?.type === "done") break;
      // The worker hung or died at a stream: go on after it.
      const stuck = result.failures[result.failures.length - 1]?.index ?? at;
      at = stuck + 1;
    }
    options.onProgress?.(to - from, n);
  }
  return {
    seed,
    ...totals,
    elapsedMs: Math.round(performance.now() - started),
    failures,
  };
}
