/**
 * What the supervisor's `recovery` region decides on and does: its guards
 * (which reaction the policy asks for, which budget is used up) and its
 * actions (what it remembers of a flow and what it announces), over the
 * supervisor's context. `_recovery_region.ts` holds the config that names
 * them.
 * @module
 */
import { assign, enqueueActions, stateIn } from "../deps.ts";
import { ProgramStatusType } from "../codec/definitions.ts";
import { isFatalTrigger } from "./_gateway_region.ts";
import type { ProgramStatusEvent } from "./gateway_events.ts";
import { type RecoveryContext, triggerOf } from "./_recovery_trigger.ts";
import { describeCause, hintsOf, outputOf } from "./_session_cause.ts";
import {
  announce,
  type NoParams,
  type SessionArgs as Args,
  type SessionContext,
  type SessionEvent,
  type SessionInternalEvent,
  update,
  updateWithCause,
} from "./_session_types.ts";
import type { Reaction } from "./policy.ts";
import { Secret, toSecret } from "./secret.ts";
import type {
  CodeRequestReason,
  CredentialsProviderOutput,
} from "./session_actors.ts";
import { fullJitterBackoff } from "./session_options.ts";

/**
 * The recovery context with nothing to recover, shared: a Ready report while
 * it is in place changes nothing, so it costs no transition at all.
 */
const EMPTY_RECOVERY: RecoveryContext = Object.freeze(
  emptyRecoveryValue(),
);

/** The recovery context with nothing to recover (always the same one). */
export function emptyRecovery(): RecoveryContext {
  return EMPTY_RECOVERY;
}

function emptyRecoveryValue(): RecoveryContext {
  return {
    trigger: null,
    codeAttempts: 0,
    codeRequests: 0,
    codeReason: "needed",
    reloginAttempts: 0,
    reloginDelayMs: 0,
    lastFailure: null,
    gaveUpReason: null,
    retryAfterMs: 0,
    rateRetried: false,
    passwordRefused: false,
    credentialsAsked: 0,
  };
}

/**
 * A verification code (boxed or not, from SUBMIT_CODE or the code provider)
 * trimmed and boxed, or `undefined` when it is empty or not a string. The
 * code leaves its box only here and where the request is written.
 */
export function boxedCode(value: unknown): Secret<string> | undefined {
  const raw = value instanceof Secret ? value.reveal() : value;
  if (typeof raw !== "string") return undefined;
  const code = raw.trim();
  return code === "" ? undefined : new Secret(code);
}

