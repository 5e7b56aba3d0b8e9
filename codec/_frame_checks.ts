/**
 * The limits and checks a frame must pass and the errors that report its
 * failures: a header validated as its bytes arrive (magic, version, then the
 * body limit of its protoID), and a body's SHA-1, decryption or truncation. The frame
 * decoder keeps the byte handling; this file says what is wrong and where.
 * @module
 */
import { CodecError, CodecErrorCode } from "./codec_error.ts";
import { HEADER_SIZE, PROTO_VER } from "./header.ts";
import { readU32 } from "./_le.ts";
import { ProtoId } from "./definitions.ts";

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

// A partial header is validated when its length first reaches each of these:
// "F", "FT", through serialNo (protoVer plus the IDs to report it with),
// through bodyLen, complete. So a peer speaking another protocol is rejected
// at its first byte, and a hostile bodyLen before the rest of the header.
const CHECKPOINTS = [1, 2, 12, 16, HEADER_SIZE] as const;

/** The longest prefix of a header, of `available` bytes, worth validating. */
export function headerCheckpoint(available: number): number {
  let checkpoint = 0;
  for (const c of CHECKPOINTS) if (c <= available) checkpoint = c;
  return checkpoint;
}

/**
 * The largest body accepted for `protoId`: `system` for the
 * {@link SYSTEM_PROTO_IDS} (1001..1006: one comparison on the hot path), else
 * `max`.
 */
export function bodyLimitFor(
  protoId: number,
  max: number,
  system: number,
): number {
  return protoId - 1001 >>> 0 < 6 ? system : max;
}

/**
 * Validates the first `checkpoint` bytes of the header at `bytes[at]`,
 * found at stream `offset`: the fatal framing error they show, if any.
 */
export function checkHeaderPrefix(
  bytes: Uint8Array,
  at: number,
  checkpoint: number,
  offset: number,
  maxBodyBytes: number,
  maxSystemBodyBytes: number,
): CodecError | undefined {
  const bad = bytes[at] !== 0x46
    ? bytes[at]
    : checkpoint >= 2 && bytes[at + 1] !== 0x54
    ? bytes[at + 1]
    : undefined;
  if (bad !== undefined) {
    return new CodecError(
      CodecErrorCode.BadMagic,
      `bad header magic (byte 0x${
        bad.toString(16).padStart(2, "0")
      }) at stream offset ${offset}, expected "FT"`,
      { offset },
    );
  }
  if (checkpoint < 12) return undefined;
  const protoId = readU32(bytes, at + 2);
  const serialNo = readU32(bytes, at + 8);
  const protoVer = bytes[at + 7];
  if (protoVer !== PROTO_VER) {
    return new CodecError(
      CodecErrorCode.UnsupportedVersion,
      `unsupported header protoVer ${protoVer} at stream offset ${offset}`,
      { offset, protoId, serialNo },
    );
  }
  if (checkpoint < 16) return undefined;
  const bodyLen = readU32(bytes, at + 12);
  const limit = bodyLimitFor(protoId, maxBodyBytes, maxSystemBodyBytes);
  if (bodyLen > limit) {
    const what = limit === maxBodyBytes
      ? "limit"
      : `limit for protoID ${protoId}`;
    return new CodecError(
      CodecErrorCode.BodyTooLarge,
      `header at stream offset ${offset} claims a ${bodyLen}-byte body, over the ${limit}-byte ${what}`,
      { offset, protoId, serialNo },
    );
  }
  return undefined;
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

/** Whether two 20-byte SHA-1 digests are equal. */
export function sameSha1(a: Uint8Array, b: Uint8Array): boolean {
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
