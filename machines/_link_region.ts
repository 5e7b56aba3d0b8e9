/**
 * The supervisor's `link` region: idle -> session (connecting ->
 * initializing -> syncing -> online, or closing) -> lost -> backoff ->
 * session again; closed on CLOSE; stopped when the policy says fatal, when
 * reconnect attempts run out or when the same permanent failure repeats.
 *
 * The config names its guards, actions, delays and actors; `linkGuards` and
 * `linkActions` implement the guards and actions over the supervisor's
 * context, and `session_machine.ts` composes them with the other regions.
 * @module
 */
import { enqueueActions, stateIn } from "../deps.ts";
import { ProgramStatusType } from "../codec/definitions.ts";
import { isKnownStatusEvent } from "./_gateway_region.ts";
import { describeCause, outputOf, permanentOf } from "./_session_cause.ts";
import {
  announce,
  type LinkContext,
  type NoParams,
  type SessionArgs as Args,
  type SessionContext,
  type SessionEvent,
  type TimeoutOption,
  update,
  updateWithCause,
} from "./_session_types.ts";
import { recordConnStatus } from "./gateway_record.ts";
import type {
  GetGlobalStateOutput,
  InitConnectOutput,
} from "./session_actors.ts";
import { fullJitterBackoff } from "./session_options.ts";

/** The link context of a supervisor that has not connected yet. */
export function emptyLink(): LinkContext {
  return {
    keepAliveMisses: 0,
    permanentFailures: 0,
    permanentCause: null,
    attempt: 0,
    nextDelayMs: 0,
    connId: null,
    loginUserId: null,
    serverVer: null,
    keepAliveIntervalS: null,
    lastReason: null,
    stoppedReason: null,
    readyAnnounced: false,
  };
}

function idString(value: unknown): string | null {
  return typeof value === "number" || typeof value === "bigint" ||
      (typeof value === "string" && value !== "")
    ? String(value)
    : null;
}

/** Into `target` (lost, mostly), remembering why the link was lost. */
const lossTo = (
  target: string,
  cause: string,
  afterOption?: TimeoutOption,
) => ({
  target,
  actions: { type: "noteLoss" as const, params: { cause, afterOption } },
});

/** What a KeepAlive without an answer leads to. */
const keepAliveMissed = (afterOption?: TimeoutOption) => [
  {
    guard: "keepAliveMissesExhausted" as const,
    ...lossTo("#session.link.lost", "KeepAlive went unanswered", afterOption),
  },
  { target: "waiting", actions: "countKeepAliveMiss" as const },
];

/** The region's guards. */
export const linkGuards = {
  notFatal: ({ context }: Args) => context.gateway.fatal === null,
  announcesReady: ({ context, event }: Args) =>
    isKnownStatusEvent(event) && event.status === ProgramStatusType.Ready &&
    context.gateway.fatal === null &&
    (!context.link.readyAnnounced ||
      context.gateway.status !== ProgramStatusType.Ready),
  reconnectAttemptsExhausted: ({ context }: Args) => {
    const max = context.options.maxReconnectAttempts;
    return max !== undefined && context.link.attempt >= max;
  },
  linkIsClosing: stateIn<SessionContext, SessionEvent, NoParams>(
    "#session.link.session.closing",
  ),
  keepAliveMissesExhausted: ({ context }: Args) =>
    context.link.keepAliveMisses + 1 >= context.options.maxKeepAliveMisses,
  permanentFailuresExhausted: ({ context }: Args) =>
    context.link.permanentCause !== null &&
    context.link.permanentFailures >= context.options.maxPermanentFailures,
};

