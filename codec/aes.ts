/**
 * AES-128 body ciphers negotiated by InitConnect: OpenD's own "FTAES_ECB",
 * standard AES-ECB and AES-CBC, byte-compatible with the official Python SDK.
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
} from "node:crypto";
import type { BodyCipher } from "./body_cipher.ts";
import { CodecError, CodecErrorCode } from "./codec_error.ts";
import { PacketEncAlgo } from "./definitions.ts";

const BLOCK = 16;

// Derived rather than imported: the class names differ between @types/node versions.
type Cipher = ReturnType<typeof createCipheriv>;
type Decipher = ReturnType<typeof createDecipheriv>;

/** The {@link PacketEncAlgo} values that select an AES cipher. */
export type AesAlgo =
  | typeof PacketEncAlgo.FTAES_ECB
  | typeof PacketEncAlgo.AES_ECB
  | typeof PacketEncAlgo.AES_CBC;

/** Options of {@link createAesCipher}. */
export interface AesCipherOptions {
  /** `FTAES_ECB` (0), `AES_ECB` (1) or `AES_CBC` (2). */
  algo: AesAlgo;
  /** 16 bytes, or InitConnect.S2C's 16-character `connAESKey` (UTF-8). */
  key: string | Uint8Array;
  /** 16 bytes, or InitConnect.S2C's `aesCBCiv`; required for `AES_CBC`. */
  iv?: string | Uint8Array;
}

/**
 * An AES body cipher. Its key and IV are held privately: `String()`,
 * `inspect` and `JSON.stringify` show only the algorithm.
 */
export interface AesCipher extends BodyCipher {
  /** The algorithm this cipher implements. */
  readonly algo: AesAlgo;
}

const ALGO_NAMES: Record<AesAlgo, string> = {
  [PacketEncAlgo.FTAES_ECB]: "FTAES_ECB",
  [PacketEncAlgo.AES_ECB]: "AES_ECB",
  [PacketEncAlgo.AES_CBC]: "AES_CBC",
};

function invalidKey(message: string): CodecError {
  return new CodecError(CodecErrorCode.InvalidKey, message);
}

