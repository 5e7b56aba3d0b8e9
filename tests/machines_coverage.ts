/**
 * Model-based coverage for the machines, built on XState's own graph
 * utilities (`xstate/graph`).
 *
 * Two measurements, both checked against the machine's definition (every
 * state node, every transition definition including eventless ones):
 *
 * - while `TestModel` generates paths, every transition XState computes is
 *   observed through the inspection API of the traversal's actor system, so
 *   each explored edge (the shortest path to its source plus one event)
 *   counts, including eventless and raised steps;
 * - every generated path is then run with `path.test()` against a real actor
 *   (the system under test), which must land where the model says after each
 *   step; what that actor enters and takes counts too.
 * @module
 */
import {
  type AnyActorLogic,
  type AnyStateMachine,
  type AnyStateNode,
  createActor,
  type EventObject,
  fromCallback,
  fromPromise,
  type InspectionEvent,
  type Observer,
} from "xstate";
import {
  getStateNodes,
  TestModel,
  type TestPath,
  type TraversalOptions,
} from "xstate/graph";
import { assertEquals } from "@std/assert";
import { ManualClock } from "./machines_harness.ts";

interface TransitionLike {
  readonly source: AnyStateNode;
  readonly eventType: string;
  readonly target?: readonly AnyStateNode[];
}

// deno-lint-ignore no-explicit-any
type AnySnapshot = any;

/** An event with any payload, including deliberately malformed ones. */
export type ModelEvent = EventObject & Record<string, unknown>;

function allNodes(machine: AnyStateMachine): AnyStateNode[] {
  return [machine.root, ...getStateNodes(machine.root)];
}

/** A stable, readable name for one transition definition. */
export function transitionKey(transition: TransitionLike): string {
  const { source, eventType } = transition;
  const siblings: readonly unknown[] = eventType === ""
    ? source.always ?? []
    : source.transitions.get(eventType) ?? [];
  const index = siblings.indexOf(transition);
  const targets = transition.target?.map((node) => node.id).join(",") ?? "-";
  return `${source.id} --${eventType || "always"}[${index}]--> ${targets}`;
}

/** Every state node id (but the root) and every transition of `machine`. */
export function definitionOf(machine: AnyStateMachine): {
  states: string[];
  transitions: string[];
} {
  const states = getStateNodes(machine.root).map((node) => node.id);
  const transitions: string[] = [];
  for (const node of allNodes(machine)) {
    for (const list of node.transitions.values()) {
      for (const transition of list) {
        transitions.push(transitionKey(transition));
      }
    }
    for (const transition of node.always ?? []) {
      transitions.push(transitionKey(transition));
    }
  }
  return { states, transitions };
}

/** Every event type some transition of `machine` listens for. */
export function eventTypesOf(machine: AnyStateMachine): string[] {
  const types = new Set<string>();
  for (const node of allNodes(machine)) {
    for (const type of node.transitions.keys()) types.add(type);
  }
  return [...types];
}

/**
 * The events to explore `machine` with: the given examples, then for every
 * other event type its transitions listen for (optionally only those `wanted`):
 * each given output for an invoked actor's done event (`undefined` when none
 * is given), an Error for an error event, and a bare `{ type }` for anything
 * else (delayed transitions; and any new event type nobody wrote an example
 * for, so it is at least attempted, and reported if that is not enough).
 */
export function eventsToExplore(
  machine: AnyStateMachine,
  examples: readonly ModelEvent[],
  outputs: Readonly<Record<string, readonly unknown[]>> = {},
  wanted: (type: string) => boolean = () => true,
): ModelEvent[] {
  const events: ModelEvent[] = [...examples];
  const given = new Set(examples.map((event) => event.type));
  for (const type of eventTypesOf(machine)) {
    if (given.has(type) || !wanted(type)) continue;
    const done = /^xstate\.done\.actor\.(.+)$/.exec(type);
    if (done) {
      for (const output of outputs[done[1]] ?? [undefined]) {
        events.push({ type, output });
      }
    } else if (type.startsWith("xstate.error.actor.")) {
      events.push({ type, error: new Error("failed in the model") });
    } else {
      events.push({ type });
    }
  }
  return events;
}

/**
 * Only the events some active state node listens for: the rest would be
 * self-loops that cost time and teach nothing.
 */
export function relevantTo(
  events: readonly EventObject[],
): (snapshot: AnySnapshot) => EventObject[] {
  return (snapshot) => {
    const types = new Set<string>();
    for (const node of snapshot._nodes as AnyStateNode[]) {
      for (const type of node.transitions.keys()) types.add(type);
    }
    return events.filter((event) => types.has(event.type));
  };
}

/** What was entered and taken. */
export interface Reached {
  readonly states: Set<string>;
  readonly transitions: Set<string>;
}

/** An empty {@link Reached}. */
export function nothingReached(): Reached {
  return { states: new Set(), transitions: new Set() };
}

/** `into` with everything `from` reached added. */
export function mergeReached(into: Reached, from: Reached): Reached {
  for (const state of from.states) into.states.add(state);
  for (const transition of from.transitions) into.transitions.add(transition);
  return into;
}

