/**
 * SHA-1 in TypeScript for small bodies, with no allocation per call.
 *
 * A `node:crypto` hash costs 2 to 6 us per call however small the input (the
 * hash object, its digest Buffer and the wrappers), which is most of the cost
 * of a small packet; this costs a fraction of a microsecond for a Notify body.
 * From {@link SHA1_NATIVE_MIN} bytes on, native hashing is faster and is used.
 * @module
 */
import { createHash } from "node:crypto";
import { compress } from "./_sha1_compress.ts";

/**
 * Bodies of this many bytes or more are hashed natively; below, in
 * TypeScript. One native call costs about 2.5 us in Deno whatever the size;
 * the unrolled block function here about 0.14 us a 64-byte block (2.2 ns a
 * byte, Deno and Node alike, on a 2-core EPYC), so the crossover lies near
 * 1 KiB; staying in TypeScript up to there also keeps native hash objects
 * (and their memory) off the small-packet path.
 */
export const SHA1_NATIVE_MIN = 1024;

const block = new Uint8Array(64);
// The digest as five big-endian words, shared by every call.
const state = new Int32Array(5);

/** Hashes `bytes[start, end)` into the shared state. */
function hashInto(bytes: Uint8Array, start: number, end: number): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  state[4] = 0xc3d2e1f0 | 0;
  const length = end - start;
  let at = start;
  for (; end - at >= 64; at += 64) compress(bytes, at, state);
  const rest = end - at;
  for (let i = 0; i < rest; i++) block[i] = bytes[at + i];
  block[rest] = 0x80;
  if (rest >= 56) {
    block.fill(0, rest + 1);
    compress(block, 0, state);
    block.fill(0, 0, 56);
  } else {
    block.fill(0, rest + 1, 56);
  }
  // Bit length, big-endian; bodies stay far below 2^32 bytes.
  const bitsHigh = Math.floor(length / 0x20000000);
  const bitsLow = (length << 3) >>> 0;
  block[56] = 0;
  block[57] = 0;
  block[58] = 0;
  block[59] = bitsHigh & 0xff;
  block[60] = bitsLow >>> 24;
  block[61] = (bitsLow >>> 16) & 0xff;
  block[62] = (bitsLow >>> 8) & 0xff;
  block[63] = bitsLow & 0xff;
  compress(block, 0, state);
}

/**
 * Whether the SHA-1 of `body` equals the 20 bytes at `expected[at]`,
 * computed without allocating (natively for large bodies).
 */
export function sha1Matches(
  body: Uint8Array,
  expected: Uint8Array,
  at: number,
): boolean {
  if (body.length >= SHA1_NATIVE_MIN) {
    const digest = createHash("sha1").update(body).digest();
    for (let i = 0; i < 20; i++) {
      if (digest[i] !== expected[at + i]) return false;
    }
    return true;
  }
  hashInto(body, 0, body.length);
  for (let i = 0, j = at; i < 5; i++, j += 4) {
    const word = (expected[j] << 24) | (expected[j + 1] << 16) |
      (expected[j + 2] << 8) | expected[j + 3];
    if (word !== state[i]) return false;
  }
  return true;
}

/** SHA-1 of `bytes` as 20 new bytes (natively for large inputs). */
export function sha1Digest(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= SHA1_NATIVE_MIN) {
    const digest = createHash("sha1").update(bytes).digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, 20).slice();
  }
  return sha1Ts(bytes);
}

/** SHA-1 in TypeScript whatever the size: for tests and the bench's crossover. */
export function sha1Ts(bytes: Uint8Array): Uint8Array {
  hashInto(bytes, 0, bytes.length);
  const out = new Uint8Array(20);
  for (let i = 0; i < 5; i++) {
    const v = state[i];
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = (v >>> 16) & 0xff;
    out[i * 4 + 2] = (v >>> 8) & 0xff;
    out[i * 4 + 3] = v & 0xff;
  }
  return out;
}
