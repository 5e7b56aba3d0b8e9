/**
 * What {@link createOpenDClient} takes, and how it becomes the supervisor's
 * input.
 * @module
 */
import {
  type CodeProviderInput,
  type Credentials,
  type CredentialsProviderInput,
  definePolicy,
  type Policy,
  type PolicyOverrides,
  resolveSessionOptions,
  type Secret,
  type SessionInput,
  type SessionOptions,
} from "../machines/mod.ts";
import { homedir, platform } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ProtoFmt, RsaKey } from "../codec/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";

/** Body encryption after InitConnect, when an RSA key is configured. */
export type PacketEncAlgoOption = "aes_cbc" | "ftaes_ecb" | "none";

/** What a code provider is asked: the supervisor's request plus an abort signal. */
export interface CodeRequest extends CodeProviderInput {
  /** Aborted when the answer is no longer wanted (timeout, close). */
  readonly signal: AbortSignal;
}

/**
 * Answers a verification code (phone SMS or picture). Called once per code
 * the supervisor needs; an empty answer gives up.
 */
export type CodeProvider = (request: CodeRequest) => Promise<string> | string;

/** What a credentials provider is asked. */
export interface CredentialsRequest extends CredentialsProviderInput {
  /** Aborted when the answer is no longer wanted. */
  readonly signal: AbortSignal;
}

/**
 * Answers the login password for `relogin` (for example after
 * LoginPwdChanged), or `undefined` for "none". The answer is boxed in a
 * {@link Secret} at once and never stored.
 */
export type CredentialsProvider = (
  request: CredentialsRequest,
) =>
  | Promise<Credentials | Secret<Credentials> | undefined>
  | Credentials
  | Secret<Credentials>
  | undefined;

/** Reconnect backoff knobs (exponential, full jitter). */
export interface ReconnectOptions {
  /** First delay's upper bound (default 1000 ms). */
  readonly baseMs?: number;
  /** No delay is longer (default 60000 ms). */
  readonly capMs?: number;
  /** Stop after this many attempts (default: never stop). */
  readonly maxAttempts?: number;
  /** Online this long resets the attempt count (default 60000 ms). */
  readonly stableMs?: number;
}

/** Where a handler error came from. */
export interface HandlerErrorContext {
  /** `push` (an onPush handler), `event` (an `on` handler), `subscribe`. */
  readonly source: "push" | "event" | "subscribe";
  /** For pushes. */
  readonly protoId?: number;
  /** For events. */
  readonly type?: string;
}

/** What an XState inspection observer gets (see XState's `InspectionEvent`). */
export interface InspectionEventLike {
  /** `@xstate.actor`, `@xstate.event`, `@xstate.snapshot`, ... */
  readonly type: string;
}

