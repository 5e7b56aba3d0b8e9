/**
 * The supervisor's `recovery` region: the login logic. Its `flow` answers
 * OpenD's news as the policy says (verifying a code, relogging in, parking,
 * giving up, stopped on fatal) with bounded attempts; its `codeGate` beside
 * it keeps OpenD's verification-code limits, plus a margin, whatever the
 * burst.
 *
 * The config names its guards, actions, delays and actors;
 * `_recovery_actions.ts` implements the guards and actions over the
 * supervisor's context, and `session_machine.ts` composes them with the
 * other regions.
 * @module
 */
import { and, not } from "../deps.ts";
import { boxedCode } from "./_recovery_actions.ts";
import { outputOf } from "./_session_cause.ts";
import type {
  AnyEvent,
  SessionArgs as Args,
  TimeoutOption,
} from "./_session_types.ts";
import type { Reaction } from "./policy.ts";
import { Secret, toSecret } from "./secret.ts";
import type {
  CredentialsProviderOutput,
  ReloginInput,
} from "./session_actors.ts";

const giveUp = (cause?: string, afterOption?: TimeoutOption) => ({
  target: "#session.recovery.flow.gaveUp",
  actions: cause === undefined
    ? { type: "noteGiveUp" as const, params: {} }
    : { type: "noteGiveUp" as const, params: { cause, afterOption } },
});

const noteFailure = (cause: string, afterOption?: TimeoutOption) => ({
  type: "noteFailure" as const,
  params: { cause, afterOption },
});

/** Into a flow's `failed` step, remembering why. */
const failTo = (
  target: string,
  cause: string,
  afterOption?: TimeoutOption,
) => ({ target, actions: noteFailure(cause, afterOption) });

const afterReloginWait = [
  { guard: "reloginsExhausted" as const, ...giveUp("relogin budget used up") },
  { guard: "asksCredentials" as const, target: "fetchingCredentials" },
  { target: "sending" },
];

const RELOGIN_REACTIONS: readonly Reaction[] = [
  "relogin",
  "reloginAfterCooldown",
  "reloginWithBackoff",
];

/** How the recovery flow answers a status or gateway event. */
const dispatchTrigger = [
  { guard: "isFatalTrigger" as const, target: ".stopped" },
  {
    guard: "reportsReady" as const,
    target: ".watching",
    actions: "clearRecovery" as const,
  },
  {
    guard: {
      type: "triggers" as const,
      params: { reactions: ["verifyCode"] as readonly Reaction[] },
    },
    target: ".verifying",
    actions: "beginFlow" as const,
  },
  {
    guard: {
      type: "triggers" as const,
      params: { reactions: RELOGIN_REACTIONS },
    },
    target: ".relogging",
    actions: "beginFlow" as const,
  },
  {
    guard: {
      type: "triggers" as const,
      params: { reactions: ["park"] as readonly Reaction[] },
    },
    target: ".parked",
    actions: ["beginFlow" as const, "announceNeedsPerson" as const],
  },
  {
    guard: {
      type: "triggers" as const,
      params: { reactions: ["notify"] as readonly Reaction[] },
    },
    actions: "announceNeedsPerson" as const,
  },
];

/** A LoginFailed while a relogin is under way: the password was refused. */
const passwordRefusedOnLoginFailed = {
  GTW_EVENT: [{
    guard: "reportsLoginFailed" as const,
    target: "failed",
    actions: [
      noteFailure("login failed after relogin"),
      "notePasswordRefused" as const,
    ],
  }],
  PROGRAM_STATUS: [{
    guard: "reportsLoginFailed" as const,
    target: "failed",
    actions: [
      noteFailure("login failed after relogin"),
      "notePasswordRefused" as const,
    ],
  }],
};

/** A flow ignores news it already acts on (OpenD often says it twice). */
const ignoreRepeats = {
  GTW_EVENT: { guard: "isRepeat" as const },
  PROGRAM_STATUS: { guard: "isRepeat" as const },
};

