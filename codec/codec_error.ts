/**
 * The one error type the codec throws or reports.
 * @module
 */

/** Stable machine-readable codes of {@link CodecError}. */
export const CodecErrorCode = {
  /** The first two header bytes are not `"FT"`. Framing is lost. */
  BadMagic: "BAD_MAGIC",
  /** The header's protoVer is not 0. Framing is lost. */
  UnsupportedVersion: "UNSUPPORTED_VERSION",
  /** The header's bodyLen exceeds `maxBodyBytes`. Framing is lost. */
  BodyTooLarge: "BODY_TOO_LARGE",
  /** The stream ended inside a packet. */
  Truncated: "TRUNCATED",
  /** The SHA-1 of the (decrypted) body differs from the header's. */
  Sha1Mismatch: "SHA1_MISMATCH",
  /** The body could not be decrypted with the configured key. */
  DecryptFailed: "DECRYPT_FAILED",
  /** The body could not be encrypted (for example a bad key). */
  EncryptFailed: "ENCRYPT_FAILED",
  /** The body is not a valid protobuf message of the expected type. */
  MalformedProtobuf: "MALFORMED_PROTOBUF",
  /** The body is not valid JSON of the expected message type. */
  MalformedJson: "MALFORMED_JSON",
  /** The header's protoFmtType is neither protobuf (0) nor JSON (1). */
  UnknownFormat: "UNKNOWN_FORMAT",
  /** A key (RSA PEM, AES key or IV) is unusable. */
  InvalidKey: "INVALID_KEY",
  /** A message to encode is missing required fields or has wrong types. */
  InvalidMessage: "INVALID_MESSAGE",
} as const;
/** A {@link CodecErrorCode} value. */
export type CodecErrorCode = typeof CodecErrorCode[keyof typeof CodecErrorCode];

/** Where in a stream and in which packet an error happened. */
export interface CodecErrorDetails {
  /** Byte offset in the stream of the start of the packet concerned. */
  offset?: number;
  /** The packet's protoID, when its header was read. */
  protoId?: number;
  /** The packet's serialNo, when its header was read. */
  serialNo?: number;
  /** The underlying error, if any (never carries key material). */
  cause?: unknown;
}

/**
 * A codec failure with a stable {@link CodecErrorCode} and, for stream errors,
 * the byte offset of the packet concerned.
 *
 * @example
 * ```ts
 * import { CodecError, FrameDecoder } from "./mod.ts";
 * const decoder = new FrameDecoder();
 * const [result] = decoder.push(new TextEncoder().encode("GET / HTTP/1.1\r\n".repeat(3)));
 * if (!result.ok && result.error instanceof CodecError) {
 *   console.log(result.error.code, result.error.offset); // BAD_MAGIC 0
 * }
 * ```
 */
export class CodecError extends Error {
  /** Stable machine-readable code. */
  readonly code: CodecErrorCode;
  /** Byte offset in the stream of the start of the packet concerned, when known. */
  readonly offset?: number;
  /** The packet's protoID, when known. */
  readonly protoId?: number;
  /** The packet's serialNo, when known. */
  readonly serialNo?: number;

  /** Creates an error; `message` must never contain key material. */
  constructor(
    code: CodecErrorCode,
    message: string,
    details: CodecErrorDetails = {},
  ) {
    super(
      message,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = "CodecError";
    this.code = code;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.protoId !== undefined) this.protoId = details.protoId;
    if (details.serialNo !== undefined) this.serialNo = details.serialNo;
  }

  /** A JSON form: `{ code, message, offset?, protoId?, serialNo? }`. */
  toJSON(): {
    code: CodecErrorCode;
    message: string;
    offset?: number;
    protoId?: number;
    serialNo?: number;
  } {
    return {
      code: this.code,
      message: this.message,
      ...(this.offset === undefined ? {} : { offset: this.offset }),
      ...(this.protoId === undefined ? {} : { protoId: this.protoId }),
      ...(this.serialNo === undefined ? {} : { serialNo: this.serialNo }),
    };
  }
}