/** Options of {@link createOpenDClient}; every one optional. */
export interface OpenDClientOptions {
  /** OpenD's host (default "127.0.0.1"). */
  readonly host?: string;
  /** OpenD's API port (default 11111). */
  readonly port?: number;
  /**
   * The RSA private key (PKCS#1 PEM) configured in OpenD: InitConnect is then
   * RSA-encrypted and later bodies AES-encrypted. Kept only as a key object.
   */
  readonly rsaPrivateKey?: string | Uint8Array;
  /**
   * Body encryption asked for in InitConnect (default `"aes_cbc"` with a
   * key, `"none"` without). As in the official SDK, the response decides:
   * an `aesCBCiv` means AES-CBC, none means FTAES_ECB.
   */
  readonly packetEncAlgo?: PacketEncAlgoOption;
  /** Body format of requests: 0 protobuf (default), 1 JSON. */
  readonly protoFmt?: 0 | 1;
  /** Body format OpenD uses for pushes (default: `protoFmt`). */
  readonly pushProtoFmt?: 0 | 1;
  /** InitConnect's clientID (default "opend-machine"). */
  readonly clientId?: string;
  /** InitConnect's clientVer (default 300, as the official SDK). */
  readonly clientVer?: number;
  /**
   * Answers verification codes. Without one, the supervisor waits for
   * {@link OpenDClient.submitCode} (a person typing the code).
   */
  readonly codeProvider?: CodeProvider;
  /** Answers the login password for relogin; without one: "none". */
  readonly credentialsProvider?: CredentialsProvider;
  /** OpenD's operations (telnet) port; without it relogin cannot be sent. */
  readonly opsPort?: number;
  /** Host of the operations port (default: `host`). */
  readonly opsHost?: string;
  /** How long one operations command may take (default 10000 ms). */
  readonly opsTimeoutMs?: number;
  /**
   * Where OpenD saves the picture code; passed to the code provider (and in
   * `needsCode`) for picture codes. Default: where OpenD saves it,
   * `~/.com.futunn.FutuOpenD/F3CNN/PicVerifyCode.png` (Windows:
   * `%appdata%/com.futunn.FutuOpenD/F3CNN/PicVerifyCode.png`), when the home
   * directory (Windows: the APPDATA variable) may be read; in Deno without
   * that permission (`--allow-sys=homedir`, `--allow-env=APPDATA`) there is
   * no default. moomoo builds use their own directory: set picturePath.
   */
  readonly picturePath?: string;
  /** Changes to the reaction policy (see `definePolicy`), or a whole policy. */
  readonly policy?: PolicyOverrides | Policy;
  /** Reconnect backoff. */
  readonly reconnect?: ReconnectOptions;
  /** Any other supervisor knob (timeouts, budgets); see `SessionInput`. */
  readonly session?: SessionInput;
  /** Connect at once (default true); otherwise call `start()`. */
  readonly autoStart?: boolean;
  /** Default timeout of `request()` (default 12000 ms, as the official SDK). */
  readonly requestTimeoutMs?: number;
  /** Largest body accepted from OpenD (default 64 MiB). */
  readonly maxBodyBytes?: number;
  /**
   * Gets what a push, event or subscribe handler threw (default: a short
   * `console.error`). Handlers never break the client.
   */
  readonly onHandlerError?: (
    error: unknown,
    context: HandlerErrorContext,
  ) => void;
  /** XState inspection (for devtools); sees no secret. */
  readonly inspect?: (event: InspectionEventLike) => void;
}

/** Everything resolved and checked. */
export interface _ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly rsa: RsaKey | undefined;
  /** -1 none, 0 FTAES_ECB, 2 AES_CBC. */
  readonly packetEncAlgo: -1 | 0 | 2;
  readonly protoFmt: 0 | 1;
  readonly pushProtoFmt: 0 | 1;
  readonly clientId: string;
  readonly clientVer: number;
  readonly opsHost: string;
  readonly opsPort: number | undefined;
  readonly opsTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly autoStart: boolean;
  readonly session: SessionInput;
  readonly sessionOptions: SessionOptions;
}

function bad(message: string, cause?: unknown): ClientError {
  return new ClientError(
    ClientErrorCode.InvalidArgument,
    message,
    cause === undefined ? {} : { cause },
  );
}

function port(name: string, value: unknown): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 1 ||
    value > 65535
  ) {
    throw bad(`${name} must be an integer port 1..65535`);
  }
  return value;
}

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw bad(`${name} must be a number of milliseconds > 0`);
  }
  return value;
}

function fmt(name: string, value: unknown, fallback: 0 | 1): 0 | 1 {
  if (value === undefined) return fallback;
  if (value !== ProtoFmt.Protobuf && value !== ProtoFmt.Json) {
    throw bad(`${name} must be 0 (protobuf) or 1 (JSON)`);
  }
  return value;
}

type PermissionQuery =
  | { name: "sys"; kind: "homedir" }
  | { name: "env"; variable: string };

/**
 * Whether `query` is granted, asked without prompting: `true` outside Deno
 * (Node has no permissions), `false` when Deno would refuse or prompt.
 */
function permitted(query: PermissionQuery): boolean {
  const deno = (globalThis as {
    Deno?: {
      permissions?: {
        querySync?: (query: PermissionQuery) => { state: string };
      };
    };
  }).Deno;
  if (deno === undefined) return true;
  const querySync = deno.permissions?.querySync;
  if (typeof querySync !== "function") return false;
  return querySync.call(deno.permissions, query).state === "granted";
}

/**
 * Where OpenD (Futu builds) saves the picture verification code on this
 * machine, or `undefined` when the home directory (Windows: APPDATA) cannot
 * be read. Never throws, never prompts for a permission.
 */
export function _defaultPicturePath(): string | undefined {
  try {
    if (platform() === "win32") {
      if (!permitted({ name: "env", variable: "APPDATA" })) return undefined;
      const appData = process.env.APPDATA;
      return typeof appData === "string" && appData !== ""
        ? join(appData, "com.futunn.FutuOpenD", "F3CNN", "PicVerifyCode.png")
        : undefined;
    }
    if (!permitted({ name: "sys", kind: "homedir" })) return undefined;
    const home = homedir();
    return typeof home === "string" && home !== ""
      ? join(home, ".com.futunn.FutuOpenD", "F3CNN", "PicVerifyCode.png")
      : undefined;
  } catch {
    return undefined;
  }
}

