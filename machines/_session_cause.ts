/**
 * How the supervisor reads what went wrong: the hints an actor's error or a
 * LINK_DOWN carries, an actor's output, and the sentence a cause becomes in
 * `lastReason`, `lastFailure` and the events (secrets redacted, timeouts
 * named with their length).
 * @module
 */
import type { FailureHints } from "./session_actors.ts";
import { redactSecrets } from "./secret.ts";
import { triggerOf } from "./_recovery_trigger.ts";
import type {
  AnyEvent,
  SessionContext,
  TimeoutOption,
} from "./_session_types.ts";

/** The hints an actor's error or a LINK_DOWN carries (see FailureHints). */
export function hintsOf(event: AnyEvent): FailureHints {
  const { error } = event as { error?: unknown };
  return (error !== null && typeof error === "object"
    ? error
    : event) as FailureHints;
}

/** The permanent cause an error names, redacted, if it names one. */
export function permanentOf(event: AnyEvent): string | undefined {
  const permanent = hintsOf(event).permanent;
  return typeof permanent === "string" && permanent !== ""
    ? redactSecrets(permanent)
    : undefined;
}

/** The output of an actor's done event (XState types it only per invoke). */
export function outputOf<T>(event: AnyEvent): T | undefined {
  return (event as { output?: T }).output;
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
export function keepAlivePeriodMs(context: SessionContext): number {
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
export function silenceMs(context: SessionContext): number {
  return Math.max(
    context.options.silenceTimeoutMs,
    keepAlivePeriodMs(context) + context.options.requestTimeoutMs,
  );
}

/**
 * The sentence a cause becomes: what, after how long when a timeout named
 * its option, and what OpenD or the error said.
 */
export function describeCause(
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