/** The region's actions. */
export const linkActions = {
  beginSession: update(({ context }) => ({
    link: { ...emptyLink(), lastReason: context.link.lastReason },
  })),
  resetLink: update({ link: () => emptyLink() }),
  storeConnection: update(({ context, event }) => {
    const output = outputOf<InitConnectOutput>(event) ?? {};
    const interval = Number(output.keepAliveInterval);
    return {
      link: {
        ...context.link,
        keepAliveMisses: 0,
        // A new connection: `ready` is announced again once OpenD is Ready.
        readyAnnounced: false,
        // OpenD answered InitConnect: whatever failed before was not
        // permanent after all.
        permanentFailures: 0,
        permanentCause: null,
        connId: idString(output.connId),
        loginUserId: idString(output.loginUserId),
        serverVer: typeof output.serverVer === "number"
          ? output.serverVer
          : null,
        keepAliveIntervalS: Number.isFinite(interval) && interval > 0
          ? interval
          : null,
      },
    };
  }),
  seedGateway: enqueueActions<
    SessionContext,
    SessionEvent,
    NoParams,
    SessionEvent,
    never,
    never,
    never,
    never,
    never
  >(({ context, event, enqueue }) => {
    const output = outputOf<GetGlobalStateOutput>(event) ?? {};
    // The login flags go straight into the record: raising CONN_STATUS
    // would cost a whole step per (re)connect for nothing to decide.
    if (
      typeof output.qotLogined === "boolean" &&
      typeof output.trdLogined === "boolean"
    ) {
      enqueue.assign({
        gateway: recordConnStatus(context.gateway, {
          type: "CONN_STATUS",
          qotLogined: output.qotLogined,
          trdLogined: output.trdLogined,
        }),
      });
    }
    const status = output.programStatus;
    if (status && typeof status.type === "number") {
      enqueue.raise(
        status.strExtDesc === undefined
          ? { type: "PROGRAM_STATUS", status: status.type, seeded: true }
          : {
            type: "PROGRAM_STATUS",
            status: status.type,
            strExtDesc: status.strExtDesc,
            seeded: true,
          },
      );
    }
  }),
  noteLoss: updateWithCause(({ context, event }, params) => {
    const permanent = permanentOf(event);
    const { link } = context;
    return {
      link: {
        ...link,
        lastReason: describeCause(
          context,
          event,
          params.cause ?? "the link was lost",
          params.afterOption,
        ),
        permanentCause: permanent ?? null,
        permanentFailures: permanent === undefined
          ? 0
          : permanent === link.permanentCause
          ? link.permanentFailures + 1
          : 1,
      },
    };
  }),
  notePermanentStop: update(({ context }) => ({
    link: {
      ...context.link,
      stoppedReason: `${context.link.permanentCause}: ` +
        `${context.link.permanentFailures} failures in a row that no ` +
        `retry can fix (last: ${context.link.lastReason ?? "unknown"})`,
    },
  })),
  countKeepAliveMiss: update(({ context }) => ({
    link: {
      ...context.link,
      keepAliveMisses: context.link.keepAliveMisses + 1,
    },
  })),
  clearKeepAliveMisses: update(({ context }) =>
    context.link.keepAliveMisses === 0
      ? {}
      : { link: { ...context.link, keepAliveMisses: 0 } }
  ),
  emitLost: announce(({ context }) => ({
    type: "lost" as const,
    reason: context.link.lastReason ?? "link lost",
  })),
  scheduleReconnect: update(({ context }) => {
    const attempt = context.link.attempt + 1;
    const { reconnectBaseMs, reconnectCapMs, random } = context.options;
    return {
      link: {
        ...context.link,
        attempt,
        nextDelayMs: fullJitterBackoff(
          attempt,
          reconnectBaseMs,
          reconnectCapMs,
          random ?? Math.random,
        ),
      },
    };
  }),
  emitReconnecting: announce(({ context }) => ({
    type: "reconnecting" as const,
    attempt: context.link.attempt,
    delayMs: context.link.nextDelayMs,
  })),
  noteReconnectGiveUp: update(({ context }) => ({
    link: {
      ...context.link,
      stoppedReason: `gave up after ${context.link.attempt} reconnect ` +
        `attempts; last: ${context.link.lastReason ?? "unknown"}`,
    },
  })),
  emitStopped: announce(({ context }) => ({
    type: "stopped" as const,
    reason: context.link.stoppedReason ?? "stopped",
  })),
  emitClosed: announce({ type: "closed" as const }),
  resetAttempts: update(({ context }) => ({
    link: { ...context.link, attempt: 0 },
  })),
  noteReadyAnnounced: update(({ context }) => ({
    link: { ...context.link, readyAnnounced: true },
  })),
  emitReady: announce(({ context }) => ({
    type: "ready" as const,
    connId: context.link.connId,
  })),
};

