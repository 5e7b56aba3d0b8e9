/**
 * Typed bodies of the system protocols: InitConnect (1001), GetGlobalState
 * (1002), Notify (1003), KeepAlive (1004) and Verification (1006), in both
 * body formats the packet header can name: protobuf (`fmt` 0) and protobuf's
 * JSON mapping of the same message (`fmt` 1).
 *
 * Field names are the .proto names. Unsigned 64-bit fields (IDs) are decimal
 * strings, because they pass 2^53; the signed 64-bit `time` fields are
 * {@link Int64}: numbers (seconds), or exact decimal strings beyond 2^53, so
 * every decoded message re-encodes to the same bytes. Enum-like fields are plain numbers, so a value a newer
 * OpenD adds survives decoding; `nameOf` from `definitions.ts` names them.
 *
 * Every failure is a {@link CodecError}: MALFORMED_PROTOBUF or MALFORMED_JSON
 * for bodies that do not decode (whatever the bytes), INVALID_MESSAGE for
 * objects that cannot be encoded, UNKNOWN_FORMAT for a `fmt` other than 0 or 1.
 *
 * The JSON writer puts enums and 32-bit integers as numbers and 64-bit
 * integers as strings, which the official Python SDK reads; the JSON reader
 * also takes enum names ("ProgramStatusType_Ready"), 64-bit numbers, and
 * skips fields it does not know.
 *
 * @example
 * ```ts
 * import { decodeResponse, encodeRequest } from "./messages.ts";
 * import { ProtoId } from "./definitions.ts";
 * const body = encodeRequest(ProtoId.InitConnect, {
 *   clientVer: 300,
 *   clientID: "PyNormal",
 *   recvNotify: true,
 *   packetEncAlgo: -1,
 * });
 * const json = new TextEncoder().encode(
 *   '{"retType":0,"s2c":{"time":"1700000000"}}',
 * );
 * decodeResponse(ProtoId.KeepAlive, json, 1); // { retType: 0, s2c: { time: 1700000000 } }
 * ```
 * @module
 */
import {
  decodeJson,
  encodeJson,
  encodeProtobuf,
  fromTyped,
  type JsonObject,
  type JsonValue,
  type MessageSchema,
  schemaOf,
  toTyped,
} from "./_schema.ts";
import { CodecError, CodecErrorCode } from "./codec_error.ts";
import { ProtoFmt, ProtoId } from "./definitions.ts";
import { readProtobuf } from "./_proto_reader.ts";

export type { JsonObject, JsonValue };

/**
 * A signed 64-bit integer in a typed message: a number when it is a safe
 * integer (every clock value), else its exact decimal string. Encoders take
 * either.
 */
export type Int64 = number | string;

/** `Common.ProgramStatus`: OpenD's status with an optional explanation. */
export interface ProgramStatus {
  /** A ProgramStatusType value. */
  type: number;
  /** Extra description, for example why the login failed. */
  strExtDesc?: string;
}

/** `InitConnect.C2S`: the first request on a connection. */
export interface InitConnectC2S {
  /** Client version, major * 100 + minor (the Python SDK sends 300). */
  clientVer: number;
  /** Client name (the Python SDK sends "PyNormal"). */
  clientID: string;
  /** Whether OpenD should push Notify on this connection. */
  recvNotify?: boolean;
  /** A PacketEncAlgo value; -1 for none. */
  packetEncAlgo?: number;
  /** A ProtoFmt value for pushes. */
  pushProtoFmt?: number;
  /** The client's programming language. */
  programmingLanguage?: string;
}

/** `InitConnect.S2C`: what the connection was granted. */
export interface InitConnectS2C {
  /** OpenD's version. */
  serverVer: number;
  /** The logged-in user's ID (unsigned 64-bit, decimal). */
  loginUserID: string;
  /** This connection's ID (unsigned 64-bit, decimal). */
  connID: string;
  /** 16-character AES key for later bodies. */
  connAESKey: string;
  /** Seconds between KeepAlive requests. */
  keepAliveInterval: number;
  /** AES-CBC initialisation vector; FTAES_ECB is used when absent. */
  aesCBCiv?: string;
  /** A UserAttribution value. */
  userAttribution?: number;
}

