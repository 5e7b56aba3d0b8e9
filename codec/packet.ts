/**
 * Whole packets: header plus body, and how to put one on the wire.
 * @module
 */
import { HEADER_SIZE, PROTO_VER, writeHeader } from "./header.ts";
import type { PacketCrypto } from "./packet_crypto.ts";
import { sha1Digest } from "./_sha1.ts";

/** A packet with its plaintext body. */
export interface Packet {
  /** Protocol ID (u32); any value is carried, known or not. */
  protoId: number;
  /** Body format (u8): 0 protobuf, 1 JSON. */
  protoFmt: number;
  /** Request serial number (u32). */
  serialNo: number;
  /** The plaintext (decrypted) body. */
  body: Uint8Array;
}

/** What {@link encodePacket} needs: a {@link Packet} whose format defaults to protobuf. */
export interface PacketInit {
  /** Protocol ID (u32). */
  protoId: number;
  /** Body format (u8); defaults to 0 (protobuf). */
  protoFmt?: number;
  /** Request serial number (u32). */
  serialNo: number;
  /** The plaintext body. */
  body: Uint8Array;
}

/** A packet as {@link FrameDecoder} delivers it. */
export interface DecodedPacket extends Packet {
  /** Stream offset of the header's first byte. */
  offset: number;
  /** Body length on the wire (after encryption), as the header says. */
  bodyLen: number;
  /**
   * The header's SHA-1 of the plaintext body (20 bytes): a view of the
   * received chunk when the header lay in one, else a copy.
   */
  sha1: Uint8Array;
}

/**
 * SHA-1 of `bytes` as a plain `Uint8Array` (20 bytes).
 *
 * @example
 * ```ts
 * import { sha1 } from "./packet.ts";
 * sha1(new Uint8Array()); // da39a3ee...
 * ```
 */
export function sha1(bytes: Uint8Array): Uint8Array {
  return sha1Digest(bytes);
}

/**
 * Encodes one packet: the header's SHA-1 covers the plaintext body, the body
 * is encrypted as `crypto` says for the protoID, and bodyLen is the encrypted
 * length. Throws `CodecError`: `INVALID_MESSAGE` for an out-of-range header
 * field, or the cipher's error (`ENCRYPT_FAILED`, ...).
 *
 * @example
 * ```ts
 * import { encodePacket } from "./packet.ts";
 * const bytes = encodePacket({ protoId: 1004, serialNo: 7, body: new Uint8Array([8, 1]) });
 * console.log(bytes.length); // 46
 * ```
 */
export function encodePacket(
  packet: PacketInit,
  crypto?: PacketCrypto,
): Uint8Array {
  const { protoId, protoFmt = 0, serialNo, body } = packet;
  const wire = crypto === undefined ? body : crypto.encryptBody(protoId, body);
  const out = new Uint8Array(HEADER_SIZE + wire.length);
  writeHeader(out, 0, {
    protoId,
    protoFmt,
    protoVer: PROTO_VER,
    serialNo,
    bodyLen: wire.length,
    sha1: sha1(body),
  });
  out.set(wire, HEADER_SIZE);
  return out;
}