/** The region's guards. */
export const recoveryGuards = {
  // Only when there is something to clear: OpenD reports Ready often.
  reportsReady: ({ context, event }: Args) =>
    context.recovery !== EMPTY_RECOVERY &&
    triggerOf(context.options.policy, event)?.status ===
      ProgramStatusType.Ready,
  triggers: ({ context, event }: Args, params: unknown) => {
    const { reactions } = params as { reactions: readonly Reaction[] };
    const trigger = triggerOf(context.options.policy, event);
    return trigger !== undefined && reactions.includes(trigger.reaction);
  },
  isRepeat: ({ context, event }: Args) => {
    const flow = context.recovery.trigger;
    const policy = context.options.policy;
    if (flow === null || isFatalTrigger(policy, event)) return false;
    const news = triggerOf(policy, event);
    if (news === undefined || news.status === ProgramStatusType.Ready) {
      return false;
    }
    if (news.source === "programStatus") return news.status === flow.status;
    return flow.eventType === undefined
      ? news.status === flow.status && news.reaction === flow.reaction
      : news.eventType === flow.eventType;
  },
  isNeitherFatalNorReady: ({ context, event }: Args) =>
    !isFatalTrigger(context.options.policy, event) &&
    triggerOf(context.options.policy, event)?.status !==
      ProgramStatusType.Ready,
  isPictureCode: ({ context }: Args) =>
    context.recovery.trigger?.codeKind === "picture",
  shouldRequestCode: ({ context }: Args) =>
    context.recovery.trigger?.codeKind === "phone" ||
    context.recovery.codeAttempts > 0,
  codeGateOpen: stateIn<SessionContext, SessionEvent, NoParams>(
    "#session.recovery.codeGate.open",
  ),
  isPhoneRound: ({ event }: Args) =>
    (event as Partial<SessionInternalEvent>).kind === "phone",
  tooFrequentFirstTime: ({ context, event }: Args) =>
    typeof hintsOf(event).retryAfterMs === "number" &&
    !context.recovery.rateRetried,
  wrongPassword: ({ event }: Args) => hintsOf(event).wrongPassword === true,
  // LoginFailed while a relogin for another reason is under way: the
  // password did not work (a reconnect's snapshot says nothing about it).
  reportsLoginFailed: ({ context, event }: Args) =>
    (event as Partial<ProgramStatusEvent>).seeded !== true &&
    context.recovery.trigger?.status !== ProgramStatusType.LoginFailed &&
    !isFatalTrigger(context.options.policy, event) &&
    triggerOf(context.options.policy, event)?.status ===
      ProgramStatusType.LoginFailed,
  // A reconnect's GetGlobalState may have been answered before the relogin
  // reached OpenD, and read after it was sent (even after its OK): its
  // LoginFailed or its repeat of the trigger's status is old news.
  staleSnapshot: ({ context, event }: Args) => {
    const policy = context.options.policy;
    if ((event as Partial<ProgramStatusEvent>).seeded !== true) return false;
    if (isFatalTrigger(policy, event)) return false;
    const status = triggerOf(policy, event)?.status;
    return status === ProgramStatusType.LoginFailed ||
      (status !== undefined && status === context.recovery.trigger?.status);
  },
  codeRequestsExhausted: ({ context }: Args) =>
    context.recovery.codeRequests >= context.options.maxCodeRequests,
  codeAttemptsExhausted: ({ context }: Args) =>
    context.recovery.codeAttempts + 1 >= context.options.maxCodeAttempts,
  providedCode: ({ event }: Args) =>
    boxedCode(outputOf<unknown>(event)) !== undefined,
  submittedCode: ({ event }: Args) =>
    boxedCode((event as { code?: unknown }).code) !== undefined,
  hasReloginDelay: ({ context }: Args) => context.recovery.reloginDelayMs > 0,
  asksCredentials: ({ context }: Args) =>
    context.recovery.trigger?.askCredentials === true ||
    context.recovery.passwordRefused,
  hasCredentials: ({ event }: Args) =>
    toSecret(outputOf<CredentialsProviderOutput>(event)) !== undefined,
  reloginsExhausted: ({ context }: Args) =>
    context.recovery.reloginAttempts >= context.options.maxRelogins,
};

