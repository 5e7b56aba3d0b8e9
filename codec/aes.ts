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
import { Aes128Decrypter } from "./_aes128.ts";
import {
  BodyArena,
  type BodyStream,
  decryptFailed,
  release,
  streamDecrypt,
} from "./_body_stream.ts";

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

/**
 * Bodies shorter than this are decrypted in TypeScript with the cipher's
 * cached round keys; longer ones natively, where the per-call cost no longer
 * matters. Measured by `deno task bench`.
 */
export const AES_NATIVE_MIN = 1024;

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
function pkcs7Length(
  padded: Uint8Array,
  at = 0,
  length: number = padded.length,
): number {
  const end = at + length;
  const pad = padded[end - 1];
  let bad = pad === 0 || pad > BLOCK ? 1 : 0;
  const n = Math.min(pad, BLOCK);
  for (let i = 1; i <= n; i++) {
    bad |= padded[end - i] ^ pad;
  }
  if (bad !== 0) throw decryptFailed("AES decryption failed: bad padding");
  return length - pad;
}

// Small plaintexts are carved out of shared slabs, as Node pools small
// Buffers: an ArrayBuffer per packet costs more than decrypting it. A slab
// is only ever written where no body was handed out, and a body kept alive
// keeps at most one slab alive.
const SLAB_BYTES = 8 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/** Reserves `length` bytes (at most 1 KiB) of the current slab; returns where they start. */
function reserve(length: number): number {
  if (slabUsed + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += length;
  return at;
}

// A Buffer from node:crypto as a plain Uint8Array over the same memory.
function plain(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

// FTAES_ECB's last block travels in plaintext; its last byte is the length
// of the body modulo 16.
function ftaesTail(encrypted: Uint8Array, bodyLen: number): number {
  const tailLen = encrypted[bodyLen + BLOCK - 1];
  if (tailLen >= BLOCK || (tailLen !== 0 && bodyLen === 0)) {
    throw decryptFailed("FTAES_ECB decryption failed: bad tail block");
  }
  return tailLen;
}

function ftaesLength(bodyLen: number, tailLen: number): number {
  return tailLen === 0 ? bodyLen : bodyLen - (BLOCK - tailLen);
}

class AesDecryptStream implements BodyStream {
  readonly #algo: AesAlgo;
  readonly #decipher: Decipher;
  readonly #arena: BodyArena;
  // FTAES_ECB: the last block is not encrypted, so it bypasses the decipher.
  readonly #encryptedLength: number;
  readonly #tail = new Uint8Array(BLOCK);
  #written = 0;

  constructor(
    algo: AesAlgo,
    decipher: Decipher,
    wireLength: number,
    hash: boolean,
  ) {
    this.#algo = algo;
    this.#decipher = decipher;
    this.#encryptedLength = algo === PacketEncAlgo.FTAES_ECB
      ? wireLength - BLOCK
      : wireLength;
    // Exactly what will be written: no byte of the buffer goes unset.
    this.#arena = new BodyArena(this.#encryptedLength, hash);
  }

  write(bytes: Uint8Array): void {
    const encrypted = Math.max(
      0,
      Math.min(bytes.length, this.#encryptedLength - this.#written),
    );
    try {
      if (encrypted > 0) {
        const out = this.#decipher.update(bytes.subarray(0, encrypted));
        this.#arena.append(out);
        // Deno's decipher copies each input and allocates each output: the
        // output at least goes at once, so the body is not held twice more.
        release(out);
        // The last block holds the padding: hashed once it is known.
        this.#arena.hashTo(this.#arena.length - BLOCK);
      }
    } catch {
      throw decryptFailed(`${ALGO_NAMES[this.#algo]} decryption failed`);
    }
    for (let i = encrypted; i < bytes.length; i++) {
      this.#tail[this.#written + i - this.#encryptedLength] = bytes[i];
    }
    this.#written += bytes.length;
  }

  end(): Uint8Array {
    const name = ALGO_NAMES[this.#algo];
    try {
      const rest = this.#decipher.final();
      if (rest.length > 0) this.#arena.append(rest);
    } catch {
      throw decryptFailed(`${name} decryption failed`);
    }
    const padded = this.#arena.view(this.#arena.length);
    let length: number;
    if (this.#algo === PacketEncAlgo.FTAES_ECB) {
      const bodyLen = this.#encryptedLength;
      const tailLen = this.#tail[BLOCK - 1];
      if (tailLen >= BLOCK || (tailLen !== 0 && bodyLen === 0)) {
        throw decryptFailed(`${name} decryption failed: bad tail block`);
      }
      length = ftaesLength(bodyLen, tailLen);
    } else length = pkcs7Length(padded);
    this.#arena.hashTo(length);
    return padded.subarray(0, length);
  }

  sha1(): Uint8Array | undefined {
    return this.#arena.digest();
  }
}

class AesBodyCipher implements AesCipher {
  readonly algo: AesAlgo;
  readonly #key: KeyObject;
  readonly #iv: Uint8Array | null;
  // One key schedule per cipher (i.e. per connection), not per packet.
  readonly #decrypter: Aes128Decrypter;

  constructor(algo: AesAlgo, key: Uint8Array, iv: Uint8Array | null) {
    this.algo = algo;
    this.#key = createSecretKey(key);
    this.#iv = iv;
    this.#decrypter = new Aes128Decrypter(key);
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

  /** Decrypts whole blocks, without padding checks: `length` is a multiple of 16. */
  #decryptBlocks(input: Uint8Array, length: number): Uint8Array {
    if (length < AES_NATIVE_MIN) {
      const at = reserve(length);
      const out = slab;
      this.#decrypter.decrypt(input, 0, out, at, length, this.#iv);
      return new Uint8Array(out.buffer, at, length);
    }
    const decipher = this.#decipher();
    decipher.setAutoPadding(false);
    const head = decipher.update(input.subarray(0, length));
    const tail = decipher.final();
    if (tail.length === 0) return plain(head);
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
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
        const tailLen = ftaesTail(encrypted, bodyLen);
        const plainBody = bodyLen === 0
          ? new Uint8Array(0)
          : this.#decryptBlocks(encrypted, bodyLen);
        return plainBody.subarray(0, ftaesLength(bodyLen, tailLen));
      }
      const length = encrypted.length;
      if (length < AES_NATIVE_MIN) {
        // One view per body: decrypted into the slab, unpadded in place.
        const at = reserve(length);
        const out = slab;
        this.#decrypter.decrypt(encrypted, 0, out, at, length, this.#iv);
        return new Uint8Array(out.buffer, at, pkcs7Length(out, at, length));
      }
      const padded = this.#decryptBlocks(encrypted, length);
      return padded.subarray(0, pkcs7Length(padded));
    } catch (error) {
      if (error instanceof CodecError) throw error;
      throw decryptFailed(`${name} decryption failed`);
    }
  }

  /** Large bodies as they arrive: one plaintext copy, no re-concatenation. */
  [streamDecrypt](wireLength: number, hash: boolean): BodyStream | undefined {
    if (wireLength === 0 || wireLength % BLOCK !== 0) return undefined;
    const decipher = this.#decipher();
    decipher.setAutoPadding(false);
    return new AesDecryptStream(this.algo, decipher, wireLength, hash);
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
  return new AesBodyCipher(algo, key, iv);
}