/** `GetGlobalState.C2S`. */
export interface GetGlobalStateC2S {
  /** The logged-in user's ID (unsigned 64-bit, decimal). */
  userID: string;
}

/** `GetGlobalState.S2C`: market states, logins and OpenD's program status. */
export interface GetGlobalStateS2C {
  /** Market states are Qot_Common.QotMarketState values. */
  marketHK: number;
  /** US (Nasdaq) market state. */
  marketUS: number;
  /** Shanghai market state. */
  marketSH: number;
  /** Shenzhen market state. */
  marketSZ: number;
  /** Hong Kong futures market state. */
  marketHKFuture: number;
  /** US futures market state. */
  marketUSFuture?: number;
  /** Singapore futures market state. */
  marketSGFuture?: number;
  /** Japan futures market state. */
  marketJPFuture?: number;
  /** Logged in to the quote server. */
  qotLogined: boolean;
  /** Logged in to the trade server. */
  trdLogined: boolean;
  /** OpenD's version. */
  serverVer: number;
  /** OpenD's build number. */
  serverBuildNo: number;
  /** Server time, seconds since the Unix epoch. */
  time: Int64;
  /** OpenD host's clock, seconds with a fraction. */
  localTime?: number;
  /** OpenD's program status: use it to seed the gateway state after (re)connecting. */
  programStatus?: ProgramStatus;
  /** Address of the quote server OpenD uses. */
  qotSvrIpAddr?: string;
  /** Address of the trade server OpenD uses. */
  trdSvrIpAddr?: string;
  /** The asking connection's ID (unsigned 64-bit, decimal). */
  connID?: string;
}

/** `KeepAlive.C2S`. */
export interface KeepAliveC2S {
  /** Client time, seconds since the Unix epoch. */
  time: Int64;
}

/** `KeepAlive.S2C`. */
export interface KeepAliveS2C {
  /** Server time, seconds since the Unix epoch. */
  time: Int64;
}

/** `Verification.C2S`: request or submit a verification code. */
export interface VerificationC2S {
  /** A VerificationType value (1 picture, 2 phone). */
  type: number;
  /** A VerificationOp value (1 request, 2 input and log in). */
  op: number;
  /** The code, when submitting. */
  code?: string;
}

/** `Verification.S2C`: empty. */
export type VerificationS2C = Record<string, never>;

/** `Notify.GtwEvent`. */
export interface NotifyGtwEvent {
  /** A GtwEventType value. */
  eventType: number;
  /** OpenD's description of the event. */
  desc: string;
}

/** `Notify.ProgramStatus`. */
export interface NotifyProgramStatus {
  /** The new program status. */
  programStatus: ProgramStatus;
}

/** `Notify.ConnectStatus`. */
export interface NotifyConnectStatus {
  /** Logged in to the quote server. */
  qotLogined: boolean;
  /** Logged in to the trade server. */
  trdLogined: boolean;
}

/**
 * `Notify.QotRight`: quote rights, Qot_Common.QotRight values. A type alias
 * (not an interface) so it fits `QotRightNotification.rights`.
 */
export type NotifyQotRight = {
  hkQotRight: number;
  usQotRight: number;
  cnQotRight: number;
  hkOptionQotRight?: number;
  hasUSOptionQotRight?: boolean;
  hkFutureQotRight?: number;
  usFutureQotRight?: number;
  usOptionQotRight?: number;
  usIndexQotRight?: number;
  usOtcQotRight?: number;
  sgFutureQotRight?: number;
  jpFutureQotRight?: number;
  usCMEFutureQotRight?: number;
  usCBOTFutureQotRight?: number;
  usNYMEXFutureQotRight?: number;
  usCOMEXFutureQotRight?: number;
  usCBOEFutureQotRight?: number;
  shQotRight?: number;
  szQotRight?: number;
};

