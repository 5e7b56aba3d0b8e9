/**
 * The 44-byte OpenD packet header.
 *
 * Layout, little-endian: `"FT"` (2 bytes), protoID u32, protoFmtType u8,
 * protoVer u8, serialNo u32, bodyLen u32, SHA-1 of the plaintext body
 * (20 bytes), 8 reserved bytes (written as zero, ignored when read so that a
 * newer peer using them is not rejected).
 * @module
 */
import { CodecError, CodecErrorCode } from "./codec_error.ts";
import { readU32, writeU32 } from "./_le.ts";

/** Size in bytes of a packet header. */
export const HEADER_SIZE = 44;

/** Size in bytes of the header's SHA-1 field. */
export const SHA1_SIZE = 20;

/** The only protoVer this codec understands. */
export const PROTO_VER = 0;

const MAGIC_0 = 0x46; // "F"
const MAGIC_1 = 0x54; // "T"
const U32_MAX = 0xffff_ffff;

/** A decoded packet header. */
export interface PacketHeader {
  /** Protocol ID (u32), e.g. 1003 for Notify. Unknown IDs are kept as is. */
  protoId: number;
  /** Body format (u8): 0 protobuf, 1 JSON; other values are kept as is. */
  protoFmt: number;
  /** Header version (u8); always 0 in a header that decoded. */
  protoVer: number;
  /** Request serial number (u32); a response echoes its request's. */
  serialNo: number;
  /** Body length on the wire (u32), i.e. after encryption. */
  bodyLen: number;
  /** SHA-1 of the plaintext body (20 bytes). */
  sha1: Uint8Array;
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new CodecError(
      CodecErrorCode.InvalidMessage,
      `header ${name} must be an integer in 0..${max}, got ${value}`,
    );
  }
}

/**
 * Writes a header into `target` at `offset` (44 bytes), e.g. in front of a
 * body in one allocation. Throws `CodecError` `INVALID_MESSAGE` when a field is
 * out of range or `sha1` is not 20 bytes, before writing anything.
 *
 * @example
 * ```ts
 * import { HEADER_SIZE, writeHeader } from "./header.ts";
 * const packet = new Uint8Array(HEADER_SIZE + 3);
 * writeHeader(packet, 0, {
 *   protoId: 1004, protoFmt: 0, protoVer: 0, serialNo: 7, bodyLen: 3,
 *   sha1: new Uint8Array(20),
 * });
 * ```
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  header: PacketHeader,
): void {
  checkUint("protoId", header.protoId, U32_MAX);
  checkUint("protoFmt", header.protoFmt, 0xff);
  checkUint("protoVer", header.protoVer, 0xff);
  checkUint("serialNo", header.serialNo, U32_MAX);
  checkUint("bodyLen", header.bodyLen, U32_MAX);
  if (
    !(header.sha1 instanceof Uint8Array) || header.sha1.length !== SHA1_SIZE
  ) {
    throw new CodecError(
      CodecErrorCode.InvalidMessage,
      `header sha1 must be ${SHA1_SIZE} bytes`,
    );
  }
  if (
    !Number.isInteger(offset) || offset < 0 ||
    offset + HEADER_SIZE > target.length
  ) {
    throw new RangeError(
      `no room for a ${HEADER_SIZE}-byte header at ${offset}`,
    );
  }
  target[offset] = MAGIC_0;
  target[offset + 1] = MAGIC_1;
  writeU32(target, offset + 2, header.protoId);
  target[offset + 6] = header.protoFmt;
  target[offset + 7] = header.protoVer;
  writeU32(target, offset + 8, header.serialNo);
  writeU32(target, offset + 12, header.bodyLen);
  target.set(header.sha1, offset + 16);
  // The target may be reused memory: the reserved bytes must still go out as 0.
  target.fill(0, offset + 36, offset + HEADER_SIZE);
}

/**
 * Encodes a header as 44 new bytes.
 *
 * @example
 * ```ts
 * import { encodeHeader } from "./header.ts";
 * const bytes = encodeHeader({
 *   protoId: 1003, protoFmt: 0, protoVer: 0, serialNo: 1, bodyLen: 0,
 *   sha1: new Uint8Array(20),
 * });
 * console.log(bytes.length); // 44
 * ```
 */
export function encodeHeader(header: PacketHeader): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE);
  writeHeader(bytes, 0, header);
  return bytes;
}

/**
 * Decodes the header that starts at `offset` in `bytes`. The returned `sha1`
 * is a copy, so `bytes` may be reused afterwards.
 *
 * Throws `CodecError`: `TRUNCATED` when fewer than 44 bytes are available,
 * `BAD_MAGIC` when the first two bytes are not `"FT"`, `UNSUPPORTED_VERSION`
 * when protoVer is not 0. The error's `offset` is `offset`, i.e. relative to
 * `bytes`.
 *
 * @example
 * ```ts
 * import { decodeHeader, encodeHeader } from "./header.ts";
 * const header = decodeHeader(encodeHeader({
 *   protoId: 1004, protoFmt: 0, protoVer: 0, serialNo: 9, bodyLen: 12,
 *   sha1: new Uint8Array(20),
 * }));
 * console.log(header.protoId, header.bodyLen); // 1004 12
 * ```
 */
export function decodeHeader(bytes: Uint8Array, offset = 0): PacketHeader {
  if (bytes.length - offset < HEADER_SIZE) {
    throw new CodecError(
      CodecErrorCode.Truncated,
      `a header needs ${HEADER_SIZE} bytes, ${
        Math.max(0, bytes.length - offset)
      } available`,
      { offset },
    );
  }
  if (bytes[offset] !== MAGIC_0 || bytes[offset + 1] !== MAGIC_1) {
    throw new CodecError(
      CodecErrorCode.BadMagic,
      `bad header magic 0x${hex2(bytes[offset])}${
        hex2(bytes[offset + 1])
      }, expected "FT"`,
      { offset },
    );
  }
  const protoId = readU32(bytes, offset + 2);
  const protoVer = bytes[offset + 7];
  const serialNo = readU32(bytes, offset + 8);
  if (protoVer !== PROTO_VER) {
    throw new CodecError(
      CodecErrorCode.UnsupportedVersion,
      `unsupported header protoVer ${protoVer}, expected ${PROTO_VER}`,
      { offset, protoId, serialNo },
    );
  }
  return {
    protoId,
    protoFmt: bytes[offset + 6],
    protoVer,
    serialNo,
    bodyLen: readU32(bytes, offset + 12),
    sha1: bytes.slice(offset + 16, offset + 36),
  };
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
