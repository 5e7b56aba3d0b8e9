/**
 * OpenD's program status: 13 states (grouped starting, loggingIn, preparing,
 * Ready, stopped) in a `status` region beside a `fault` region (healthy /
 * fatal). Tags: `ready`, `needsCode`, `needsPerson`, `fatal`.
 *
 * Events: `PROGRAM_STATUS` (authoritative), `GTW_EVENT` (follows the policy's
 * implied status), `CONN_STATUS`, `QOT_RIGHT`, `API_QUOTA`, `USED_QUOTA`,
 * `API_LEVEL`, `UNKNOWN_NOTIFICATION` (context only) and `RESET` (the only way
 * out of `fatal`). Unknown numbers are kept in `context.unknown` and never
 * move the state.
 *
 * @example
 * ```ts
 * import { createActor } from "npm:xstate@5.33.3";
 * import { programStatusMachine } from "./program_status_machine.ts";
 * const status = createActor(programStatusMachine).start();
 * status.send({ type: "GTW_EVENT", eventType: 7, desc: "logged in elsewhere" });
 * status.getSnapshot().context.statusName; // "ForceLogout"
 * status.getSnapshot().hasTag("needsPerson"); // true
 * ```
 */
import { assign, emit, setup } from "../deps.ts";
import {
  gatewayGuards,
  gatewayRegionConfig,
  type GatewayTag,
} from "./_gateway_region.ts";
import type { GatewayInputEvent, ResetEvent } from "./gateway_events.ts";
import {
  emptyGatewayRecord,
  fatalFromGtwEvent,
  fatalFromStatus,
  type FatalInfo,
  type GatewayRecord,
  recordApiQuota,
  recordConnStatus,
  recordGtwEvent,
  recordQotRight,
  recordStatus,
  recordUnknownGtwEvent,
  recordUnknownNotification,
  recordUnknownStatus,
  recordUsedQuota,
} from "./gateway_record.ts";
import { defaultPolicy, type Policy } from "./policy.ts";

/** What the program-status machine knows, plus the policy it follows. */
export interface ProgramStatusContext extends GatewayRecord {
  /** The policy this machine follows. */
  readonly policy: Policy;
}

/** Input: the policy to follow (the default one when absent). */
export interface ProgramStatusInput {
  /** The policy to follow; the default one when absent. */
  readonly policy?: Policy;
}

/** Every event the program-status machine accepts. */
export type ProgramStatusMachineEvent = GatewayInputEvent | ResetEvent;

/** Emitted once when the gateway becomes fatal. */
export interface FatalEmitted extends FatalInfo {
  /** Discriminant. */
  readonly type: "fatal";
}

/** Asserts the event type at runtime (the config guarantees it). */
function as<T extends ProgramStatusMachineEvent["type"]>(
  event: ProgramStatusMachineEvent,
  type: T,
): Extract<ProgramStatusMachineEvent, { type: T }> {
  if (event.type !== type) {
    throw new Error(`expected ${type}, received ${event.type}`);
  }
  return event as Extract<ProgramStatusMachineEvent, { type: T }>;
}

// Exported (hidden from the docs) only so the public constant below can
// carry an explicit type: XState's inferred machine type is too long to spell.
/** @ignore */
export const programStatusMachineDefinition = setup({
  types: {
    context: {} as ProgramStatusContext,
    events: {} as ProgramStatusMachineEvent,
    // `void`, not `undefined`: XState drops `undefined` from this type, which
    // would make `input` mandatory in createActor.
    input: {} as ProgramStatusInput | void,
    tags: {} as GatewayTag,
    emitted: {} as FatalEmitted,
  },
  guards: gatewayGuards<ProgramStatusContext>((context) => context.policy),
  actions: {
    recordStatus: assign(({ context, event }) =>
      recordStatus(context, as(event, "PROGRAM_STATUS"))
    ),
    recordUnknownStatus: assign(({ context, event }) =>
      recordUnknownStatus(context, as(event, "PROGRAM_STATUS"))
    ),
    recordGtwEvent: assign(({ context, event }) =>
      recordGtwEvent(context, as(event, "GTW_EVENT"), context.policy)
    ),
    recordUnknownGtwEvent: assign(({ context, event }) =>
      recordUnknownGtwEvent(context, as(event, "GTW_EVENT"))
    ),
    recordConnStatus: assign(({ context, event }) =>
      recordConnStatus(context, as(event, "CONN_STATUS"))
    ),
    recordQotRight: assign(({ context, event }) =>
      recordQotRight(context, as(event, "QOT_RIGHT"))
    ),
    recordApiQuota: assign(({ context, event }) =>
      recordApiQuota(context, as(event, "API_QUOTA"))
    ),
    recordUsedQuota: assign(({ context, event }) =>
      recordUsedQuota(context, as(event, "USED_QUOTA"))
    ),
    recordApiLevel: assign(({ event }) => ({
      apiLevel: as(event, "API_LEVEL").apiLevel,
    })),
    recordUnknownNotification: assign(({ context, event }) =>
      recordUnknownNotification(
        context,
        as(event, "UNKNOWN_NOTIFICATION").notifyType,
      )
    ),
    recordFatal: assign(({ context, event }) => ({
      fatal: event.type === "GTW_EVENT"
        ? fatalFromGtwEvent(event, context.policy)
        : fatalFromStatus(as(event, "PROGRAM_STATUS"), context.policy),
    })),
    announceFatal: emit(({ context }) => ({
      type: "fatal" as const,
      ...context.fatal ?? { reason: "unknown" },
    })),
    resetGateway: assign(({ context }) => ({
      ...emptyGatewayRecord(),
      policy: context.policy,
    })),
  },
}).createMachine({
  id: "programStatus",
  context: ({ input }) => ({
    ...emptyGatewayRecord(),
    policy: (input as ProgramStatusInput | undefined)?.policy ?? defaultPolicy,
  }),
  ...gatewayRegionConfig,
});

/** The type of {@link programStatusMachine}. */
export type ProgramStatusMachine = typeof programStatusMachineDefinition;

/**
 * OpenD's program status as a statechart: 13 states in five groups, tags
 * `ready`, `needsCode`, `needsPerson`, `fatal`, driven by PROGRAM_STATUS,
 * GTW_EVENT and the other notification events.
 */
export const programStatusMachine: ProgramStatusMachine =
  programStatusMachineDefinition;
