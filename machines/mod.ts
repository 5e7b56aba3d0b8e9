/**
 * Pure statecharts for OpenD: its program status, and the session supervisor
 * that keeps a connection useful unattended (link lifecycle, keep-alive,
 * reconnect backoff, verification codes, relogin), driven by the reaction
 * policy table. No sockets, no clocks: every side effect is a named actor and
 * every wait a named delay, supplied with `.provide()`.
 *
 * @example
 * ```ts
 * import { createActor } from "npm:xstate@5.33.3";
 * import { notificationToEvent, programStatusMachine } from "./mod.ts";
 * const status = createActor(programStatusMachine).start();
 * status.send(notificationToEvent({
 *   kind: "programStatus",
 *   type: 2,
 *   typeName: "ProgramStatus",
 *   status: 10,
 *   statusName: "Ready",
 * }));
 * status.getSnapshot().hasTag("ready"); // true
 * ```
 * @module
 */
export {
  type CodeKind,
  defaultPolicy,
  definePolicy,
  type GtwEventRule,
  gtwEventRule,
  type GtwEventRuleOverride,
  impliedStatusOf,
  type Policy,
  type PolicyOverrides,
  type Reaction,
  REACTIONS,
  type Rule,
  type RuleOverride,
  statusRule,
} from "./policy.ts";
export {
  type ApiLevelEvent,
  type ApiQuotaEvent,
  type ConnStatusEvent,
  type GatewayInputEvent,
  type GtwEventEvent,
  notificationToEvent,
  type ProgramStatusEvent,
  type QotRightEvent,
  type ResetEvent,
  type UnknownNotificationEvent,
  type UsedQuotaEvent,
} from "./gateway_events.ts";
export {
  type FatalInfo,
  type GatewayRecord,
  type GtwEventSummary,
  MAX_UNKNOWN_INPUTS,
  type UnknownInput,
} from "./gateway_record.ts";
export {
  type FatalEmitted,
  type ProgramStatusContext,
  type ProgramStatusInput,
  type ProgramStatusMachine,
  programStatusMachine,
  type ProgramStatusMachineEvent,
} from "./program_status_machine.ts";
export { type GatewayTag, STATUS_STATE_PATHS } from "./_gateway_region.ts";
export {
  type LinkContext,
  type RecoveryContext,
  type RecoveryTrigger,
  type SessionContext,
  type SessionControlEvent,
  type SessionDelay,
  type SessionEmitted,
  type SessionEvent,
  type SessionInternalEvent,
  type SessionMachine,
  sessionMachine,
  type SessionSnapshot,
  type SessionTag,
} from "./session_machine.ts";
export {
  codeFrom,
  type CodeProviderInput,
  type CodeProviderLogic,
  type CodeProviderOutput,
  type CodeRequestReason,
  type ConnectionInput,
  credentialsFrom,
  type CredentialsProviderInput,
  type CredentialsProviderLogic,
  type CredentialsProviderOutput,
  defaultSessionActors,
  type FailureHints,
  type GetGlobalStateOutput,
  type InitConnectInput,
  type InitConnectOutput,
  type LinkEvent,
  type LinkInput,
  type ReloginInput,
  type RequestCodeInput,
  type SessionActorLogics,
  type SubmitCodeInput,
} from "./session_actors.ts";
export {
  defaultSessionOptions,
  fullJitterBackoff,
  resolveSessionOptions,
  type SessionInput,
  type SessionOptions,
} from "./session_options.ts";
export { type Credentials, redactSecrets, Secret, toSecret } from "./secret.ts";
export {
  describeSession,
  type LinkPhase,
  type SessionSummary,
} from "./describe_session.ts";
export type {
  Actor,
  CallbackActorLogic,
  ExplicitMachine,
  PromiseActorLogic,
  SnapshotFrom,
  StateValue,
} from "./_xstate_types.ts";
