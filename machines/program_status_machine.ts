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
import { setup } from "../deps.ts";
import {
  type ExplicitMachine,
  explicitMachine,
  type StateValue,
} from "./_xstate_types.ts";
import {
  gatewayActions,
  gatewayGuards,
  type GatewayLens,
  gatewayRegionConfig,
  type GatewayTag,
} from "./_gateway_region.ts";
import type { GatewayInputEvent, ResetEvent } from "./gateway_events.ts";
import {
  emptyGatewayRecord,
  type FatalInfo,
  type GatewayRecord,
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

// The whole context is the record, plus the policy.
const gateway: GatewayLens<ProgramStatusContext> = {
  record: (context) => context,
  store: (record) => record,
  policy: (context) => context.policy,
};

const programStatusMachineDefinition = setup({
  types: {
    context: {} as ProgramStatusContext,
    events: {} as ProgramStatusMachineEvent,
    // `void`, not `undefined`: XState drops `undefined` from this type, which
    // would make `input` mandatory in createActor.
    input: {} as ProgramStatusInput | void,
    tags: {} as GatewayTag,
    emitted: {} as FatalEmitted,
  },
  guards: gatewayGuards<ProgramStatusContext>(gateway.policy),
  actions: gatewayActions<ProgramStatusContext, ProgramStatusMachineEvent>(
    gateway,
  ),
}).createMachine({
  id: "programStatus",
  context: ({ input }) => ({
    ...emptyGatewayRecord(),
    policy: (input as ProgramStatusInput | undefined)?.policy ?? defaultPolicy,
  }),
  ...gatewayRegionConfig,
});

/**
 * The type of {@link programStatusMachine}, spelt out (the package has no
 * inferred types in its public API): its context, events, tags, input and
 * emitted events exactly; actions, guards and state values in general form.
 */
export type ProgramStatusMachine = ExplicitMachine<
  ProgramStatusContext,
  ProgramStatusMachineEvent,
  GatewayTag,
  ProgramStatusInput | void,
  FatalEmitted,
  string,
  { status: StateValue; fault: StateValue }
>;

/**
 * OpenD's program status as a statechart: 13 states in five groups, tags
 * `ready`, `needsCode`, `needsPerson`, `fatal`, driven by PROGRAM_STATUS,
 * GTW_EVENT and the other notification events.
 */
export const programStatusMachine: ProgramStatusMachine = explicitMachine(
  programStatusMachineDefinition,
);
