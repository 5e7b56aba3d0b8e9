/**
 * Reads an XState v5 machine's definition (the `machine.root` StateNode tree)
 * into plain data for the diagram renderers. Only what the definition says:
 * no layout or readability decisions live here (see `_graph_diagram.ts`).
 *
 * XState does not publish a stable type for the resolved tree, so the few
 * fields read are declared structurally below; `tests/viz_test.ts` pins them
 * against xstate 5.33.3.
 * @module
 */

/** The kinds of XState state nodes. */
export type StateKind =
  | "atomic"
  | "compound"
  | "parallel"
  | "final"
  | "history";

/** What started a transition, to style and label it. */
export type TransitionKind =
  | "event"
  | "after"
  | "always"
  | "done"
  | "error"
  | "snapshot"
  | "stateDone";

/** One state node, as defined. */
export interface WalkedState {
  readonly id: string;
  readonly key: string;
  readonly path: readonly string[];
  readonly type: StateKind;
  readonly history: "shallow" | "deep" | null;
  /** Ids of the initial child states (compound states only). */
  readonly initial: readonly string[];
  readonly tags: readonly string[];
  readonly entry: readonly string[];
  readonly exit: readonly string[];
  /** Actor logic names (`src`) of the state's invokes. */
  readonly invokes: readonly string[];
  readonly description: string | null;
  readonly children: readonly WalkedState[];
}

/** One transition, as defined, in document order. */
export interface WalkedTransition {
  /** Id of the state node that owns the transition. */
  readonly source: string;
  /** Ids of its targets; empty when it has none (actions only, or ignored). */
  readonly targets: readonly string[];
  /** XState's event type (`xstate.after.<delay>.<id>` and friends included). */
  readonly eventType: string;
  /** A short name for people: `after keepAliveInterval`, `done initConnect`. */
  readonly event: string;
  readonly kind: TransitionKind;
  /** `name`, `name(param values)`, `a && b`, `!a`, `in #id`; null when none. */
  readonly guard: string | null;
  /** The guard's name with parameter names instead of values. */
  readonly guardShape: string | null;
  readonly actions: readonly string[];
  readonly reenter: boolean;
}

/** The whole definition. */
export interface WalkedMachine {
  readonly id: string;
  readonly root: WalkedState;
  readonly transitions: readonly WalkedTransition[];
  /** Every state node by id. */
  readonly states: ReadonlyMap<string, WalkedState>;
}

interface NodeLike {
  readonly id: string;
  readonly key: string;
  readonly path: string[];
  readonly type: StateKind;
  readonly history: false | "shallow" | "deep";
  readonly description?: string;
  readonly tags: string[];
  readonly entry: unknown[];
  readonly exit: unknown[];
  readonly states: Record<string, NodeLike>;
  readonly initial?: { readonly target: readonly NodeLike[] };
  readonly invoke: readonly { readonly id: string; readonly src: string }[];
  readonly transitions: ReadonlyMap<string, readonly TransitionLike[]>;
  readonly always?: readonly TransitionLike[];
}

interface TransitionLike {
  readonly eventType: string;
  readonly target?: readonly NodeLike[];
  readonly guard?: unknown;
  readonly actions: readonly unknown[];
  readonly reenter: boolean;
  readonly delay?: number | string;
}

type Callable = ((...args: never[]) => unknown) & Record<string, unknown>;

/** Reads `machine`'s definition. */
export function walkMachine(machine: { readonly root: object }): WalkedMachine {
  const root = (machine as unknown as { root: NodeLike }).root;
  const states = new Map<string, WalkedState>();
  const transitions: WalkedTransition[] = [];
  const prefix = `#${root.id}.`;

  const visit = (node: NodeLike): WalkedState => {
    const children = Object.values(node.states).map(visit);
    const state: WalkedState = {
      id: node.id,
      key: node.key,
      path: [...node.path],
      type: node.type,
      history: node.history === false ? null : node.history,
      initial: node.type === "compound"
        ? (node.initial?.target ?? []).map((t) => t.id)
        : [],
      tags: [...node.tags].map(String),
      entry: actionNames(node.entry),
      exit: actionNames(node.exit),
      invokes: node.invoke.map((i) => i.src),
      description: node.description ?? null,
      children,
    };
    states.set(state.id, state);
    return state;
  };

  const collect = (node: NodeLike): void => {
    const invokeNames = new Map(
      node.invoke.map((def, i) => [def.id, invokeName(node, def, i)]),
    );
    for (const [descriptor, list] of node.transitions) {
      for (const t of list) {
        transitions.push(toTransition(node, descriptor, t, invokeNames));
      }
    }
    for (const t of node.always ?? []) {
      transitions.push(toTransition(node, "", t, invokeNames));
    }
    for (const child of Object.values(node.states)) collect(child);
  };

  const walkedRoot = visit(root);
  collect(root);

  function toTransition(
    node: NodeLike,
    descriptor: string,
    t: TransitionLike,
    invokeNames: ReadonlyMap<string, string>,
  ): WalkedTransition {
    const { event, kind } = describeEvent(descriptor, t, node, invokeNames);
    return {
      source: node.id,
      targets: (t.target ?? []).map((target) => target.id),
      eventType: descriptor,
      event,
      kind,
      guard: t.guard === undefined ? null : guardLabel(t.guard, prefix, false),
      guardShape: t.guard === undefined
        ? null
        : guardLabel(t.guard, prefix, true),
      actions: actionNames(t.actions),
      reenter: t.reenter,
    };
  }

  return {
    id: root.id,
    root: walkedRoot,
    transitions,
    states,
  };
}

