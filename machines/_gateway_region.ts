/**
 * The program-status statechart as a reusable region: the standalone
 * `programStatusMachine` is this region, and the session supervisor embeds it
 * as its `gateway` region, so both read the same picture.
 *
 * The config names its actions and guards; each machine implements them over
 * its own context shape (see `gatewayGuards`).
 * @module
 */
import {
  GtwEventType,
  nameOf,
  ProgramStatusType,
  type ProgramStatusTypeName,
} from "../codec/definitions.ts";
import type { GtwEventEvent, ProgramStatusEvent } from "./gateway_events.ts";
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
