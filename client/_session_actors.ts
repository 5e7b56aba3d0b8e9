/**
 * The real implementations of the session supervisor's actors: the TCP link,
 * InitConnect, GetGlobalState, KeepAlive, Verification, closing the link,
 * relogin over the operations port, and the user's code and credentials
 * providers.
 *
 * The actors are built once per process, not once per client: each finds its
 * client's wire, operations port and options through the actor system it
 * runs in ({@link _bindActorDeps}), so a client costs no machine of its own.
 *
 * The request actors return the wire's promise itself (no `async` wrapper),
 * so that Notify events behind a response wait until XState processed it
 * (see `_wire.ts`). None of them throws synchronously: XState would turn
 * that into a supervisor failure.
 * @module
 */
import { type Actor, createActor, fromCallback, fromPromise } from "../deps.ts";
import { ProtoId, VerificationOp, VerificationType } from "../codec/mod.ts";
import {
  type CodeProviderInput,
  type CodeProviderOutput,
  type ConnectionInput,
  type CredentialsProviderInput,
  type CredentialsProviderOutput,
  type defaultSessionActors,
  type GetGlobalStateOutput,
  type InitConnectInput,
  type InitConnectOutput,
  type LinkEvent,
  type LinkInput,
  type ReloginInput,
  type RequestCodeInput,
  type Secret,
  type SessionContext,
  sessionMachine,
  type SessionOptions,
  type SubmitCodeInput,
  toSecret,
} from "../machines/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";
import type { _Connection } from "./_connection.ts";
import type { _OpsClient } from "./_ops_client.ts";
import type { _Wire } from "./_wire.ts";
import type {
  _ResolvedOptions,
  CodeProvider,
  CredentialsProvider,
  InspectionEventLike,
} from "./options.ts";

/** What the actors of one client work with. */
export interface _ActorDeps {
  readonly wire: _Wire;
  readonly ops: _OpsClient;
  readonly options: _ResolvedOptions;
  readonly closing: () => boolean;
  readonly codeProvider: CodeProvider | undefined;
  readonly credentialsProvider: CredentialsProvider | undefined;
  /** The question the code provider is answering, if any. */
  question?: Promise<unknown>;
}

const depsBySystem = new WeakMap<object, _ActorDeps>();

/** Makes `deps` what the actors running in `system` (one client's) use. */
export function _bindActorDeps(system: object, deps: _ActorDeps): void {
  depsBySystem.set(system, deps);
}

function depsOf(system: unknown): _ActorDeps {
  const deps = typeof system === "object" && system !== null
    ? depsBySystem.get(system)
    : undefined;
  if (deps === undefined) {
    throw new Error("a client actor ran outside an OpenDClient");
  }
  return deps;
}

function rejected<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}

const initialized = (wire: _Wire): _Connection | undefined => {
  const conn = wire.connection;
  return conn?.state === "initialized" ? conn : undefined;
};

function verification(
  deps: _ActorDeps,
  kind: "phone" | "picture",
  op: number,
  signal: AbortSignal,
  code?: Secret<string>,
) {
  const o = deps.options;
  return deps.wire.supervisorRequest(
    initialized(deps.wire),
    ProtoId.Verification,
    {
      type: kind === "picture"
        ? VerificationType.Picture
        : VerificationType.Phone,
      op,
      // The code leaves its box only here, into the request's body.
      ...(code === undefined ? {} : { code: code.reveal() }),
    },
    o.protoFmt,
    o.sessionOptions.requestTimeoutMs,
    signal,
    (s2c) => s2c,
  );
}

/** Waits (aborted by `signal`) until no earlier question is pending. */
async function ownQuestion(
  deps: _ActorDeps,
  signal: AbortSignal,
): Promise<void> {
  while (deps.question !== undefined) {
    const pending = deps.question;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      signal.addEventListener("abort", done, { once: true });
      pending.then(done, done);
    });
    if (signal.aborted) throw new Error("the question is no longer wanted");
  }
}

