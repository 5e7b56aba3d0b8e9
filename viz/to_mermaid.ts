/**
 * Mermaid `stateDiagram-v2` diagrams of XState machines, read from their
 * definitions. Forges (GitHub, GitLab, Gitea) render them in Markdown.
 * @module
 */
import {
  buildDiagram,
  type Diagram,
  type DiagramBox,
  type DiagramMachine,
  type DiagramOptions,
} from "./_graph_diagram.ts";

export type { DiagramMachine, DiagramOptions };

/**
 * A Mermaid `stateDiagram-v2` of `machine`, derived from its definition:
 * compound states are composite states, regions of a parallel state are
 * separated by `--`, and edges carry `EVENT [guard]`, `after delay`,
 * `done actor`, `error actor` or `always`. Embed it in Markdown in a fenced
 * code block marked `mermaid`. The output is deterministic.
 *
 * Mermaid cannot style single edges, so the thin edges of a fan-out (see
 * `DiagramOptions.fanOut`) are left to the text line that summarises them,
 * and the `any state` transitions of a parallel state are a note on it.
 *
 * @example
 * ```ts
 * import { setup } from "npm:xstate@5.33.3";
 * import { toMermaid } from "./to_mermaid.ts";
 * const light = setup({ delays: { wait: 1000 } }).createMachine({
 *   id: "light",
 *   initial: "green",
 *   states: {
 *     green: { after: { wait: "red" } },
 *     red: { on: { GO: "green" } },
 *   },
 * });
 * const mermaid = toMermaid(light);
 * mermaid.includes("light_red --> light_green : GO"); // true
 * ```
 */
export function toMermaid(
  machine: DiagramMachine,
  options: DiagramOptions = {},
): string {
  return renderMermaid(buildDiagram(machine, options));
}

function renderMermaid(diagram: Diagram): string {
  const ids = mermaidIds(diagram);
  const id = (boxId: string) => ids.get(boxId)!;
  const out: string[] = ["stateDiagram-v2"];
  if (diagram.direction === "LR") out.push("  direction LR");
  const notes: string[] = [];

  const renderBox = (box: DiagramBox, indent: string, isRoot = false) => {
    const label = isRoot ? diagram.title : box.label;
    if (box.type !== "compound" && box.type !== "parallel") {
      const text = box.type === "history"
        ? box.history === "deep" ? "H*" : "H"
        : box.label;
      out.push(`${indent}state "${escape(text)}" as ${id(box.id)}`);
      for (const line of box.lines) {
        out.push(`${indent}${id(box.id)} : ${escape(keepIndent(line))}`);
      }
      return;
    }
    // Mermaid draws a composite state's title on one line, and notes on
    // composite states trip its layout: a compound state's own lines join
    // its title.
    const title = box.type === "compound" && box.lines.length > 0
      ? `${label} — ${box.lines.map((l) => l.trim()).join(" · ")}`
      : label;
    out.push(`${indent}state "${escape(title)}" as ${id(box.id)} {`);
    const inner = `${indent}  `;
    const anyBox = box.children.find((c) => c.kind === "any");
    const children = box.children.filter((c) => c.kind !== "any");
    if (box.type === "parallel") {
      // A parallel state holds only its regions; what happens in any of
      // them is told by a note beside it.
      const lines = [
        ...box.lines,
        ...(anyBox ? anyLines(diagram, anyBox) : []),
      ];
      if (lines.length > 0) notes.push(note(id(box.id), lines, indent));
      children.forEach((child, i) => {
        if (i > 0) out.push(`${inner}--`);
        renderBox(child, inner);
      });
    } else {
      if (anyBox) renderBox(anyBox, inner);
      for (const child of children) renderBox(child, inner);
      for (const target of box.initial) {
        out.push(`${inner}[*] --> ${id(target)}`);
      }
      for (const child of children) {
        if (child.type === "final") out.push(`${inner}${id(child.id)} --> [*]`);
      }
    }
    out.push(`${indent}}`);
  };
  renderBox(diagram.root, "  ", true);
  out.push(...notes);

  for (const edge of diagram.edges) {
    if (!isDrawn(diagram, edge.from)) continue;
    const label = edge.label.map((line) => escape(line.trim())).join("<br/>");
    out.push(
      `  ${id(edge.from)} --> ${id(edge.to)}${label ? ` : ${label}` : ""}`,
    );
  }

  const classes = new Map<string, string[]>();
  const styles = new Map<string, string>();
  for (const box of diagram.boxes.values()) {
    if (box.type === "compound" || box.type === "parallel") continue;
    if (box.kind === "any") {
      if (!isDrawn(diagram, box.id)) continue;
      add(classes, "anyState", id(box.id));
      styles.set(
        "anyState",
        "fill:#f6f6f6,stroke:#999999,stroke-dasharray:4 3,color:#333333",
      );
    } else if (box.fill !== null && box.fillTag !== null) {
      const name = `tag_${sanitize(box.fillTag)}`;
      add(classes, name, id(box.id));
      styles.set(name, `fill:${box.fill},stroke:#555555`);
    }
  }
  for (const [name, style] of styles) out.push(`  classDef ${name} ${style}`);
  for (const [name, members] of classes) {
    out.push(`  class ${members.join(",")} ${name}`);
  }
  return out.join("\n") + "\n";
}

