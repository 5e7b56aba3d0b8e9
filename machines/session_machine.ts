/**
 * The session supervisor: one statechart that owns a connection to OpenD and
 * keeps it useful, unattended. Three parallel regions:
 *
 * - `link`: idle -> session (connecting -> initializing -> syncing -> online,
 *   or closing) -> lost -> backoff -> session again; closed on CLOSE; stopped
 *   when the policy says fatal or reconnect attempts run out.
 * - `gateway`: OpenD's program status (the same region as
 *   `programStatusMachine`).
 * - `recovery`: the login logic (verification codes, relogin, parking), with
 *   a code gate beside it that keeps OpenD's limits (plus a margin) whatever
 *   the burst.
 *
 * Every side effect is a named actor and every wait a named delay, so the
 * client, a simulator or a test supplies them with `.provide()` and drives
 * time with its own clock.
 * @module
 */
import {
  and,
  assign,
  emit,
  enqueueActions,
  not,
  setup,
  stateIn,
} from "../deps.ts";
import {
  type ExplicitMachine,
  explicitMachine,
  type SnapshotFrom,
  type StateValue,
} from "./_xstate_types.ts";
import { ProgramStatusType } from "../codec/definitions.ts";
import type { SystemNotification } from "../codec/system_notification.ts";
import {
  gatewayActions,
  gatewayGuards,
  type GatewayLens,
  gatewayRegionConfig,
  type GatewayTag,
  isFatalTrigger,
  isKnownStatusEvent,
} from "./_gateway_region.ts";
import {
  type RecoveryContext,
  type RecoveryTrigger,
  triggerOf,
} from "./_recovery_trigger.ts";
import {
  type GatewayInputEvent,
  notificationToEvent,
  type ResetEvent,
} from "./gateway_events.ts";
import {
  emptyGatewayRecord,
  type GatewayRecord,
  recordConnStatus,
} from "./gateway_record.ts";
import type { Reaction } from "./policy.ts";
import { redactSecrets, Secret, toSecret } from "./secret.ts";
import {
  type CodeRequestReason,
  type CredentialsProviderOutput,
  defaultSessionActors,
  type FailureHints,
  type GetGlobalStateOutput,
  type InitConnectOutput,
  type LinkEvent,
  type ReloginInput,
} from "./session_actors.ts";
import {
  fullJitterBackoff,
  resolveSessionOptions,
  type SessionInput,
  type SessionOptions,
} from "./session_options.ts";

export type { RecoveryContext, RecoveryTrigger };

/** What the link region knows. */
export interface LinkContext {
  /** KeepAlives in a row that went unanswered on this connection. */
  readonly keepAliveMisses: number;
  /** Identical permanent failures in a row (see `maxPermanentFailures`). */
  readonly permanentFailures: number;
  /** The permanent cause those failures share, `null` after any other. */
  readonly permanentCause: string | null;
  /** Reconnect attempts since the last stable online period (or START). */
  readonly attempt: number;
  /** The delay chosen for the pending reconnect. */
  readonly nextDelayMs: number;
  /** InitConnect's connID as a decimal string. */
  readonly connId: string | null;
  /** InitConnect's loginUserID as a decimal string. */
  readonly loginUserId: string | null;
  /** InitConnect's serverVer. */
  readonly serverVer: number | null;
  /** From InitConnect's response, seconds. */
  readonly keepAliveIntervalS: number | null;
  /** Why the link was last lost. */
  readonly lastReason: string | null;
  /** Why reconnecting stopped (attempts exhausted), if it did. */
  readonly stoppedReason: string | null;
  /** `ready` was emitted for the current connection. */
  readonly readyAnnounced: boolean;
}

/** The supervisor's context. No secret is ever stored here. */
export interface SessionContext {
  /** The knobs, resolved from the input. */
  readonly options: SessionOptions;
  /** The link region's knowledge. */
  readonly link: LinkContext;
  /** Everything learned from OpenD (the gateway region). */
  readonly gateway: GatewayRecord;
  /** The recovery region's knowledge. */
  readonly recovery: RecoveryContext;
}

/** Events a user sends. */
export type SessionControlEvent =
  | { readonly type: "START" }
  | { readonly type: "CLOSE" }
  | {
    readonly type: "SUBMIT_CODE";
    /** The code; box it in a {@link Secret} to keep it out of inspection. */
    readonly code: string | Secret<string>;
  }
  | ResetEvent;

/**
 * Raised by the supervisor itself (never send it): a code round started,
 * which closes the code gate for that kind's interval.
 */
export type SessionInternalEvent = {
  readonly type: "CODE_ROUND";
  readonly kind: "phone" | "picture";
};

/** Every event the supervisor accepts (besides its actors' done events). */
export type SessionEvent =
  | SessionControlEvent
  | LinkEvent
  | GatewayInputEvent
  | SessionInternalEvent;

/** Typed events the supervisor emits; subscribe with `actor.on(type, fn)`. */
export type SessionEmitted =
  | { readonly type: "ready"; readonly connId: string | null }
  | { readonly type: "lost"; readonly reason: string }
  | {
    readonly type: "reconnecting";
    readonly attempt: number;
    readonly delayMs: number;
  }
  | { readonly type: "stopped"; readonly reason: string }
  | { readonly type: "closed" }
  | {
    readonly type: "needsCode";
    readonly kind: "phone" | "picture";
    readonly picturePath?: string;
    readonly attempt: number;
    readonly reason: CodeRequestReason;
  }
  | {
    readonly type: "needsPerson";
    readonly reason: string;
    readonly eventType?: number;
    readonly status?: number;
  }
  | { readonly type: "gaveUp"; readonly reason: string }
  | {
    readonly type: "fatal";
    readonly reason: string;
    readonly eventType?: number;
    readonly status?: number;
  }
  | {
    readonly type: "notification";
    readonly notification: SystemNotification;
  };