/** `Notify.APILevel` (deprecated). */
export interface NotifyAPILevel {
  /** User level description (deprecated since OpenD 2.10). */
  apiLevel: string;
}

/** `Notify.APIQuota`. */
export interface NotifyAPIQuota {
  /** Subscription quota. */
  subQuota: number;
  /** Historical candlestick quota. */
  historyKLQuota: number;
}

/** `Notify.UsedQuota`. */
export interface NotifyUsedQuota {
  /** Subscription quota used. */
  usedSubQuota?: number;
  /** Historical candlestick quota used. */
  usedKLineQuota?: number;
}

/** `Notify.S2C`: a NotifyType value and the matching payload. */
export interface NotifyS2C {
  /** A NotifyType value. */
  type: number;
  /** Payload of NotifyType 1. */
  event?: NotifyGtwEvent;
  /** Payload of NotifyType 2. */
  programStatus?: NotifyProgramStatus;
  /** Payload of NotifyType 3. */
  connectStatus?: NotifyConnectStatus;
  /** Payload of NotifyType 4. */
  qotRight?: NotifyQotRight;
  /** User level description (deprecated since OpenD 2.10). */
  apiLevel?: NotifyAPILevel;
  /** Payload of NotifyType 6. */
  apiQuota?: NotifyAPIQuota;
  /** Payload of NotifyType 7. */
  usedQuota?: NotifyUsedQuota;
}

/** Every protocol's `Response`. */
export interface Response<S2C> {
  /** A RetType value; 0 is success. */
  retType: number;
  /** Text explaining a failure. */
  retMsg?: string;
  /** Error code of a failure. */
  errCode?: number;
  /** The result, normally set when `retType` is 0. */
  s2c?: S2C;
}

/** The C2S and S2C types of each protocol, by protoID. */
export interface MessageTypes {
  /** InitConnect (1001). */
  [ProtoId.InitConnect]: { c2s: InitConnectC2S; s2c: InitConnectS2C };
  /** GetGlobalState (1002). */
  [ProtoId.GetGlobalState]: { c2s: GetGlobalStateC2S; s2c: GetGlobalStateS2C };
  /** Notify is push-only: it has no request. */
  [ProtoId.Notify]: { c2s: never; s2c: NotifyS2C };
  /** KeepAlive (1004). */
  [ProtoId.KeepAlive]: { c2s: KeepAliveC2S; s2c: KeepAliveS2C };
  /** Verification (1006). */
  [ProtoId.Verification]: { c2s: VerificationC2S; s2c: VerificationS2C };
}

/** A protoID whose bodies this module can encode and decode. */
export type MessageProtoId = keyof MessageTypes;
/** A protoID that has a request. */
export type RequestProtoId = Exclude<MessageProtoId, typeof ProtoId.Notify>;
/** The C2S type of protocol `P`. */
export type C2SOf<P extends MessageProtoId> = MessageTypes[P]["c2s"];
/** The S2C type of protocol `P`. */
export type S2COf<P extends MessageProtoId> = MessageTypes[P]["s2c"];
/** Which message of a protocol a body holds. */
export type MessageDirection = "request" | "response";

const PACKAGES: Readonly<Record<MessageProtoId, string>> = {
  /** InitConnect (1001). */
  [ProtoId.InitConnect]: "InitConnect",
  /** GetGlobalState (1002). */
  [ProtoId.GetGlobalState]: "GetGlobalState",
  /** Notify (1003), a push: its "request" is never sent. */
  [ProtoId.Notify]: "Notify",
  /** KeepAlive (1004). */
  [ProtoId.KeepAlive]: "KeepAlive",
  /** Verification (1006). */
  [ProtoId.Verification]: "Verification",
};

