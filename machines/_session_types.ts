/**
 * The session supervisor's vocabulary: what its context holds, the events it
 * takes and emits, its tags and its delays, and XState's action creators
 * bound to them. Shared by the link and recovery
 * regions and the machine that composes them; `session_machine.ts` exports
 * the public ones.
 * @module
 */
import { assign, emit } from "../deps.ts";
import type { SystemNotification } from "../codec/system_notification.ts";
import type { GatewayTag } from "./_gateway_region.ts";
import type { RecoveryContext } from "./_recovery_trigger.ts";
import type { GatewayInputEvent, ResetEvent } from "./gateway_events.ts";
import type { GatewayRecord } from "./gateway_record.ts";
import type { Secret } from "./secret.ts";
import type { CodeRequestReason, LinkEvent } from "./session_actors.ts";
import type { SessionOptions } from "./session_options.ts";

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

/** Any event, as the supervisor's helpers read it. */
export type AnyEvent = { readonly type: string };

/** What a guard, an action or an invoke's input reads. */
export type SessionArgs = {
  readonly context: SessionContext;
  readonly event: AnyEvent;
};

/** The option whose value a timeout's cause names. */
export type TimeoutOption =
  | "connectTimeoutMs"
  | "requestTimeoutMs"
  | "silenceTimeoutMs"
  | "providerTimeoutMs"
  | "loginConfirmTimeoutMs";

/** What `noteLoss`, `noteFailure` and `noteGiveUp` are told. */
export interface CauseParams {
  readonly cause?: string;
  readonly afterOption?: TimeoutOption;
}

/**
 * What XState infers for the params of an action that declares none
 * (`NonReducibleUnknown`), so the actions made outside `setup` type as if
 * they were made inside it.
 */
export type NoParams = Parameters<ReturnType<typeof assign>>[1];

// XState's action creators bound to the supervisor's types: the regions'
// actions are made away from `setup`, where nothing would infer them.

/** `assign` for an action without params. */
export const update = assign<
  SessionContext,
  SessionEvent,
  NoParams,
  SessionEvent,
  never
>;

/** `assign` for an action told a {@link CauseParams}. */
export const updateWithCause = assign<
  SessionContext,
  SessionEvent,
  CauseParams,
  SessionEvent,
  never
>;

/** `emit` of one of the supervisor's events. */
export const announce = emit<
  SessionContext,
  SessionEvent,
  NoParams,
  SessionEvent,
  SessionEmitted
>;
