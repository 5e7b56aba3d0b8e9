/**
 * A flat, render-ready summary of a session supervisor's snapshot: what a
 * status line, a dashboard or a health endpoint wants to show.
 * @module
 */
import type { SessionSnapshot } from "./session_machine.ts";

/** Where the link is. */
export type LinkPhase =
  | "idle"
  | "connecting"
  | "initializing"
  | "syncing"
  | "online"
  | "closing"
  | "lost"
  | "backoff"
  | "closed"
  | "stopped";

/** The summary {@link describeSession} returns. */
export interface SessionSummary {
  /** Where the link is. */
  readonly link: LinkPhase;
  /** OpenD's last known ProgramStatusType name. */
  readonly gateway: string;
  /** Where the login recovery is, e.g. `watching`, `verifying.askingProvider`. */
  readonly recovery: string;
  /** Online, OpenD Ready, nothing fatal: requests can go through. */
  readonly ready: boolean;
  /** The gateway is fatal: only RESET goes on. */
  readonly fatal: boolean;
  /** Reconnect attempts since the last stable online period. */
  readonly attempt: number;
  /** Why the link was last lost. */
  readonly lastReason: string | null;
  /** Why the gateway is fatal. */
  readonly fatalReason: string | null;
  /** What the recovery is answering (status or event, with OpenD's words). */
  readonly recoveryReason: string | null;
  /** Why recovery or reconnecting stopped, when it did. */
  readonly stoppedReason: string | null;
  /** The snapshot's tags, sorted. */
  readonly tags: readonly string[];
}

type StateValueLike = string | { readonly [key: string]: StateValueLike };

function child(value: StateValueLike | undefined, key: string) {
  return typeof value === "object" ? value[key] : undefined;
}

/** `a.b.c` down single-child branches; stops at parallel states. */
function pathOf(value: StateValueLike | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return "";
  const rest = pathOf(value[keys[0]]);
  return rest === "" ? keys[0] : `${keys[0]}.${rest}`;
}

/**
 * The supervisor's snapshot, flattened for display.
 *
 * @example
 * ```ts
 * import { createActor } from "npm:xstate@5.33.3";
 * import { describeSession } from "./describe_session.ts";
 * import { sessionMachine } from "./session_machine.ts";
 * const summary = describeSession(createActor(sessionMachine).getSnapshot());
 * summary.link; // "idle"
 * summary.gateway; // "None"
 * ```
 */
export function describeSession(
  snapshot: SessionSnapshot,
): SessionSummary {
  const value = snapshot.value as StateValueLike;
  const { context } = snapshot;
  const link = child(value, "link");
  const session = child(link, "session");
  const phase =
    (session === undefined
      ? pathOf(link)
      : pathOf(session).split(".")[0] || "online") as LinkPhase;
  const recovery = pathOf(child(child(value, "recovery"), "flow"));
  const fatal = snapshot.hasTag("fatal");
  return {
    link: phase,
    gateway: context.gateway.statusName,
    recovery,
    ready: phase === "online" && snapshot.hasTag("ready") && !fatal,
    fatal,
    attempt: context.link.attempt,
    lastReason: context.link.lastReason,
    fatalReason: context.gateway.fatal?.reason ?? null,
    recoveryReason: recovery === "watching" || recovery === "stopped"
      ? null
      : context.recovery.trigger?.reason ?? null,
    stoppedReason: context.recovery.gaveUpReason ?? context.link.stoppedReason,
    tags: [...snapshot.tags].sort(),
  };
}
