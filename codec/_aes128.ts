/**
 * AES-128 decryption in TypeScript (ECB and CBC, no padding), with the round
 * keys computed once per key.
 *
 * For small bodies a `node:crypto` decipher costs several microseconds per
 * packet in creation and wrappers, and every one is a native object the
 * garbage collector tracks; this decrypts a Notify-sized body in well under a
 * microsecond. Large bodies stay native (see `aes.ts`).
 * @module
 */

const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
const TD0 = new Int32Array(256);
const TD1 = new Int32Array(256);
const TD2 = new Int32Array(256);
const TD3 = new Int32Array(256);

function xtime(x: number): number {
  return ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;
}

function mul(a: number, b: number): number {
  let out = 0;
  for (; b > 0; b >>= 1, a = xtime(a)) if (b & 1) out ^= a;
  return out;
}

// The S-box from its definition (multiplicative inverse, then the affine map).
{
  const log = new Uint8Array(256);
  const exp = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x ^= xtime(x); // multiply by the generator 3
  }
  for (let i = 0; i < 256; i++) {
    const inv = i === 0 ? 0 : exp[(255 - log[i]) % 255];
    let s = inv;
    for (let r = 1; r < 5; r++) s ^= ((inv << r) | (inv >>> (8 - r))) & 0xff;
    s ^= 0x63;
    SBOX[i] = s;
    INV_SBOX[s] = i;
  }
  for (let i = 0; i < 256; i++) {
    const x = INV_SBOX[i];
    const t = (mul(x, 0x0e) << 24) | (mul(x, 0x09) << 16) |
      (mul(x, 0x0d) << 8) | mul(x, 0x0b);
    TD0[i] = t;
    TD1[i] = (t >>> 8) | (t << 24);
    TD2[i] = (t >>> 16) | (t << 16);
    TD3[i] = (t >>> 24) | (t << 8);
  }
}

function subWord(w: number): number {
  return (SBOX[w >>> 24] << 24) | (SBOX[(w >>> 16) & 0xff] << 16) |
    (SBOX[(w >>> 8) & 0xff] << 8) | SBOX[w & 0xff];
}

function readWord(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) |
    bytes[at + 3];
}

function writeWord(bytes: Uint8Array, at: number, w: number): void {
  bytes[at] = w >>> 24;
  bytes[at + 1] = (w >>> 16) & 0xff;
  bytes[at + 2] = (w >>> 8) & 0xff;
  bytes[at + 3] = w & 0xff;
}

/** The decryption round keys of one AES-128 key. */
export class Aes128Decrypter {
  readonly #dk = new Int32Array(44);

  /** `key` must be 16 bytes (checked by the caller). */
  constructor(key: Uint8Array) {
    const ek = new Int32Array(44);
    for (let i = 0; i < 4; i++) ek[i] = readWord(key, i * 4);
    for (let i = 4, rcon = 1; i < 44; i++) {
      let t = ek[i - 1];
      if (i % 4 === 0) {
        t = subWord((t << 8) | (t >>> 24)) ^ (rcon << 24);
        rcon = xtime(rcon);
      }
      ek[i] = ek[i - 4] ^ t;
    }
    // The equivalent inverse cipher: rounds reversed, InvMixColumns applied
    // to the inner round keys.
    const dk = this.#dk;
    for (let r = 0; r <= 10; r++) {
      for (let j = 0; j < 4; j++) {
        const w = ek[(10 - r) * 4 + j];
        dk[r * 4 + j] = r === 0 || r === 10 ? w : TD0[SBOX[w >>> 24]] ^
          TD1[SBOX[(w >>> 16) & 0xff]] ^ TD2[SBOX[(w >>> 8) & 0xff]] ^
          TD3[SBOX[w & 0xff]];
      }
    }
  }

  /**
   * Decrypts `length` bytes (a multiple of 16) of `input` from `inAt` into
   * `output` at `outAt`; CBC when `iv` (16 bytes) is given, else ECB.
   * `output` must not overlap the input bytes not yet decrypted.
   */
  decrypt(
    input: Uint8Array,
    inAt: number,
    output: Uint8Array,
    outAt: number,
    length: number,
    iv: Uint8Array | null,
  ): void {
    const dk = this.#dk;
    let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    if (iv !== null) {
      p0 = readWord(iv, 0);
      p1 = readWord(iv, 4);
      p2 = readWord(iv, 8);
      p3 = readWord(iv, 12);
    }
    for (let off = 0; off < length; off += 16) {
      const c0 = readWord(input, inAt + off);
      const c1 = readWord(input, inAt + off + 4);
      const c2 = readWord(input, inAt + off + 8);
      const c3 = readWord(input, inAt + off + 12);
      let s0 = c0 ^ dk[0], s1 = c1 ^ dk[1], s2 = c2 ^ dk[2], s3 = c3 ^ dk[3];
      let k = 4;
      for (let round = 1; round < 10; round++, k += 4) {
        const t0 = TD0[s0 >>> 24] ^ TD1[(s3 >>> 16) & 0xff] ^
          TD2[(s2 >>> 8) & 0xff] ^ TD3[s1 & 0xff] ^ dk[k];
        const t1 = TD0[s1 >>> 24] ^ TD1[(s0 >>> 16) & 0xff] ^
          TD2[(s3 >>> 8) & 0xff] ^ TD3[s2 & 0xff] ^ dk[k + 1];
        const t2 = TD0[s2 >>> 24] ^ TD1[(s1 >>> 16) & 0xff] ^
          TD2[(s0 >>> 8) & 0xff] ^ TD3[s3 & 0xff] ^ dk[k + 2];
        const t3 = TD0[s3 >>> 24] ^ TD1[(s2 >>> 16) & 0xff] ^
          TD2[(s1 >>> 8) & 0xff] ^ TD3[s0 & 0xff] ^ dk[k + 3];
        s0 = t0;
        s1 = t1;
        s2 = t2;
        s3 = t3;
      }
      const o0 = ((INV_SBOX[s0 >>> 24] << 24) |
        (INV_SBOX[(s3 >>> 16) & 0xff] << 16) |
        (INV_SBOX[(s2 >>> 8) & 0xff] << 8) | INV_SBOX[s1 & 0xff]) ^ dk[40];
      const o1 = ((INV_SBOX[s1 >>> 24] << 24) |
        (INV_SBOX[(s0 >>> 16) & 0xff] << 16) |
        (INV_SBOX[(s3 >>> 8) & 0xff] << 8) | INV_SBOX[s2 & 0xff]) ^ dk[41];
      const o2 = ((INV_SBOX[s2 >>> 24] << 24) |
        (INV_SBOX[(s1 >>> 16) & 0xff] << 16) |
        (INV_SBOX[(s0 >>> 8) & 0xff] << 8) | INV_SBOX[s3 & 0xff]) ^ dk[42];
      const o3 = ((INV_SBOX[s3 >>> 24] << 24) |
        (INV_SBOX[(s2 >>> 16) & 0xff] << 16) |
        (INV_SBOX[(s1 >>> 8) & 0xff] << 8) | INV_SBOX[s0 & 0xff]) ^ dk[43];
      const at = outAt + off;
      writeWord(output, at, o0 ^ p0);
      writeWord(output, at + 4, o1 ^ p1);
      writeWord(output, at + 8, o2 ^ p2);
      writeWord(output, at + 12, o3 ^ p3);
      if (iv !== null) {
        p0 = c0;
        p1 = c1;
        p2 = c2;
        p3 = c3;
      }
    }
  }
}