/** The region's config. */
export const linkRegionConfig = {
  initial: "idle",
  on: {
    GTW_EVENT: { guard: "isFatalTrigger", target: ".stopped" },
    PROGRAM_STATUS: { guard: "isFatalTrigger", target: ".stopped" },
    RESET: { target: ".idle", actions: "resetLink" },
  },
  states: {
    idle: {
      description: "not started; START connects",
      on: {
        START: {
          guard: "notFatal",
          target: "session",
          actions: "beginSession",
        },
        CLOSE: "closed",
      },
    },
    session: {
      description: "a TCP link to OpenD is open or opening",
      invoke: {
        id: "link",
        src: "link",
        input: ({ context }: Args) => ({ attempt: context.link.attempt }),
        onError: [
          { guard: "linkIsClosing", target: "closed" },
          lossTo("lost", "the link failed"),
        ],
      },
      on: {
        LINK_DOWN: lossTo("lost", "the link went down"),
        CLOSE: ".closing",
      },
      initial: "connecting",
      states: {
        connecting: {
          on: { LINK_UP: "initializing" },
          after: {
            connectTimeout: lossTo(
              "#session.link.lost",
              "connecting timed out",
              "connectTimeoutMs",
            ),
          },
        },
        initializing: {
          description: "InitConnect",
          invoke: {
            id: "initConnect",
            src: "initConnect",
            input: ({ context }: Args) => ({ attempt: context.link.attempt }),
            onDone: { target: "syncing", actions: "storeConnection" },
            onError: lossTo("#session.link.lost", "InitConnect failed"),
          },
          after: {
            requestTimeout: lossTo(
              "#session.link.lost",
              "InitConnect timed out",
              "requestTimeoutMs",
            ),
          },
        },
        syncing: {
          description: "GetGlobalState seeds the gateway state",
          invoke: {
            id: "getGlobalState",
            src: "getGlobalState",
            input: ({ context }: Args) => ({ connId: context.link.connId }),
            onDone: { target: "online", actions: "seedGateway" },
            onError: lossTo("#session.link.lost", "GetGlobalState failed"),
          },
          after: {
            requestTimeout: lossTo(
              "#session.link.lost",
              "GetGlobalState timed out",
              "requestTimeoutMs",
            ),
          },
        },
        online: {
          type: "parallel",
          tags: ["online"],
          on: {
            PROGRAM_STATUS: {
              guard: "announcesReady",
              actions: ["noteReadyAnnounced", "emitReady"],
            },
          },
          states: {
            keepAlive: {
              initial: "waiting",
              states: {
                waiting: {
                  after: { keepAliveInterval: "sending" },
                },
                sending: {
                  // The actor resolves on any answer (an answer is a
                  // sign of life); it fails when none came.
                  invoke: {
                    id: "keepAlive",
                    src: "keepAlive",
                    input: ({ context }: Args) => ({
                      connId: context.link.connId,
                    }),
                    onDone: {
                      target: "waiting",
                      actions: "clearKeepAliveMisses",
                    },
                    onError: keepAliveMissed(),
                  },
                  after: {
                    requestTimeout: keepAliveMissed("requestTimeoutMs"),
                  },
                },
              },
            },
            liveness: {
              initial: "listening",
              states: {
                listening: {
                  description: "whole packets are signs of life",
                  on: {
                    PACKET_RECEIVED: { target: "listening", reenter: true },
                    "xstate.done.actor.keepAlive": {
                      target: "listening",
                      reenter: true,
                    },
                  },
                  after: {
                    silenceTimeout: lossTo(
                      "#session.link.lost",
                      "nothing received",
                      "silenceTimeoutMs",
                    ),
                  },
                },
              },
            },
            stability: {
              initial: "settling",
              states: {
                settling: {
                  after: {
                    stableOnlinePeriod: {
                      target: "stable",
                      actions: "resetAttempts",
                    },
                  },
                },
                stable: {},
              },
            },
          },
        },
        closing: {
          description: "CLOSE: let the client close gracefully",
          invoke: {
            id: "closeLink",
            src: "closeLink",
            input: ({ context }: Args) => ({ connId: context.link.connId }),
            onDone: "#session.link.closed",
            onError: "#session.link.closed",
          },
          after: { closeTimeout: "#session.link.closed" },
          on: { LINK_DOWN: "#session.link.closed", CLOSE: {} },
        },
      },
    },
    lost: {
      entry: "emitLost",
      always: [
        {
          guard: "permanentFailuresExhausted",
          target: "stopped",
          actions: ["notePermanentStop", "emitStopped"],
        },
        {
          guard: "reconnectAttemptsExhausted",
          target: "stopped",
          actions: ["noteReconnectGiveUp", "emitStopped"],
        },
        { target: "backoff" },
      ],
    },
    backoff: {
      description: "waiting before reconnecting (full jitter)",
      entry: ["scheduleReconnect", "emitReconnecting"],
      after: { reconnectDelay: "session" },
      on: { CLOSE: "closed" },
    },
    closed: {
      entry: "emitClosed",
      on: {
        START: {
          guard: "notFatal",
          target: "session",
          actions: "beginSession",
        },
      },
    },
    stopped: {
      description: "fatal gateway or no reconnects left; RESET leaves",
      on: {
        START: {
          guard: "notFatal",
          target: "session",
          actions: "beginSession",
        },
        CLOSE: "closed",
        GTW_EVENT: {},
        PROGRAM_STATUS: {},
      },
    },
  },
} as const;
