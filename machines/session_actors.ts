/**
 * The side effects the session supervisor needs, as named XState actors with
 * typed inputs and outputs. The machine ships placeholders; the client (a real
 * TCP link, OpenD's operations port) or a test supplies the real ones with
 * `sessionMachine.provide({ actors: { ... } })`.
 * @module
 */
import { fromCallback, fromPromise } from "../deps.ts";
import type { CallbackActorLogic, PromiseActorLogic } from "./_xstate_types.ts";
import type { SystemNotification } from "../codec/system_notification.ts";
import type { CodeKind } from "./policy.ts";
import { type Credentials, type Secret, toSecret } from "./secret.ts";

/**
 * What an actor's error (or a `LINK_DOWN`) may say beyond its message, so the
 * supervisor can act on it. Errors without these fields are ordinary
 * failures.
 */
export interface FailureHints {
  /**
   * No retry can fix this (a wrong RSA key, a port that does not speak
   * OpenD's protocol, an unknown host): a short, stable description. The
   * same description `maxPermanentFailures` times in a row stops
   * reconnecting.
   */
  readonly permanent?: string;
  /**
   * OpenD answered "too frequent": wait this long (plus the margin), then
   * retry once. `0` when OpenD gave no time.
   */
  readonly retryAfterMs?: number;
  /** OpenD refused the password of a relogin. */
  readonly wrongPassword?: boolean;
}

/** What the `link` actor is given when a connection attempt starts. */
export interface LinkInput {
  /** Reconnect attempt number, 0 for the first connection. */
  readonly attempt: number;
}

/**
 * Events the `link` actor sends back to the supervisor:
 * - `LINK_UP` once the TCP connection is open;
 * - `LINK_DOWN` when it closes or fails (with a reason for people, and
 *   `permanent` when no retry can fix it, see {@link FailureHints});
 * - `PACKET_RECEIVED` when one or more whole packets arrived (keeps the link
 *   alive; one per received chunk is plenty, so a busy stream coalesces);
 * - `BYTES_RECEIVED`: accepted and ignored. Bytes are no sign of life: a
 *   header that lies about its body length swallows every later packet.
 * - `NOTIFICATION` for every decoded Notify (1003) push.
 */
export type LinkEvent =
  | { readonly type: "LINK_UP" }
  | {
    readonly type: "LINK_DOWN";
    readonly reason: string;
    /** Set when no retry can fix it; see {@link FailureHints.permanent}. */
    readonly permanent?: string;
  }
  | { readonly type: "PACKET_RECEIVED"; readonly packets?: number }
  | { readonly type: "BYTES_RECEIVED"; readonly byteLength?: number }
  | {
    readonly type: "NOTIFICATION";
    readonly notification: SystemNotification;
  };

/** What the `initConnect` actor is given. */
export interface InitConnectInput {
  /** Reconnect attempt number, 0 for the first connection. */
  readonly attempt: number;
}

/** InitConnect.S2C fields the supervisor uses (others are ignored). */
export interface InitConnectOutput {
  /** Seconds; KeepAlive is sent every `keepAliveInterval * 4/5` s. */
  readonly keepAliveInterval?: number;
  /** The connection's ID (uint64: any numeric form). */
  readonly connId?: number | bigint | string;
  /** The logged-in user's ID (uint64: any numeric form). */
  readonly loginUserId?: number | bigint | string;
  /** OpenD's version. */
  readonly serverVer?: number;
}

/** GetGlobalState.S2C fields the supervisor uses to seed the gateway. */
export interface GetGlobalStateOutput {
  /** OpenD's status: seeds the gateway region. */
  readonly programStatus?: {
    readonly type: number;
    readonly strExtDesc?: string;
  };
  /** Logged in to the quote server. */
  readonly qotLogined?: boolean;
  /** Logged in to the trade server. */
  readonly trdLogined?: boolean;
  /** OpenD's version. */
  readonly serverVer?: number;
  /** The connection's ID. */
  readonly connId?: number | bigint | string;
}

