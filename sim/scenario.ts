/**
 * Scenarios as data: timed steps that drive a simulator's fault controls,
 * so a real-world story (kicked out, password changed, flaky network...) can
 * be replayed, stored as JSON and shared.
 * @module
 */
import {
  GtwEventType,
  type GtwEventTypeName,
  ProgramStatusType,
  type ProgramStatusTypeName,
} from "../codec/definitions.ts";
import type { NotificationInput } from "../codec/notify.ts";
import {
  type RefuseMode,
  type SimCodeType,
  WS_FAULTS,
  type WsFault,
} from "./events.ts";
import type { SimAccountChange } from "./_gateway.ts";

/** A ProgramStatusType as a number or its name. */
export type StatusInput = number | ProgramStatusTypeName;
/** A GtwEventType as a number or its name. */
export type GtwEventInput = number | GtwEventTypeName;

/** What a step does, with its arguments: each is one simulator method. */
export type ScenarioAction =
  | {
    action: "setProgramStatus";
    args: { status: StatusInput; strExtDesc?: string };
  }
  | {
    action: "pushGtwEvent";
    args: { eventType: GtwEventInput; desc?: string };
  }
  | { action: "pushNotification"; args: { notification: NotificationInput } }
  | {
    action: "requireVerification";
    args: { codeType: SimCodeType; desc?: string };
  }
  | {
    action: "forceLogout";
    args?: { eventType?: GtwEventInput; desc?: string };
  }
  | { action: "dropAllConnections"; args?: Record<string, never> }
  | { action: "refuseConnections"; args: { ms: number; mode?: RefuseMode } }
  | { action: "restart"; args: { downMs: number } }
  | { action: "setKeepAliveAnswering"; args: { on: boolean } }
  | { action: "sendGarbage"; args?: Record<string, never> }
  | { action: "setAccount"; args: SimAccountChange }
  | { action: "setWebSocketFault"; args: { fault: WsFault | "off" } };

/** A {@link ScenarioAction} name. */
export type ScenarioActionName = ScenarioAction["action"];

/**
 * One step: wait `afterMs` after the previous step (or the start), then run
 * the action. Steps with `afterMs` 0 run right after the previous one, in the
 * same tick, so a GtwEvent and the status change it explains arrive together.
 *
 * @example
 * ```ts
 * import type { ScenarioStep } from "./scenario.ts";
 * const story: ScenarioStep[] = [
 *   { afterMs: 1000, action: "pushGtwEvent", args: { eventType: "KickedOut", desc: "logged in elsewhere" } },
 *   { afterMs: 0, action: "setProgramStatus", args: { status: "ForceLogout" } },
 *   { afterMs: 0, action: "dropAllConnections" },
 * ];
 * ```
 */
export type ScenarioStep = ScenarioAction & {
  /** Milliseconds after the previous step (before `timeScale`). */
  afterMs: number;
  /** What this step stands for in the story; shown in the log. */
  note?: string;
};

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /** Name shown in events and logs (default "custom", or the named scenario's). */
  name?: string;
  /**
   * Multiplies every delay: `afterMs`, and the `ms`/`downMs` of refuse and
   * restart steps (default 1; 0.1 plays the story ten times faster).
   */
  timeScale?: number;
  /** Start over after the last step until cancelled (default false). */
  repeat?: boolean;
}

/** A running scenario. */
export interface ScenarioRun {
  /** The scenario's name. */
  readonly name: string;
  /** Settles when every step ran, or when cancelled (also by the simulator closing). */
  readonly done: Promise<"completed" | "cancelled">;
  /** Stops before the next step; its timer is cleared. */
  cancel(): void;
}

/**
 * The simulator's public controls a step calls, one per action: scenarios
 * drive nothing else.
 */
export interface _ScenarioControls {
  /** See `OpenDSimulator.setProgramStatus`. */
  setProgramStatus(status: number, strExtDesc?: string): void;
  /** See `OpenDSimulator.pushGtwEvent`. */
  pushGtwEvent(eventType: number, desc?: string): number;
  /** See `OpenDSimulator.pushNotification`. */
  pushNotification(notification: NotificationInput): number;
  /** See `OpenDSimulator.requireVerification`. */
  requireVerification(codeType: SimCodeType, desc?: string): void;
  /** See `OpenDSimulator.forceLogout`. */
  forceLogout(eventType?: number, desc?: string): number;
  /** See `OpenDSimulator.dropAllConnections`. */
  dropAllConnections(): number;
  /** See `OpenDSimulator.refuseConnections`. */
  refuseConnections(ms: number, mode?: RefuseMode): Promise<void>;
  /** See `OpenDSimulator.restart`. */
  restart(downMs: number): Promise<void>;
  /** See `OpenDSimulator.setKeepAliveAnswering`. */
  setKeepAliveAnswering(on: boolean): void;
  /** See `OpenDSimulator.sendGarbage`. */
  sendGarbage(): number;
  /** See `OpenDSimulator.setAccount`. */
  setAccount(change: SimAccountChange): void;
  /** See `OpenDSimulator.setWebSocketFault`. */
  setWebSocketFault(fault: WsFault | undefined): void;
}

