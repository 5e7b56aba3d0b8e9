/**
 * What OpenD's answer to a request amounts to: its typed S2C, or the
 * ClientError that its retType (with retMsg redacted, and the wait a "too
 * frequent" asked for), an unreadable body or a missing s2c means.
 * @module
 */
import {
  type DecodedPacket,
  decodeResponse,
  type MessageProtoId,
  ProtoId,
  RetType,
  type S2COf,
} from "../codec/mod.ts";
import { redactSecrets } from "../machines/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";
import { _messageOf } from "./_message_of.ts";

const TOO_FREQUENT = /too frequent|频繁/i;
const WAIT = /(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?|秒)\b/i;

/**
 * For an OpenD answer that says "too frequent": how long it asked to wait
 * (0 when it did not say); `undefined` for any other answer.
 */
export function _tooFrequentWait(text: string): number | undefined {
  if (!TOO_FREQUENT.test(text)) return undefined;
  const wait = WAIT.exec(text);
  if (wait === null) return 0;
  const n = Number(wait[1]);
  return Math.ceil(wait[2].toLowerCase() === "ms" ? n : n * 1_000);
}

/** The typed S2C of a response, or the ClientError it amounts to. */
export function _typedResponse<P extends MessageProtoId>(
  protoId: P,
  packet: DecodedPacket,
): S2COf<P> {
  const { serialNo } = packet;
  let response;
  try {
    response = decodeResponse(protoId, packet.body, packet.protoFmt);
  } catch (error) {
    throw new ClientError(
      ClientErrorCode.Protocol,
      `protoID ${protoId} #${serialNo}: unreadable response: ${
        _messageOf(error)
      }`,
      { protoId, serialNo, cause: error },
    );
  }
  if (response.retType !== RetType.Succeed) {
    const retMsg = response.retMsg === undefined
      ? undefined
      : redactSecrets(response.retMsg);
    const retryAfterMs = retMsg === undefined
      ? undefined
      : _tooFrequentWait(retMsg);
    throw new ClientError(
      ClientErrorCode.RequestFailed,
      `protoID ${protoId} #${serialNo} failed: retType ${response.retType}${
        retMsg ? `, ${retMsg}` : ""
      }${response.errCode ? ` (errCode ${response.errCode})` : ""}`,
      {
        protoId,
        serialNo,
        retType: response.retType,
        ...(retMsg === undefined ? {} : { retMsg }),
        ...(response.errCode === undefined
          ? {}
          : { errCode: response.errCode }),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
    );
  }
  if (response.s2c === undefined) {
    if (protoId === ProtoId.Verification) return {} as S2COf<P>;
    throw new ClientError(
      ClientErrorCode.Protocol,
      `protoID ${protoId} #${serialNo}: a successful response without s2c`,
      { protoId, serialNo },
    );
  }
  return response.s2c;
}