/** The region's config. */
export const recoveryRegionConfig = {
  type: "parallel",
  states: {
    flow: {
      initial: "watching",
      on: {
        GTW_EVENT: dispatchTrigger,
        PROGRAM_STATUS: dispatchTrigger,
        RESET: { target: ".watching", actions: "clearRecovery" },
        CLOSE: ".watching",
      },
      states: {
        watching: {
          description: "nothing to recover",
        },
        verifying: {
          description: "get a verification code to OpenD",
          initial: "waitingForGate",
          on: ignoreRepeats,
          states: {
            waitingForGate: {
              description:
                "one code round per interval, per kind: OpenD's limits plus a margin",
              always: {
                guard: "codeGateOpen",
                target: "choosing",
                actions: "startCodeRound",
              },
            },
            choosing: {
              always: [
                {
                  guard: and([
                    "shouldRequestCode",
                    "codeRequestsExhausted",
                  ]),
                  ...giveUp("the code request budget is used up"),
                },
                { guard: "shouldRequestCode", target: "requesting" },
                { target: "askingProvider" },
              ],
            },
            requesting: {
              entry: "countCodeRequest",
              invoke: {
                id: "requestVerificationCode",
                src: "requestVerificationCode",
                input: ({ context }: Args) => ({
                  kind: context.recovery.trigger?.codeKind ?? "phone",
                }),
                onDone: "askingProvider",
                onError: [
                  {
                    guard: "tooFrequentFirstTime",
                    target: "coolingBeforeRequest",
                    actions: "noteTooFrequent",
                  },
                  failTo("waitingForGate", "requesting a code failed"),
                ],
              },
              after: {
                requestTimeout: failTo(
                  "waitingForGate",
                  "requesting a code timed out",
                  "requestTimeoutMs",
                ),
              },
            },
            coolingBeforeRequest: {
              description: "OpenD said too frequent: wait, then once more",
              after: { rateLimitWait: "requesting" },
            },
            askingProvider: {
              entry: "announceNeedsCode",
              invoke: {
                id: "codeProvider",
                src: "codeProvider",
                input: ({ context }: Args) => {
                  const kind = context.recovery.trigger?.codeKind ??
                    "phone";
                  const path = context.options.picturePath;
                  return {
                    kind,
                    ...(kind === "picture" && path !== undefined
                      ? { picturePath: path }
                      : {}),
                    attempt: context.recovery.codeAttempts + 1,
                    reason: context.recovery.codeReason,
                  };
                },
                onDone: [
                  { guard: "providedCode", target: "submitting" },
                  giveUp("the code provider gave no code"),
                ],
                onError: giveUp("the code provider failed"),
              },
              on: {
                SUBMIT_CODE: {
                  guard: "submittedCode",
                  target: "submitting",
                },
              },
              after: {
                providerTimeout: [
                  {
                    guard: "codeAttemptsExhausted",
                    ...giveUp("no code arrived", "providerTimeoutMs"),
                  },
                  {
                    // The code sent may have expired: ask for a new one.
                    target: "waitingForGate",
                    actions: {
                      type: "countCodeFailure",
                      params: { reason: "timeout" },
                    },
                  },
                ],
              },
            },
            submitting: {
              invoke: {
                id: "submitVerificationCode",
                src: "submitVerificationCode",
                input: ({ context, event }: Args) => ({
                  kind: context.recovery.trigger?.codeKind ?? "phone",
                  // Boxed: inspection sees the input, never the code.
                  code: boxedCode(
                    (event as { code?: unknown }).code ??
                      outputOf<unknown>(event),
                  ) ?? new Secret(""),
                }),
                onDone: "awaitingLogin",
                onError: [
                  {
                    // The code is not kept: the provider is asked again.
                    guard: "tooFrequentFirstTime",
                    target: "coolingBeforeAsking",
                    actions: "noteTooFrequent",
                  },
                  failTo("refused", "the code was refused"),
                ],
              },
              after: {
                requestTimeout: failTo(
                  "refused",
                  "submitting the code timed out",
                  "requestTimeoutMs",
                ),
              },
            },
            coolingBeforeAsking: {
              description: "OpenD said too frequent: wait, then once more",
              after: { rateLimitWait: "askingProvider" },
            },
            awaitingLogin: {
              description: "code accepted; waiting for Ready",
              on: {
                GTW_EVENT: {
                  guard: "isRepeat",
                  ...failTo("refused", "OpenD asked for a code again"),
                },
                PROGRAM_STATUS: {
                  guard: "isRepeat",
                  ...failTo("refused", "OpenD asked for a code again"),
                },
              },
              after: {
                loginConfirmTimeout: failTo(
                  "refused",
                  "OpenD did not become ready",
                  "loginConfirmTimeoutMs",
                ),
              },
            },
            refused: {
              description: "the code did not work",
              always: [
                { guard: "codeAttemptsExhausted", ...giveUp() },
                {
                  // A new picture replaces the one answered wrongly.
                  guard: "isPictureCode",
                  target: "waitingForGate",
                  actions: {
                    type: "countCodeFailure",
                    params: { reason: "wrongCode" },
                  },
                },
                {
                  target: "askingProvider",
                  actions: {
                    type: "countCodeFailure",
                    params: { reason: "wrongCode" },
                  },
                },
              ],
            },
          },
        },
        relogging: {
          description: "relogin through OpenD's operations port",
          initial: "waiting",
          on: {
            ...ignoreRepeats,
            // Not a reason to start over (and drop a question asked).
            PROGRAM_STATUS: [
              { guard: "staleSnapshot" },
              ignoreRepeats.PROGRAM_STATUS,
            ],
          },
          states: {
            waiting: {
              description: "cool-down or backoff before relogin",
              always: { guard: not("hasReloginDelay"), target: "due" },
              after: { reloginDelay: "due" },
            },
            due: {
              always: afterReloginWait,
            },
            fetchingCredentials: {
              entry: "countCredentialsAsk",
              invoke: {
                id: "credentialsProvider",
                src: "credentialsProvider",
                input: ({ context }: Args) => {
                  const { trigger, passwordRefused, lastFailure } =
                    context.recovery;
                  return {
                    reason: trigger?.reason ?? "relogin",
                    ...(trigger?.eventType === undefined
                      ? {}
                      : { eventType: trigger.eventType }),
                    attempt: context.recovery.credentialsAsked,
                    ...(passwordRefused && lastFailure !== null
                      ? { lastFailure }
                      : {}),
                  };
                },
                onDone: [
                  { guard: "hasCredentials", target: "sending" },
                  giveUp("no credentials to relogin with"),
                ],
                onError: giveUp("the credentials provider failed"),
              },
              after: {
                providerTimeout: giveUp(
                  "no credentials arrived",
                  "providerTimeoutMs",
                ),
              },
            },
            sending: {
              entry: "countRelogin",
              invoke: {
                id: "relogin",
                src: "relogin",
                // Credentials go from the provider's answer straight into
                // the relogin actor, boxed; never through context.
                input: ({ context, event }: Args): ReloginInput => {
                  const credentials = (event as AnyEvent).type ===
                      "xstate.done.actor.credentialsProvider"
                    ? toSecret(outputOf<CredentialsProviderOutput>(event))
                    : undefined;
                  const base = {
                    reason: context.recovery.trigger?.reason ?? "relogin",
                    attempt: context.recovery.reloginAttempts,
                  };
                  return credentials ? { ...base, credentials } : base;
                },
                onDone: "awaitingLogin",
                onError: [
                  {
                    guard: "tooFrequentFirstTime",
                    target: "coolingDown",
                    actions: "noteTooFrequent",
                  },
                  {
                    guard: "wrongPassword",
                    target: "failed",
                    actions: [
                      noteFailure("OpenD refused the password"),
                      "notePasswordRefused",
                    ],
                  },
                  failTo("failed", "relogin failed"),
                ],
              },
              on: passwordRefusedOnLoginFailed,
              after: {
                requestTimeout: failTo(
                  "failed",
                  "relogin timed out",
                  "requestTimeoutMs",
                ),
              },
            },
            coolingDown: {
              description: "OpenD said too frequent: wait, then once more",
              after: { rateLimitWait: "due" },
            },
            awaitingLogin: {
              description: "relogin sent; waiting for Ready",
              on: {
                GTW_EVENT: [
                  {
                    guard: "isRepeat",
                    ...failTo("failed", "login failed again"),
                  },
                  ...passwordRefusedOnLoginFailed.GTW_EVENT,
                ],
                PROGRAM_STATUS: [
                  { guard: "staleSnapshot" },
                  {
                    guard: "isRepeat",
                    ...failTo("failed", "login failed again"),
                  },
                  ...passwordRefusedOnLoginFailed.PROGRAM_STATUS,
                ],
              },
              after: {
                loginConfirmTimeout: failTo(
                  "failed",
                  "OpenD did not become ready",
                  "loginConfirmTimeoutMs",
                ),
              },
            },
            failed: {
              description: "the relogin did not work",
              always: [
                { guard: "reloginsExhausted", ...giveUp() },
                { target: "waiting", actions: "scheduleReloginRetry" },
              ],
            },
          },
        },
        parked: {
          description: "reported; not fighting it; waiting for a person",
          tags: ["needsPerson"],
          on: ignoreRepeats,
        },
        gaveUp: {
          description: "bounded attempts used up; reported; RESET leaves",
          tags: ["needsPerson"],
          entry: "announceGaveUp",
          on: {
            GTW_EVENT: { guard: "isNeitherFatalNorReady" },
            PROGRAM_STATUS: { guard: "isNeitherFatalNorReady" },
          },
        },
        stopped: {
          description: "the gateway is fatal; RESET leaves",
          on: {
            GTW_EVENT: {},
            PROGRAM_STATUS: {},
            CLOSE: {},
          },
        },
      },
    },
    codeGate: {
      description: "closed for a while after each code round",
      initial: "open",
      states: {
        open: {
          on: {
            CODE_ROUND: [
              { guard: "isPhoneRound", target: "closedAfterPhone" },
              { target: "closedAfterPicture" },
            ],
          },
        },
        closedAfterPhone: {
          after: { phoneCodeInterval: "open" },
        },
        closedAfterPicture: {
          after: { pictureCodeInterval: "open" },
        },
      },
    },
  },
} as const;
