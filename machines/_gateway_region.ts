/**
 * The program-status statechart as a reusable region: the standalone
 * `programStatusMachine` is this region, and the session supervisor embeds it
 * as its `gateway` region, so both read the same picture.
 *
 * The config names its actions and guards; `gatewayGuards` and
 * `gatewayActions` implement them over any context that keeps a
 * `GatewayRecord` and a policy, so each machine only says where.
 * @module
 */
import { assign, emit, type EventObject } from "../deps.ts";
import {
  GtwEventType,
  nameOf,
  ProgramStatusType,
  type ProgramStatusTypeName,
} from "../codec/definitions.ts";
import type {
  GatewayInputEvent,
  GtwEventEvent,
  ProgramStatusEvent,
} from "./gateway_events.ts";
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
import {
  gtwEventRule,
  impliedStatusOf,
  type Policy,
  statusRule,
} from "./policy.ts";

/** Tags a UI can rely on. */
export type GatewayTag = "ready" | "needsCode" | "needsPerson" | "fatal";

/** Where each ProgramStatusType lives, relative to the `status` region. */
export const STATUS_STATE_PATHS: Readonly<
  Record<ProgramStatusTypeName, readonly string[]>
> = Object.freeze({
  None: ["starting", "None"],
  Loaded: ["starting", "Loaded"],
  Loging: ["loggingIn", "Loging"],
  NeedPicVerifyCode: ["loggingIn", "NeedPicVerifyCode"],
  NeedPhoneVerifyCode: ["loggingIn", "NeedPhoneVerifyCode"],
  NessaryDataPreparing: ["preparing", "NessaryDataPreparing"],
  Ready: ["Ready"],
  LoginFailed: ["stopped", "LoginFailed"],
  ForceUpdate: ["stopped", "ForceUpdate"],
  NessaryDataMissing: ["stopped", "NessaryDataMissing"],
  UnAgreeDisclaimer: ["stopped", "UnAgreeDisclaimer"],
  DisclaimerPullFailed: ["stopped", "DisclaimerPullFailed"],
  ForceLogout: ["stopped", "ForceLogout"],
});

const STATUS_NAMES = Object.keys(ProgramStatusType) as ProgramStatusTypeName[];

function statusTarget(name: ProgramStatusTypeName): string {
  return `.${STATUS_STATE_PATHS[name].join(".")}`;
}

const followReportedStatus = STATUS_NAMES.map((name) => ({
  guard: {
    type: "reportsStatus" as const,
    params: { status: ProgramStatusType[name] as number },
  },
  target: statusTarget(name),
  actions: "recordStatus" as const,
}));

const followImpliedStatus = STATUS_NAMES.map((name) => ({
  guard: {
    type: "gtwEventImplies" as const,
    params: { status: ProgramStatusType[name] as number },
  },
  target: statusTarget(name),
  actions: "recordGtwEvent" as const,
}));

/**
 * The region: `status` (13 ProgramStatusType states in five groups) and
 * `fault` (healthy / fatal) in parallel, plus context-only inputs.
 *
 * Status transitions live on the `status` region so any status can follow
 * any other: PROGRAM_STATUS is authoritative. An unknown value only lands in the
 * record, never moves the state.
 */