/** Tags on the supervisor's states. */
export type SessionTag = GatewayTag | "online";

/** Names of the supervisor's delays, to replace with `.provide({ delays })`. */
export type SessionDelay =
  | "connectTimeout"
  | "requestTimeout"
  | "closeTimeout"
  | "keepAliveInterval"
  | "silenceTimeout"
  | "stableOnlinePeriod"
  | "reconnectDelay"
  | "phoneCodeInterval"
  | "pictureCodeInterval"
  | "rateLimitWait"
  | "providerTimeout"
  | "loginConfirmTimeout"
  | "reloginDelay";

type AnyEvent = { readonly type: string };

function emptyLink(): LinkContext {
  return {
    keepAliveMisses: 0,
    permanentFailures: 0,
    permanentCause: null,
    attempt: 0,
    nextDelayMs: 0,
    connId: null,
    loginUserId: null,
    serverVer: null,
    keepAliveIntervalS: null,
    lastReason: null,
    stoppedReason: null,
    readyAnnounced: false,
  };
}

/**
 * The recovery context with nothing to recover, shared: a Ready report while
 * it is in place changes nothing, so it costs no transition at all.
 */
const EMPTY_RECOVERY: RecoveryContext = Object.freeze(emptyRecoveryValue());

function emptyRecovery(): RecoveryContext {
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

/** The hints an actor's error or a LINK_DOWN carries (see FailureHints). */
function hintsOf(event: AnyEvent): FailureHints {
  const { error } = event as { error?: unknown };
  return (error !== null && typeof error === "object"
    ? error
    : event) as FailureHints;
}

function permanentOf(event: AnyEvent): string | undefined {
  const permanent = hintsOf(event).permanent;
  return typeof permanent === "string" && permanent !== ""
    ? redactSecrets(permanent)
    : undefined;
}

/** The output of an actor's done event (XState types it only per invoke). */
function outputOf<T>(event: AnyEvent): T | undefined {
  return (event as { output?: T }).output;
}

/**
 * A verification code (boxed or not, from SUBMIT_CODE or the code provider)
 * trimmed and boxed, or `undefined` when it is empty or not a string. The
 * code leaves its box only here and where the request is written.
 */
function boxedCode(value: unknown): Secret<string> | undefined {
  const raw = value instanceof Secret ? value.reveal() : value;
  if (typeof raw !== "string") return undefined;
  const code = raw.trim();
  return code === "" ? undefined : new Secret(code);
}

function idString(value: unknown): string | null {
  return typeof value === "number" || typeof value === "bigint" ||
      (typeof value === "string" && value !== "")
    ? String(value)
    : null;
}

/** What went wrong, from a LINK_DOWN reason or an actor's error. */
function detailOf(event: AnyEvent): string | undefined {
  const { reason, error } = event as { reason?: unknown; error?: unknown };
  if (typeof reason === "string") return redactSecrets(reason);
  if (error === undefined) return undefined;
  return redactSecrets(error instanceof Error ? error.message : String(error));
}

/**
 * How often KeepAlive is sent: 4/5 of the interval InitConnect's response
 * gave (or `defaultKeepAliveIntervalS`), so OpenD never drops the link.
 */
function keepAlivePeriodMs(context: SessionContext): number {
  return Math.max(
    1,
    (context.link.keepAliveIntervalS ??
      context.options.defaultKeepAliveIntervalS) * 1_000 * 4 / 5,
  );
}

/**
 * How long silence means a dead link: `silenceTimeoutMs`, but never less
 * than one keep-alive period plus the time its answer may take. OpenD
 * configured with a long keepAliveInterval may legitimately say nothing for
 * longer than 33 s.
 */
function silenceMs(context: SessionContext): number {
  return Math.max(
    context.options.silenceTimeoutMs,
    keepAlivePeriodMs(context) + context.options.requestTimeoutMs,
  );
}

function describeCause(
  context: SessionContext,
  event: AnyEvent,
  cause: string,
  afterOption?: TimeoutOption,
): string {
  const ms = afterOption === "silenceTimeoutMs"
    ? silenceMs(context)
    : afterOption
    ? context.options[afterOption]
    : undefined;
  const after = ms === undefined ? "" : ` after ${ms} ms`;
  // News from OpenD explains itself: its name and OpenD's words.
  const detail = detailOf(event) ??
    triggerOf(context.options.policy, event)?.reason;
  return `${cause}${after}${detail ? `: ${detail}` : ""}`;
}

type TimeoutOption =
  | "connectTimeoutMs"
  | "requestTimeoutMs"
  | "silenceTimeoutMs"
  | "providerTimeoutMs"
  | "loginConfirmTimeoutMs";

interface CauseParams {
  readonly cause?: string;
  readonly afterOption?: TimeoutOption;
}

const lossTo = (
  target: string,
  cause: string,
  afterOption?: TimeoutOption,
) => ({
  target,
  actions: { type: "noteLoss" as const, params: { cause, afterOption } },
});

const giveUp = (cause?: string, afterOption?: TimeoutOption) => ({
  target: "#session.recovery.flow.gaveUp",
  actions: cause === undefined
    ? { type: "noteGiveUp" as const, params: {} }
    : { type: "noteGiveUp" as const, params: { cause, afterOption } },
});

const noteFailure = (cause: string, afterOption?: TimeoutOption) => ({
  type: "noteFailure" as const,
  params: { cause, afterOption },
});

/** Into a flow's `failed` step, remembering why. */
const failTo = (
  target: string,
  cause: string,
  afterOption?: TimeoutOption,
) => ({ target, actions: noteFailure(cause, afterOption) });

const afterReloginWait = [
  { guard: "reloginsExhausted" as const, ...giveUp("relogin budget used up") },
  { guard: "asksCredentials" as const, target: "fetchingCredentials" },
  { target: "sending" },
];

const RELOGIN_REACTIONS: readonly Reaction[] = [
  "relogin",
  "reloginAfterCooldown",
  "reloginWithBackoff",
];

/** How the recovery flow answers a status or gateway event. */
const dispatchTrigger = [
  { guard: "isFatalTrigger" as const, target: ".stopped" },
  {
    guard: "reportsReady" as const,
    target: ".watching",
    actions: "clearRecovery" as const,
  },
  {
    guard: {
      type: "triggers" as const,
      params: { reactions: ["verifyCode"] as readonly Reaction[] },
    },
    target: ".verifying",
    actions: "beginFlow" as const,
  },
  {
    guard: {
      type: "triggers" as const,
      params: { reactions: RELOGIN_REACTIONS },
    },
    target: ".relogging",
    actions: "beginFlow" as const,
  },
  {
    guard: {
      type: "triggers" as const,
      params: { reactions: ["park"] as readonly Reaction[] },
    },
    target: ".parked",
    actions: ["beginFlow" as const, "announceNeedsPerson" as const],
  },
  {
    guard: {
      type: "triggers" as const,
      params: { reactions: ["notify"] as readonly Reaction[] },
    },
    actions: "announceNeedsPerson" as const,
  },
];

/** A LoginFailed while a relogin is under way: the password was refused. */
const passwordRefusedOnLoginFailed = {
  GTW_EVENT: [{
    guard: "reportsLoginFailed" as const,
    target: "failed",
    actions: [
      noteFailure("login failed after relogin"),
      "notePasswordRefused" as const,
    ],
  }],
  PROGRAM_STATUS: [{
    guard: "reportsLoginFailed" as const,
    target: "failed",
    actions: [
      noteFailure("login failed after relogin"),
      "notePasswordRefused" as const,
    ],
  }],
};

/** What a KeepAlive without an answer leads to. */
const keepAliveMissed = (afterOption?: TimeoutOption) => [
  {
    guard: "keepAliveMissesExhausted" as const,
    ...lossTo("#session.link.lost", "KeepAlive went unanswered", afterOption),
  },
  { target: "waiting", actions: "countKeepAliveMiss" as const },
];

/** A flow ignores news it already acts on (OpenD often says it twice). */
const ignoreRepeats = {
  GTW_EVENT: { guard: "isRepeat" as const },
  PROGRAM_STATUS: { guard: "isRepeat" as const },
};

// Where the gateway region's record and policy live in the context.
const gateway: GatewayLens<SessionContext> = {
  record: (context) => context.gateway,
  store: (record) => ({ gateway: record }),
  policy: (context) => context.options.policy,
};

function asEvent<T extends SessionEvent["type"]>(
  event: AnyEvent,
  type: T,
): Extract<SessionEvent, { type: T }> {
  if (event.type !== type) {
    throw new Error(`expected ${type}, received ${event.type}`);
  }
  return event as Extract<SessionEvent, { type: T }>;
}

/** Every wait, named; each reads its length from the context. */
const sessionDelays: Record<
  SessionDelay,
  (args: { context: SessionContext }) => number
> = {
  connectTimeout: ({ context }) => context.options.connectTimeoutMs,
  requestTimeout: ({ context }) => context.options.requestTimeoutMs,
  closeTimeout: ({ context }) => context.options.closeTimeoutMs,
  // OpenD drops a connection that sends no KeepAlive within its interval;
  // sending at 4/5 of it leaves room for a slow reply.
  keepAliveInterval: ({ context }) => keepAlivePeriodMs(context),
  // Never shorter than a keep-alive round trip (see silenceMs).
  silenceTimeout: ({ context }) => silenceMs(context),
  stableOnlinePeriod: ({ context }) => context.options.stableOnlineMs,
  reconnectDelay: ({ context }) => context.link.nextDelayMs,
  // OpenD's limits plus a margin: the client's clock and the network's
  // jitter must not make a request arrive a moment early.
  phoneCodeInterval: ({ context }) =>
    context.options.phoneCodeIntervalMs + context.options.rateLimitMarginMs,
  pictureCodeInterval: ({ context }) =>
    context.options.pictureCodeIntervalMs + context.options.rateLimitMarginMs,
  // OpenD said "too frequent": as long as it said (a minute when it did not
  // say), plus the margin.
  rateLimitWait: ({ context }) =>
    (context.recovery.retryAfterMs > 0
      ? context.recovery.retryAfterMs
      : context.options.phoneCodeIntervalMs) +
    context.options.rateLimitMarginMs,
  providerTimeout: ({ context }) => context.options.providerTimeoutMs,
  loginConfirmTimeout: ({ context }) => context.options.loginConfirmTimeoutMs,
  reloginDelay: ({ context }) => context.recovery.reloginDelayMs,
};

const sessionMachineDefinition = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    // `void`, not `undefined`: XState drops `undefined` from this type, which
    // would make `input` mandatory in createActor.
    input: {} as SessionInput | void,
    tags: {} as SessionTag,
    emitted: {} as SessionEmitted,
  },
  actors: defaultSessionActors,
  guards: {
    ...gatewayGuards<SessionContext>(gateway.policy),
    notFatal: ({ context }) => context.gateway.fatal === null,
    isFatalTrigger: ({ context, event }) =>
      isFatalTrigger(context.options.policy, event),
    // Only when there is something to clear: OpenD reports Ready often.
    reportsReady: ({ context, event }) =>
      context.recovery !== EMPTY_RECOVERY &&
      triggerOf(context.options.policy, event)?.status ===
        ProgramStatusType.Ready,
    announcesReady: ({ context, event }) =>
      isKnownStatusEvent(event) && event.status === ProgramStatusType.Ready &&
      context.gateway.fatal === null &&
      (!context.link.readyAnnounced ||
        context.gateway.status !== ProgramStatusType.Ready),
    reconnectAttemptsExhausted: ({ context }) => {
      const max = context.options.maxReconnectAttempts;
      return max !== undefined && context.link.attempt >= max;
    },
    linkIsClosing: stateIn("#session.link.session.closing"),
    keepAliveMissesExhausted: ({ context }) =>
      context.link.keepAliveMisses + 1 >= context.options.maxKeepAliveMisses,
    permanentFailuresExhausted: ({ context }) =>
      context.link.permanentCause !== null &&
      context.link.permanentFailures >= context.options.maxPermanentFailures,
    triggers: ({ context, event }, params: unknown) => {
      const { reactions } = params as { reactions: readonly Reaction[] };
      const trigger = triggerOf(context.options.policy, event);
      return trigger !== undefined && reactions.includes(trigger.reaction);
    },
    isRepeat: ({ context, event }) => {
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
    isNeitherFatalNorReady: ({ context, event }) =>
      !isFatalTrigger(context.options.policy, event) &&
      triggerOf(context.options.policy, event)?.status !==
        ProgramStatusType.Ready,
    isPictureCode: ({ context }) =>
      context.recovery.trigger?.codeKind === "picture",
    shouldRequestCode: ({ context }) =>
      context.recovery.trigger?.codeKind === "phone" ||
      context.recovery.codeAttempts > 0,
    codeGateOpen: stateIn("#session.recovery.codeGate.open"),
    isPhoneRound: ({ event }) =>
      (event as Partial<SessionInternalEvent>).kind === "phone",
    tooFrequentFirstTime: ({ context, event }) =>
      typeof hintsOf(event).retryAfterMs === "number" &&
      !context.recovery.rateRetried,
    wrongPassword: ({ event }) => hintsOf(event).wrongPassword === true,
    // LoginFailed while a relogin for another reason is under way: the
    // password did not work.
    reportsLoginFailed: ({ context, event }) =>
      context.recovery.trigger?.status !== ProgramStatusType.LoginFailed &&
      !isFatalTrigger(context.options.policy, event) &&
      triggerOf(context.options.policy, event)?.status ===
        ProgramStatusType.LoginFailed,
    codeRequestsExhausted: ({ context }) =>
      context.recovery.codeRequests >= context.options.maxCodeRequests,
    codeAttemptsExhausted: ({ context }) =>
      context.recovery.codeAttempts + 1 >= context.options.maxCodeAttempts,
    providedCode: ({ event }) =>
      boxedCode(outputOf<unknown>(event)) !== undefined,
    submittedCode: ({ event }) =>
      boxedCode((event as { code?: unknown }).code) !== undefined,
    hasReloginDelay: ({ context }) => context.recovery.reloginDelayMs > 0,
    asksCredentials: ({ context }) =>
      context.recovery.trigger?.askCredentials === true ||
      context.recovery.passwordRefused,
    hasCredentials: ({ event }) =>
      toSecret(outputOf<CredentialsProviderOutput>(event)) !== undefined,
    reloginsExhausted: ({ context }) =>
      context.recovery.reloginAttempts >= context.options.maxRelogins,
  },
  actions: {
    // whole session
    forwardNotification: enqueueActions(({ event, enqueue }) => {
      const { notification } = asEvent(event, "NOTIFICATION");
      if (notification === null || typeof notification !== "object") {
        enqueue.raise({ type: "UNKNOWN_NOTIFICATION", notifyType: -1 });
        return;
      }
      enqueue.emit({ type: "notification", notification });
      enqueue.raise(notificationToEvent(notification));
    }),

    // link region
    beginSession: assign(({ context }) => ({
      link: { ...emptyLink(), lastReason: context.link.lastReason },
    })),
    resetLink: assign({ link: () => emptyLink() }),
    storeConnection: assign(({ context, event }) => {
      const output = outputOf<InitConnectOutput>(event) ?? {};
      const interval = Number(output.keepAliveInterval);
      return {
        link: {
          ...context.link,
          keepAliveMisses: 0,
          // A new connection: `ready` is announced again once OpenD is Ready.
          readyAnnounced: false,
          // OpenD answered InitConnect: whatever failed before was not
          // permanent after all.
          permanentFailures: 0,
          permanentCause: null,
          connId: idString(output.connId),
          loginUserId: idString(output.loginUserId),
          serverVer: typeof output.serverVer === "number"
            ? output.serverVer
            : null,
          keepAliveIntervalS: Number.isFinite(interval) && interval > 0
            ? interval
            : null,
        },
      };
    }),
    seedGateway: enqueueActions(({ context, event, enqueue }) => {
      const output = outputOf<GetGlobalStateOutput>(event) ?? {};
      // The login flags go straight into the record: raising CONN_STATUS
      // would cost a whole step per (re)connect for nothing to decide.
      if (
        typeof output.qotLogined === "boolean" &&
        typeof output.trdLogined === "boolean"
      ) {
        enqueue.assign({
          gateway: recordConnStatus(context.gateway, {
            type: "CONN_STATUS",
            qotLogined: output.qotLogined,
            trdLogined: output.trdLogined,
          }),
        });
      }
      const status = output.programStatus;
      if (status && typeof status.type === "number") {
        enqueue.raise(
          status.strExtDesc === undefined
            ? { type: "PROGRAM_STATUS", status: status.type }
            : {
              type: "PROGRAM_STATUS",
              status: status.type,
              strExtDesc: status.strExtDesc,
            },
        );
      }
    }),
    noteLoss: assign(({ context, event }, params: CauseParams) => {
      const permanent = permanentOf(event);
      const { link } = context;
      return {
        link: {
          ...link,
          lastReason: describeCause(
            context,
            event,
            params.cause ?? "the link was lost",
            params.afterOption,
          ),
          permanentCause: permanent ?? null,
          permanentFailures: permanent === undefined
            ? 0
            : permanent === link.permanentCause
            ? link.permanentFailures + 1
            : 1,
        },
      };
    }),
    notePermanentStop: assign(({ context }) => ({
      link: {
        ...context.link,
        stoppedReason: `${context.link.permanentCause}: ` +
          `${context.link.permanentFailures} failures in a row that no ` +
          `retry can fix (last: ${context.link.lastReason ?? "unknown"})`,
      },
    })),
    countKeepAliveMiss: assign(({ context }) => ({
      link: {
        ...context.link,
        keepAliveMisses: context.link.keepAliveMisses + 1,
      },
    })),
    clearKeepAliveMisses: assign(({ context }) =>
      context.link.keepAliveMisses === 0
        ? {}
        : { link: { ...context.link, keepAliveMisses: 0 } }
    ),
    emitLost: emit(({ context }) => ({
      type: "lost" as const,
      reason: context.link.lastReason ?? "link lost",
    })),
    scheduleReconnect: assign(({ context }) => {
      const attempt = context.link.attempt + 1;
      const { reconnectBaseMs, reconnectCapMs, random } = context.options;
      return {
        link: {
          ...context.link,
          attempt,
          nextDelayMs: fullJitterBackoff(
            attempt,
            reconnectBaseMs,
            reconnectCapMs,
            random ?? Math.random,
          ),
        },
      };
    }),
    emitReconnecting: emit(({ context }) => ({
      type: "reconnecting" as const,
      attempt: context.link.attempt,
      delayMs: context.link.nextDelayMs,
    })),
    noteReconnectGiveUp: assign(({ context }) => ({
      link: {
        ...context.link,
        stoppedReason: `gave up after ${context.link.attempt} reconnect ` +
          `attempts; last: ${context.link.lastReason ?? "unknown"}`,
      },
    })),
    emitStopped: emit(({ context }) => ({
      type: "stopped" as const,
      reason: context.link.stoppedReason ?? "stopped",
    })),
    emitClosed: emit({ type: "closed" as const }),
    resetAttempts: assign(({ context }) => ({
      link: { ...context.link, attempt: 0 },
    })),
    noteReadyAnnounced: assign(({ context }) => ({
      link: { ...context.link, readyAnnounced: true },
    })),
    emitReady: emit(({ context }) => ({
      type: "ready" as const,
      connId: context.link.connId,
    })),

    // recovery region
    beginFlow: assign(({ context, event }) => {
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
    clearRecovery: assign({ recovery: () => emptyRecovery() }),
    startCodeRound: enqueueActions(({ context, enqueue }) => {
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
    noteTooFrequent: assign(({ context, event }) => {
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
    notePasswordRefused: assign(({ context }) => ({
      recovery: {
        ...context.recovery,
        passwordRefused: true,
        // A refused password is not a relogin that failed on its own: the
        // credentials provider decides whether to go on.
        reloginAttempts: Math.max(0, context.recovery.reloginAttempts - 1),
      },
    })),
    countCredentialsAsk: assign(({ context }) => ({
      recovery: {
        ...context.recovery,
        credentialsAsked: context.recovery.credentialsAsked + 1,
      },
    })),
    countCodeRequest: assign(({ context }) => ({
      recovery: {
        ...context.recovery,
        codeRequests: context.recovery.codeRequests + 1,
      },
    })),
    noteFailure: assign(({ context, event }, params: CauseParams) => ({
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
    countCodeFailure: assign(
      ({ context }, params: { reason: CodeRequestReason }) => ({
        recovery: {
          ...context.recovery,
          codeAttempts: context.recovery.codeAttempts + 1,
          codeReason: params.reason,
        },
      }),
    ),
    countRelogin: assign(({ context }) => ({
      recovery: {
        ...context.recovery,
        reloginAttempts: context.recovery.reloginAttempts + 1,
      },
    })),
    scheduleReloginRetry: assign(({ context }) => {
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
    noteGiveUp: assign(({ context, event }, params: CauseParams) => {
      const { recovery } = context;
      const what = params.cause === undefined
        ? recovery.lastFailure ?? "recovery failed"
        : describeCause(context, event, params.cause, params.afterOption);
      const why = recovery.trigger ? ` (${recovery.trigger.reason})` : "";
      return { recovery: { ...recovery, gaveUpReason: what + why } };
    }),
    announceGaveUp: emit(({ context }) => ({
      type: "gaveUp" as const,
      reason: context.recovery.gaveUpReason ?? "recovery gave up",
    })),
    announceNeedsCode: emit(({ context }) => {
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
    announceNeedsPerson: emit(({ context, event }) => {
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
  },
  delays: sessionDelays,
}).extend({
  // The gateway region's actions, shared with programStatusMachine. Added
  // here, not spread into `actions` above: a ready-made action there makes
  // TypeScript infer the action map before the `params` of `noteLoss` and the
  // like are known, and `enqueueActions` then fails to type-check.
  actions: gatewayActions<SessionContext, SessionEvent>(gateway),
}).createMachine({
  id: "session",
  type: "parallel",
  context: ({ input }) => ({
    options: resolveSessionOptions(input as SessionInput | undefined),
    link: emptyLink(),
    gateway: emptyGatewayRecord(),
    recovery: emptyRecovery(),
  }),
  on: {
    NOTIFICATION: { actions: "forwardNotification" },
  },
  states: {
    link: {
      initial: "idle",
      on: {
        GTW_EVENT: { guard: "isFatalTrigger", target: ".stopped" },
        PROGRAM_STATUS: { guard: "isFatalTrigger", target: ".stopped" },
        RESET: { target: ".idle", actions: "resetLink" },
      },
      states: {
        idle: {
          description: "not started; START connects",
          on: {
            START: {
              guard: "notFatal",
              target: "session",
              actions: "beginSession",
            },
            CLOSE: "closed",
          },
        },
        session: {
          description: "a TCP link to OpenD is open or opening",
          invoke: {
            id: "link",
            src: "link",
            input: ({ context }) => ({ attempt: context.link.attempt }),
            onError: [
              { guard: "linkIsClosing", target: "closed" },
              lossTo("lost", "the link failed"),
            ],
          },
          on: {
            LINK_DOWN: lossTo("lost", "the link went down"),
            CLOSE: ".closing",
          },
          initial: "connecting",
          states: {
            connecting: {
              on: { LINK_UP: "initializing" },
              after: {
                connectTimeout: lossTo(
                  "#session.link.lost",
                  "connecting timed out",
                  "connectTimeoutMs",
                ),
              },
            },
            initializing: {
              description: "InitConnect",
              invoke: {
                id: "initConnect",
                src: "initConnect",
                input: ({ context }) => ({ attempt: context.link.attempt }),
                onDone: { target: "syncing", actions: "storeConnection" },
                onError: lossTo("#session.link.lost", "InitConnect failed"),
              },
              after: {
                requestTimeout: lossTo(
                  "#session.link.lost",
                  "InitConnect timed out",
                  "requestTimeoutMs",
                ),
              },
            },
            syncing: {
              description: "GetGlobalState seeds the gateway state",
              invoke: {
                id: "getGlobalState",
                src: "getGlobalState",
                input: ({ context }) => ({ connId: context.link.connId }),
                onDone: { target: "online", actions: "seedGateway" },
                onError: lossTo("#session.link.lost", "GetGlobalState failed"),
              },
              after: {
                requestTimeout: lossTo(
                  "#session.link.lost",
                  "GetGlobalState timed out",
                  "requestTimeoutMs",
                ),
              },
            },
            online: {
              type: "parallel",
              tags: ["online"],
              on: {
                PROGRAM_STATUS: {
                  guard: "announcesReady",
                  actions: ["noteReadyAnnounced", "emitReady"],
                },
              },
              states: {
                keepAlive: {
                  initial: "waiting",
                  states: {
                    waiting: {
                      after: { keepAliveInterval: "sending" },
                    },
                    sending: {
                      // The actor resolves on any answer (an answer is a
                      // sign of life); it fails when none came.
                      invoke: {
                        id: "keepAlive",
                        src: "keepAlive",
                        input: ({ context }) => ({
                          connId: context.link.connId,
                        }),
                        onDone: {
                          target: "waiting",
                          actions: "clearKeepAliveMisses",
                        },
                        onError: keepAliveMissed(),
                      },
                      after: {
                        requestTimeout: keepAliveMissed("requestTimeoutMs"),
                      },
                    },
                  },
                },
                liveness: {
                  initial: "listening",
                  states: {
                    listening: {
                      description: "whole packets are signs of life",
                      on: {
                        PACKET_RECEIVED: { target: "listening", reenter: true },
                        "xstate.done.actor.keepAlive": {
                          target: "listening",
                          reenter: true,
                        },
                      },
                      after: {
                        silenceTimeout: lossTo(
                          "#session.link.lost",
                          "nothing received",
                          "silenceTimeoutMs",
                        ),
                      },
                    },
                  },
                },
                stability: {
                  initial: "settling",
                  states: {
                    settling: {
                      after: {
                        stableOnlinePeriod: {
                          target: "stable",
                          actions: "resetAttempts",
                        },
                      },
                    },
                    stable: {},
                  },
                },
              },
            },
            closing: {
              description: "CLOSE: let the client close gracefully",
              invoke: {
                id: "closeLink",
                src: "closeLink",
                input: ({ context }) => ({ connId: context.link.connId }),
                onDone: "#session.link.closed",
                onError: "#session.link.closed",
              },
              after: { closeTimeout: "#session.link.closed" },
              on: { LINK_DOWN: "#session.link.closed", CLOSE: {} },
            },
          },
        },
        lost: {
          entry: "emitLost",
          always: [
            {
              guard: "permanentFailuresExhausted",
              target: "stopped",
              actions: ["notePermanentStop", "emitStopped"],
            },
            {
              guard: "reconnectAttemptsExhausted",
              target: "stopped",
              actions: ["noteReconnectGiveUp", "emitStopped"],
            },
            { target: "backoff" },
          ],
        },
        backoff: {
          description: "waiting before reconnecting (full jitter)",
          entry: ["scheduleReconnect", "emitReconnecting"],
          after: { reconnectDelay: "session" },
          on: { CLOSE: "closed" },
        },
        closed: {
          entry: "emitClosed",
          on: {
            START: {
              guard: "notFatal",
              target: "session",
              actions: "beginSession",
            },
          },
        },
        stopped: {
          description: "fatal gateway or no reconnects left; RESET leaves",
          on: {
            START: {
              guard: "notFatal",
              target: "session",
              actions: "beginSession",
            },
            CLOSE: "closed",
            GTW_EVENT: {},
            PROGRAM_STATUS: {},
          },
        },
      },
    },
    gateway: gatewayRegionConfig,
    recovery: {
      type: "parallel",
      states: {
        flow: {
          initial: "watching",
          on: {
            GTW_EVENT: dispatchTrigger,
            PROGRAM_STATUS: dispatchTrigger,
            RESET: { target: ".watching", actions: "clearRecovery" },
            CLOSE: ".watching",
          },
          states: {
            watching: {
              description: "nothing to recover",
            },
            verifying: {
              description: "get a verification code to OpenD",
              initial: "waitingForGate",
              on: ignoreRepeats,
              states: {
                waitingForGate: {
                  description:
                    "one code round per interval, per kind: OpenD's limits plus a margin",
                  always: {
                    guard: "codeGateOpen",
                    target: "choosing",
                    actions: "startCodeRound",
                  },
                },
                choosing: {
                  always: [
                    {
                      guard: and([
                        "shouldRequestCode",
                        "codeRequestsExhausted",
                      ]),
                      ...giveUp("the code request budget is used up"),
                    },
                    { guard: "shouldRequestCode", target: "requesting" },
                    { target: "askingProvider" },
                  ],
                },
                requesting: {
                  entry: "countCodeRequest",
                  invoke: {
                    id: "requestVerificationCode",
                    src: "requestVerificationCode",
                    input: ({ context }) => ({
                      kind: context.recovery.trigger?.codeKind ?? "phone",
                    }),
                    onDone: "askingProvider",
                    onError: [
                      {
                        guard: "tooFrequentFirstTime",
                        target: "coolingBeforeRequest",
                        actions: "noteTooFrequent",
                      },
                      failTo("waitingForGate", "requesting a code failed"),
                    ],
                  },
                  after: {
                    requestTimeout: failTo(
                      "waitingForGate",
                      "requesting a code timed out",
                      "requestTimeoutMs",
                    ),
                  },
                },
                coolingBeforeRequest: {
                  description: "OpenD said too frequent: wait, then once more",
                  after: { rateLimitWait: "requesting" },
                },
                askingProvider: {
                  entry: "announceNeedsCode",
                  invoke: {
                    id: "codeProvider",
                    src: "codeProvider",
                    input: ({ context }) => {
                      const kind = context.recovery.trigger?.codeKind ??
                        "phone";
                      const path = context.options.picturePath;
                      return {
                        kind,
                        ...(kind === "picture" && path !== undefined
                          ? { picturePath: path }
                          : {}),
                        attempt: context.recovery.codeAttempts + 1,
                        reason: context.recovery.codeReason,
                      };
                    },
                    onDone: [
                      { guard: "providedCode", target: "submitting" },
                      giveUp("the code provider gave no code"),
                    ],
                    onError: giveUp("the code provider failed"),
                  },
                  on: {
                    SUBMIT_CODE: {
                      guard: "submittedCode",
                      target: "submitting",
                    },
                  },
                  after: {
                    providerTimeout: [
                      {
                        guard: "codeAttemptsExhausted",
                        ...giveUp("no code arrived", "providerTimeoutMs"),
                      },
                      {
                        // The code sent may have expired: ask for a new one.
                        target: "waitingForGate",
                        actions: {
                          type: "countCodeFailure",
                          params: { reason: "timeout" },
                        },
                      },
                    ],
                  },
                },
                submitting: {
                  invoke: {
                    id: "submitVerificationCode",
                    src: "submitVerificationCode",
                    input: ({ context, event }) => ({
                      kind: context.recovery.trigger?.codeKind ?? "phone",
                      // Boxed: inspection sees the input, never the code.
                      code: boxedCode(
                        (event as { code?: unknown }).code ??
                          outputOf<unknown>(event),
                      ) ?? new Secret(""),
                    }),
                    onDone: "awaitingLogin",
                    onError: [
                      {
                        // The code is not kept: the provider is asked again.
                        guard: "tooFrequentFirstTime",
                        target: "coolingBeforeAsking",
                        actions: "noteTooFrequent",
                      },
                      failTo("refused", "the code was refused"),
                    ],
                  },
                  after: {
                    requestTimeout: failTo(
                      "refused",
                      "submitting the code timed out",
                      "requestTimeoutMs",
                    ),
                  },
                },
                coolingBeforeAsking: {
                  description: "OpenD said too frequent: wait, then once more",
                  after: { rateLimitWait: "askingProvider" },
                },
                awaitingLogin: {
                  description: "code accepted; waiting for Ready",
                  on: {
                    GTW_EVENT: {
                      guard: "isRepeat",
                      ...failTo("refused", "OpenD asked for a code again"),
                    },
                    PROGRAM_STATUS: {
                      guard: "isRepeat",
                      ...failTo("refused", "OpenD asked for a code again"),
                    },
                  },
                  after: {
                    loginConfirmTimeout: failTo(
                      "refused",
                      "OpenD did not become ready",
                      "loginConfirmTimeoutMs",
                    ),
                  },
                },
                refused: {
                  description: "the code did not work",
                  always: [
                    { guard: "codeAttemptsExhausted", ...giveUp() },
                    {
                      // A new picture replaces the one answered wrongly.
                      guard: "isPictureCode",
                      target: "waitingForGate",
                      actions: {
                        type: "countCodeFailure",
                        params: { reason: "wrongCode" },
                      },
                    },
                    {
                      target: "askingProvider",
                      actions: {
                        type: "countCodeFailure",
                        params: { reason: "wrongCode" },
                      },
                    },
                  ],
                },
              },
            },
            relogging: {
              description: "relogin through OpenD's operations port",
              initial: "waiting",
              on: ignoreRepeats,
              states: {
                waiting: {
                  description: "cool-down or backoff before relogin",
                  always: { guard: not("hasReloginDelay"), target: "due" },
                  after: { reloginDelay: "due" },
                },
                due: {
                  always: afterReloginWait,
                },
                fetchingCredentials: {
                  entry: "countCredentialsAsk",
                  invoke: {
                    id: "credentialsProvider",
                    src: "credentialsProvider",
                    input: ({ context }) => {
                      const { trigger, passwordRefused, lastFailure } =
                        context.recovery;
                      return {
                        reason: trigger?.reason ?? "relogin",
                        ...(trigger?.eventType === undefined
                          ? {}
                          : { eventType: trigger.eventType }),
                        attempt: context.recovery.credentialsAsked,
                        ...(passwordRefused && lastFailure !== null
                          ? { lastFailure }
                          : {}),
                      };
                    },
                    onDone: [
                      { guard: "hasCredentials", target: "sending" },
                      giveUp("no credentials to relogin with"),
                    ],
                    onError: giveUp("the credentials provider failed"),
                  },
                  after: {
                    providerTimeout: giveUp(
                      "no credentials arrived",
                      "providerTimeoutMs",
                    ),
                  },
                },
                sending: {
                  entry: "countRelogin",
                  invoke: {
                    id: "relogin",
                    src: "relogin",
                    // Credentials go from the provider's answer straight into
                    // the relogin actor, boxed; never through context.
                    input: ({ context, event }): ReloginInput => {
                      const credentials = (event as AnyEvent).type ===
                          "xstate.done.actor.credentialsProvider"
                        ? toSecret(outputOf<CredentialsProviderOutput>(event))
                        : undefined;
                      const base = {
                        reason: context.recovery.trigger?.reason ?? "relogin",
                        attempt: context.recovery.reloginAttempts,
                      };
                      return credentials ? { ...base, credentials } : base;
                    },
                    onDone: "awaitingLogin",
                    onError: [
                      {
                        guard: "tooFrequentFirstTime",
                        target: "coolingDown",
                        actions: "noteTooFrequent",
                      },
                      {
                        guard: "wrongPassword",
                        target: "failed",
                        actions: [
                          noteFailure("OpenD refused the password"),
                          "notePasswordRefused",
                        ],
                      },
                      failTo("failed", "relogin failed"),
                    ],
                  },
                  on: passwordRefusedOnLoginFailed,
                  after: {
                    requestTimeout: failTo(
                      "failed",
                      "relogin timed out",
                      "requestTimeoutMs",
                    ),
                  },
                },
                coolingDown: {
                  description: "OpenD said too frequent: wait, then once more",
                  after: { rateLimitWait: "due" },
                },
                awaitingLogin: {
                  description: "relogin sent; waiting for Ready",
                  on: {
                    GTW_EVENT: [
                      {
                        guard: "isRepeat",
                        ...failTo("failed", "login failed again"),
                      },
                      ...passwordRefusedOnLoginFailed.GTW_EVENT,
                    ],
                    PROGRAM_STATUS: [
                      {
                        guard: "isRepeat",
                        ...failTo("failed", "login failed again"),
                      },
                      ...passwordRefusedOnLoginFailed.PROGRAM_STATUS,
                    ],
                  },
                  after: {
                    loginConfirmTimeout: failTo(
                      "failed",
                      "OpenD did not become ready",
                      "loginConfirmTimeoutMs",
                    ),
                  },
                },
                failed: {
                  description: "the relogin did not work",
                  always: [
                    { guard: "reloginsExhausted", ...giveUp() },
                    { target: "waiting", actions: "scheduleReloginRetry" },
                  ],
                },
              },
            },
            parked: {
              description: "reported; not fighting it; waiting for a person",
              tags: ["needsPerson"],
              on: ignoreRepeats,
            },
            gaveUp: {
              description: "bounded attempts used up; reported; RESET leaves",
              tags: ["needsPerson"],
              entry: "announceGaveUp",
              on: {
                GTW_EVENT: { guard: "isNeitherFatalNorReady" },
                PROGRAM_STATUS: { guard: "isNeitherFatalNorReady" },
              },
            },
            stopped: {
              description: "the gateway is fatal; RESET leaves",
              on: {
                GTW_EVENT: {},
                PROGRAM_STATUS: {},
                CLOSE: {},
              },
            },
          },
        },
        codeGate: {
          description: "closed for a while after each code round",
          initial: "open",
          states: {
            open: {
              on: {
                CODE_ROUND: [
                  { guard: "isPhoneRound", target: "closedAfterPhone" },
                  { target: "closedAfterPicture" },
                ],
              },
            },
            closedAfterPhone: {
              after: { phoneCodeInterval: "open" },
            },
            closedAfterPicture: {
              after: { pictureCodeInterval: "open" },
            },
          },
        },
      },
    },
  },
});

/**
 * The type of {@link sessionMachine}, spelt out (the package has no inferred
 * types in its public API): context, events, tags, input, emitted events and
 * delays exactly; actors, actions, guards and state values in general form.
 */
export type SessionMachine = ExplicitMachine<
  SessionContext,
  SessionEvent,
  SessionTag,
  SessionInput | void,
  SessionEmitted,
  SessionDelay,
  {
    link: StateValue;
    gateway: { status: StateValue; fault: StateValue };
    recovery: { flow: StateValue; codeGate: StateValue };
  }
>;

/**
 * The session supervisor. Start it with `START`; stop with `CLOSE`; `RESET`
 * is the only way out of a fatal gateway. Input: {@link SessionInput} (every
 * knob optional). Actors to provide: `link`, `initConnect`, `getGlobalState`,
 * `keepAlive`, `closeLink`, `requestVerificationCode`,
 * `submitVerificationCode`, `codeProvider`, `credentialsProvider`, `relogin`
 * (see `session_actors.ts`).
 *
 * @example
 * ```ts
 * import { createActor } from "npm:xstate@5.33.3";
 * import { sessionMachine } from "./session_machine.ts";
 * const session = createActor(
 *   sessionMachine.provide({ actors: {} }), // real actors from the client
 *   { input: { reconnectCapMs: 30_000 } },
 * );
 * session.on("fatal", ({ reason }) => console.error("OpenD:", reason));
 * session.start();
 * session.send({ type: "START" });
 * ```
 */
export const sessionMachine: SessionMachine = explicitMachine(
  sessionMachineDefinition,
);

/** A snapshot of {@link sessionMachine}. */
export type SessionSnapshot = SnapshotFrom<SessionMachine>;
