import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { pathToFileURL } from "node:url";
import {
  and,
  type AnyStateMachine,
  createMachine,
  fromPromise,
  not,
  or,
  setup,
  stateIn,
} from "xstate";
import { programStatusMachine, sessionMachine } from "../machines/mod.ts";
import { toDot, toMermaid } from "../viz/mod.ts";
import {
  DIAGRAMS,
  DOCS_DIR,
  main,
  README_FILE,
  renderDocs,
  syncReadme,
} from "../scripts/viz.ts";

// ---------------------------------------------------------------------------
// docs/ is what the machines draw

Deno.test("docs/ is what the machines draw (run `deno task viz`)", async () => {
  const files = await renderDocs();
  const stale: string[] = [];
  for (const [name, text] of files) {
    let current: string | null = null;
    try {
      current = await Deno.readTextFile(new URL(name, DOCS_DIR));
    } catch {
      current = null;
    }
    if (current !== text) stale.push(name);
  }
  const readme = await Deno.readTextFile(README_FILE);
  if (syncReadme(readme, files) !== readme) stale.push("README.md");
  assert(
    stale.length === 0,
    `docs/ is stale (${stale.join(", ")}): run \`deno task viz\``,
  );
});

Deno.test("README.md blocks marked with a docs/ file are kept equal to it", () => {
  const files = new Map([["a.mmd", "stateDiagram-v2\n  new\n"]]);
  const readme = [
    "# Title",
    "<!-- viz: docs/a.mmd -->",
    "```mermaid",
    "stateDiagram-v2",
    "  old",
    "```",
    "",
    "```mermaid",
    "left alone",
    "```",
    "",
    "<!-- viz: docs/a.mmd -->",
    "",
    "```mermaid",
    "after a blank line, as deno fmt writes it",
    "```",
    "",
  ].join("\n");
  const synced = syncReadme(readme, files);
  assertStringIncludes(
    synced,
    "<!-- viz: docs/a.mmd -->\n```mermaid\nstateDiagram-v2\n  new\n```\n",
  );
  assertStringIncludes(synced, "```mermaid\nleft alone\n```");
  assertStringIncludes(
    synced,
    "<!-- viz: docs/a.mmd -->\n\n```mermaid\nstateDiagram-v2\n  new\n```\n",
  );
  assertEquals(syncReadme(synced, files), synced);
  assertThrows(
    () => syncReadme("<!-- viz: docs/b.mmd -->\n```mermaid\n```", files),
    Error,
    "docs/b.mmd",
  );
});

Deno.test("viz output is deterministic", async () => {
  assertEquals(await renderDocs(), await renderDocs());
});

