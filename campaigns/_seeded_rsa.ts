/**
 * RSA PKCS#1 v1.5 encryption with the padding drawn from a seeded source,
 * so an RSA-encrypted InitConnect in a fuzz stream is the same bytes on
 * every replay (the library's own encryption pads at random, as it must).
 * @module
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  publicEncrypt,
} from "node:crypto";
import type { Rng } from "./_rng.ts";

/** Encrypts like OpenD: 100-byte plaintext chunks per 128-byte block (1024-bit key). */
export class SeededRsa {
  readonly #public: KeyObject;
  readonly #size: number;
  readonly #chunk: number;

  /** For the private key in `pem`. */
  constructor(pem: string) {
    const key = createPrivateKey(pem);
    this.#public = createPublicKey(key);
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 1024;
    this.#size = Math.ceil(bits / 8);
    this.#chunk = Math.floor(this.#size * 100 / 128);
  }

  /** The ciphertext of `plain`, padded with bytes from `rng`. */
  encrypt(plain: Uint8Array, rng: Rng): Uint8Array {
    const chunks = Math.max(1, Math.ceil(plain.length / this.#chunk));
    const out = new Uint8Array(chunks * this.#size);
    for (let c = 0; c < chunks; c++) {
      const m = plain.subarray(c * this.#chunk, (c + 1) * this.#chunk);
      const block = new Uint8Array(this.#size);
      block[1] = 2;
      const padEnd = this.#size - m.length - 1;
      for (let i = 2; i < padEnd; i++) block[i] = rng.int(1, 255);
      block.set(m, padEnd + 1);
      out.set(
        publicEncrypt(
          { key: this.#public, padding: constants.RSA_NO_PADDING },
          block,
        ),
        c * this.#size,
      );
    }
    return out;
  }
}
