/**
 * Bodies decoded as their bytes arrive: the frame decoder feeds a large body
 * to a stream chunk by chunk and drops each chunk at once, so a large
 * (encrypted) body is held as one plaintext copy instead of the received
 * chunks, their concatenation and the plaintext.
 * @module
 */
import { CodecError, CodecErrorCode } from "./codec_error.ts";

/** A body being decoded: bytes in as they arrive, the plaintext at the end. */
export interface BodyStream {
  /** Takes the next bytes of the body (never more than the body's length). */
  write(bytes: Uint8Array): void;
  /** The plaintext once every byte was written; throws `CodecError`. */
  end(): Uint8Array;
}

/** The hook a body cipher offers to decrypt a body of `wireLength` bytes as a stream. */
export const streamDecrypt: unique symbol = Symbol("opend.streamDecrypt");

/** A cipher with the {@link streamDecrypt} hook. */
export interface StreamingCipher {
  /** A stream for a body of `wireLength` bytes, or `undefined` to decrypt it whole. */
  [streamDecrypt](wireLength: number): BodyStream | undefined;
}

/** Whether `cipher` can decrypt bodies as a stream. */
export function isStreamingCipher(cipher: unknown): cipher is StreamingCipher {
  return typeof (cipher as Partial<StreamingCipher>)[streamDecrypt] ===
    "function";
}

const FIRST_CAPACITY = 1024 * 1024;

/**
 * A growing buffer for a body of known final size: capacity is allocated as
 * bytes arrive (a header that lies about its length costs only what was
 * really received), growing fourfold up to the final size.
 */
export class BodyArena {
  #bytes: Uint8Array;
  #length = 0;
  readonly #size: number;

  /** An arena for at most `size` bytes. */
  constructor(size: number) {
    this.#size = size;
    this.#bytes = new Uint8Array(Math.min(size, FIRST_CAPACITY));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Appends `bytes` (the caller keeps the total within `size`). */
  append(bytes: Uint8Array): void {
    const need = this.#length + bytes.length;
    if (need > this.#bytes.length) {
      let capacity = this.#bytes.length * 4;
      while (capacity < need) capacity *= 4;
      const grown = new Uint8Array(Math.min(this.#size, capacity));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    this.#bytes.set(bytes, this.#length);
    this.#length = need;
  }

  /** The bytes written, as a view. */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }
}

/** A plaintext body arriving in pieces: copied into one arena. */
export class PlainBodyStream implements BodyStream {
  readonly #arena: BodyArena;

  /** A stream for a body of `length` bytes. */
  constructor(length: number) {
    this.#arena = new BodyArena(length);
  }

  write(bytes: Uint8Array): void {
    this.#arena.append(bytes);
  }

  end(): Uint8Array {
    return this.#arena.view();
  }
}

/** A `DECRYPT_FAILED` error with a message that never names key material. */
export function decryptFailed(message: string): CodecError {
  return new CodecError(CodecErrorCode.DecryptFailed, message);
}
