/**
 * Turns a walked machine into what both renderers draw: boxes (states, plus
 * one "any state" box per group that owns transitions) and merged edges. All
 * readability decisions are made here, once, so Mermaid and DOT agree.
 *
 * - A transition owned by a compound or parallel state whose target lies
 *   inside it ("from any state in here") leaves from that group's
 *   `any state` box instead of from the group's border.
 * - Transitions without a target (actions only, or ignored) are text lines on
 *   their state (or its `any state` box), not edges.
 * - Many transitions that differ only in their guard's parameters (one
 *   event, one guard, N targets) become one text line and thin unlabelled
 *   edges: the program status can go from any status to any other.
 * - All transitions between the same two boxes become one edge.
 * @module
 */
import {
  type StateKind,
  type TransitionKind,
  type WalkedMachine,
  type WalkedState,
  type WalkedTransition,
  walkMachine,
} from "./_graph_walk.ts";

/**
 * A machine to draw: any XState v5 machine (`createMachine(...)`,
 * `setup(...).createMachine(...)`). Only its definition is read.
 *
 * @example
 * ```ts
 * import { sessionMachine } from "../machines/mod.ts";
 * const machine: DiagramMachine = sessionMachine;
 * machine.id; // "session"
 * ```
 */
export interface DiagramMachine {
  /** The machine's id: the outermost box's default title. */
  readonly id: string;
  /** The root state node, which holds the whole definition. */
  readonly root: object;
}

/**
 * How `toMermaid` and `toDot` draw a machine. Every option is optional; the
 * defaults aim at a picture that reads at a glance.
 *
 * @example
 * ```ts
 * import { toDot } from "./to_dot.ts";
 * import { sessionMachine } from "../machines/mod.ts";
 * const options: DiagramOptions = {
 *   direction: "LR",
 *   hideEvents: ["BYTES_RECEIVED"],
 * };
 * toDot(sessionMachine, options);
 * ```
 */
export interface DiagramOptions {
  /** Main flow top-to-bottom (default) or left-to-right. */
  readonly direction?: "TB" | "LR";
  /**
   * Events to leave out, by XState event type (`BYTES_RECEIVED`,
   * `xstate.after.keepAliveInterval.session.link.session.online.keepAlive.waiting`)
   * or by the short name the diagram shows (`after keepAliveInterval`,
   * `done initConnect`, `always`).
   */
  readonly hideEvents?: readonly string[];
  /**
   * Show transitions without a target (actions only, or ignored events) as
   * text lines on their state. Default true.
   */
  readonly internal?: boolean;
  /** Show action names on edges (`EVENT [guard] / action`). Default false. */
  readonly actions?: boolean;
  /** Show entry/exit actions and invoked actors on states. Default true. */
  readonly details?: boolean;
  /** Show tags as `«tag»` and fill tagged states. Default true. */
  readonly tags?: boolean;
  /**
   * From how many targets one event with one parameterised guard becomes a
   * single text line (`PROGRAM_STATUS [reportsStatus(status)] → one of 13
   * states`) and thin unlabelled edges. Default 4; `Infinity` draws every
   * edge with its label.
   */
  readonly fanOut?: number;
  /**
   * Fill colour per tag, over the defaults for this project's tags (`fatal`,
   * `needsPerson`, `needsCode`, `ready`, `online`).
   */
  readonly tagColors?: Readonly<Record<string, string>>;
  /**
   * States to draw closed, as one box: their inside is left out and
   * transitions into or out of it attach to the box. By id
   * (`session.gateway.status`) or by path (`gateway.status`).
   */
  readonly collapse?: readonly string[];
  /** The outermost box's title. Default: the machine id. */
  readonly title?: string;
  /** Break label lines longer than this many characters. Default 40. */
  readonly wrap?: number;
}

/** Fill colours for this project's tags, most urgent first. */
export const DEFAULT_TAG_COLORS: Readonly<Record<string, string>> = {
  fatal: "#ffd6d6",
  needsPerson: "#ffe4c4",
  needsCode: "#fff4bf",
  ready: "#d9f2d0",
  online: "#e3efff",
};

