/**
 * Graphviz DOT diagrams of XState machines, read from their definitions.
 * @module
 */
import {
  anyBoxId,
  buildDiagram,
  type Diagram,
  type DiagramBox,
  type DiagramEdge,
  type DiagramMachine,
  type DiagramOptions,
} from "./_graph_diagram.ts";

export type { DiagramMachine, DiagramOptions };

const FONT = "Helvetica";

const EDGE_COLORS: Readonly<Record<DiagramEdge["kind"], string>> = {
  event: "#333333",
  mixed: "#333333",
  after: "#2b6cb0",
  always: "#555555",
  done: "#2f7d4f",
  stateDone: "#2f7d4f",
  snapshot: "#555555",
  error: "#c0392b",
  fanOut: "#b0b0b0",
};

/**
 * A Graphviz DOT diagram of `machine`, derived from its definition: compound
 * states are clusters, regions of a parallel state dashed clusters, and edges
 * carry `EVENT [guard]`, `after delay`, `done actor`, `error actor` or
 * `always`. Render it with any Graphviz (`dot -Tsvg`); the output is
 * deterministic.
 *
 * @example
 * ```ts
 * import { setup } from "npm:xstate@5.33.3";
 * import { toDot } from "./to_dot.ts";
 * const light = setup({ delays: { wait: 1000 } }).createMachine({
 *   id: "light",
 *   initial: "green",
 *   states: {
 *     green: { after: { wait: "red" } },
 *     red: { on: { GO: "green" } },
 *   },
 * });
 * const dot = toDot(light, { direction: "LR" });
 * dot.includes('label="after wait"'); // true
 * ```
 */
export function toDot(
  machine: DiagramMachine,
  options: DiagramOptions = {},
): string {
  return renderDot(buildDiagram(machine, options));
}

function renderDot(diagram: Diagram): string {
  const out: string[] = [];
  out.push(`digraph ${q(diagram.id)} {`);
  out.push(
    `  graph [compound=true, rankdir=${diagram.direction}, fontname=${
      q(FONT)
    }, fontsize=12, nodesep=0.35, ranksep=0.45, labeljust=l];`,
  );
  out.push(
    `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", ` +
      `color="#555555", fontname=${q(FONT)}, fontsize=11, ` +
      `margin="0.12,0.05", height=0.3];`,
  );
  out.push(
    `  edge [fontname=${q(FONT)}, fontsize=9, arrowsize=0.7, ` +
      `color="#333333"];`,
  );
  renderBox(diagram, diagram.root, "  ", out, true);
  for (const edge of diagram.edges) out.push(`  ${renderEdge(diagram, edge)}`);
  out.push("}");
  return out.join("\n") + "\n";
}

function isGroup(box: DiagramBox): boolean {
  return box.type === "compound" || box.type === "parallel";
}

function clusterId(box: DiagramBox): string {
  return `cluster_${box.id}`;
}

/** The node an edge to or from a group is drawn to, clipped at its border. */
function anchorOf(box: DiagramBox): string {
  return box.type === "compound" ? `${box.id}#initial` : `${box.id}#anchor`;
}

function renderBox(
  diagram: Diagram,
  box: DiagramBox,
  indent: string,
  out: string[],
  isRoot = false,
): void {
  if (!isGroup(box)) {
    out.push(`${indent}${q(box.id)} [${nodeAttributes(box).join(", ")}];`);
    return;
  }
  const title = isRoot ? diagram.title : box.label;
  const style = [
    "rounded",
    ...(box.region ? ["dashed"] : []),
    ...(box.fill ? ["filled"] : []),
  ];
  out.push(`${indent}subgraph ${q(clusterId(box))} {`);
  const inner = `${indent}  `;
  out.push(
    `${inner}graph [label=${htmlLabel(title, box.lines, "cluster")}, ` +
      `style=${q(style.join(","))}, color=${
        q(box.region ? "#8a8a8a" : "#555555")
      }${box.fill ? `, fillcolor=${q(box.fill)}` : ""}${
        tooltip(box)
      }, margin=10];`,
  );
  if (box.type === "compound") {
    out.push(
      `${inner}${
        q(anchorOf(box))
      } [shape=point, width=0.11, color="#222222", fillcolor="#222222", label=""];`,
    );
  } else {
    out.push(
      `${inner}${
        q(anchorOf(box))
      } [shape=point, style=invis, width=0.01, label=""];`,
    );
  }
  // Dot keeps the declaration order of unconnected clusters (regions), but
  // left-to-right ranks stack it bottom-up: reverse it there to read
  // top-down. Connected states keep definition order so cycles break the
  // way they were written.
  const children = diagram.direction === "LR"
    ? reverseGroups(box.children)
    : box.children;
  for (const child of children) renderBox(diagram, child, inner, out);
  for (const target of box.initial) {
    const to = diagram.boxes.get(target)!;
    const attrs = [
      `color="#222222"`,
      ...(isGroup(to) ? [`lhead=${q(clusterId(to))}`] : []),
    ];
    out.push(
      `${inner}${q(anchorOf(box))} -> ${q(endpoint(to))} [${
        attrs.join(", ")
      }];`,
    );
  }
  out.push(`${indent}}`);
}

