/**
 * XState types this module's public API mentions, re-exported at the version
 * it uses. Hidden from the generated docs (`@ignore`): they are XState's, and
 * documented there.
 * @module
 */
import type {
  Actor as XStateActor,
  AnyActorLogic,
  PromiseActorLogic as XStatePromiseActorLogic,
  SnapshotFrom as XStateSnapshotFrom,
} from "../deps.ts";

/** @ignore */
export type PromiseActorLogic<TOutput, TInput> = XStatePromiseActorLogic<
  TOutput,
  TInput
>;

/** @ignore */
export type SnapshotFrom<T> = XStateSnapshotFrom<T>;

/** @ignore */
export type Actor<TLogic extends AnyActorLogic> = XStateActor<TLogic>;