/** A state, or the `any state` box of a group. */
export interface DiagramBox {
  readonly id: string;
  readonly kind: "state" | "any";
  readonly type: StateKind;
  readonly label: string;
  /** Tags, entry/exit/invoke, then transitions drawn as text. */
  readonly lines: string[];
  readonly tags: readonly string[];
  readonly fill: string | null;
  /** The tag `fill` comes from. */
  readonly fillTag: string | null;
  readonly history: "shallow" | "deep" | null;
  readonly description: string | null;
  /** How many states a collapsed box hides (0 when not collapsed). */
  readonly hidden: number;
  /** A region of a parallel state. */
  readonly region: boolean;
  /** Its `any state` box comes first. */
  readonly children: DiagramBox[];
  readonly initial: readonly string[];
  readonly parent: string | null;
}

/** One drawn edge: every transition between two boxes. */
export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  /** Empty for the thin edges of a fan-out. */
  readonly label: readonly string[];
  readonly kind: TransitionKind | "mixed" | "fanOut";
}

/** What a renderer draws. */
export interface Diagram {
  readonly id: string;
  readonly title: string;
  readonly direction: "TB" | "LR";
  readonly root: DiagramBox;
  readonly boxes: ReadonlyMap<string, DiagramBox>;
  readonly edges: readonly DiagramEdge[];
  /** The walked definition, for callers that check coverage. */
  readonly machine: WalkedMachine;
}

const ANY = "#any";

/** The `any state` box id of group `id`. */
export function anyBoxId(id: string): string {
  return id + ANY;
}

interface EdgeItem {
  readonly from: string;
  readonly to: string;
  readonly t: WalkedTransition;
  readonly fanOut: boolean;
}