export const gatewayRegionConfig = {
  type: "parallel" as const,
  on: {
    CONN_STATUS: { actions: "recordConnStatus" as const },
    QOT_RIGHT: { actions: "recordQotRight" as const },
    API_QUOTA: { actions: "recordApiQuota" as const },
    USED_QUOTA: { actions: "recordUsedQuota" as const },
    API_LEVEL: { actions: "recordApiLevel" as const },
    UNKNOWN_NOTIFICATION: { actions: "recordUnknownNotification" as const },
    RESET: {
      target: [".status.starting.None", ".fault.healthy"],
      actions: "resetGateway" as const,
    },
  },
  states: {
    status: {
      initial: "starting" as const,
      // On the region, not its parent: a transition owned by the parent
      // would exit and re-enter the `fault` region too, forgetting `fatal`.
      on: {
        PROGRAM_STATUS: [
          ...followReportedStatus,
          { actions: "recordUnknownStatus" as const },
        ],
        GTW_EVENT: [
          ...followImpliedStatus,
          {
            guard: "isKnownGtwEvent" as const,
            actions: "recordGtwEvent" as const,
          },
          { actions: "recordUnknownGtwEvent" as const },
        ],
      },
      states: {
        starting: {
          description: "OpenD is starting up",
          initial: "None" as const,
          states: { None: {}, Loaded: {} },
        },
        loggingIn: {
          description: "OpenD is logging in to the broker",
          initial: "Loging" as const,
          states: {
            Loging: {},
            NeedPicVerifyCode: { tags: ["needsCode" as const] },
            NeedPhoneVerifyCode: { tags: ["needsCode" as const] },
          },
        },
        preparing: {
          description: "logged in; OpenD is preparing necessary data",
          initial: "NessaryDataPreparing" as const,
          states: { NessaryDataPreparing: {} },
        },
        Ready: {
          description: "OpenD is logged in and ready",
          tags: ["ready" as const],
        },
        stopped: {
          description: "OpenD is not logged in and will not be by itself",
          initial: "LoginFailed" as const,
          states: {
            LoginFailed: {},
            ForceUpdate: { tags: ["needsPerson" as const] },
            NessaryDataMissing: {},
            UnAgreeDisclaimer: { tags: ["needsPerson" as const] },
            DisclaimerPullFailed: { tags: ["needsPerson" as const] },
            ForceLogout: { tags: ["needsPerson" as const] },
          },
        },
      },
    },
    fault: {
      initial: "healthy" as const,
      states: {
        healthy: {
          on: {
            GTW_EVENT: {
              guard: "isFatalGtwEvent" as const,
              target: "fatal",
              actions: ["recordFatal" as const, "announceFatal" as const],
            },
            PROGRAM_STATUS: {
              guard: "isFatalStatus" as const,
              target: "fatal",
              actions: ["recordFatal" as const, "announceFatal" as const],
            },
          },
        },
        fatal: {
          description: "OpenD cannot go on without a person; RESET leaves",
          tags: ["fatal" as const],
        },
      },
    },
  },
};

type AnyEvent = { readonly type: string };

/** Whether `event` is a PROGRAM_STATUS reporting a known status. */
export function isKnownStatusEvent(
  event: AnyEvent,
): event is ProgramStatusEvent {
  return event.type === "PROGRAM_STATUS" &&
    nameOf(ProgramStatusType, (event as ProgramStatusEvent).status) !==
      undefined;
}

/** Whether `event` is a GTW_EVENT of a known type. */
export function isKnownGtwEvent(event: AnyEvent): event is GtwEventEvent {
  return event.type === "GTW_EVENT" &&
    nameOf(GtwEventType, (event as GtwEventEvent).eventType) !== undefined;
}

/** Whether `policy` says this PROGRAM_STATUS or GTW_EVENT is fatal. */
export function isFatalTrigger(policy: Policy, event: AnyEvent): boolean {
  if (event.type === "PROGRAM_STATUS") {
    return statusRule(policy, (event as ProgramStatusEvent).status)
      ?.reaction === "fatal";
  }
  if (event.type === "GTW_EVENT") {
    return gtwEventRule(policy, (event as GtwEventEvent).eventType)
      ?.reaction === "fatal";
  }
  return false;
}

/** The region's guards, over any context that can name its policy. */
export function gatewayGuards<TContext>(
  policyOf: (context: TContext) => Policy,
): {
  reportsStatus: (
    args: { event: AnyEvent },
    params: { status: number },
  ) => boolean;
  gtwEventImplies: (
    args: { context: TContext; event: AnyEvent },
    params: { status: number },
  ) => boolean;
  isKnownGtwEvent: (args: { event: AnyEvent }) => boolean;
  isFatalGtwEvent: (args: { context: TContext; event: AnyEvent }) => boolean;
  isFatalStatus: (args: { context: TContext; event: AnyEvent }) => boolean;
} {
  return {
    reportsStatus: ({ event }, { status }) =>
      isKnownStatusEvent(event) && event.status === status,
    gtwEventImplies: ({ context, event }, { status }) =>
      isKnownGtwEvent(event) &&
      impliedStatusOf(policyOf(context), event.eventType) === status,
    isKnownGtwEvent: ({ event }) => isKnownGtwEvent(event),
    isFatalGtwEvent: ({ context, event }) =>
      event.type === "GTW_EVENT" && isFatalTrigger(policyOf(context), event),
    isFatalStatus: ({ context, event }) =>
      event.type === "PROGRAM_STATUS" &&
      isFatalTrigger(policyOf(context), event),
  };
}