// Only the byte length is ever reported: the material itself must not leak.
function keyBytes(value: string | Uint8Array, what: string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === "string") bytes = new TextEncoder().encode(value);
  else if (value instanceof Uint8Array) bytes = value.slice();
  else throw invalidKey(`AES ${what} must be a string or Uint8Array`);
  if (bytes.length !== BLOCK) {
    throw invalidKey(
      `AES ${what} must be exactly ${BLOCK} bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}

function decryptFailed(message: string): CodecError {
  return new CodecError(CodecErrorCode.DecryptFailed, message);
}

// node:crypto returns pooled Buffers; callers get a plain, unshared array.
function run(cipher: Cipher | Decipher, input: Uint8Array): Uint8Array {
  cipher.setAutoPadding(false);
  const head = cipher.update(input);
  const tail = cipher.final();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

function pkcs7Pad(plain: Uint8Array): Uint8Array {
  const pad = BLOCK - (plain.length % BLOCK);
  const out = new Uint8Array(plain.length + pad);
  out.set(plain);
  out.fill(pad, plain.length);
  return out;
}

// Checked here rather than by node:crypto, whose errors differ between
// Deno and Node; one message for every failure keeps it from being an oracle.
function pkcs7Length(padded: Uint8Array): number {
  const pad = padded[padded.length - 1];
  let bad = pad === 0 || pad > BLOCK ? 1 : 0;
  const n = Math.min(pad, BLOCK);
  for (let i = 1; i <= n; i++) {
    bad |= padded[padded.length - i] ^ pad;
  }
  if (bad !== 0) throw decryptFailed("AES decryption failed: bad padding");
  return padded.length - pad;
}

class AesBodyCipher implements AesCipher {
  readonly algo: AesAlgo;
  readonly #key: KeyObject;
  readonly #iv: Uint8Array | null;

  constructor(algo: AesAlgo, key: KeyObject, iv: Uint8Array | null) {
    this.algo = algo;
    this.#key = key;
    this.#iv = iv;
  }

  #cipher(): Cipher {
    return this.#iv === null
      ? createCipheriv("aes-128-ecb", this.#key, null)
      : createCipheriv("aes-128-cbc", this.#key, this.#iv);
  }

  #decipher(): Decipher {
    return this.#iv === null
      ? createDecipheriv("aes-128-ecb", this.#key, null)
      : createDecipheriv("aes-128-cbc", this.#key, this.#iv);
  }

  encrypt(plain: Uint8Array): Uint8Array {
    try {
      if (this.algo === PacketEncAlgo.FTAES_ECB) {
        const padded = Math.ceil(plain.length / BLOCK) * BLOCK;
        const input = new Uint8Array(padded);
        input.set(plain);
        const out = new Uint8Array(padded + BLOCK);
        if (padded > 0) out.set(run(this.#cipher(), input));
        // The tail block travels unencrypted, as OpenD expects.
        out[out.length - 1] = plain.length % BLOCK;
        return out;
      }
      const input = pkcs7Pad(plain);
      return run(this.#cipher(), input);
    } catch (error) {
      if (error instanceof CodecError) throw error;
      throw new CodecError(
        CodecErrorCode.EncryptFailed,
        `${ALGO_NAMES[this.algo]} encryption failed`,
      );
    }
  }

  decrypt(encrypted: Uint8Array): Uint8Array {
    const name = ALGO_NAMES[this.algo];
    if (encrypted.length === 0 || encrypted.length % BLOCK !== 0) {
      throw decryptFailed(
        `${name} decryption failed: length ${encrypted.length} is not a positive multiple of ${BLOCK}`,
      );
    }
    try {
      if (this.algo === PacketEncAlgo.FTAES_ECB) {
        const bodyLen = encrypted.length - BLOCK;
        const tailLen = encrypted[encrypted.length - 1];
        if (tailLen >= BLOCK || (tailLen !== 0 && bodyLen === 0)) {
          throw decryptFailed(`${name} decryption failed: bad tail block`);
        }
        const body = encrypted.subarray(0, bodyLen);
        const plain = bodyLen === 0
          ? new Uint8Array(0)
          : run(this.#decipher(), body);
        return tailLen === 0
          ? plain
          : plain.slice(0, plain.length - (BLOCK - tailLen));
      }
      const padded = run(this.#decipher(), encrypted);
      return padded.slice(0, pkcs7Length(padded));
    } catch (error) {
      if (error instanceof CodecError) throw error;
      throw decryptFailed(`${name} decryption failed`);
    }
  }

  toString(): string {
    return `AesCipher { algo: "${ALGO_NAMES[this.algo]}" }`;
  }

  toJSON(): { algo: string } {
    return { algo: ALGO_NAMES[this.algo] };
  }

  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/**
 * Creates the AES body cipher that InitConnect negotiated. Keys given as
 * strings are the UTF-8 bytes of `connAESKey` / `aesCBCiv` and must be
 * exactly 16 bytes. Throws `CodecError` `INVALID_KEY` (never echoing the key)
 * for a bad key, a missing or bad CBC IV, or a non-AES algorithm.
 *
 * - `FTAES_ECB`: zero-pads to 16, AES-128-ECB, then appends one plain 16-byte
 *   block whose last byte is `plainLength % 16`.
 * - `AES_ECB`: AES-128-ECB with PKCS#7.
 * - `AES_CBC`: AES-128-CBC with PKCS#7, restarting from the IV every packet.
 *
 * @example
 * ```ts
 * import { createAesCipher } from "./aes.ts";
 * import { PacketEncAlgo } from "./definitions.ts";
 * const cipher = createAesCipher({
 *   algo: PacketEncAlgo.AES_CBC,
 *   key: "0123456789abcdef",
 *   iv: "fedcba9876543210",
 * });
 * const body = cipher.encrypt(new TextEncoder().encode("hello"));
 * console.log(body.length); // 16
 * console.log(new TextDecoder().decode(cipher.decrypt(body))); // hello
 * console.log(String(cipher)); // AesCipher { algo: "AES_CBC" }
 * ```
 */
export function createAesCipher(options: AesCipherOptions): AesCipher {
  const { algo } = options;
  if (!Object.hasOwn(ALGO_NAMES, algo)) {
    throw invalidKey(`packetEncAlgo ${String(algo)} is not an AES algorithm`);
  }
  const key = keyBytes(options.key, "key");
  let iv: Uint8Array | null = null;
  if (algo === PacketEncAlgo.AES_CBC) {
    if (options.iv === undefined) throw invalidKey("AES_CBC needs an IV");
    iv = keyBytes(options.iv, "IV");
  }
  return new AesBodyCipher(algo, createSecretKey(key), iv);
}
