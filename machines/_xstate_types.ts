/**
 * XState types this module's public API mentions, re-exported at the version
 * it uses. Hidden from the generated docs (`@ignore`): they are XState's, and
 * documented there.
 * @module
 */
import type {
  Actor as XStateActor,
  AnyActorLogic,
  AnyActorRef,
  CallbackActorLogic as XStateCallbackActorLogic,
  EventObject,
  MachineContext,
  MetaObject,
  ParameterizedObject,
  PromiseActorLogic as XStatePromiseActorLogic,
  ProvidedActor,
  SnapshotFrom as XStateSnapshotFrom,
  StateMachine,
  StateSchema,
  StateValue as XStateStateValue,
} from "../deps.ts";

/** @ignore */
export type PromiseActorLogic<TOutput, TInput> = XStatePromiseActorLogic<
  TOutput,
  TInput
>;

/** @ignore */
export type StateValue = XStateStateValue;

/** @ignore */
export type CallbackActorLogic<
  TEvent extends EventObject,
  TInput,
> = XStateCallbackActorLogic<TEvent, TInput>;

/** @ignore */
export type SnapshotFrom<T> = XStateSnapshotFrom<T>;

/** @ignore */
export type Actor<TLogic extends AnyActorLogic> = XStateActor<TLogic>;

/**
 * A machine's type spelt out, as the public API needs it (no inferred
 * types): context, events, tags, input, emitted events and delays exact;
 * state values as given (their shape down to the depth callers read);
 * children, actors, actions and guards in XState's general form.
 * @ignore
 */
export type ExplicitMachine<
  TContext extends MachineContext,
  TEvent extends EventObject,
  TTag extends string,
  TInput,
  TEmitted extends EventObject,
  TDelay extends string = string,
  TStateValue extends StateValue = StateValue,
> = StateMachine<
  TContext,
  TEvent,
  Record<string, AnyActorRef | undefined>,
  ProvidedActor,
  ParameterizedObject,
  ParameterizedObject,
  TDelay,
  TStateValue,
  TTag,
  TInput,
  unknown,
  TEmitted,
  MetaObject,
  StateSchema
>;

/**
 * `machine` as the {@link ExplicitMachine} type it is assigned to. What
 * callers rely on must match or this does not compile: context, events, tags,
 * input, emitted events and delays exactly, and the machine's state values
 * must fit the declared state-value type. Only the implementation names and
 * the finer structure of state values are widened.
 * @ignore
 */
export function explicitMachine<
  TContext extends MachineContext,
  TEvent extends EventObject,
  TTag extends string,
  TInput,
  TEmitted extends EventObject,
  TDelay extends string,
  TStateValue extends StateValue,
  TInferredValue extends TStateValue,
>(
  machine: StateMachine<
    TContext,
    TEvent,
    // deno-lint-ignore no-explicit-any
    any,
    // deno-lint-ignore no-explicit-any
    any,
    // deno-lint-ignore no-explicit-any
    any,
    // deno-lint-ignore no-explicit-any
    any,
    TDelay,
    TInferredValue,
    TTag,
    TInput,
    // deno-lint-ignore no-explicit-any
    any,
    TEmitted,
    // deno-lint-ignore no-explicit-any
    any,
    // deno-lint-ignore no-explicit-any
    any
  >,
): ExplicitMachine<
  TContext,
  TEvent,
  TTag,
  TInput,
  TEmitted,
  TDelay,
  TStateValue
> {
  return machine as unknown as ExplicitMachine<
    TContext,
    TEvent,
    TTag,
    TInput,
    TEmitted,
    TDelay,
    TStateValue
  >;
}