/** What requests on an open connection are given. */
export interface ConnectionInput {
  /** InitConnect's connID as a decimal string, `null` if it had none. */
  readonly connId: string | null;
}

/** What `requestVerificationCode` is given. */
export interface RequestCodeInput {
  /** Which code to request. */
  readonly kind: CodeKind;
}

/**
 * What `submitVerificationCode` is given. Reject when OpenD refuses it.
 * The code is boxed: reveal it only where the request is written.
 */
export interface SubmitCodeInput {
  /** Which code this is. */
  readonly kind: CodeKind;
  /** The code, trimmed, in a {@link Secret}. */
  readonly code: Secret<string>;
}

/** Why a code is being asked for. */
export type CodeRequestReason = "needed" | "wrongCode" | "timeout";

/** What the `codeProvider` is given; it answers with the code. */
export interface CodeProviderInput {
  /** Which code is needed. */
  readonly kind: CodeKind;
  /** For picture codes: where OpenD saved the picture, when configured. */
  readonly picturePath?: string;
  /** 1 for the first code of an episode, 2 after one wrong code, ... */
  readonly attempt: number;
  /** Why it is asked for. */
  readonly reason: CodeRequestReason;
}

/**
 * What the `codeProvider` answers: the code, preferably boxed in a
 * {@link Secret} (see {@link codeFrom}) so it never shows in done events,
 * snapshots or inspection. Empty (or not a string): no code.
 */
export type CodeProviderOutput = Secret<string> | string | undefined;

/** The actor logic {@link codeFrom} makes. */
export type CodeProviderLogic = PromiseActorLogic<
  CodeProviderOutput,
  CodeProviderInput
>;

/** What the `credentialsProvider` is given. */
export interface CredentialsProviderInput {
  /** Why credentials are needed, for people. */
  readonly reason: string;
  /** The GtwEventType that made it necessary, if any. */
  readonly eventType?: number;
  /** 1 the first time in a recovery episode, 2 after a refused password, ... */
  readonly attempt?: number;
  /** Why the last credentials did not work (for example a password error). */
  readonly lastFailure?: string;
}

/**
 * What the `credentialsProvider` answers: credentials (preferably boxed in a
 * {@link Secret}, see {@link credentialsFrom}) or `undefined` for "none".
 */
export type CredentialsProviderOutput =
  | Secret<Credentials>
  | Credentials
  | undefined;

/** The actor logic {@link credentialsFrom} makes. */
export type CredentialsProviderLogic = PromiseActorLogic<
  CredentialsProviderOutput,
  CredentialsProviderInput
>;

/** What the `relogin` actor is given. */
export interface ReloginInput {
  /** Present when the policy asked the credentials provider first. */
  readonly credentials?: Secret<Credentials>;
  /** Why the relogin, for people and logs. */
  readonly reason: string;
  /** 1 for the first relogin since the gateway was last ready. */
  readonly attempt: number;
}

function notProvided(name: string): Error {
  return new Error(
    `the session actor "${name}" was not provided: give it with ` +
      `sessionMachine.provide({ actors: { ${name}: ... } })`,
  );
}

function rejectsNotProvided<TOutput, TInput>(
  name: string,
): PromiseActorLogic<TOutput, TInput> {
  return fromPromise<TOutput, TInput>(() => Promise.reject(notProvided(name)));
}

/**
 * A `credentialsProvider` from a plain async function: the answer is boxed
 * in a {@link Secret} before XState sees it, so it never appears in done
 * events, snapshots or inspection.
 *
 * @example
 * ```ts
 * import { credentialsFrom } from "./session_actors.ts";
 * const credentialsProvider = credentialsFrom(() =>
 *   Promise.resolve({ password: Deno.env.get("OPEND_PASSWORD") ?? "" })
 * );
 * // sessionMachine.provide({ actors: { credentialsProvider } })
 * ```
 */
export function credentialsFrom(
  get: (input: CredentialsProviderInput) => Promise<Credentials | undefined>,
): CredentialsProviderLogic {
  return fromPromise<CredentialsProviderOutput, CredentialsProviderInput>(
    async ({ input }) => toSecret(await get(input)),
  );
}