/** Builds the diagram of `machine`. */
export function buildDiagram(
  machine: DiagramMachine,
  options: DiagramOptions = {},
): Diagram {
  const walked = walkMachine(machine);
  const hidden = new Set(options.hideEvents ?? []);
  const showInternal = options.internal ?? true;
  const showActions = options.actions ?? false;
  const showDetails = options.details ?? true;
  const showTags = options.tags ?? true;
  const fanOut = options.fanOut ?? 4;
  const width = options.wrap ?? 40;
  const colors = { ...DEFAULT_TAG_COLORS, ...options.tagColors };

  const boxes = new Map<string, DiagramBox>();
  const parentOf = new Map<string, string>();
  for (const state of walked.states.values()) {
    for (const child of state.children) parentOf.set(child.id, state.id);
  }
  const collapsed = new Set(
    (options.collapse ?? []).map((name) => {
      const state = walked.states.get(name) ??
        [...walked.states.values()].find((s) => s.path.join(".") === name);
      if (state === undefined) {
        throw new Error(`collapse: ${walked.id} has no state "${name}"`);
      }
      return state.id;
    }),
  );
  /** The box a state is drawn in: itself, or the collapsed state hiding it. */
  const shownAs = new Map<string, string>();

  const makeBox = (
    state: WalkedState,
    parent: WalkedState | null,
  ): DiagramBox => {
    const lines: string[] = [];
    if (showTags && state.tags.length > 0) {
      lines.push(state.tags.map((t) => `«${t}»`).join(" "));
    }
    if (showDetails) {
      if (state.entry.length) lines.push(`entry / ${state.entry.join(", ")}`);
      if (state.exit.length) lines.push(`exit / ${state.exit.join(", ")}`);
      for (const src of state.invokes) lines.push(`invoke ${src}`);
    }
    const closed = collapsed.has(state.id) && state.children.length > 0;
    const hidden = closed ? countInside(state) : 0;
    if (closed) lines.push(`(${hidden} states inside)`);
    const fillTag = Object.keys(colors).find((t) => state.tags.includes(t));
    const box: DiagramBox = {
      id: state.id,
      kind: "state",
      type: closed ? "atomic" : state.type,
      label: state.key === "" ? walked.id : state.key,
      lines,
      tags: state.tags,
      fill: fillTag === undefined ? null : colors[fillTag],
      fillTag: fillTag ?? null,
      history: state.history,
      description: state.description,
      hidden,
      region: parent?.type === "parallel",
      children: [],
      initial: closed ? [] : state.initial,
      parent: parent?.id ?? null,
    };
    boxes.set(box.id, box);
    shownAs.set(state.id, state.id);
    if (closed) {
      const hide = (s: WalkedState) =>
        s.children.forEach((c) => {
          shownAs.set(c.id, state.id);
          hide(c);
        });
      hide(state);
    } else {
      for (const child of state.children) {
        box.children.push(makeBox(child, state));
      }
    }
    return box;
  };
  const root = makeBox(walked.root, null);

  const isInside = (id: string, ancestor: string): boolean => {
    for (let p = parentOf.get(id); p !== undefined; p = parentOf.get(p)) {
      if (p === ancestor) return true;
    }
    return false;
  };

  const anyBox = (group: DiagramBox): DiagramBox => {
    const id = anyBoxId(group.id);
    const existing = boxes.get(id);
    if (existing) return existing;
    const box: DiagramBox = {
      id,
      kind: "any",
      type: "atomic",
      label: "any state",
      lines: [],
      tags: [],
      fill: null,
      fillTag: null,
      history: null,
      description: null,
      hidden: 0,
      region: false,
      children: [],
      initial: [],
      parent: group.id,
    };
    boxes.set(id, box);
    group.children.unshift(box);
    return box;
  };

  /** Where a state's text lines go: itself, or its group's `any` box. */
  const textBoxOf = (id: string): DiagramBox => {
    const box = boxes.get(id)!;
    return box.type === "compound" || box.type === "parallel"
      ? anyBox(box)
      : box;
  };

  const items: EdgeItem[] = [];
  const internal = new Map<
    DiagramBox,
    { t: WalkedTransition; reenters: boolean }[]
  >();
  for (const t of walked.transitions) {
    if (hidden.has(t.eventType) || hidden.has(t.event)) continue;
    const sourceId = shownAs.get(t.source)!;
    const source = boxes.get(sourceId)!;
    // Inside a collapsed box only what leaves it is drawn; what enters it
    // ends at the box.
    const targets = [
      ...new Set(
        t.targets.filter((target) =>
          source.hidden === 0 ||
          (target === t.source && sourceId === t.source) ||
          shownAs.get(target) !== sourceId
        ).map((target) => shownAs.get(target)!),
      ),
    ];
    if (targets.length === 0 && t.targets.length > 0) continue;
    if (sourceId !== t.source && targets.length === 0) continue;
    const isGroup = source.type === "compound" || source.type === "parallel";
    if (targets.length === 0 || (isGroup && targets.includes(sourceId))) {
      if (showInternal) {
        const box = textBoxOf(sourceId);
        const list = internal.get(box) ?? [];
        list.push({ t, reenters: targets.length > 0 });
        internal.set(box, list);
      }
      continue;
    }
    for (const target of targets) {
      const from = isGroup && isInside(target, sourceId)
        ? anyBox(source).id
        : sourceId;
      items.push({ from, to: target, t, fanOut: false });
    }
  }

  for (const [box, list] of internal) {
    box.lines.push(...internalLines(list).flatMap((line) => wrap(line, width)));
  }

  // Fan-outs: one event and guard shape reaching many targets.
  const groups = new Map<string, EdgeItem[]>();
  for (const item of items) {
    const { t } = item;
    if (t.guardShape === null || t.guardShape === t.guard) continue;
    const key = JSON.stringify([
      item.from,
      t.eventType,
      t.guardShape,
      t.actions,
    ]);
    const list = groups.get(key) ?? [];
    list.push(item);
    groups.set(key, list);
  }
  const fanned = new Set<EdgeItem>();
  const summaries = new Map<string, { box: DiagramBox; lines: string[] }>();
  for (const list of groups.values()) {
    const targets = [...new Set(list.map((i) => i.to))];
    if (targets.length < fanOut) continue;
    for (const item of list) fanned.add(item);
    const from = boxes.get(list[0].from)!;
    // Targets are listed once per target set, however many events share it.
    const key = JSON.stringify([from.id, [...targets].sort()]);
    const summary = summaries.get(key) ??
      { box: from, lines: [fanOutHeader(from, targets)] };
    const { t } = list[0];
    summary.lines.push(
      ...wrap(
        `${t.event} [${t.guardShape}]${actionsText(t, showActions)}`,
        width,
      ).map((line) => `  ${line}`),
    );
    summaries.set(key, summary);
  }
  for (const { box, lines } of summaries.values()) box.lines.unshift(...lines);

  function fanOutHeader(from: DiagramBox, targets: readonly string[]): string {
    const group = from.kind === "any" ? boxes.get(from.parent!)! : null;
    const leaves = group === null ? [] : atomicInside(group);
    const all = leaves.length === targets.length &&
      leaves.every((id) => targets.includes(id));
    return all
      ? `→ the matching one of its ${targets.length} states:`
      : `→ one of ${targets.map((id) => boxes.get(id)!.label).join(", ")}:`;
  }

  function atomicInside(group: DiagramBox): string[] {
    return group.children.flatMap((child) =>
      child.kind === "any"
        ? []
        : child.children.length === 0
        ? [child.id]
        : atomicInside(child)
    );
  }

  // One edge per pair of boxes, in definition order.
  const pairs = new Map<string, EdgeItem[]>();
  for (const item of items) {
    const key = JSON.stringify([item.from, item.to]);
    const list = pairs.get(key) ?? [];
    list.push(fanned.has(item) ? { ...item, fanOut: true } : item);
    pairs.set(key, list);
  }
  const edges: DiagramEdge[] = [];
  for (const list of pairs.values()) {
    const labelled = list.filter((i) => !i.fanOut);
    const kinds = new Set(labelled.map((i) => i.t.kind));
    edges.push({
      from: list[0].from,
      to: list[0].to,
      label: edgeLabel(labelled.map((i) => i.t), showActions, width),
      kind: labelled.length === 0
        ? "fanOut"
        : kinds.size === 1
        ? [...kinds][0]
        : "mixed",
    });
  }

  return {
    id: walked.id,
    title: options.title ?? walked.id,
    direction: options.direction ?? "TB",
    root,
    boxes,
    edges,
    machine: walked,
  };
}

