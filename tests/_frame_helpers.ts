/** Byte builders, test ciphers and stream cutters shared by the frame tests. */
import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv } from "node:crypto";
import type { BodyCipher } from "../codec/body_cipher.ts";
import { CodecError } from "../codec/codec_error.ts";
import { FrameDecoder, type FrameResult } from "../codec/frame_decoder.ts";
import { type DecodedPacket, encodePacket } from "../codec/packet.ts";

export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16),
  );
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Fake cipher: a marker byte then XOR, so the wire length differs from the plaintext's. */
export function xorCipher(key: number, marker = 0xa5): BodyCipher {
  return {
    encrypt: (plain) =>
      concat(Uint8Array.of(marker), plain.map((b) => b ^ key)),
    decrypt: (enc) => {
      if (enc.length === 0 || enc[0] !== marker) {
        throw new CodecError("DECRYPT_FAILED", "bad marker");
      }
      return enc.subarray(1).map((b) => b ^ key);
    },
  };
}

/** Real AES-128-CBC with PKCS#7, a fresh cipher per body (as the SDKs do). */
export function aesCbc(key: Uint8Array, iv: Uint8Array): BodyCipher {
  return {
    encrypt(plain) {
      const c = createCipheriv("aes-128-cbc", key, iv);
      return Buffer.concat([c.update(plain), c.final()]);
    },
    decrypt(enc) {
      const d = createDecipheriv("aes-128-cbc", key, iv);
      return Buffer.concat([d.update(enc), d.final()]);
    },
  };
}

export function decodeAll(
  stream: Uint8Array,
  options: ConstructorParameters<typeof FrameDecoder>[0] = {},
): FrameResult[] {
  return new FrameDecoder(options).push(stream);
}

export function packetsOf(results: FrameResult[]): DecodedPacket[] {
  return results.map((r) => {
    if (!r.ok) throw new Error(`unexpected ${r.error.code}`);
    return r.packet;
  });
}

export function errorOf(result: FrameResult | undefined): CodecError {
  assert(result !== undefined, "expected a result");
  assert(!result.ok, "expected an error result");
  assertInstanceOf(result.error, CodecError);
  return result.error;
}

export function feedBytewise(
  decoder: FrameDecoder,
  stream: Uint8Array,
): FrameResult[] {
  const out: FrameResult[] = [];
  for (let i = 0; i < stream.length; i++) {
    out.push(...decoder.push(stream.subarray(i, i + 1)));
  }
  return out;
}

export function splitAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))]
    .sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    chunks.push(stream.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

/** Three empty-body packets: 132 bytes, so whatever follows starts at byte 132. */
export function prefix132(): Uint8Array {
  const p = [1, 2, 3].map((serialNo) =>
    encodePacket({ protoId: 1004, serialNo, body: new Uint8Array() })
  );
  const out = concat(...p);
  assertEquals(out.length, 132);
  return out;
}

// A header written out byte by byte, independent of encodeHeader.
export const HEADER_VECTOR = Uint8Array.from([
  0x46,
  0x54, // "FT"
  0xeb,
  0x03,
  0x00,
  0x00, // protoID 1003
  0x01, // protoFmt: JSON
  0x00, // protoVer
  0x78,
  0x56,
  0x34,
  0x12, // serialNo 0x12345678
  0x27,
  0x00,
  0x00,
  0x00, // bodyLen 39
  ...Array.from({ length: 20 }, (_, i) => i), // SHA-1 field: 00 01 .. 13
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0, // reserved
]);
