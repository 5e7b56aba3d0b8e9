/**
 * The limits and checks a frame must pass and the errors that report its
 * failures: a header validated as its bytes arrive (magic, version, then the
 * body limit of its protoID), and a body's SHA-1, decryption or truncation. The frame
 * decoder keeps the byte handling; this file says what is wrong and where.
 * @module
 */
import { CodecError, CodecErrorCode } from "./codec_error.ts";
import { HEADER_SIZE } from "./header.ts";
import { ProtoId } from "./definitions.ts";
import type { BodyStream } from "./_body_stream.ts";

/** Default {@link FrameDecoderOptions.maxBodyBytes}: 64 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = 64 * 1024 * 1024;

/**
 * Default {@link FrameDecoderOptions.maxSystemBodyBytes}: 8 KiB, many times
 * the largest system message (with RSA or AES, in JSON).
 */
export const DEFAULT_MAX_SYSTEM_BODY_BYTES: number = 8 * 1024;

/**
 * The protoIDs whose bodies are known to be small (InitConnect,
 * GetGlobalState, Notify, KeepAlive, GetUserInfo, Verification): their
 * bodies are held to {@link FrameDecoderOptions.maxSystemBodyBytes}.
 */
export const SYSTEM_PROTO_IDS: readonly number[] = Object.freeze([
  ProtoId.InitConnect,
  ProtoId.GetGlobalState,
  ProtoId.Notify,
  ProtoId.KeepAlive,
  1005,
  ProtoId.Verification,
]);

/** Where a packet (or its error) starts, and the IDs to report it with. */
export interface FrameWhere {
  offset: number;
  protoId: number;
  serialNo: number;
}

/**
 * The lengths at which a partial header is validated: "F", "FT", through
 * serialNo (protoVer plus the IDs to report it with), through bodyLen,
 * complete. So a peer speaking another protocol is rejected at its first
 * byte, and a hostile bodyLen before the rest of the header.
 */
export const CHECKPOINTS: readonly number[] = [1, 2, 12, 16, HEADER_SIZE];

/** `value` of the limit option `name`; throws `RangeError` unless a non-negative integer. */
export function limitOption(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `${name} must be a non-negative integer, got ${value}`,
    );
  }
  return value;
}

/** The fatal error of a header whose magic is not "FT" (`bad`: the first wrong byte). */
export function badMagic(bad: number, offset: number): CodecError {
  return new CodecError(
    CodecErrorCode.BadMagic,
    `bad header magic (byte 0x${
      bad.toString(16).padStart(2, "0")
    }) at stream offset ${offset}, expected "FT"`,
    { offset },
  );
}

/** The fatal error of a header whose protoVer is not the one spoken here. */
export function unsupportedVersion(
  protoVer: number,
  where: FrameWhere,
): CodecError {
  return new CodecError(
    CodecErrorCode.UnsupportedVersion,
    `unsupported header protoVer ${protoVer} at stream offset ${where.offset}`,
    where,
  );
}

/**
 * The fatal error of a header claiming a body over its `limit` (`system`: the
 * limit of the {@link SYSTEM_PROTO_IDS}).
 */
export function bodyTooLarge(
  bodyLen: number,
  limit: number,
  system: boolean,
  where: FrameWhere,
): CodecError {
  const what = system ? `limit for protoID ${where.protoId}` : "limit";
  return new CodecError(
    CodecErrorCode.BodyTooLarge,
    `header at stream offset ${where.offset} claims a ${bodyLen}-byte body, over the ${limit}-byte ${what}`,
    where,
  );
}

/**
 * The `TRUNCATED` error of a stream that ended `buffered` bytes into a
 * packet; `bodyLen` once its header was in.
 */
export function truncated(
  buffered: number,
  where: FrameWhere,
  bodyLen: number | undefined,
): CodecError {
  return new CodecError(
    CodecErrorCode.Truncated,
    bodyLen === undefined
      ? `stream ended inside a packet header (${buffered} of ${HEADER_SIZE} bytes)`
      : `stream ended inside a packet (${buffered} of ${
        HEADER_SIZE + bodyLen
      } bytes)`,
    bodyLen === undefined ? { offset: where.offset } : where,
  );
}

/** The error of a packet whose body does not hash to its header's SHA-1. */
export function sha1Mismatch(where: FrameWhere): CodecError {
  return new CodecError(
    CodecErrorCode.Sha1Mismatch,
    `SHA-1 of the body of protoID ${where.protoId} serialNo ${where.serialNo} differs from its header's`,
    where,
  );
}

/**
 * The plaintext of a large body decoded as it arrived, or the error that
 * spoiled it: `writeError` (thrown while it was fed), a failed decryption, or
 * a SHA-1 other than the header's `sha1`.
 */
export function endBodyStream(
  stream: BodyStream,
  writeError: unknown,
  sha1: Uint8Array,
  where: FrameWhere,
): Uint8Array | CodecError {
  let error = writeError;
  let body: Uint8Array | undefined;
  if (error === undefined) {
    try {
      body = stream.end();
    } catch (thrown) {
      error = thrown;
    }
  }
  if (error !== undefined) return decryptError(error, where);
  const digest = stream.sha1();
  if (digest !== undefined && !sameSha1(digest, sha1)) {
    return sha1Mismatch(where);
  }
  return body!;
}

function sameSha1(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 20; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The error of a packet its cipher could not decrypt. */
export function decryptError(error: unknown, where: FrameWhere): CodecError {
  const code = error instanceof CodecError
    ? error.code
    : CodecErrorCode.DecryptFailed;
  const message = error instanceof CodecError
    ? error.message
    : `could not decrypt the body of protoID ${where.protoId}`;
  return new CodecError(code, message, { ...where, cause: error });
}