function recorder(reached: Reached): Observer<InspectionEvent> {
  return {
    next(event) {
      if (event.type !== "@xstate.microstep") return;
      const { _transitions, snapshot } = event as InspectionEvent & {
        _transitions: TransitionLike[];
        snapshot: { _nodes: AnyStateNode[] };
      };
      for (const transition of _transitions) {
        reached.transitions.add(transitionKey(transition));
      }
      for (const node of snapshot._nodes) {
        if (node.parent) reached.states.add(node.id);
      }
    },
  };
}

/**
 * `machine` as logic for the graph utilities, reporting every transition
 * they compute into `reached`.
 */
function observed(machine: AnyStateMachine, reached: Reached): AnyStateMachine {
  const watched = new WeakSet<object>();
  const observer = recorder(reached);
  return Object.create(machine, {
    transition: {
      value: (
        snapshot: AnySnapshot,
        event: EventObject,
        scope: { system: { inspect(o: Observer<InspectionEvent>): unknown } },
      ) => {
        if (!watched.has(scope.system)) {
          watched.add(scope.system);
          scope.system.inspect(observer);
        }
        return machine.transition(snapshot, event, scope as never);
      },
    },
  });
}

/** How to explore a machine. */
export interface Exploration {
  readonly events: readonly EventObject[];
  /**
   * Which details make a state distinct (the rest is folded together). It is
   * also given the event that led there and the state before, so including
   * them makes every transition its own target.
   */
  readonly serializeState: (
    snapshot: AnySnapshot,
    event: EventObject | undefined,
    previous: AnySnapshot | undefined,
  ) => string;
  readonly input?: unknown;
}

/** Paths XState's graph utilities generated, and what generating them took. */
export interface Explored {
  readonly paths: TestPath<AnySnapshot, EventObject>[];
  readonly reached: Reached;
}

/**
 * Shortest paths (deduplicated by `TestModel`) to every distinct state of
 * `machine` under `exploration`, with the coverage of the exploration.
 */
export function explore(
  machine: AnyStateMachine,
  exploration: Exploration,
): Explored {
  const reached = nothingReached();
  const model = new TestModel(observed(machine, reached));
  const options: TraversalOptions<AnySnapshot, EventObject, unknown> = {
    events: relevantTo(exploration.events),
    serializeState: exploration.serializeState,
    input: exploration.input,
  };
  const paths = model.getShortestPaths(options);
  return { paths, reached };
}

/** Actors that never answer: the paths deliver their results as events. */
function silentActors(machine: AnyStateMachine): Record<string, AnyActorLogic> {
  const actors: Record<string, AnyActorLogic> = {};
  for (const name of Object.keys(machine.implementations.actors)) {
    actors[name] = name === "link"
      ? fromCallback(() => {})
      : fromPromise(() => new Promise<never>(() => {}));
  }
  return actors;
}

/**
 * Runs every path with `path.test()` on a fresh real actor of `machine`
 * (silent actors, a clock that never moves): after each step the actor must be
 * in the state the model reached, as far as `exploration` distinguishes
 * states. Records what the actors entered and took.
 */
export async function testPaths(
  machine: AnyStateMachine,
  paths: readonly TestPath<AnySnapshot, EventObject>[],
  exploration: Pick<Exploration, "input" | "serializeState">,
  reached: Reached = nothingReached(),
): Promise<Reached> {
  const provided = machine.provide({ actors: silentActors(machine) });
  const types = eventTypesOf(machine);
  const seen = (snapshot: AnySnapshot) =>
    exploration.serializeState(snapshot, undefined, undefined);
  for (const path of paths) {
    const actor = createActor(provided, {
      input: exploration.input,
      clock: new ManualClock(),
      inspect: recorder(reached),
    });
    actor.start();
    const send = ({ event }: { event: EventObject }) => actor.send(event);
    try {
      await path.test({
        events: Object.fromEntries(types.map((type) => [type, send])),
        states: {
          "*": (state: AnySnapshot) =>
            assertEquals(seen(actor.getSnapshot()), seen(state)),
        },
      });
    } catch (error) {
      const events = path.steps.map((step) => JSON.stringify(step.event));
      const why = String((error as Error).message).split("\nPath:")[0];
      throw new Error(
        `the actor left the model on ${events.join(" -> ")}\n${why}`,
      );
    } finally {
      actor.stop();
    }
  }
  return reached;
}

/** What the paths missed: empty lists mean full coverage. */
export interface CoverageGap {
  readonly unreachedStates: string[];
  readonly untakenTransitions: string[];
}

/** The states and transitions of `machine` that `reached` misses. */
export function gapOf(machine: AnyStateMachine, reached: Reached): CoverageGap {
  const { states, transitions } = definitionOf(machine);
  return {
    unreachedStates: states.filter((id) => !reached.states.has(id)),
    untakenTransitions: transitions.filter((key) =>
      !reached.transitions.has(key)
    ),
  };
}
