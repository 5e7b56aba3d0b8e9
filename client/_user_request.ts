/**
 * A user's request made ready to send: its protoID, timeout and format
 * checked, its body encoded (or taken as given), and the way its response
 * will be read. Every mistake is a ClientError INVALID_ARGUMENT, thrown
 * before anything reaches the wire.
 * @module
 */
import {
  type C2SOf,
  type DecodedPacket,
  encodeRequest,
  isMessageProtoId,
  ProtoFmt,
  ProtoId,
  type RequestProtoId,
} from "../codec/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";
import { _messageOf } from "./_message_of.ts";
import type { RawPacket } from "./_push_fanout.ts";
import { _typedResponse } from "./_typed_response.ts";

/** What {@link _prepareRequest} hands to the wire. */
export interface _PreparedRequest {
  readonly body: Uint8Array;
  readonly fmt: number;
  readonly timeoutMs: number;
  readonly decode: (packet: DecodedPacket) => unknown;
}

/**
 * Checks and encodes one user request. `timeoutMs` and `fmt` are the
 * request's own or the client's defaults.
 */
export function _prepareRequest(
  protoId: number,
  message: unknown,
  timeoutMs: unknown,
  fmt: unknown,
): _PreparedRequest {
  const invalid = (text: string, cause?: unknown) =>
    new ClientError(
      ClientErrorCode.InvalidArgument,
      text,
      cause === undefined ? { protoId } : { protoId, cause },
    );
  if (!Number.isInteger(protoId) || protoId < 0 || protoId > 0xffffffff) {
    throw invalid(`protoId must be a u32, got ${String(protoId)}`);
  }
  if (protoId === ProtoId.InitConnect) {
    throw invalid(
      "InitConnect (1001) is the client's own: it sets the connection's keys",
    );
  }
  if (!(typeof timeoutMs === "number" && timeoutMs > 0)) {
    throw invalid("timeoutMs must be a number > 0");
  }
  if (fmt !== ProtoFmt.Protobuf && fmt !== ProtoFmt.Json) {
    throw invalid("protoFmt must be 0 (protobuf) or 1 (JSON)");
  }
  let body: Uint8Array;
  let decode: (packet: DecodedPacket) => unknown;
  if (message instanceof Uint8Array) {
    body = message;
    decode = (p) => ({
      protoId: p.protoId,
      protoFmt: p.protoFmt,
      serialNo: p.serialNo,
      body: p.body,
    } satisfies RawPacket);
  } else if (isMessageProtoId(protoId) && protoId !== ProtoId.Notify) {
    try {
      body = encodeRequest(
        protoId as RequestProtoId,
        message as C2SOf<RequestProtoId>,
        fmt,
      );
    } catch (error) {
      throw invalid(
        `protoID ${protoId}: the request cannot be encoded: ${
          _messageOf(error)
        }`,
        error,
      );
    }
    decode = (p) => _typedResponse(protoId, p);
  } else {
    throw invalid(
      `protoID ${protoId} has no typed message in this module: pass the body as a Uint8Array`,
    );
  }
  return { body, fmt, timeoutMs, decode };
}