/** The name people know an invoked actor by. */
function invokeName(
  node: NodeLike,
  def: { readonly id: string; readonly src: string },
  index: number,
): string {
  // XState's generated ids (`0.session.link`) mean nothing to a reader.
  return def.id === `${index}.${node.id}` ? def.src : def.id;
}

function describeEvent(
  descriptor: string,
  t: TransitionLike,
  node: NodeLike,
  invokeNames: ReadonlyMap<string, string>,
): { event: string; kind: TransitionKind } {
  if (descriptor === "") return { event: "always", kind: "always" };
  if (descriptor.startsWith("xstate.after.")) {
    const delay = t.delay ??
      descriptor.slice("xstate.after.".length, -(node.id.length + 1));
    return {
      event: typeof delay === "number" ? `after ${delay}ms` : `after ${delay}`,
      kind: "after",
    };
  }
  for (
    const [head, kind] of [
      ["xstate.done.actor.", "done"],
      ["xstate.error.actor.", "error"],
      ["xstate.snapshot.", "snapshot"],
    ] as const
  ) {
    if (descriptor.startsWith(head)) {
      const id = descriptor.slice(head.length);
      return { event: `${kind} ${invokeNames.get(id) ?? id}`, kind };
    }
  }
  if (descriptor === `xstate.done.state.${node.id}`) {
    return { event: "done", kind: "stateDone" };
  }
  return { event: descriptor, kind: "event" };
}

/** Names of actions, leaving out the raise/cancel XState adds for `after`. */
export function actionNames(actions: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const action of actions) {
    const name = actionName(action);
    if (name !== undefined) names.push(name);
  }
  return names;
}

function actionName(action: unknown): string | undefined {
  if (typeof action === "string") return action;
  if (typeof action === "function") {
    const fn = action as Callable;
    const type = typeof fn.type === "string" ? fn.type : undefined;
    if (type === undefined) return inlineName(fn.name);
    if (isDelayMachinery(fn, type)) return undefined;
    return type.replace(/^xstate\./, "");
  }
  if (action !== null && typeof action === "object") {
    const type = (action as { type?: unknown }).type;
    return typeof type === "string" ? type : "(action)";
  }
  return undefined;
}

function isDelayMachinery(fn: Callable, type: string): boolean {
  const isAfter = (v: unknown) =>
    typeof v === "string" && v.startsWith("xstate.after.");
  return (type === "xstate.raise" && isAfter(fn.id)) ||
    (type === "xstate.cancel" && isAfter(fn.sendId));
}

function inlineName(name: string): string {
  // An inline function is named after the config key it sits in.
  return name === "" || ["entry", "exit", "actions", "guard"].includes(name)
    ? "(inline)"
    : name;
}

/**
 * A guard for people. With `shape`, parameter names replace their values, so
 * one guard used with many parameters reads the same everywhere.
 */
export function guardLabel(
  guard: unknown,
  prefix: string,
  shape: boolean,
): string {
  if (typeof guard === "string") return guard;
  if (typeof guard === "function") {
    const fn = guard as Callable;
    if (typeof fn.check !== "function") return inlineName(fn.name);
    if ("stateValue" in fn) {
      const value = fn.stateValue;
      const text = typeof value === "string"
        ? value.startsWith(prefix) ? value.slice(prefix.length) : value
        : JSON.stringify(value);
      return `in ${text}`;
    }
    const inner = Array.isArray(fn.guards)
      ? fn.guards.map((g) => guardLabel(g, prefix, shape))
      : [];
    const wrap = (s: string) => /\s/.test(s) ? `(${s})` : s;
    if (fn.name === "not") return `!${wrap(inner[0] ?? "?")}`;
    if (fn.name === "and") return inner.map(wrap).join(" && ");
    if (fn.name === "or") return inner.map(wrap).join(" || ");
    return `${fn.name}(${inner.join(", ")})`;
  }
  if (guard !== null && typeof guard === "object") {
    const { type, params } = guard as { type?: unknown; params?: unknown };
    const name = typeof type === "string"
      ? type
      : guardLabel(type, prefix, shape);
    if (params === undefined) return name;
    return `${name}(${paramsText(params, shape)})`;
  }
  return String(guard);
}

function paramsText(params: unknown, shape: boolean): string {
  if (typeof params === "function") return "…";
  if (params === null || typeof params !== "object") return valueText(params);
  const entries = Object.entries(params as Record<string, unknown>);
  return shape
    ? entries.map(([key]) => key).join(", ")
    : entries.map(([, value]) => valueText(value)).join(", ");
}

function valueText(value: unknown): string {
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  if (typeof value === "function") return "ƒ";
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${valueText(v)}`)
      .join(", ");
  }
  return String(value);
}
