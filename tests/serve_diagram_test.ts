// The console's statechart is the one the machines draw, and the ids it
// highlights are the machine's own state ids.
import { assert, assertEquals } from "@std/assert";
import { sessionMachine } from "../machines/mod.ts";
import { toDot } from "../viz/mod.ts";
import { DIAGRAMS, renderSvg } from "../scripts/viz.ts";
import { DIAGRAM_MODULE, diagramModule } from "../scripts/embed_diagram.ts";
import { DIAGRAM_STATE_IDS } from "../serve/_diagram.ts";
import { activeStateIds } from "../serve/mod.ts";

Deno.test("the console's statechart is what the machines draw (run `deno task viz && deno task embed-diagram`)", async () => {
  const spec = DIAGRAMS.find((d) => d.name === "session_overview");
  assert(spec);
  const svg = await renderSvg(toDot(spec.machine, spec.dot));
  const embedded = await Deno.readTextFile(DIAGRAM_MODULE);
  assert(
    embedded === diagramModule(svg),
    "serve/_diagram_svg.ts is stale: run `deno task viz && deno task embed-diagram`",
  );
});

Deno.test("every highlighted id is a state of the session machine, and the regions' states are drawn", () => {
  for (const id of DIAGRAM_STATE_IDS) {
    assert(sessionMachine.getStateNodeById(id), id);
  }
  for (
    const id of [
      "session.link.idle",
      "session.link.session.online",
      "session.link.backoff",
      "session.link.stopped",
      "session.gateway",
      "session.recovery.flow.watching",
      "session.recovery.flow.verifying",
      "session.recovery.flow.gaveUp",
    ]
  ) assert(DIAGRAM_STATE_IDS.has(id), id);
});

Deno.test("active state ids: ancestors included, parallel regions all listed", () => {
  assertEquals(
    activeStateIds({
      link: {
        session: { online: { keepAlive: "waiting", liveness: "listening" } },
      },
      recovery: {
        flow: { verifying: "askingProvider" },
        codeGate: "open",
      },
    }, "session").filter((id) => DIAGRAM_STATE_IDS.has(id)),
    [
      "session",
      "session.link",
      "session.link.session",
      "session.link.session.online",
      "session.recovery",
      "session.recovery.codeGate",
      "session.recovery.codeGate.open",
      "session.recovery.flow",
      "session.recovery.flow.verifying",
    ],
  );
});

Deno.test("serve/_prom_client.ts imports prom-client at the version deps.ts pins", async () => {
  const { PROM_CLIENT_SPECIFIER } = await import("../deps.ts");
  const source = await Deno.readTextFile(
    new URL("../serve/_prom_client.ts", import.meta.url),
  );
  assert(source.includes(`from "${PROM_CLIENT_SPECIFIER}"`));
});