Deno.test("viz --check reports stale docs without writing; a plain run writes them", async () => {
  const dir = await Deno.makeTempDir();
  const log = console.log, error = console.error;
  console.log = console.error = () => {};
  try {
    const docsDir = pathToFileURL(`${dir}/docs/`);
    const readme = pathToFileURL(`${dir}/README.md`);
    const stale = "<!-- viz: docs/program_status.mmd -->\n```mermaid\n```\n";
    await Deno.writeTextFile(readme, stale);
    const options = { docsDir, readme };
    assertEquals(await main(["--check"], options), 1);
    assertEquals([...Deno.readDirSync(dir)].length, 1);
    assertEquals(await Deno.readTextFile(readme), stale);
    assertEquals(await main([], options), 0);
    assertEquals(await main(["--check"], options), 0);
    assertStringIncludes(
      await Deno.readTextFile(readme),
      "```mermaid\nstateDiagram-v2\n",
    );
    await Deno.writeTextFile(`${dir}/docs/session.mmd`, "stateDiagram-v2\n");
    assertEquals(await main(["--check"], options), 1);
    assertEquals(
      await main(["--chek"], options),
      2,
      "a typo is refused, not taken for a plain run",
    );
    assertEquals(
      await Deno.readTextFile(`${dir}/docs/session.mmd`),
      "stateDiagram-v2\n",
      "nothing written after a typo",
    );
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task viz: --help prints the usage, a typo exits 2 in one line and writes nothing", async () => {
  const run = (arg: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        // The Graphviz renderer is build tooling, locked apart from deno.lock.
        `--lock=${new URL("../deno.dev.lock", import.meta.url).pathname}`,
        "--allow-read",
        new URL("../scripts/viz.ts", import.meta.url).pathname,
        arg,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
  const help = await run("--help");
  assertEquals(help.code, 0);
  assertStringIncludes(
    new TextDecoder().decode(help.stdout),
    "Usage: deno task viz",
  );
  // Read-only permissions: a run that tried to write would fail loudly.
  const typo = await run("--chek");
  assertEquals(typo.code, 2);
  assertEquals(
    new TextDecoder().decode(typo.stderr).trim(),
    "viz: unknown option --chek (see --help)",
  );
});

Deno.test("the SVGs are Graphviz drawings of every state", async () => {
  const files = await renderDocs(
    DIAGRAMS.filter((d) => d.name !== "session_overview"),
  );
  for (const { name, machine } of DIAGRAMS) {
    const svg = files.get(`${name}.svg`);
    if (svg === undefined) continue;
    assert(svg.startsWith("<?xml"), name);
    assertStringIncludes(svg, "<svg");
    for (const state of statesOf(machine)) {
      assertStringIncludes(svg, `>${state.key}</text>`, `${name}: ${state.id}`);
    }
  }
});

// ---------------------------------------------------------------------------
// The real machines: nothing the definition says is dropped

interface NodeLike {
  id: string;
  key: string;
  path: string[];
  type: string;
  states: Record<string, NodeLike>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  invoke: { id: string; src: string }[];
}
interface TransitionLike {
  eventType: string;
  target?: NodeLike[];
  guard?: unknown;
  delay?: string | number;
}

function statesOf(machine: AnyStateMachine): NodeLike[] {
  const all: NodeLike[] = [];
  const visit = (node: NodeLike) => {
    all.push(node);
    Object.values(node.states).forEach(visit);
  };
  visit((machine as unknown as { root: NodeLike }).root);
  return all;
}

function transitionsOf(machine: AnyStateMachine): TransitionLike[] {
  return statesOf(machine).flatMap((node) => [
    ...[...node.transitions.values()].flat(),
    ...(node.always ?? []),
  ]);
}

/** What a reader sees for an event, computed apart from the converter. */
function shownEvent(t: TransitionLike): string {
  if (t.eventType === "") return "always";
  if (t.eventType.startsWith("xstate.after.")) return `after ${t.delay}`;
  const done = t.eventType.match(/^xstate\.(done|error)\.actor\.(.+)$/);
  if (done) return `${done[1]} ${done[2]}`;
  return t.eventType;
}

function guardNames(guard: unknown): string[] {
  if (typeof guard === "string") return [guard];
  if (typeof guard === "function") {
    const inner = (guard as { guards?: unknown[] }).guards ?? [];
    return inner.flatMap(guardNames);
  }
  if (guard && typeof guard === "object") {
    return [(guard as { type: string }).type];
  }
  return [];
}

function mermaidId(machine: AnyStateMachine, node: NodeLike): string {
  return [machine.id, ...node.path].join("_");
}

for (
  const [name, machine] of [
    ["programStatusMachine", programStatusMachine],
    ["sessionMachine", sessionMachine],
  ] as const
) {
  Deno.test(`${name}: every state, event and guard is in its diagrams`, () => {
    const dot = toDot(machine);
    const mermaid = toMermaid(machine);
    for (const node of statesOf(machine)) {
      const inDot = dot.includes(`"${node.id}" [`) ||
        dot.includes(`subgraph "cluster_${node.id}"`);
      assert(inDot, `DOT lacks state ${node.id}`);
      assertMatch(
        mermaid,
        new RegExp(`state "[^"]*" as ${mermaidId(machine, node)}( \\{)?\\n`),
        `Mermaid lacks state ${node.id}`,
      );
    }
    const transitions = transitionsOf(machine);
    assert(transitions.length > 10);
    for (const t of transitions) {
      const event = shownEvent(t);
      assertStringIncludes(dot, event, `DOT lacks event ${t.eventType}`);
      assertStringIncludes(mermaid, event, `Mermaid lacks ${t.eventType}`);
      for (const guard of guardNames(t.guard)) {
        assertStringIncludes(dot, guard, `DOT lacks guard ${guard}`);
        assertStringIncludes(mermaid, guard, `Mermaid lacks guard ${guard}`);
      }
    }
  });

  Deno.test(`${name}: every state that leaves somewhere has an edge`, () => {
    const dot = toDot(machine, { fanOut: Infinity });
    for (const node of statesOf(machine)) {
      const leaves = [...node.transitions.values(), node.always ?? []].flat()
        .some((t) => (t.target ?? []).some((x) => x !== node));
      if (!leaves) continue;
      const tails = [`"${node.id}" ->`, `"${node.id}#any" ->`];
      if (node.type === "compound") tails.push(`"${node.id}#initial" ->`);
      if (node.type === "parallel") tails.push(`"${node.id}#anchor" ->`);
      assert(
        tails.some((tail) => dot.includes(tail)),
        `no edge leaves ${node.id}`,
      );
    }
  });

  Deno.test(`${name}: the Mermaid output only uses stateDiagram-v2 statements`, () => {
    for (const options of [{}, { direction: "LR" as const }]) {
      checkMermaidSyntax(toMermaid(machine, options));
    }
  });
}

/** A line-level check of the statements `toMermaid` emits. */
function checkMermaidSyntax(text: string): void {
  const lines = text.trimEnd().split("\n");
  assertEquals(lines[0], "stateDiagram-v2");
  let depth = 0;
  let inNote = false;
  const statement = [
    /^direction (LR|TB)$/,
    /^state "[^"\n]*" as \w+$/,
    /^\[\*\] --> \w+$/,
    /^\w+ --> \[\*\]$/,
    /^\w+ --> \w+( : [^;:\n]+)?$/,
    /^\w+ : [^;:\n]+$/,
    /^--$/,
    /^classDef \w+ [^;\n]+$/,
    /^class [\w,]+ \w+$/,
  ];
  for (const raw of lines.slice(1)) {
    // Entities (`#59;`) are how `;`, `:` and `#` are written.
    const line = raw.trim().replace(/#\w+;/g, "&");
    if (inNote) {
      if (line === "end note") inNote = false;
      else assert(!/[;:]/.test(line), `note line: ${raw}`);
      continue;
    }
    if (/^note left of \w+$/.test(line)) {
      inNote = true;
    } else if (/^state "[^"\n]*" as \w+ \{$/.test(line)) {
      depth++;
    } else if (line === "}") {
      depth--;
      assert(depth >= 0, "unbalanced }");
    } else {
      assert(statement.some((re) => re.test(line)), `not Mermaid: ${raw}`);
    }
  }
  assertEquals(depth, 0);
  assert(!inNote, "unterminated note");
}

Deno.test("diagrams of the real machines are deterministic", () => {
  for (const machine of [programStatusMachine, sessionMachine]) {
    assertEquals(toDot(machine), toDot(machine));
    assertEquals(toMermaid(machine), toMermaid(machine));
  }
});

Deno.test("PROGRAM_STATUS from any status is one text line and thin edges, not a hairball", () => {
  const dot = toDot(programStatusMachine);
  assertStringIncludes(dot, "the matching one of its 13 states:");
  assertStringIncludes(dot, "PROGRAM_STATUS [reportsStatus(status)]");
  assertStringIncludes(dot, "GTW_EVENT [gtwEventImplies(status)]");
  const labelled = dot.split("\n").filter((l) =>
    l.includes(`"programStatus.status#any" ->`) && l.includes("label=")
  );
  assertEquals(labelled, []);
  const thin = dot.split("\n").filter((l) =>
    l.includes(`"programStatus.status#any" ->`)
  );
  assertEquals(thin.length, 13);
  // Drawn one by one instead, each edge carries its own label.
  const full = toDot(programStatusMachine, { fanOut: Infinity });
  assertStringIncludes(full, "PROGRAM_STATUS [reportsStatus(10)]");
});

// ---------------------------------------------------------------------------
// Small machines, one feature each

const base = setup({
  guards: {
    isOk: () => true,
    a: () => true,
    b: () => true,
    isKind: (_: unknown, _params: { kind: string }) => true,
  },
  actors: { fetcher: fromPromise(() => Promise.resolve(1)) },
  delays: { wait: 100 },
  actions: { log: () => {}, note: () => {} },
});

const nested = base.createMachine({
  id: "m",
  initial: "idle",
  on: { RESET: ".idle" },
  states: {
    idle: {
      on: {
        GO: { guard: "isOk", target: "busy" },
        PING: { actions: "log" },
        NOPE: {},
      },
    },
    busy: {
      initial: "loading",
      entry: "note",
      invoke: { src: "fetcher", onDone: "done", onError: "failed" },
      states: {
        loading: { after: { wait: "slow", 500: "slower" } },
        slow: {
          always: { guard: and(["a", not("b")]), target: "slower" },
        },
        slower: { on: { UP: "#m.idle" } },
      },
    },
    done: { type: "final" },
    failed: {
      on: {
        RETRY: {
          guard: { type: "isKind", params: { kind: "again" } },
          target: "busy",
        },
      },
    },
  },
});

Deno.test("Mermaid: nesting, initial and final states, guards, delays, invoke", () => {
  const text = toMermaid(nested);
  for (
    const line of [
      `state "m" as m {`,
      `state "busy — entry / note · invoke fetcher" as m_busy {`,
      `[*] --> m_busy_loading`,
      `[*] --> m_idle`,
      `m_done --> [*]`,
      `m_idle --> m_busy : GO [isOk]`,
      `m_busy_loading --> m_busy_slow : after wait`,
      `m_busy_loading --> m_busy_slower : after 500ms`,
      `m_busy_slow --> m_busy_slower : always [a && !b]`,
      `m_busy --> m_done : done fetcher`,
      `m_busy --> m_failed : error fetcher`,
      `m_failed --> m_busy : RETRY [isKind(again)]`,
      `m_busy_slower --> m_idle : UP`,
      `m_idle : PING / log`,
      `m_idle : ignore NOPE`,
      `state "any state" as m_any`,
      `m_any --> m_idle : RESET`,
    ]
  ) {
    assertStringIncludes(text, `${line}\n`);
  }
  checkMermaidSyntax(text);
});

Deno.test("DOT: clusters, initial arrows, final states, edge kinds", () => {
  const text = toDot(nested);
  for (
    const part of [
      `digraph "m" {`,
      `subgraph "cluster_m.busy" {`,
      `"m.busy#initial" -> "m.busy.loading"`,
      `"m.idle" -> "m.busy#initial" [label="GO [isOk]", lhead="cluster_m.busy"]`,
      `"m.busy#initial" -> "m.done" [label="done fetcher", fontcolor="#2f7d4f", color="#2f7d4f", ltail="cluster_m.busy"]`,
      `label="error fetcher", fontcolor="#c0392b"`,
      `"m.busy.loading" -> "m.busy.slow" [label="after wait", fontcolor="#2b6cb0", color="#2b6cb0", style=dashed]`,
      `label="always [a && !b]"`,
      `label="RETRY [isKind(again)]"`,
      `"m#any" -> "m.idle" [label="RESET"]`,
      "peripheries=2",
      "PING / log",
      "ignore NOPE",
      "entry / note",
      "invoke fetcher",
    ]
  ) {
    assertStringIncludes(text, part);
  }
});

Deno.test("parallel regions: separated in Mermaid, dashed clusters in DOT", () => {
  const parallel = createMachine({
    id: "p",
    type: "parallel",
    states: {
      left: { initial: "l1", states: { l1: { on: { X: "l2" } }, l2: {} } },
      right: { initial: "r1", states: { r1: { on: { X: "r2" } }, r2: {} } },
    },
  });
  const mermaid = toMermaid(parallel, { direction: "LR" });
  assertStringIncludes(mermaid, "  direction LR\n");
  assertMatch(
    mermaid,
    /state "left" as p_left \{[^]*\n\s+--\n\s+state "right" as p_right \{/,
  );
  const dot = toDot(parallel, { direction: "LR" });
  assertStringIncludes(dot, "rankdir=LR");
  assertMatch(
    dot,
    /subgraph "cluster_p.left" \{\n\s+graph \[[^\]]*style="rounded,dashed"/,
  );
  assertMatch(
    dot,
    /subgraph "cluster_p.right" \{\n\s+graph \[[^\]]*style="rounded,dashed"/,
  );
  checkMermaidSyntax(mermaid);
});

Deno.test("transitions between the same two states share one edge", () => {
  const machine = base.createMachine({
    id: "s",
    initial: "a",
    states: {
      a: {
        on: {
          X: { guard: "isOk", target: "b" },
          Y: { guard: "isOk", target: "b" },
          Z: "b",
        },
        after: { wait: "b" },
      },
      b: {},
    },
  });
  const mermaid = toMermaid(machine);
  assertStringIncludes(
    mermaid,
    "s_a --> s_b : X | Y [isOk]<br/>Z | after wait\n",
  );
  assertEquals(mermaid.match(/s_a --> s_b/g)?.length, 1);
  assertEquals(toDot(machine).match(/"s.a" -> "s.b"/g)?.length, 1);
});

Deno.test("fan-out: one event and guard to many targets is a line plus thin edges", () => {
  const machine = base.createMachine({
    id: "f",
    initial: "s0",
    on: {
      JUMP: ["s0", "s1", "s2", "s3"].map((kind) => ({
        guard: { type: "isKind" as const, params: { kind } },
        target: `.${kind}`,
      })),
    },
    states: { s0: {}, s1: {}, s2: {}, s3: {} },
  });
  const dot = toDot(machine);
  assertStringIncludes(dot, "→ the matching one of its 4 states:");
  assertStringIncludes(dot, "JUMP [isKind(kind)]");
  assertEquals(dot.match(/"f#any" -> "f.s\d" \[color="#b0b0b0"/g)?.length, 4);
  const full = toDot(machine, { fanOut: Infinity });
  assertStringIncludes(full, `"f#any" -> "f.s2" [label="JUMP [isKind(s2)]"]`);
  const few = toDot(machine, { fanOut: 5 });
  assertStringIncludes(few, `label="JUMP [isKind(s3)]"`);
  assertStringIncludes(toMermaid(machine), "f_any --> f_s1\n");
});

Deno.test("hideEvents by event type or by shown name; internal: false", () => {
  const a = toMermaid(nested, { hideEvents: ["GO", "after wait", "always"] });
  assert(!a.includes("GO [isOk]"));
  assert(!a.includes("after wait"));
  assert(!a.includes("always ["));
  assertStringIncludes(a, "after 500ms");
  const b = toMermaid(nested, {
    hideEvents: ["xstate.after.500.m.busy.loading"],
  });
  assert(!b.includes("after 500ms"));
  const c = toMermaid(nested, { internal: false });
  assert(!c.includes("PING"));
  assert(!c.includes("ignore NOPE"));
});

Deno.test("options: actions on edges, no details, no tags, title", () => {
  const machine = base.createMachine({
    id: "o",
    initial: "a",
    states: {
      a: {
        tags: ["ready"],
        entry: "log",
        on: { GO: { target: "b", actions: "note" } },
      },
      b: {},
    },
  });
  assertStringIncludes(
    toMermaid(machine, { actions: true }),
    "o_a --> o_b : GO / note\n",
  );
  assertStringIncludes(toMermaid(machine), "o_a --> o_b : GO\n");
  assertStringIncludes(toMermaid(machine), "o_a : «ready»\n");
  assertStringIncludes(toMermaid(machine), "o_a : entry / log\n");
  assertStringIncludes(toMermaid(machine), "class o_a tag_ready\n");
  assert(!toMermaid(machine, { details: false }).includes("entry / log"));
  assert(!toMermaid(machine, { tags: false }).includes("«ready»"));
  assertStringIncludes(
    toMermaid(machine, { title: "Traffic" }),
    `state "Traffic" as o {`,
  );
  assertStringIncludes(toDot(machine), `fillcolor="#d9f2d0"`);
  assertStringIncludes(
    toDot(machine, { tagColors: { ready: "#00ff00" } }),
    `fillcolor="#00ff00"`,
  );
});

Deno.test("guards: and, or, not, stateIn, inline; invoke ids; history states", () => {
  const machine = base.createMachine({
    id: "g",
    type: "parallel",
    states: {
      one: {
        initial: "x",
        states: {
          x: {
            on: {
              A: { guard: or(["a", and(["b", "isOk"])]), target: "y" },
              B: { guard: stateIn("#g.two.q"), target: "y" },
              C: { guard: () => true, target: "y" },
            },
          },
          y: {
            invoke: { id: "job", src: "fetcher", onDone: "x" },
          },
          h: { type: "history", history: "deep" },
        },
      },
      two: { initial: "q", states: { q: { on: { BACK: "#g.one.h" } } } },
    },
  });
  const dot = toDot(machine);
  assertStringIncludes(dot, "A [a || (b && isOk)]");
  assertStringIncludes(dot, "B [in two.q]");
  assertStringIncludes(dot, "C [(inline)]");
  assertStringIncludes(dot, `label="done job"`);
  assertStringIncludes(dot, "invoke fetcher");
  assertStringIncludes(dot, `"g.one.h" [label="H*", shape=circle`);
  assertStringIncludes(dot, `"g.two.q" -> "g.one.h" [label="BACK"]`);
  assertStringIncludes(toMermaid(machine), `state "H*" as g_one_h\n`);
});

Deno.test("collapse: a closed state stands for everything inside it", () => {
  const text = toMermaid(nested, { collapse: ["busy"] });
  assertStringIncludes(text, `state "busy" as m_busy\n`);
  assertStringIncludes(text, "m_busy : (3 states inside)\n");
  assertStringIncludes(text, "m_busy --> m_idle : UP\n");
  assert(!text.includes("m_busy_loading"));
  assert(!text.includes("after wait"));
  assertStringIncludes(
    toMermaid(nested, { collapse: ["m.busy"] }),
    "m_busy : (3 states inside)",
  );
  assertStringIncludes(toDot(nested, { collapse: ["busy"] }), `"m.busy" [`);
  assertThrows(
    () => toDot(nested, { collapse: ["nowhere"] }),
    Error,
    "nowhere",
  );
  const into = createMachine({
    id: "i",
    initial: "a",
    states: {
      a: { on: { DEEP: "b.y", SHALLOW: "b" } },
      b: { initial: "x", states: { x: {}, y: {} } },
    },
  });
  assertStringIncludes(
    toMermaid(into, { collapse: ["b"] }),
    "i_a --> i_b : DEEP | SHALLOW\n",
  );
  assertStringIncludes(toDot(into, { collapse: ["b"] }), `"i.a" -> "i.b"`);
});

Deno.test("labels are escaped for Mermaid and DOT", () => {
  const machine = createMachine({
    id: "e",
    initial: "a",
    states: { a: { on: { 'GO;#1:"x"': "b" } }, b: {} },
  });
  const mermaid = toMermaid(machine);
  assertStringIncludes(mermaid, "e_a --> e_b : GO#59;#35;1#58;#quot;x#quot;\n");
  checkMermaidSyntax(mermaid);
  assertStringIncludes(toDot(machine), `label="GO;#1:\\"x\\""`);
});
