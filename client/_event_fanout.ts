/**
 * The client's event fan-out: the supervisor's emitted events and its
 * summary, handed to user handlers so that one throwing handler never
 * disturbs the supervisor or the others (what it throws goes to
 * `onHandlerError`).
 * @module
 */
import {
  type Actor,
  describeSession,
  type SessionEmitted,
  type SessionMachine,
  type SessionSnapshot,
  type SessionSummary,
} from "../machines/mod.ts";
import type { HandlerErrorContext } from "./options.ts";

/** Where a handler's failure goes. */
export type _Report = (error: unknown, context: HandlerErrorContext) => void;

/** `onHandlerError` when none is given: a line on stderr. */
export function _defaultHandlerError(
  error: unknown,
  context: HandlerErrorContext,
): void {
  const where = context.source === "push"
    ? `an onPush(${context.protoId}) handler`
    : context.source === "event"
    ? `an on("${context.type}") handler`
    : "a subscribe listener";
  console.error(`opend-machine: ${where} threw:`, error);
}

function sameSummary(a: SessionSummary, b: SessionSummary): boolean {
  for (const key of Object.keys(a) as (keyof SessionSummary)[]) {
    if (key !== "tags" && a[key] !== b[key]) return false;
  }
  return a.tags.join() === b.tags.join();
}

/** `handler` on every emitted event of `type` (or all with `"*"`). */
export function _onEvent(
  actor: Actor<SessionMachine>,
  type: string,
  handler: (event: SessionEmitted) => void,
  report: _Report,
): () => void {
  const sub = actor.on(type as SessionEmitted["type"], (event) => {
    try {
      handler(event as SessionEmitted);
    } catch (error) {
      report(error, { source: "event", type: event.type });
    }
  });
  return () => sub.unsubscribe();
}

/** `listener` with the summary now and whenever it changes. */
export function _subscribeSummary(
  actor: Actor<SessionMachine>,
  listener: (summary: SessionSummary, snapshot: SessionSnapshot) => void,
  report: _Report,
): () => void {
  let last = describeSession(actor.getSnapshot());
  const call = (summary: SessionSummary, snapshot: SessionSnapshot) => {
    try {
      listener(summary, snapshot);
    } catch (error) {
      report(error, { source: "subscribe" });
    }
  };
  call(last, actor.getSnapshot());
  const sub = actor.subscribe({
    next: (snapshot) => {
      const summary = describeSession(snapshot);
      if (sameSummary(last, summary)) return;
      last = summary;
      call(summary, snapshot);
    },
    error: () => {},
  });
  return () => sub.unsubscribe();
}
