/**
 * The session supervisor: one statechart that owns a connection to OpenD and
 * keeps it useful, unattended. Three parallel regions, each in its own file
 * with the guards and actions it names; this file composes them:
 *
 * - `link` (`_link_region.ts`): idle -> session (connecting -> initializing
 *   -> syncing -> online, or closing) -> lost -> backoff -> session again;
 *   closed on CLOSE; stopped when the policy says fatal or reconnect
 *   attempts run out.
 * - `gateway` (`_gateway_region.ts`): OpenD's program status (the same
 *   region as `programStatusMachine`).
 * - `recovery` (`_recovery_region.ts`, `_recovery_actions.ts`): the login
 *   logic (verification codes, relogin, parking), with a code gate beside it
 *   that keeps OpenD's limits (plus a margin) whatever the burst.
 *
 * The supervisor's types live in `_session_types.ts` and are exported here.
 *
 * Every side effect is a named actor and every wait a named delay, so the
 * client, a simulator or a test supplies them with `.provide()` and drives
 * time with its own clock.
 * @module
 */
import { enqueueActions, setup } from "../deps.ts";
import {
  type ExplicitMachine,
  explicitMachine,
  type SnapshotFrom,
  type StateValue,
} from "./_xstate_types.ts";
import {
  gatewayActions,
  gatewayGuards,
  type GatewayLens,
  gatewayRegionConfig,
  isFatalTrigger,
} from "./_gateway_region.ts";
import {
  emptyLink,
  linkActions,
  linkGuards,
  linkRegionConfig,
} from "./_link_region.ts";
import {
  emptyRecovery,
  recoveryActions,
  recoveryGuards,
} from "./_recovery_actions.ts";
import { recoveryRegionConfig } from "./_recovery_region.ts";
import { keepAlivePeriodMs, silenceMs } from "./_session_cause.ts";
import type {
  AnyEvent,
  SessionContext,
  SessionDelay,
  SessionEmitted,
  SessionEvent,
  SessionTag,
} from "./_session_types.ts";
import { notificationToEvent } from "./gateway_events.ts";
import { emptyGatewayRecord } from "./gateway_record.ts";
import { defaultSessionActors } from "./session_actors.ts";
import { resolveSessionOptions, type SessionInput } from "./session_options.ts";

export type { RecoveryContext, RecoveryTrigger } from "./_recovery_trigger.ts";
export type {
  LinkContext,
  SessionContext,
  SessionControlEvent,
  SessionDelay,
  SessionEmitted,
  SessionEvent,
  SessionInternalEvent,
  SessionTag,
} from "./_session_types.ts";

// Where the gateway region's record and policy live in the context.
const gateway: GatewayLens<SessionContext> = {
  record: (context) => context.gateway,
  store: (record) => ({ gateway: record }),
  policy: (context) => context.options.policy,
};

function asEvent<T extends SessionEvent["type"]>(
  event: AnyEvent,
  type: T,
): Extract<SessionEvent, { type: T }> {
  if (event.type !== type) {
    throw new Error(`expected ${type}, received ${event.type}`);
  }
  return event as Extract<SessionEvent, { type: T }>;
}

/** Every wait, named; each reads its length from the context. */
const sessionDelays: Record<
  SessionDelay,
  (args: { context: SessionContext }) => number
> = {
  connectTimeout: ({ context }) => context.options.connectTimeoutMs,
  requestTimeout: ({ context }) => context.options.requestTimeoutMs,
  closeTimeout: ({ context }) => context.options.closeTimeoutMs,
  // OpenD drops a connection that sends no KeepAlive within its interval;
  // sending at 4/5 of it leaves room for a slow reply.
  keepAliveInterval: ({ context }) => keepAlivePeriodMs(context),
  // Never shorter than a keep-alive round trip (see silenceMs).
  silenceTimeout: ({ context }) => silenceMs(context),
  stableOnlinePeriod: ({ context }) => context.options.stableOnlineMs,
  reconnectDelay: ({ context }) => context.link.nextDelayMs,
  // OpenD's limits plus a margin: the client's clock and the network's
  // jitter must not make a request arrive a moment early.
  phoneCodeInterval: ({ context }) =>
    context.options.phoneCodeIntervalMs + context.options.rateLimitMarginMs,
  pictureCodeInterval: ({ context }) =>
    context.options.pictureCodeIntervalMs + context.options.rateLimitMarginMs,
  // OpenD said "too frequent": as long as it said (a minute when it did not
  // say), plus the margin.
  rateLimitWait: ({ context }) =>
    (context.recovery.retryAfterMs > 0
      ? context.recovery.retryAfterMs
      : context.options.phoneCodeIntervalMs) +
    context.options.rateLimitMarginMs,
  providerTimeout: ({ context }) => context.options.providerTimeoutMs,
  loginConfirmTimeout: ({ context }) => context.options.loginConfirmTimeoutMs,
  reloginDelay: ({ context }) => context.recovery.reloginDelayMs,
};

