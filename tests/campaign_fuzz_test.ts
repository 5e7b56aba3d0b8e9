import { assert, assertEquals, assertGreater } from "@std/assert";
import {
  fuzzFrameStream,
  fuzzMessageBody,
  runFuzz,
  STREAM_MODES,
} from "../campaigns/mod.ts";

const SEED = 20260101;

Deno.test("a seeded slice of the frame and message fuzz keeps every promise", async () => {
  const report = await runFuzz({ seed: SEED, n: 400, batch: 400 });
  assertEquals(
    report.failures.map((f) =>
      `${f.what} ${f.seed}:${f.index} ${f.violations.join("; ")}`
    ),
    [],
  );
  assertEquals(report.streams, 400);
  assertEquals(report.bodies, 400);
  // Every mode was drawn, and many streams were corrupted.
  assertEquals(Object.keys(report.modes).sort(), [...STREAM_MODES].sort());
  assertGreater(report.mutated, 150);
});

Deno.test("a stream and a body replay exactly from their seed and index", () => {
  for (const index of [0, 7, 123]) {
    assertEquals(fuzzFrameStream(SEED, index), fuzzFrameStream(SEED, index));
    assertEquals(fuzzMessageBody(SEED, index), fuzzMessageBody(SEED, index));
  }
  // Different indexes are different streams.
  assert(
    JSON.stringify(fuzzFrameStream(SEED, 1)) !==
      JSON.stringify(fuzzFrameStream(SEED, 2)),
  );
});