/** The region's actions. */
export const recoveryActions = {
  beginFlow: update(({ context, event }) => {
    const trigger = triggerOf(context.options.policy, event) ?? null;
    const { reloginBaseMs, reloginCapMs, random } = context.options;
    const reloginDelayMs = trigger?.reaction === "reloginAfterCooldown"
      ? trigger.cooldownMs ?? 0
      : trigger?.reaction === "reloginWithBackoff"
      ? fullJitterBackoff(
        context.recovery.reloginAttempts + 1,
        reloginBaseMs,
        reloginCapMs,
        random ?? Math.random,
      )
      : 0;
    return {
      recovery: {
        ...context.recovery,
        trigger,
        codeReason: "needed" as const,
        reloginDelayMs,
        gaveUpReason: null,
        rateRetried: false,
      },
    };
  }),
  clearRecovery: update({ recovery: () => emptyRecovery() }),
  startCodeRound: enqueueActions<
    SessionContext,
    SessionEvent,
    NoParams,
    SessionEvent,
    never,
    never,
    never,
    never,
    never
  >(({ context, enqueue }) => {
    if (context.recovery.rateRetried) {
      enqueue.assign({
        recovery: { ...context.recovery, rateRetried: false },
      });
    }
    enqueue.raise({
      type: "CODE_ROUND",
      kind: context.recovery.trigger?.codeKind ?? "phone",
    });
  }),
  noteTooFrequent: update(({ context, event }) => {
    const after = Number(hintsOf(event).retryAfterMs);
    return {
      recovery: {
        ...context.recovery,
        rateRetried: true,
        retryAfterMs: Number.isFinite(after) && after > 0 ? after : 0,
        lastFailure: describeCause(context, event, "OpenD said too frequent"),
      },
    };
  }),
  notePasswordRefused: update(({ context }) => ({
    recovery: {
      ...context.recovery,
      passwordRefused: true,
      // A refused password is not a relogin that failed on its own: the
      // credentials provider decides whether to go on.
      reloginAttempts: Math.max(0, context.recovery.reloginAttempts - 1),
    },
  })),
  countCredentialsAsk: update(({ context }) => ({
    recovery: {
      ...context.recovery,
      credentialsAsked: context.recovery.credentialsAsked + 1,
    },
  })),
  countCodeRequest: update(({ context }) => ({
    recovery: {
      ...context.recovery,
      codeRequests: context.recovery.codeRequests + 1,
    },
  })),
  noteFailure: updateWithCause(({ context, event }, params) => ({
    recovery: {
      ...context.recovery,
      lastFailure: describeCause(
        context,
        event,
        params.cause ?? "failed",
        params.afterOption,
      ),
    },
  })),
  countCodeFailure: assign<
    SessionContext,
    SessionEvent,
    { reason: CodeRequestReason },
    SessionEvent,
    never
  >(
    ({ context }, params) => ({
      recovery: {
        ...context.recovery,
        codeAttempts: context.recovery.codeAttempts + 1,
        codeReason: params.reason,
      },
    }),
  ),
  countRelogin: update(({ context }) => ({
    recovery: {
      ...context.recovery,
      reloginAttempts: context.recovery.reloginAttempts + 1,
    },
  })),
  scheduleReloginRetry: update(({ context }) => {
    const { reloginBaseMs, reloginCapMs, random } = context.options;
    return {
      recovery: {
        ...context.recovery,
        // Each attempt may wait out one "too frequent".
        rateRetried: false,
        reloginDelayMs: fullJitterBackoff(
          context.recovery.reloginAttempts + 1,
          reloginBaseMs,
          reloginCapMs,
          random ?? Math.random,
        ),
      },
    };
  }),
  noteGiveUp: updateWithCause(({ context, event }, params) => {
    const { recovery } = context;
    const what = params.cause === undefined
      ? recovery.lastFailure ?? "recovery failed"
      : describeCause(context, event, params.cause, params.afterOption);
    const why = recovery.trigger ? ` (${recovery.trigger.reason})` : "";
    return { recovery: { ...recovery, gaveUpReason: what + why } };
  }),
  announceGaveUp: announce(({ context }) => ({
    type: "gaveUp" as const,
    reason: context.recovery.gaveUpReason ?? "recovery gave up",
  })),
  announceNeedsCode: announce(({ context }) => {
    const kind = context.recovery.trigger?.codeKind ?? "phone";
    const picturePath = context.options.picturePath;
    return {
      type: "needsCode" as const,
      kind,
      ...(kind === "picture" && picturePath !== undefined
        ? { picturePath }
        : {}),
      attempt: context.recovery.codeAttempts + 1,
      reason: context.recovery.codeReason,
    };
  }),
  announceNeedsPerson: announce(({ context, event }) => {
    const trigger = triggerOf(context.options.policy, event);
    return {
      type: "needsPerson" as const,
      reason: trigger?.reason ?? "OpenD needs a person",
      ...(trigger?.eventType === undefined
        ? {}
        : { eventType: trigger.eventType }),
      ...(trigger?.status === undefined ? {} : { status: trigger.status }),
    };
  }),
};