const sessionMachineDefinition = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    // `void`, not `undefined`: XState drops `undefined` from this type, which
    // would make `input` mandatory in createActor.
    input: {} as SessionInput | void,
    tags: {} as SessionTag,
    emitted: {} as SessionEmitted,
  },
  actors: defaultSessionActors,
  guards: {
    ...gatewayGuards<SessionContext>(gateway.policy),
    isFatalTrigger: ({ context, event }) =>
      isFatalTrigger(context.options.policy, event),
    ...linkGuards,
    ...recoveryGuards,
  },
  actions: {
    forwardNotification: enqueueActions(({ event, enqueue }) => {
      const { notification } = asEvent(event, "NOTIFICATION");
      if (notification === null || typeof notification !== "object") {
        enqueue.raise({ type: "UNKNOWN_NOTIFICATION", notifyType: -1 });
        return;
      }
      enqueue.emit({ type: "notification", notification });
      enqueue.raise(notificationToEvent(notification));
    }),
  },
  delays: sessionDelays,
}).extend({
  // The regions' actions, made in their own files with their types spelt
  // out. Added here, not spread into `actions` above: a ready-made action
  // there makes TypeScript infer the action map before `forwardNotification`
  // is typed, and `enqueueActions` then fails to type-check.
  actions: {
    ...gatewayActions<SessionContext, SessionEvent>(gateway),
    ...linkActions,
    ...recoveryActions,
  },
}).createMachine({
  id: "session",
  type: "parallel",
  context: ({ input }) => ({
    options: resolveSessionOptions(input as SessionInput | undefined),
    link: emptyLink(),
    gateway: emptyGatewayRecord(),
    recovery: emptyRecovery(),
  }),
  on: {
    NOTIFICATION: { actions: "forwardNotification" },
  },
  states: {
    link: linkRegionConfig,
    gateway: gatewayRegionConfig,
    recovery: recoveryRegionConfig,
  },
});

/**
 * The type of {@link sessionMachine}, spelt out (the package has no inferred
 * types in its public API): context, events, tags, input, emitted events and
 * delays exactly; actors, actions, guards and state values in general form.
 */
export type SessionMachine = ExplicitMachine<
  SessionContext,
  SessionEvent,
  SessionTag,
  SessionInput | void,
  SessionEmitted,
  SessionDelay,
  {
    link: StateValue;
    gateway: { status: StateValue; fault: StateValue };
    recovery: { flow: StateValue; codeGate: StateValue };
  }
>;

/**
 * The session supervisor. Start it with `START`; stop with `CLOSE`; `RESET`
 * is the only way out of a fatal gateway. Input: {@link SessionInput} (every
 * knob optional). Actors to provide: `link`, `initConnect`, `getGlobalState`,
 * `keepAlive`, `closeLink`, `requestVerificationCode`,
 * `submitVerificationCode`, `codeProvider`, `credentialsProvider`, `relogin`
 * (see `session_actors.ts`).
 *
 * @example
 * ```ts
 * import { createActor } from "npm:xstate@5.33.3";
 * import { sessionMachine } from "./session_machine.ts";
 * const session = createActor(
 *   sessionMachine.provide({ actors: {} }), // real actors from the client
 *   { input: { reconnectCapMs: 30_000 } },
 * );
 * session.on("fatal", ({ reason }) => console.error("OpenD:", reason));
 * session.start();
 * session.send({ type: "START" });
 * ```
 */
export const sessionMachine: SessionMachine = explicitMachine(
  sessionMachineDefinition,
);

/** A snapshot of {@link sessionMachine}. */
export type SessionSnapshot = SnapshotFrom<SessionMachine>;
