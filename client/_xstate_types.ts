/**
 * XState types the client's public API mentions, re-exported at the version
 * it uses (as `machines/_xstate_types.ts` does for its own). Hidden from the
 * generated docs (`@ignore`): they are XState's, and documented there.
 * @module
 */
import type { Actor as XStateActor, AnyActorLogic } from "../deps.ts";

/** @ignore */
export type Actor<TLogic extends AnyActorLogic> = XStateActor<TLogic>;