/**
 * A `codeProvider` from a plain async function: the code is boxed in a
 * {@link Secret} before XState sees it, so it never appears in done events,
 * snapshots or inspection.
 *
 * @example
 * ```ts
 * import { codeFrom } from "./session_actors.ts";
 * const codeProvider = codeFrom(({ kind }) =>
 *   Promise.resolve(prompt(`${kind} code:`) ?? "")
 * );
 * // sessionMachine.provide({ actors: { codeProvider } })
 * ```
 */
export function codeFrom(
  get: (input: CodeProviderInput) => Promise<string | undefined>,
): CodeProviderLogic {
  return fromPromise<CodeProviderOutput, CodeProviderInput>(
    async ({ input }) => toSecret(await get(input)),
  );
}

/**
 * The logic of each actor the session supervisor invokes, by name. (A type
 * alias, not an interface: XState's `setup` wants an index-signature shape.)
 */
export type SessionActorLogics = {
  /** The connection: see {@link LinkEvent}. */
  link: CallbackActorLogic<LinkEvent, LinkInput>;
  /** InitConnect on a fresh link. */
  initConnect: PromiseActorLogic<InitConnectOutput, InitConnectInput>;
  /** GetGlobalState after InitConnect. */
  getGlobalState: PromiseActorLogic<GetGlobalStateOutput, ConnectionInput>;
  /** One KeepAlive round trip. */
  keepAlive: PromiseActorLogic<unknown, ConnectionInput>;
  /** Closes the link gracefully. */
  closeLink: PromiseActorLogic<void, ConnectionInput>;
  /** Asks OpenD to send a verification code. */
  requestVerificationCode: PromiseActorLogic<unknown, RequestCodeInput>;
  /** Submits a verification code to OpenD. */
  submitVerificationCode: PromiseActorLogic<unknown, SubmitCodeInput>;
  /**
   * Asks a person (or a program) for a code. Its output is typed loosely on
   * purpose: a provider may answer a string or a Secret<string> (see
   * CodeProviderOutput), and XState's logic types are invariant in their
   * output, so a narrower type would refuse one.
   */
  // deno-lint-ignore no-explicit-any
  codeProvider: PromiseActorLogic<any, CodeProviderInput>;
  /** Asks for the login password before a relogin. */
  credentialsProvider: PromiseActorLogic<
    CredentialsProviderOutput,
    CredentialsProviderInput
  >;
  /** Sends `relogin` through OpenD's operations port. */
  relogin: PromiseActorLogic<unknown, ReloginInput>;
};

/**
 * The placeholders. Each I/O actor fails with a message saying how to provide
 * it; `codeProvider` waits (a person may answer with `SUBMIT_CODE`),
 * `credentialsProvider` answers "none", `closeLink` has nothing to flush.
 */
export const defaultSessionActors: SessionActorLogics = {
  link: fromCallback<LinkEvent, LinkInput>(() => {
    throw notProvided("link");
  }),
  initConnect: rejectsNotProvided<InitConnectOutput, InitConnectInput>(
    "initConnect",
  ),
  getGlobalState: rejectsNotProvided<GetGlobalStateOutput, ConnectionInput>(
    "getGlobalState",
  ),
  keepAlive: rejectsNotProvided<unknown, ConnectionInput>("keepAlive"),
  closeLink: fromPromise<void, ConnectionInput>(() => Promise.resolve()),
  requestVerificationCode: rejectsNotProvided<unknown, RequestCodeInput>(
    "requestVerificationCode",
  ),
  submitVerificationCode: rejectsNotProvided<unknown, SubmitCodeInput>(
    "submitVerificationCode",
  ),
  // deno-lint-ignore no-explicit-any
  codeProvider: fromPromise<any, CodeProviderInput>(() =>
    new Promise<never>(() => {})
  ),
  credentialsProvider: fromPromise<
    CredentialsProviderOutput,
    CredentialsProviderInput
  >(() => Promise.resolve(undefined)),
  relogin: rejectsNotProvided<unknown, ReloginInput>("relogin"),
};
