/**
 * What started a recovery flow, read from the policy, and the recovery
 * region's context.
 * @module
 */
import {
  GtwEventType,
  nameOf,
  ProgramStatusType,
} from "../codec/definitions.ts";
import type { GtwEventEvent, ProgramStatusEvent } from "./gateway_events.ts";
import {
  type CodeKind,
  gtwEventRule,
  type Policy,
  type Reaction,
  statusRule,
} from "./policy.ts";
import type { CodeRequestReason } from "./session_actors.ts";

/** The status or gateway event a recovery flow answers. */
export interface RecoveryTrigger {
  /** Whether a status report or a gateway event started it. */
  readonly source: "programStatus" | "gtwEvent";
  /** The status or event name. */
  readonly name: string;
  /** The GtwEventType, for events. */
  readonly eventType?: number;
  /** The status reported, or the one the event implies. */
  readonly status?: number;
  /** What the policy says to do. */
  readonly reaction: Reaction;
  /** For `verifyCode`: which code. */
  readonly codeKind?: CodeKind;
  /** Ask the credentials provider before relogin. */
  readonly askCredentials: boolean;
  /** For `reloginAfterCooldown`: the wait. */
  readonly cooldownMs?: number;
  /** For people: name, the policy's summary and OpenD's description. */
  readonly reason: string;
}

/** What the recovery region knows. No secret is ever stored here. */
export interface RecoveryContext {
  /** What the current flow answers, `null` when watching. */
  readonly trigger: RecoveryTrigger | null;
  /** Wrong or unanswered codes since the gateway was last ready. */
  readonly codeAttempts: number;
  /** Code requests since the gateway was last ready. */
  readonly codeRequests: number;
  /** Why the code provider is (next) asked. */
  readonly codeReason: CodeRequestReason;
  /** Relogins sent since the gateway was last ready. */
  readonly reloginAttempts: number;
  /** The wait before the next relogin. */
  readonly reloginDelayMs: number;
  /** The last failed attempt, for people. */
  readonly lastFailure: string | null;
  /** Why recovery stopped, when it did. */
  readonly gaveUpReason: string | null;
  /** How long OpenD asked to wait after "too frequent" (0: it did not say). */
  readonly retryAfterMs: number;
  /** This round already retried once after "too frequent". */
  readonly rateRetried: boolean;
  /** OpenD refused the last password: ask the credentials provider again. */
  readonly passwordRefused: boolean;
  /** Times the credentials provider was asked since the gateway was last ready. */
  readonly credentialsAsked: number;
}

function reasonText(name: string, summary: string, desc?: string): string {
  return `${name}: ${summary}${desc ? ` (${desc})` : ""}`;
}

// Several guards ask about the same event in one step; the answer depends
// only on the event object and the policy, so it is computed once.
const triggers = new WeakMap<
  object,
  { policy: Policy; trigger: RecoveryTrigger | undefined }
>();

/**
 * The trigger `event` would be under `policy`: `undefined` for anything but
 * a PROGRAM_STATUS or GTW_EVENT this build knows.
 */
export function triggerOf(
  policy: Policy,
  event: { readonly type: string },
): RecoveryTrigger | undefined {
  if (event.type !== "PROGRAM_STATUS" && event.type !== "GTW_EVENT") {
    return undefined;
  }
  const cached = triggers.get(event);
  if (cached !== undefined && cached.policy === policy) return cached.trigger;
  const trigger = computeTrigger(policy, event);
  triggers.set(event, { policy, trigger });
  return trigger;
}

function computeTrigger(
  policy: Policy,
  event: { readonly type: string },
): RecoveryTrigger | undefined {
  if (event.type === "PROGRAM_STATUS") {
    const { status, strExtDesc } = event as ProgramStatusEvent;
    const name = nameOf(ProgramStatusType, status);
    const rule = statusRule(policy, status);
    if (name === undefined || rule === undefined) return undefined;
    return {
      source: "programStatus",
      name,
      status,
      reaction: rule.reaction,
      ...(rule.codeKind ? { codeKind: rule.codeKind } : {}),
      askCredentials: rule.askCredentials === true,
      ...(rule.cooldownMs === undefined ? {} : { cooldownMs: rule.cooldownMs }),
      reason: reasonText(name, rule.summary, strExtDesc),
    };
  }
  if (event.type === "GTW_EVENT") {
    const { eventType, desc } = event as GtwEventEvent;
    const name = nameOf(GtwEventType, eventType);
    const rule = gtwEventRule(policy, eventType);
    if (name === undefined || rule === undefined) return undefined;
    return {
      source: "gtwEvent",
      name,
      eventType,
      ...(rule.impliedStatus === null
        ? {}
        : { status: ProgramStatusType[rule.impliedStatus] }),
      reaction: rule.reaction,
      ...(rule.codeKind ? { codeKind: rule.codeKind } : {}),
      askCredentials: rule.askCredentials === true,
      ...(rule.cooldownMs === undefined ? {} : { cooldownMs: rule.cooldownMs }),
      reason: reasonText(name, rule.summary, desc),
    };
  }
  return undefined;
}
