/**
 * The bench table: one row per figure, Deno and Node side by side, each with
 * its baseline and ratio, as Markdown (printed, and kept in the README).
 * @module
 */
import type { BenchOptions, Figure } from "./_cases.ts";

/** The figures of one runtime. */
export interface RunResult {
  /** Runtime name and version. */
  runtime: string;
  /** What was measured. */
  figures: Figure[];
  /** Figures that could not be measured, and why. */
  errors: string[];
}

interface Row {
  key: string;
  label: string;
  baseline: string;
  /** "ratio": value/baseline (higher is better); "cost": value/baseline (lower is better); "share": value/baseline as %. */
  compare: "ratio" | "cost" | "share" | "none";
  target: string;
}

const ROWS: Row[] = [
  {
    key: "small",
    label: "39-byte Notify, 64 KiB chunks: framed + SHA-1 + typed notification",
    baseline: "concat + `createHash` per packet + protobufjs",
    compare: "ratio",
    target: ">= 1,000,000 pkt/s, >= 5x",
  },
  {
    key: "smallPython",
    label: "the same, against the official Python SDK's parse path",
    baseline: "Python `parse_rsp` (recorded)",
    compare: "ratio",
    target: ">= 10x",
  },
  {
    key: "smallAes",
    label: "the same with AES-CBC bodies",
    baseline: "the same + `createDecipheriv` per packet",
    compare: "ratio",
    target: ">= 300,000 pkt/s (Deno), >= 5x",
  },
  ...["64KiB", "1MiB", "16MiB"].flatMap((size): Row[] => [
    {
      key: `large${size}`,
      label: `${size} bodies, plain, 64 KiB chunks`,
      baseline: "bare native SHA-1",
      compare: "share",
      target: ">= 85%",
    },
    {
      key: `largeAes${size}`,
      label: `${size} bodies, AES-CBC, 64 KiB chunks`,
      baseline: "bare native AES-CBC + SHA-1",
      compare: "share",
      target: ">= 85%",
    },
  ]),
  {
    key: "copies",
    label: "peak memory while a 16 MiB AES-CBC body arrives",
    baseline: "concat, decrypt, hash",
    compare: "cost",
    target: "<= 2 bodies",
  },
  {
    key: "rss",
    label: "RSS growth after warm-up, small plain packets",
    baseline: "",
    compare: "none",
    target: "flat",
  },
  {
    key: "rssAes",
    label: "RSS growth after warm-up, small AES-CBC packets",
    baseline: "",
    compare: "none",
    target: "flat",
  },
  {
    key: "statechart",
    label: "session supervisor, cost per PROGRAM_STATUS event",
    baseline:
      "bare XState machine with the gateway's states only (2 regions, 4 active states)",
    compare: "cost",
    target: "see the next row",
  },
  {
    key: "statechartTree",
    label: "session supervisor, cost per PROGRAM_STATUS event",
    baseline:
      "bare XState machine with the same state tree (all three regions, same active states)",
    compare: "cost",
    target: "<= 1.5x",
  },
  {
    key: "clientsReady",
    label: "supervised clients against the simulator: all Ready",
    baseline: "",
    compare: "none",
    target: "< 2,000 ms (1,000 clients)",
  },
  {
    key: "clientHeap",
    label: "heap per client (with its simulator connection)",
    baseline: "",
    compare: "none",
    target: "< 60 KiB",
  },
  {
    key: "dropBlock",
    label: "longest event-loop block when the simulator drops them all",
    baseline: "",
    compare: "none",
    target: "<= 50 ms",
  },
];

function number(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (abs >= 100) return Math.round(value).toString();
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function cells(row: Row, result: RunResult | undefined): [string, string] {
  if (result === undefined) return ["not run", ""];
  const f = result.figures.find((x) => x.key === row.key);
  if (f === undefined) return ["n/a", ""];
  const value = `${number(f.value)} ${f.unit}`;
  if (f.baseline === undefined || row.compare === "none") return [value, ""];
  const base = `${number(f.baseline)} ${f.unit}`;
  const ratio = f.value / f.baseline;
  switch (row.compare) {
    case "ratio":
      return [`${value} (vs ${base})`, `${ratio.toFixed(1)}x`];
    case "cost":
      return [`${value} (vs ${base})`, `${ratio.toFixed(2)}x`];
    case "share":
      return [`${value} (vs ${base})`, `${Math.round(ratio * 100)}%`];
  }
}

/** Renders the whole section: heading lines, the table, notes. */
export function renderTable(input: {
  date: string;
  machine: string;
  options: BenchOptions;
  pythonNote: string;
  deno: RunResult;
  node?: RunResult;
}): string {
  const { deno, node, options } = input;
  const lines = [
    `Measured ${input.date} on ${input.machine}; ${deno.runtime}, ${
      node?.runtime ?? "Node not run"
    }. Rates per CPU-second, median of ${options.rounds} rotated rounds (each after a collection and an unmeasured run), each figure and its baseline side by side in one process.`,
    "",
    "| Figure | Baseline | Deno | ratio | Node (bundle) | ratio | Target |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of ROWS) {
    const [d, dr] = cells(row, deno);
    const [n, nr] = cells(row, node);
    lines.push(
      `| ${row.label} | ${row.baseline} | ${d} | ${dr} | ${n} | ${nr} | ${row.target} |`,
    );
  }
  lines.push(
    "",
    `Python: ${input.pythonNote}. RSS over ${
      options.rssPackets.toLocaleString("en-US")
    } packets per mode; connections with ${options.clients} clients in one process with the simulator.`,
  );
  return lines.join("\n");
}