function countInside(state: WalkedState): number {
  return state.children.reduce((n, c) => n + 1 + countInside(c), 0);
}

function actionsText(t: WalkedTransition, show: boolean): string {
  return show && t.actions.length > 0 ? ` / ${t.actions.join(", ")}` : "";
}

function guardText(t: WalkedTransition): string {
  return t.guard === null ? "" : ` [${t.guard}]`;
}

/**
 * Transitions drawn as text on their state; those alike but for the event
 * share a line: `ignore GTW_EVENT | PROGRAM_STATUS [isRepeat]`.
 */
function internalLines(
  list: readonly { t: WalkedTransition; reenters: boolean }[],
): string[] {
  const lines = new Map<string, { head: string; events: string[] }>();
  for (const { t, reenters } of list) {
    const head = reenters ? "" : t.actions.length === 0 ? "ignore " : "";
    const tail = `${guardText(t)}${reenters ? " ↻" : ""}${
      actionsText(t, true)
    }`;
    const key = JSON.stringify([head, tail]);
    const line = lines.get(key) ?? { head, events: [] };
    if (!line.events.includes(t.event)) line.events.push(t.event);
    lines.set(key, line);
  }
  return [...lines].map(([key, { head, events }]) =>
    `${head}${events.join(" | ")}${JSON.parse(key)[1]}`
  );
}

/**
 * Transitions with the same guard and actions share a line:
 * `GTW_EVENT | PROGRAM_STATUS [isRepeat]`.
 */
function edgeLabel(
  transitions: readonly WalkedTransition[],
  showActions: boolean,
  width: number,
): string[] {
  const lines = new Map<string, string[]>();
  for (const t of transitions) {
    const tail = `${guardText(t)}${actionsText(t, showActions)}`;
    const events = lines.get(tail) ?? [];
    if (!events.includes(t.event)) events.push(t.event);
    lines.set(tail, events);
  }
  return [...lines].flatMap(([tail, events]) =>
    wrap(`${events.join(" | ")}${tail}`, width)
  );
}

/**
 * Breaks a line so that no piece is much wider than `width`: between the
 * events of `A | B | C` first, so each event stays whole, then at spaces.
 */
export function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const segments = text.split(" | ");
  const words = segments.flatMap((segment, i) => {
    const last = i === segments.length - 1;
    const unit = last ? segment : `${segment} |`;
    return unit.length <= width ? [unit] : unit.split(" ");
  });
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
