/**
 * What every body cipher (AES modes, RSA for InitConnect) offers.
 * @module
 */

/**
 * Encrypts and decrypts whole packet bodies. Implementations throw
 * `CodecError` (`DECRYPT_FAILED`, `ENCRYPT_FAILED`) and never reveal key
 * material in errors, `toString`, `inspect` or JSON output.
 */
export interface BodyCipher {
  /** Encrypts a plaintext body. */
  encrypt(plain: Uint8Array): Uint8Array;
  /** Decrypts an encrypted body. */
  decrypt(encrypted: Uint8Array): Uint8Array;
}