/** The actor implementations every client shares. */
export const _clientActors: Partial<typeof defaultSessionActors> = {
  link: fromCallback<LinkEvent, LinkInput>(({ sendBack, system }) => {
    const deps = depsOf(system);
    const conn = deps.wire.openLink(sendBack);
    return () => {
      if (conn === undefined) return;
      deps.wire.releaseLink(
        conn,
        deps.closing() ? "closed by the client" : "closed by the supervisor",
      );
    };
  }),

  initConnect: fromPromise<InitConnectOutput, InitConnectInput>(
    ({ signal, system }) =>
      rejected(() => {
        const { wire, options: o } = depsOf(system);
        const conn = wire.connection;
        if (conn === undefined || conn.state !== "open") {
          return Promise.reject(
            new ClientError(
              ClientErrorCode.NotConnected,
              "InitConnect: the link is not open",
            ),
          );
        }
        return wire.supervisorRequest(
          conn,
          ProtoId.InitConnect,
          {
            clientVer: o.clientVer,
            clientID: o.clientId,
            recvNotify: true,
            packetEncAlgo: o.packetEncAlgo,
            pushProtoFmt: o.pushProtoFmt,
            programmingLanguage: "TypeScript",
          },
          o.protoFmt,
          o.sessionOptions.requestTimeoutMs,
          signal,
          (s2c) => {
            const info = wire.applyInit(conn, s2c);
            // Only what the supervisor needs: never the AES key.
            return {
              keepAliveInterval: info.keepAliveIntervalS,
              connId: info.connId,
              loginUserId: info.loginUserId,
              serverVer: info.serverVer,
            };
          },
        );
      }),
  ),

  getGlobalState: fromPromise<GetGlobalStateOutput, ConnectionInput>(
    ({ signal, system }) =>
      rejected(() => {
        const { wire, options: o } = depsOf(system);
        const conn = initialized(wire);
        return wire.supervisorRequest(
          conn,
          ProtoId.GetGlobalState,
          { userID: conn?.info?.loginUserId ?? "0" },
          o.protoFmt,
          o.sessionOptions.requestTimeoutMs,
          signal,
          (s2c): GetGlobalStateOutput => ({
            ...(s2c.programStatus === undefined
              ? {}
              : { programStatus: s2c.programStatus }),
            qotLogined: s2c.qotLogined,
            trdLogined: s2c.trdLogined,
            serverVer: s2c.serverVer,
            ...(s2c.connID === undefined ? {} : { connId: s2c.connID }),
          }),
        );
      }),
  ),

  // Resolves on any answer, even a failed one: an answer is a sign of life.
  // Only silence (a timeout, a dropped link) is a missed KeepAlive.
  keepAlive: fromPromise<unknown, ConnectionInput>(({ signal, system }) =>
    rejected(() => {
      const { wire, options: o } = depsOf(system);
      return wire.supervisorRequest(
        initialized(wire),
        ProtoId.KeepAlive,
        { time: Math.floor(Date.now() / 1000) },
        o.protoFmt,
        o.sessionOptions.requestTimeoutMs,
        signal,
        (s2c) => s2c,
        () => ({}),
      );
    })
  ),

  closeLink: fromPromise<void, ConnectionInput>(async ({ system }) => {
    const deps = depsOf(system);
    await deps.wire.connection?.end(
      deps.closing() ? "closed by the client" : "closed by the supervisor",
    );
  }),

  requestVerificationCode: fromPromise<unknown, RequestCodeInput>(
    ({ input, signal, system }) =>
      rejected(() =>
        verification(
          depsOf(system),
          input.kind,
          VerificationOp.Request,
          signal,
        )
      ),
  ),

  submitVerificationCode: fromPromise<unknown, SubmitCodeInput>(
    ({ input, signal, system }) =>
      rejected(() =>
        verification(
          depsOf(system),
          input.kind,
          VerificationOp.InputAndLogin,
          signal,
          input.code,
        )
      ),
  ),

  relogin: fromPromise<unknown, ReloginInput>(({ input, signal, system }) =>
    rejected(() =>
      depsOf(system).ops.send(
        input.credentials === undefined
          ? { command: "relogin" }
          : { command: "relogin", credentials: input.credentials },
        signal,
      )
    )
  ),

  // Boxed at once: the code never reaches XState (done events, inspection)
  // unboxed. One question at a time, whatever the burst: a new one waits
  // until the provider settled the last (answered, or gave up on its abort
  // signal). Without a provider a person answers with submitCode.
  codeProvider: fromPromise<CodeProviderOutput, CodeProviderInput>(
    async ({ input, signal, system }) => {
      const deps = depsOf(system);
      const provider = deps.codeProvider;
      if (provider === undefined) return await new Promise<never>(() => {});
      if (deps.question !== undefined) await ownQuestion(deps, signal);
      const question = (async () => await provider({ ...input, signal }))();
      deps.question = question;
      try {
        return toSecret(await question);
      } finally {
        if (deps.question === question) deps.question = undefined;
      }
    },
  ),

  // Boxed at once: the answer never reaches XState unboxed.
  credentialsProvider: fromPromise<
    CredentialsProviderOutput,
    CredentialsProviderInput
  >(async ({ input, signal, system }) => {
    const provider = depsOf(system).credentialsProvider;
    if (provider === undefined) return undefined;
    return toSecret(await provider({ ...input, signal }));
  }),
};

/** The supervisor every client runs, provided once per process. */
export const _clientMachine: typeof sessionMachine = sessionMachine.provide({
  actors: _clientActors,
});

type PersistedSession = ReturnType<
  Actor<typeof sessionMachine>["getPersistedSnapshot"]
>;
let initialSnapshot: PersistedSession | undefined;

/**
 * A supervisor actor for one client, in its initial state with `options`.
 * Computing a big machine's initial state costs several times more than
 * restoring it, and it is the same for every client but for the options: so
 * it is computed once and every client starts from a copy. (The initial
 * states run no entry action, start no actor and no timer, so nothing is
 * skipped by restoring.)
 */
export function _createSupervisor(
  options: SessionOptions,
  inspect: ((event: InspectionEventLike) => void) | undefined,
): Actor<typeof sessionMachine> {
  initialSnapshot ??= createActor(_clientMachine).getPersistedSnapshot();
  const template = initialSnapshot as unknown as { context: SessionContext };
  const snapshot = {
    ...template,
    context: { ...template.context, options },
  } as unknown as PersistedSession;
  return createActor(_clientMachine, {
    snapshot,
    ...(inspect === undefined ? {} : { inspect }),
  });
}