/** The protoIDs {@link isMessageProtoId} accepts. */
export const MESSAGE_PROTO_IDS: readonly MessageProtoId[] = Object.freeze(
  Object.keys(PACKAGES).map(Number) as MessageProtoId[],
);

/**
 * Whether this module knows the bodies of `protoId`; other protocols travel
 * as raw bytes.
 *
 * @example
 * ```ts
 * import { isMessageProtoId } from "./messages.ts";
 * isMessageProtoId(1003); // true
 * isMessageProtoId(3005); // false
 * ```
 */
export function isMessageProtoId(protoId: number): protoId is MessageProtoId {
  return Object.hasOwn(PACKAGES, protoId);
}

function schemaFor(
  protoId: number,
  direction: MessageDirection,
): MessageSchema {
  const pkg = isMessageProtoId(protoId) ? PACKAGES[protoId] : undefined;
  if (!pkg || (direction === "request" && protoId === ProtoId.Notify)) {
    throw new CodecError(
      CodecErrorCode.InvalidMessage,
      `protoID ${protoId} has no ${direction} message in this module`,
      { protoId },
    );
  }
  return schemaOf(`${pkg}.${direction === "request" ? "Request" : "Response"}`);
}

function checkFmt(fmt: number, protoId: number): void {
  if (fmt !== ProtoFmt.Protobuf && fmt !== ProtoFmt.Json) {
    throw new CodecError(
      CodecErrorCode.UnknownFormat,
      `unknown body format ${fmt} (0 protobuf, 1 JSON)`,
      { protoId },
    );
  }
}

// Errors from the schema layer do not know the protoID; add it.
function withProtoId<T>(protoId: number, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof CodecError && error.protoId === undefined) {
      throw new CodecError(error.code, error.message, {
        protoId,
        cause: error.cause,
      });
    }
    throw error;
  }
}

function decodeCanonical(
  protoId: number,
  direction: MessageDirection,
  body: Uint8Array,
  fmt: number,
): { schema: MessageSchema; canonical: JsonObject } {
  checkFmt(fmt, protoId);
  const schema = schemaFor(protoId, direction);
  return withProtoId(protoId, () => ({
    schema,
    canonical: fmt === ProtoFmt.Json
      ? decodeJson(schema, body)
      : readProtobuf(schema.fullName, body, "json") as JsonObject,
  }));
}

/**
 * The typed message: protobuf is read straight into it (the receive path),
 * JSON through the canonical form.
 */
function decodeTypedMessage(
  protoId: number,
  direction: MessageDirection,
  body: Uint8Array,
  fmt: number,
): Record<string, unknown> {
  if (fmt === ProtoFmt.Protobuf) {
    const schema = schemaFor(protoId, direction);
    return withProtoId(
      protoId,
      () => readProtobuf(schema.fullName, body, "typed"),
    );
  }
  const { schema, canonical } = decodeCanonical(protoId, direction, body, fmt);
  return toTyped(schema, canonical);
}

function encodeTyped(
  protoId: number,
  direction: MessageDirection,
  value: unknown,
  fmt: number,
): Uint8Array {
  checkFmt(fmt, protoId);
  const schema = schemaFor(protoId, direction);
  return withProtoId(protoId, () => {
    const canonical = fromTyped(schema, value);
    return fmt === ProtoFmt.Json
      ? encodeJson(canonical)
      : encodeProtobuf(schema, canonical);
  });
}

/**
 * Encodes the request body of protocol `protoId` (its `Request { c2s }`).
 * Throws CodecError INVALID_MESSAGE when `c2s` misses a required field, has a
 * field of the wrong type or a field the message does not have.
 *
 * @example
 * ```ts
 * import { encodeRequest } from "./messages.ts";
 * import { ProtoId } from "./definitions.ts";
 * encodeRequest(ProtoId.KeepAlive, { time: 1700000000 }); // protobuf
 * encodeRequest(ProtoId.Verification, { type: 2, op: 1 }, 1); // {"c2s":{"type":2,"op":1}}
 * ```
 */