function add(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

/** `any state` boxes of parallel states become notes, not nodes. */
function isDrawn(diagram: Diagram, boxId: string): boolean {
  const box = diagram.boxes.get(boxId)!;
  return box.kind !== "any" ||
    diagram.boxes.get(box.parent!)!.type !== "parallel";
}

/** The text of a parallel state's `any state` box, its edges included. */
function anyLines(diagram: Diagram, anyBox: DiagramBox): string[] {
  const group = diagram.boxes.get(anyBox.parent!)!;
  const targets = new Map<string, string[]>();
  for (const edge of diagram.edges) {
    if (edge.from !== anyBox.id || edge.kind === "fanOut") continue;
    const label = edge.label.map((line) => line.trim()).join(" ");
    add(targets, label, relativePath(diagram, group.id, edge.to));
  }
  return [
    "any state:",
    ...anyBox.lines.map((line) => `  ${line}`),
    ...[...targets].map(([label, to]) => `  ${label} → ${to.join(", ")}`),
  ];
}

function relativePath(diagram: Diagram, from: string, to: string): string {
  const path: string[] = [];
  for (let box = diagram.boxes.get(to)!; box.id !== from;) {
    path.unshift(box.label);
    if (box.parent === null) break;
    box = diagram.boxes.get(box.parent)!;
  }
  return path.join(".");
}

function note(
  target: string,
  lines: readonly string[],
  indent: string,
): string {
  return [
    `${indent}note left of ${target}`,
    // No-break spaces: Mermaid wraps notes narrowly otherwise.
    ...lines.map((line) =>
      `${indent}  ${escape(line.trimEnd()).replaceAll(" ", "\u00a0")}`
    ),
    `${indent}end note`,
  ].join("\n");
}

/** Mermaid ids: the state path joined by `_`, made unique. */
function mermaidIds(diagram: Diagram): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  const assign = (box: DiagramBox, base: string) => {
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) candidate = `${base}_${n}`;
    used.add(candidate);
    ids.set(box.id, candidate);
    for (const child of box.children) {
      assign(
        child,
        child.kind === "any"
          ? `${candidate}_any`
          : `${candidate}_${sanitize(child.label)}`,
      );
    }
  };
  const root = sanitize(diagram.id);
  assign(diagram.root, /^[A-Za-z]/.test(root) ? root : `m_${root}`);
  return ids;
}

function sanitize(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Mermaid trims lines: no-break spaces keep a wrapped line's indent. */
function keepIndent(line: string): string {
  return line.trimEnd().replace(/^ +/, (s) => "\u00a0".repeat(s.length));
}

/**
 * Mermaid reads `#…;` as an entity, `;` as a statement's end and `:` as the
 * start of a description.
 */
function escape(text: string): string {
  return text.replace(/[#;:"<>]/g, (c) => ENTITIES[c]);
}

const ENTITIES: Readonly<Record<string, string>> = {
  "#": "#35;",
  ";": "#59;",
  ":": "#58;",
  '"': "#quot;",
  "<": "#lt;",
  ">": "#gt;",
};