function isPolicy(value: PolicyOverrides | Policy): value is Policy {
  return typeof value === "object" && value !== null &&
    "gtwEvents" in value && "statuses" in value;
}

/** Checks `options` and resolves defaults; throws ClientError INVALID_ARGUMENT. */
export function _resolveOptions(options: OpenDClientOptions): _ResolvedOptions {
  if (options === null || typeof options !== "object") {
    throw bad("createOpenDClient: options must be an object");
  }
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") {
    throw bad("host must be a non-empty string");
  }
  let rsa: RsaKey | undefined;
  if (options.rsaPrivateKey !== undefined) {
    try {
      rsa = RsaKey.fromPem(options.rsaPrivateKey);
    } catch (error) {
      // RsaKey's message never quotes the PEM.
      throw bad(
        `rsaPrivateKey: ${error instanceof Error ? error.message : "unusable"}`,
        error,
      );
    }
  }
  const algo = options.packetEncAlgo ?? (rsa ? "aes_cbc" : "none");
  const algos: Record<PacketEncAlgoOption, -1 | 0 | 2> = {
    none: -1,
    ftaes_ecb: 0,
    aes_cbc: 2,
  };
  if (!Object.hasOwn(algos, algo)) {
    throw bad('packetEncAlgo must be "aes_cbc", "ftaes_ecb" or "none"');
  }
  if (algo !== "none" && rsa === undefined) {
    throw bad(`packetEncAlgo "${algo}" needs rsaPrivateKey`);
  }
  const protoFmt = fmt("protoFmt", options.protoFmt, 0);
  const clientId = options.clientId ?? "opend-machine";
  if (typeof clientId !== "string") throw bad("clientId must be a string");
  const clientVer = options.clientVer ?? 300;
  if (!Number.isInteger(clientVer) || clientVer < 0) {
    throw bad("clientVer must be an integer >= 0");
  }
  const opsHost = options.opsHost ?? host;
  if (typeof opsHost !== "string" || opsHost === "") {
    throw bad("opsHost must be a non-empty string");
  }
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw bad("maxBodyBytes must be an integer >= 0");
  }
  const reconnect = options.reconnect ?? {};
  let policy: Policy | undefined;
  try {
    policy = options.policy === undefined || isPolicy(options.policy)
      ? options.policy
      : definePolicy(options.policy);
  } catch (error) {
    throw bad(error instanceof Error ? error.message : String(error), error);
  }
  const picturePath = options.picturePath ?? options.session?.picturePath ??
    _defaultPicturePath();
  const session: SessionInput = {
    ...options.session,
    ...(policy === undefined ? {} : { policy }),
    ...(picturePath === undefined ? {} : { picturePath }),
    ...(reconnect.baseMs === undefined
      ? {}
      : { reconnectBaseMs: reconnect.baseMs }),
    ...(reconnect.capMs === undefined
      ? {}
      : { reconnectCapMs: reconnect.capMs }),
    ...(reconnect.maxAttempts === undefined
      ? {}
      : { maxReconnectAttempts: reconnect.maxAttempts }),
    ...(reconnect.stableMs === undefined
      ? {}
      : { stableOnlineMs: reconnect.stableMs }),
  };
  let sessionOptions: SessionOptions;
  try {
    sessionOptions = resolveSessionOptions(session);
  } catch (error) {
    throw bad(error instanceof Error ? error.message : String(error), error);
  }
  return {
    host,
    port: port("port", options.port ?? 11111),
    rsa,
    packetEncAlgo: algos[algo],
    protoFmt,
    pushProtoFmt: fmt("pushProtoFmt", options.pushProtoFmt, protoFmt),
    clientId,
    clientVer,
    opsHost,
    opsPort: options.opsPort === undefined
      ? undefined
      : port("opsPort", options.opsPort),
    opsTimeoutMs: duration("opsTimeoutMs", options.opsTimeoutMs, 10_000),
    requestTimeoutMs: duration(
      "requestTimeoutMs",
      options.requestTimeoutMs,
      12_000,
    ),
    maxBodyBytes,
    autoStart: options.autoStart ?? true,
    session,
    sessionOptions,
  };
}
