/**
 * The real implementations of the session supervisor's actors: the TCP link,
 * InitConnect, GetGlobalState, KeepAlive, Verification, closing the link,
 * relogin over the operations port, and the user's code and credentials
 * providers.
 *
 * The request actors return the wire's promise itself (no `async` wrapper),
 * so that Notify events behind a response wait until XState processed it
 * (see `_wire.ts`). None of them throws synchronously: XState would turn
 * that into a supervisor failure.
 * @module
 */
import { fromCallback, fromPromise } from "../deps.ts";
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
} from "./options.ts";

/** What the actors are built from. */
export interface _ActorDeps {
  readonly wire: _Wire;
  readonly ops: _OpsClient;
  readonly options: _ResolvedOptions;
  readonly closing: () => boolean;
  readonly codeProvider: CodeProvider | undefined;
  readonly credentialsProvider: CredentialsProvider | undefined;
}

/** The actor implementations for `sessionMachine.provide({ actors })`. */
export function _sessionActors(
  deps: _ActorDeps,
): Partial<typeof defaultSessionActors> {
  const { wire, ops, options: o } = deps;
  const timeoutMs = o.sessionOptions.requestTimeoutMs;
  const initialized = (): _Connection | undefined => {
    const conn = wire.connection;
    return conn?.state === "initialized" ? conn : undefined;
  };
  const verification = (
    kind: "phone" | "picture",
    op: number,
    signal: AbortSignal,
    code?: Secret<string>,
  ) =>
    wire.supervisorRequest(
      initialized(),
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
      timeoutMs,
      signal,
      (s2c) => s2c,
    );

  const actors: Partial<typeof defaultSessionActors> = {
    link: fromCallback<LinkEvent, LinkInput>(({ sendBack }) => {
      const conn = wire.openLink(sendBack);
      return () => {
        if (conn === undefined) return;
        wire.releaseLink(
          conn,
          deps.closing() ? "closed by the client" : "closed by the supervisor",
        );
      };
    }),

    initConnect: fromPromise<InitConnectOutput, InitConnectInput>(
      ({ signal }) => {
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
          timeoutMs,
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
      },
    ),

    getGlobalState: fromPromise<GetGlobalStateOutput, ConnectionInput>(
      ({ signal }) => {
        const conn = initialized();
        return wire.supervisorRequest(
          conn,
          ProtoId.GetGlobalState,
          { userID: conn?.info?.loginUserId ?? "0" },
          o.protoFmt,
          timeoutMs,
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
      },
    ),

    keepAlive: fromPromise<unknown, ConnectionInput>(({ signal }) =>
      wire.supervisorRequest(
        initialized(),
        ProtoId.KeepAlive,
        { time: Math.floor(Date.now() / 1000) },
        o.protoFmt,
        timeoutMs,
        signal,
        (s2c) => s2c,
      )
    ),

    closeLink: fromPromise<void, ConnectionInput>(async () => {
      await wire.connection?.end(
        deps.closing() ? "closed by the client" : "closed by the supervisor",
      );
    }),

    requestVerificationCode: fromPromise<unknown, RequestCodeInput>(
      ({ input, signal }) =>
        verification(input.kind, VerificationOp.Request, signal),
    ),

    submitVerificationCode: fromPromise<unknown, SubmitCodeInput>(
      ({ input, signal }) =>
        verification(
          input.kind,
          VerificationOp.InputAndLogin,
          signal,
          input.code,
        ),
    ),

    relogin: fromPromise<unknown, ReloginInput>(({ input, signal }) =>
      ops.send(
        input.credentials === undefined
          ? { command: "relogin" }
          : { command: "relogin", credentials: input.credentials },
        signal,
      )
    ),
  };

  const codeProvider = deps.codeProvider;
  if (codeProvider !== undefined) {
    // Boxed at once: the code never reaches XState (done events, inspection)
    // unboxed.
    actors.codeProvider = fromPromise<CodeProviderOutput, CodeProviderInput>(
      async ({ input, signal }) =>
        toSecret(await codeProvider({ ...input, signal })),
    );
  }
  const credentialsProvider = deps.credentialsProvider;
  if (credentialsProvider !== undefined) {
    // Boxed at once: the answer never reaches XState unboxed.
    actors.credentialsProvider = fromPromise<
      CredentialsProviderOutput,
      CredentialsProviderInput
    >(async ({ input, signal }) =>
      toSecret(await credentialsProvider({ ...input, signal }))
    );
  }
  return actors;
}
