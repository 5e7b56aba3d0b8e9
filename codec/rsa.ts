/**
 * RSA for InitConnect bodies: PKCS#1 v1.5 in fixed-size chunks, as OpenD and
 * the official SDKs do it, working the same in Deno and Node >= 20.
 * @module
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
} from "node:crypto";
import type { BodyCipher } from "./body_cipher.ts";
import { CodecError, CodecErrorCode } from "./codec_error.ts";

// Smaller moduli cannot hold OpenD's chunk plus PKCS#1 v1.5 overhead safely.
const MIN_BITS = 512;

function invalidKey(message: string): CodecError {
  return new CodecError(CodecErrorCode.InvalidKey, message);
}

function decryptFailed(): CodecError {
  return new CodecError(CodecErrorCode.DecryptFailed, "RSA decryption failed");
}

/**
 * An RSA private key used as the InitConnect body cipher. Both ends hold the
 * same private key: {@link RsaKey.encrypt} uses its public half,
 * {@link RsaKey.decrypt} the private key. The key material stays private:
 * `String()`, `inspect` and `JSON.stringify` show only `RsaKey { bits: N }`.
 *
 * @example
 * ```ts
 * import { generateRsaKeyPem, RsaKey } from "./rsa.ts";
 * const key = RsaKey.fromPem(generateRsaKeyPem(1024));
 * const body = key.encrypt(new Uint8Array(150));
 * console.log(body.length); // 256: two 128-byte chunks
 * console.log(key.decrypt(body).length); // 150
 * console.log(String(key)); // RsaKey { bits: 1024 }
 * ```
 */
export class RsaKey implements BodyCipher {
  /** The modulus size in bits (1024, 2048, ...). */
  readonly bits: number;
  readonly #private: KeyObject;
  readonly #public: KeyObject;
  readonly #keyBytes: number;
  readonly #plainChunk: number;

  private constructor(privateKey: KeyObject, bits: number) {
    this.bits = bits;
    this.#private = privateKey;
    this.#public = createPublicKey(privateKey);
    this.#keyBytes = Math.ceil(bits / 8);
    // OpenD's rule: 100 plaintext bytes per 128 ciphertext bytes.
    this.#plainChunk = Math.floor(this.#keyBytes * 100 / 128);
  }

