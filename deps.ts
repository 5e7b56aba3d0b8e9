// Full npm: specifiers are this file's purpose (see below).
// deno-lint-ignore-file no-import-prefix
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
/**
 * prom-client's pin. Only the serve entry uses it, through
 * `serve/_prom_client.ts`, which imports this exact specifier (the npm build
 * checks every import against the pins here), so no other entry's module
 * graph, a URL import of `mod.ts` say, downloads it.
 */
export const PROM_CLIENT_SPECIFIER = "npm:prom-client@15.1.3";
/**
 * Loads `ws` (the simulator's WebSocket server) on first use only: it reads
 * environment variables when loaded, which would otherwise ask every user
 * of this module for env access. It ships no declarations;
 * sim/_ws_listener.ts types the little it uses.
 */
export function loadWs(): Promise<unknown> {
  // @ts-ignore: an untyped module is an error for tsc (the Node build), not for Deno
  return import("npm:ws@8.23.0");
}
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
