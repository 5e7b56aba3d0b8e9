/**
 * One connection's body encryption state.
 * @module
 */
import type { BodyCipher } from "./body_cipher.ts";
import { CodecError, CodecErrorCode } from "./codec_error.ts";
import { ProtoId } from "./definitions.ts";

/** The ciphers a {@link PacketCrypto} starts with. */
export interface PacketCryptoOptions {
  /** RSA cipher for InitConnect (1001) bodies, in both directions. */
  rsa?: BodyCipher;
  /** AES cipher for every other body; usually set later with `setAes`. */
  aes?: BodyCipher;
}

/** Which ciphers are set; the only thing a {@link PacketCrypto} reveals. */
export interface PacketCryptoSummary {
  /** Whether InitConnect bodies are RSA-encrypted. */
  rsa: boolean;
  /** Whether the other bodies are AES-encrypted. */
  aes: boolean;
}

/**
 * Which cipher, if any, applies to each packet of one connection.
 *
 * The rule (as the official SDKs apply it): InitConnect (1001) bodies use the
 * RSA cipher whenever one is set, even when AES packet encryption is off, and
 * never AES; every other protoID uses the AES cipher once it is set (after
 * InitConnect returned the connection's key), else travels in plaintext.
 *
 * Share one instance between a connection's encoder and {@link FrameDecoder}
 * so that `setAes` switches both directions at once. Neither `inspect`,
 * `toString` nor JSON output shows the ciphers, only whether they are set.
 *
 * @example
 * ```ts
 * import { PacketCrypto } from "./packet_crypto.ts";
 * const xor = {
 *   encrypt: (b: Uint8Array) => b.map((x) => x ^ 0x5a),
 *   decrypt: (b: Uint8Array) => b.map((x) => x ^ 0x5a),
 * };
 * const crypto = new PacketCrypto();
 * crypto.encryptBody(1003, new Uint8Array([1])); // plaintext: no AES yet
 * crypto.setAes(xor); // after the InitConnect response
 * crypto.encryptBody(1003, new Uint8Array([1])); // Uint8Array [ 91 ]
 * console.log(JSON.stringify(crypto)); // {"rsa":false,"aes":true}
 * ```
 */
export class PacketCrypto {
  #rsa: BodyCipher | undefined;
  #aes: BodyCipher | undefined;

  /** Starts with the given ciphers (none: everything in plaintext). */
  constructor(options: PacketCryptoOptions = {}) {
    this.#rsa = options.rsa;
    this.#aes = options.aes;
  }

  /** Whether an RSA cipher is set for InitConnect. */
  get hasRsa(): boolean {
    return this.#rsa !== undefined;
  }

  /** Whether an AES cipher is set for the other protocols. */
  get hasAes(): boolean {
    return this.#aes !== undefined;
  }

  /**
   * Sets (or, with `undefined`, clears) the AES cipher. Call it when the
   * InitConnect response is processed, and clear it when the connection is
   * replaced: the key belongs to one connection.
   */
  setAes(cipher: BodyCipher | undefined): void {
    this.#aes = cipher;
  }

  /** Sets (or clears) the RSA cipher used for InitConnect bodies. */
  setRsa(cipher: BodyCipher | undefined): void {
    this.#rsa = cipher;
  }

  /**
   * The cipher for a protoID under the rule above, or `undefined` for
   * plaintext.
   */
  cipherFor(protoId: number): BodyCipher | undefined {
    return protoId === ProtoId.InitConnect ? this.#rsa : this.#aes;
  }

  /**
   * Encrypts a plaintext body for `protoId` (returns `plain` itself when no
   * cipher applies). Throws `CodecError`: the cipher's own code when it threw
   * one, else `ENCRYPT_FAILED`; `protoId` is set on the error.
   */
  encryptBody(protoId: number, plain: Uint8Array): Uint8Array {
    const cipher = this.cipherFor(protoId);
    if (cipher === undefined) return plain;
    try {
      return plainView(cipher.encrypt(plain));
    } catch (error) {
      throw cipherError(error, CodecErrorCode.EncryptFailed, protoId);
    }
  }

  /**
   * Decrypts a body received for `protoId` (returns `encrypted` itself when
   * no cipher applies). Throws `CodecError`: the cipher's own code when it
   * threw one, else `DECRYPT_FAILED`; `protoId` is set on the error.
   */
  decryptBody(protoId: number, encrypted: Uint8Array): Uint8Array {
    const cipher = this.cipherFor(protoId);
    if (cipher === undefined) return encrypted;
    try {
      return plainView(cipher.decrypt(encrypted));
    } catch (error) {
      throw cipherError(error, CodecErrorCode.DecryptFailed, protoId);
    }
  }

  /** `{ rsa, aes }`: whether each cipher is set, never the keys. */
  toJSON(): PacketCryptoSummary {
    return { rsa: this.hasRsa, aes: this.hasAes };
  }

  /** `PacketCrypto { rsa: <bool>, aes: <bool> }`. */
  toString(): string {
    return `PacketCrypto { rsa: ${this.hasRsa}, aes: ${this.hasAes} }`;
  }

  /** Deno's `inspect` / `console.log` form: see {@link toString}. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's `util.inspect` / `console.log` form: see {@link toString}. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

// Ciphers built on node:crypto return Buffers; callers compare and re-slice
// bodies, where a Buffer behaves differently from a Uint8Array.
function plainView(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("a BodyCipher must return a Uint8Array");
  }
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function cipherError(
  error: unknown,
  fallback: CodecErrorCode,
  protoId: number,
): CodecError {
  const verb = fallback === CodecErrorCode.EncryptFailed
    ? "encrypt"
    : "decrypt";
  if (error instanceof CodecError) {
    return new CodecError(error.code, error.message, { protoId, cause: error });
  }
  return new CodecError(
    fallback,
    `could not ${verb} the body of protoID ${protoId}`,
    { protoId, cause: error },
  );
}