  /**
   * Reads an RSA private key from PEM: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what
   * OpenD is configured with) or PKCS#8 (`BEGIN PRIVATE KEY`). Throws
   * `CodecError` `INVALID_KEY`, whose message never quotes the PEM.
   *
   * @example
   * ```ts
   * import { generateRsaKeyPem, RsaKey } from "./rsa.ts";
   * console.log(RsaKey.fromPem(generateRsaKeyPem(2048)).bits); // 2048
   * ```
   */
  static fromPem(pem: string | Uint8Array): RsaKey {
    let text: string;
    if (typeof pem === "string") text = pem;
    else if (pem instanceof Uint8Array) text = new TextDecoder().decode(pem);
    else throw invalidKey("RSA key PEM must be a string or Uint8Array");
    // Deno's node:crypto refuses a PEM with surrounding blank lines or CRLF
    // line ends, which key files often have; Node accepts them.
    text = text.trim().replace(/\r\n/g, "\n");
    if (!text.includes("-----BEGIN")) {
      throw invalidKey("RSA key is not a PEM private key");
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: text, format: "pem" });
    } catch {
      // node:crypto's own message is dropped: it is not ours to vouch for.
      throw invalidKey("RSA key PEM could not be parsed as a private key");
    }
    if (key.asymmetricKeyType !== "rsa") {
      throw invalidKey(
        `key is ${String(key.asymmetricKeyType)}, not an RSA private key`,
      );
    }
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits === undefined || bits < MIN_BITS) {
      throw invalidKey(`RSA key must have at least ${MIN_BITS} bits`);
    }
    return new RsaKey(key, bits);
  }

  /**
   * Encrypts with the public half in PKCS#1 v1.5 chunks: 100-byte plaintext
   * chunks for a 1024-bit key (200 for 2048), each becoming one modulus-sized
   * ciphertext chunk. Empty in, empty out.
   */
  encrypt(plain: Uint8Array): Uint8Array {
    const chunks = Math.ceil(plain.length / this.#plainChunk);
    const out = new Uint8Array(chunks * this.#keyBytes);
    try {
      for (let i = 0; i < chunks; i++) {
        const start = i * this.#plainChunk;
        const chunk = publicEncrypt(
          { key: this.#public, padding: constants.RSA_PKCS1_PADDING },
          plain.subarray(start, start + this.#plainChunk),
        );
        if (chunk.length !== this.#keyBytes) throw new Error("chunk length");
        out.set(chunk, i * this.#keyBytes);
      }
    } catch {
      throw new CodecError(
        CodecErrorCode.EncryptFailed,
        "RSA encryption failed",
      );
    }
    return out;
  }

  /**
   * Decrypts modulus-sized PKCS#1 v1.5 chunks with the private key and joins
   * them. Throws `CodecError` `DECRYPT_FAILED`, with one message for every
   * cause, when the length is not a multiple of the modulus size or any
   * chunk's padding is wrong. Empty in, empty out.
   */
  decrypt(encrypted: Uint8Array): Uint8Array {
    const k = this.#keyBytes;
    if (encrypted.length % k !== 0) throw decryptFailed();
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let offset = 0; offset < encrypted.length; offset += k) {
      const part = this.#decryptChunk(encrypted.subarray(offset, offset + k));
      parts.push(part);
      total += part.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  // Node >= 20 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809), so
  // the raw RSA result is unpadded here, the same way in Deno and Node.
  #decryptChunk(chunk: Uint8Array): Uint8Array {
    const k = this.#keyBytes;
    let raw: Uint8Array;
    try {
      raw = privateDecrypt(
        { key: this.#private, padding: constants.RSA_NO_PADDING },
        chunk,
      );
    } catch {
      throw decryptFailed();
    }
    if (raw.length > k) throw decryptFailed();
    if (raw.length < k) {
      const full = new Uint8Array(k);
      full.set(raw, k - raw.length);
      raw = full;
    }
    // EM = 0x00 0x02 PS(>= 8 non-zero bytes) 0x00 M. One pass over the whole
    // block and a single verdict, so failures look alike whatever went wrong.
    let separator = 0;
    for (let i = 2; i < k; i++) {
      const isZero = raw[i] === 0 ? 1 : 0;
      const first = separator === 0 ? isZero : 0;
      separator = first === 1 ? i : separator;
    }
    const bad = (raw[0] !== 0 ? 1 : 0) | (raw[1] !== 2 ? 1 : 0) |
      (separator === 0 ? 1 : 0) | (separator < 10 ? 1 : 0);
    if (bad !== 0) throw decryptFailed();
    return raw.slice(separator + 1);
  }

  /** `RsaKey { bits: N }`; never the key. */
  toString(): string {
    return `RsaKey { bits: ${this.bits} }`;
  }

  /** `{ bits }`; never the key. */
  toJSON(): { bits: number } {
    return { bits: this.bits };
  }

  /** Deno's inspect form: `RsaKey { bits: N }`. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's inspect form: `RsaKey { bits: N }`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/**
 * Generates a new RSA private key (public exponent 65537) as a PKCS#1 PEM
 * (`BEGIN RSA PRIVATE KEY`), the form OpenD's `rsa_private_key` setting reads.
 *
 * @example
 * ```ts
 * import { generateRsaKeyPem } from "./rsa.ts";
 * const pem = generateRsaKeyPem();
 * console.log(pem.startsWith("-----BEGIN RSA PRIVATE KEY-----")); // true
 * ```
 */
export function generateRsaKeyPem(bits = 1024): string {
  if (!Number.isInteger(bits) || bits < MIN_BITS) {
    throw new RangeError(`RSA key size must be an integer >= ${MIN_BITS}`);
  }
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return privateKey;
}