/** Where a machine keeps the region's knowledge inside its context. */
export interface GatewayLens<TContext> {
  /** The record `context` holds. */
  readonly record: (context: TContext) => GatewayRecord;
  /** The context update that stores `record`. */
  readonly store: (record: GatewayRecord) => Partial<TContext>;
  /** The policy `context` follows. */
  readonly policy: (context: TContext) => Policy;
}

// What XState infers for the params of an action that declares none
// (`NonReducibleUnknown`), so the machines' types stay as they were.
type NoParams = Parameters<ReturnType<typeof assign>>[1];

type GatewayAssign<TContext extends object, TEvent extends EventObject> =
  ReturnType<typeof assign<TContext, TEvent, NoParams, TEvent, never>>;

type FatalAnnouncement = { readonly type: "fatal" } & FatalInfo;

type GatewayAssignName =
  | "recordStatus"
  | "recordUnknownStatus"
  | "recordGtwEvent"
  | "recordUnknownGtwEvent"
  | "recordConnStatus"
  | "recordQotRight"
  | "recordApiQuota"
  | "recordUsedQuota"
  | "recordApiLevel"
  | "recordUnknownNotification"
  | "recordFatal"
  | "resetGateway";

/** The region's actions, as `gatewayActions` returns them. */
export type GatewayActions<
  TContext extends object,
  TEvent extends EventObject,
> =
  & { [K in GatewayAssignName]: GatewayAssign<TContext, TEvent> }
  & {
    announceFatal: ReturnType<
      typeof emit<TContext, TEvent, NoParams, TEvent, FatalAnnouncement>
    >;
  };

/** Asserts the event type at runtime (the config guarantees it). */
function gatewayEvent<T extends GatewayInputEvent["type"]>(
  event: AnyEvent,
  type: T,
): Extract<GatewayInputEvent, { type: T }> {
  if (event.type !== type) {
    throw new Error(`expected ${type}, received ${event.type}`);
  }
  return event as Extract<GatewayInputEvent, { type: T }>;
}

/**
 * The region's actions, over any context `lens` can read the record and the
 * policy from and store the record into. `TEvent` is the machine's event
 * union; the config only runs each action on the events it names.
 */
export function gatewayActions<
  TContext extends object,
  TEvent extends EventObject,
>(lens: GatewayLens<TContext>): GatewayActions<TContext, TEvent> {
  const { record, store, policy } = lens;
  const on = <T extends GatewayInputEvent["type"]>(
    type: T,
    reduce: (
      record: GatewayRecord,
      event: Extract<GatewayInputEvent, { type: T }>,
      policy: Policy,
    ) => GatewayRecord,
  ): GatewayAssign<TContext, TEvent> =>
    assign<TContext, TEvent, NoParams, TEvent, never>(({ context, event }) =>
      store(reduce(record(context), gatewayEvent(event, type), policy(context)))
    );
  return {
    recordStatus: on("PROGRAM_STATUS", recordStatus),
    recordUnknownStatus: on("PROGRAM_STATUS", recordUnknownStatus),
    recordGtwEvent: on("GTW_EVENT", recordGtwEvent),
    recordUnknownGtwEvent: on("GTW_EVENT", recordUnknownGtwEvent),
    recordConnStatus: on("CONN_STATUS", recordConnStatus),
    recordQotRight: on("QOT_RIGHT", recordQotRight),
    recordApiQuota: on("API_QUOTA", recordApiQuota),
    recordUsedQuota: on("USED_QUOTA", recordUsedQuota),
    recordApiLevel: on("API_LEVEL", (r, e) => ({ ...r, apiLevel: e.apiLevel })),
    recordUnknownNotification: on(
      "UNKNOWN_NOTIFICATION",
      (r, e) => recordUnknownNotification(r, e.notifyType),
    ),
    recordFatal: assign<TContext, TEvent, NoParams, TEvent, never>(
      ({ context, event }) =>
        store({
          ...record(context),
          fatal: event.type === "GTW_EVENT"
            ? fatalFromGtwEvent(
              gatewayEvent(event, "GTW_EVENT"),
              policy(context),
            )
            : fatalFromStatus(
              gatewayEvent(event, "PROGRAM_STATUS"),
              policy(context),
            ),
        }),
    ),
    announceFatal: emit<
      TContext,
      TEvent,
      NoParams,
      TEvent,
      FatalAnnouncement
    >(({ context }) => ({
      type: "fatal" as const,
      ...record(context).fatal ?? { reason: "unknown" },
    })),
    resetGateway: assign<TContext, TEvent, NoParams, TEvent, never>(() =>
      store(emptyGatewayRecord())
    ),
  };
}
