import { assert, assertEquals, assertGreater } from "@std/assert";
import { isPendingHit, runSecrets, SecretScanner } from "../campaigns/mod.ts";

Deno.test("the scanner finds a planted secret, masks it, and ignores digits inside longer numbers", () => {
  const scanner = new SecretScanner([
    { label: "code", text: "583917" },
    { label: "password", text: "pw-secret" },
  ]);
  scanner.scan("log", "time 17583917004 user typed 583917 and pw-secret");
  assertEquals(scanner.hits.map((h) => h.label), ["code", "password"]);
  assert(scanner.hits.every((h) => !h.excerpt.includes("583917 ")));
  assert(scanner.hits.every((h) => !h.excerpt.includes("pw-secret")));
  scanner.scanValue(
    "error",
    new Error("outer", { cause: new Error("pw-secret") }),
  );
  assertEquals(scanner.hits.at(-1)?.source.startsWith("error cause 1"), true);
});

let campaign: ReturnType<typeof runSecrets> | undefined;
const report = () => campaign ??= runSecrets({ demoTimeScale: 0.1 });

Deno.test("no secret in any output of the library or the tools (hits listed as pending a fix excepted)", async () => {
  const r = await report();
  // The scan is not vacuous: keys were learned and many outputs were read.
  assertGreater(r.aesKeys, 1);
  assertGreater(r.sources, 100);
  assertEquals(r.notes, []);
  assertEquals(
    r.hits.filter((h) => !isPendingHit(h)).map((h) =>
      `${h.label} in ${h.source}: ${h.excerpt}`
    ),
    [],
  );
});