function reverseGroups(boxes: readonly DiagramBox[]): DiagramBox[] {
  const groups = boxes.filter(isGroup).reverse();
  return boxes.map((box) => isGroup(box) ? groups.shift()! : box);
}

function endpoint(box: DiagramBox): string {
  return isGroup(box) ? anchorOf(box) : box.id;
}

function nodeAttributes(box: DiagramBox): string[] {
  if (box.type === "history") {
    return [
      `label=${q(box.history === "deep" ? "H*" : "H")}`,
      "shape=circle",
      "width=0.3",
      "fixedsize=true",
      "fontsize=10",
    ];
  }
  const attrs = [
    `label=${
      htmlLabel(box.label, box.lines, box.kind === "any" ? "any" : "state")
    }`,
  ];
  if (box.kind === "any") {
    attrs.push(
      `style="rounded,dashed,filled"`,
      `fillcolor="#f6f6f6"`,
      `color="#999999"`,
    );
  }
  if (box.fill) attrs.push(`fillcolor=${q(box.fill)}`);
  if (box.hidden > 0) {
    // A closed group: heavier border; dashed when it is a region.
    attrs.push("penwidth=2");
    if (box.region) attrs.push(`style="rounded,dashed,filled"`);
  }
  if (box.type === "final") attrs.push("peripheries=2");
  const tip = tooltip(box);
  if (tip) attrs.push(tip.slice(2));
  return attrs;
}

function tooltip(box: DiagramBox): string {
  return box.description === null ? "" : `, tooltip=${q(box.description)}`;
}

function renderEdge(diagram: Diagram, edge: DiagramEdge): string {
  const from = diagram.boxes.get(edge.from)!;
  const to = diagram.boxes.get(edge.to)!;
  const color = EDGE_COLORS[edge.kind];
  const attrs: string[] = [];
  if (edge.label.length > 0) {
    attrs.push(`label=${q(edge.label.join("\n")).replaceAll("\n", "\\n")}`);
    if (color !== EDGE_COLORS.event) attrs.push(`fontcolor=${q(color)}`);
  }
  if (color !== EDGE_COLORS.event) attrs.push(`color=${q(color)}`);
  if (edge.kind === "after") attrs.push(`style=dashed`);
  if (edge.kind === "fanOut") attrs.push(`arrowsize=0.5`, `penwidth=0.8`);
  // A group's border is where its edges start and end, unless one box
  // holds the other.
  if (isGroup(from) && !holds(diagram, from, to)) {
    attrs.push(`ltail=${q(clusterId(from))}`);
  }
  if (isGroup(to) && !holds(diagram, to, from)) {
    attrs.push(`lhead=${q(clusterId(to))}`);
  }
  return `${q(endpoint(from))} -> ${q(endpoint(to))}${
    attrs.length ? ` [${attrs.join(", ")}]` : ""
  };`;
}

function holds(
  diagram: Diagram,
  outer: DiagramBox,
  inner: DiagramBox,
): boolean {
  for (let p = inner.parent; p !== null; p = diagram.boxes.get(p)!.parent) {
    if (p === outer.id) return true;
  }
  return inner.id === outer.id || inner.id === anyBoxId(outer.id);
}

/** A quoted DOT id or string. */
function q(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

function html(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replace(/^ +/, (spaces) => "&#160;".repeat(spaces.length));
}

function htmlLabel(
  title: string,
  lines: readonly string[],
  kind: "state" | "any" | "cluster",
): string {
  // Graphviz sizes boxes with regular-weight metrics: bold would overflow.
  const head = kind === "any"
    ? `<i>${html(title)}</i>`
    : kind === "cluster"
    ? `<b>${html(title)}</b>`
    : html(title);
  if (lines.length === 0) return `<${head}>`;
  const body = lines.map((line) =>
    `<tr><td align="left"><font point-size="9">${html(line)}</font></td></tr>`
  ).join("");
  const align = kind === "cluster" ? "left" : "center";
  return `<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">` +
    `<tr><td align="${align}">${head}</td></tr>${body}</table>>`;
}
