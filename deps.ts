/**
 * The one place where library code names its npm dependencies.
 *
 * Full `npm:` specifiers (not import-map names) so that `mod.ts` works when
 * imported from a URL, where this project's `deno.json` is not read.
 * @module
 */
export {
  and,
  assign,
  createActor,
  emit,
  enqueueActions,
  fromCallback,
  fromPromise,
  not,
  raise,
  sendTo,
  setup,
  stateIn,
} from "npm:xstate@5.33.3";
export type {
  Actor,
  ActorRefFrom,
  AnyActorLogic,
  AnyStateMachine,
  EventObject,
  PromiseActorLogic,
  SnapshotFrom,
  StateValue,
} from "npm:xstate@5.33.3";
export { default as protobuf } from "npm:protobufjs@8.8.1";
export { or } from "npm:xstate@5.33.3";
// Spelling out the machines' types (no inferred types in the public API).
export type {
  AnyActorRef,
  CallbackActorLogic,
  MachineContext,
  MetaObject,
  ParameterizedObject,
  ProvidedActor,
  StateMachine,
  StateSchema,
} from "npm:xstate@5.33.3";