const ACTIONS: ReadonlySet<string> = new Set<ScenarioActionName>([
  "setProgramStatus",
  "pushGtwEvent",
  "pushNotification",
  "requireVerification",
  "forceLogout",
  "dropAllConnections",
  "refuseConnections",
  "restart",
  "setKeepAliveAnswering",
  "sendGarbage",
  "setAccount",
  "setWebSocketFault",
]);

function resolveEnum(
  table: Readonly<Record<string, number>>,
  value: number | string | undefined,
  what: string,
): number | undefined {
  if (value === undefined || typeof value === "number") return value;
  const n = table[value];
  if (n === undefined) throw new TypeError(`unknown ${what} ${value}`);
  return n;
}

/** A ProgramStatusType number from a number or a name. */
export function _statusValue(status: StatusInput): number {
  return resolveEnum(ProgramStatusType, status, "ProgramStatusType")!;
}

/** A GtwEventType number from a number or a name. */
export function _gtwEventValue(
  eventType: GtwEventInput | undefined,
): number | undefined {
  return resolveEnum(GtwEventType, eventType, "GtwEventType");
}

/**
 * Checks steps read from JSON or written by hand before anything runs.
 * Throws `TypeError` naming the first bad step.
 */
export function validateScenario(steps: readonly ScenarioStep[]): void {
  if (!Array.isArray(steps)) {
    throw new TypeError("a scenario is an array of steps");
  }
  steps.forEach((step, i) => {
    const where = `scenario step ${i + 1}`;
    if (typeof step !== "object" || step === null) {
      throw new TypeError(`${where} is not an object`);
    }
    if (!(Number.isFinite(step.afterMs) && step.afterMs >= 0)) {
      throw new TypeError(`${where}: afterMs must be a number >= 0`);
    }
    if (!ACTIONS.has(step.action)) {
      throw new TypeError(`${where}: unknown action ${String(step.action)}`);
    }
    const args = (step as { args?: Record<string, unknown> }).args;
    switch (step.action) {
      case "setProgramStatus":
        _statusValue(step.args.status);
        break;
      case "pushGtwEvent":
        _gtwEventValue(step.args.eventType);
        break;
      case "forceLogout":
        _gtwEventValue(step.args?.eventType);
        break;
      case "refuseConnections":
        if (!(step.args?.ms >= 0)) {
          throw new TypeError(`${where}: ms must be >= 0`);
        }
        break;
      case "restart":
        if (!(step.args?.downMs >= 0)) {
          throw new TypeError(`${where}: downMs must be >= 0`);
        }
        break;
      case "setKeepAliveAnswering":
        if (typeof args?.on !== "boolean") {
          throw new TypeError(`${where}: on must be a boolean`);
        }
        break;
      case "setWebSocketFault":
        if (
          args?.fault !== "off" &&
          !(WS_FAULTS as readonly unknown[]).includes(args?.fault)
        ) {
          throw new TypeError(
            `${where}: fault must be "off" or one of ${WS_FAULTS.join(", ")}`,
          );
        }
        break;
      case "requireVerification":
        if (args?.codeType !== "phone" && args?.codeType !== "picture") {
          throw new TypeError(
            `${where}: codeType must be "phone" or "picture"`,
          );
        }
        break;
    }
  });
}

/** Runs one step's action on the simulator. */
export function _runStep(
  sim: _ScenarioControls,
  step: ScenarioStep,
  timeScale: number,
): void {
  switch (step.action) {
    case "setProgramStatus":
      sim.setProgramStatus(
        _statusValue(step.args.status),
        step.args.strExtDesc,
      );
      return;
    case "pushGtwEvent":
      sim.pushGtwEvent(_gtwEventValue(step.args.eventType)!, step.args.desc);
      return;
    case "pushNotification":
      sim.pushNotification(step.args.notification);
      return;
    case "requireVerification":
      sim.requireVerification(step.args.codeType, step.args.desc);
      return;
    case "forceLogout":
      sim.forceLogout(_gtwEventValue(step.args?.eventType), step.args?.desc);
      return;
    case "dropAllConnections":
      sim.dropAllConnections();
      return;
    case "refuseConnections":
      void sim.refuseConnections(step.args.ms * timeScale, step.args.mode);
      return;
    case "restart":
      void sim.restart(step.args.downMs * timeScale);
      return;
    case "setKeepAliveAnswering":
      sim.setKeepAliveAnswering(step.args.on);
      return;
    case "sendGarbage":
      sim.sendGarbage();
      return;
    case "setAccount":
      sim.setAccount(step.args);
      return;
    case "setWebSocketFault":
      sim.setWebSocketFault(
        step.args.fault === "off" ? undefined : step.args.fault,
      );
      return;
  }
}