export function encodeRequest<P extends RequestProtoId>(
  protoId: P,
  c2s: C2SOf<P>,
  fmt: number = ProtoFmt.Protobuf,
): Uint8Array {
  return encodeTyped(protoId, "request", { c2s }, fmt);
}

/**
 * Decodes the request body of protocol `protoId` and returns its `c2s`
 * (what a server such as the simulator receives).
 *
 * @example
 * ```ts
 * import { decodeRequest } from "./messages.ts";
 * import { ProtoId } from "./definitions.ts";
 * const body = new TextEncoder().encode('{"c2s":{"type":2,"op":1}}');
 * decodeRequest(ProtoId.Verification, body, 1); // { type: 2, op: 1 }
 * ```
 */
export function decodeRequest<P extends RequestProtoId>(
  protoId: P,
  body: Uint8Array,
  fmt: number = ProtoFmt.Protobuf,
): C2SOf<P> {
  return decodeTypedMessage(protoId, "request", body, fmt).c2s as C2SOf<P>;
}

/**
 * Encodes the response body of protocol `protoId`.
 *
 * @example
 * ```ts
 * import { encodeResponse } from "./messages.ts";
 * import { ProtoId } from "./definitions.ts";
 * encodeResponse(ProtoId.KeepAlive, { retType: 0, s2c: { time: 1700000000 } });
 * encodeResponse(ProtoId.Verification, { retType: -1, retMsg: "too frequent" }, 1);
 * ```
 */
export function encodeResponse<P extends MessageProtoId>(
  protoId: P,
  response: Response<S2COf<P>>,
  fmt: number = ProtoFmt.Protobuf,
): Uint8Array {
  return encodeTyped(protoId, "response", response, fmt);
}

/**
 * Decodes the response body of protocol `protoId`. A response whose
 * `retType` is not 0 is returned as is, not thrown.
 *
 * @example
 * ```ts
 * import { decodeResponse } from "./messages.ts";
 * import { ProtoId } from "./definitions.ts";
 * const body = new TextEncoder().encode(
 *   '{"retType":0,"s2c":{"serverVer":1000,"loginUserID":"12345",' +
 *     '"connID":"6789012345678901234","connAESKey":"0123456789ABCDEF",' +
 *     '"keepAliveInterval":10}}',
 * );
 * decodeResponse(ProtoId.InitConnect, body, 1).s2c?.connID; // "6789012345678901234"
 * ```
 */
export function decodeResponse<P extends MessageProtoId>(
  protoId: P,
  body: Uint8Array,
  fmt: number = ProtoFmt.Protobuf,
): Response<S2COf<P>> {
  return decodeTypedMessage(
    protoId,
    "response",
    body,
    fmt,
  ) as unknown as Response<S2COf<P>>;
}

/**
 * Decodes a body and returns the whole message (`{ c2s }` or
 * `{ retType, ..., s2c }`) in protobuf's JSON mapping: .proto field names,
 * only the fields present, enums as numbers, 64-bit integers as decimal
 * strings, non-finite doubles as "NaN"/"Infinity"/"-Infinity". Exact for
 * every value. Throws CodecError INVALID_MESSAGE for a protoID (or a Notify
 * request) this module has no message for; check {@link isMessageProtoId}.
 *
 * @example
 * ```ts
 * import { encodeRequest, toJsonMapping } from "./messages.ts";
 * const body = encodeRequest(1002, { userID: "18446744073709551615" });
 * toJsonMapping(1002, "request", body); // { c2s: { userID: "18446744073709551615" } }
 * ```
 */
export function toJsonMapping(
  protoId: number,
  direction: MessageDirection,
  body: Uint8Array,
  fmt: number = ProtoFmt.Protobuf,
): JsonObject {
  return decodeCanonical(protoId, direction, body, fmt).canonical;
}
