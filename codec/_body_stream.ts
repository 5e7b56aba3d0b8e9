/**
 * Bodies decoded as their bytes arrive: once half of a large body is in, the
 * frame decoder feeds it to a stream chunk by chunk and drops each chunk at
 * once, so a large (encrypted) body is held as one plaintext copy instead of
 * the received chunks, their concatenation and the plaintext, and is hashed
 * piece by piece while each piece is in cache.
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, type Hash } from "node:crypto";
import { CodecError, CodecErrorCode } from "./codec_error.ts";

/** A body being decoded: bytes in as they arrive, the plaintext at the end. */
export interface BodyStream {
  /** Takes the next bytes of the body (never more than the body's length). */
  write(bytes: Uint8Array): void;
  /** The plaintext once every byte was written; throws `CodecError`. */
  end(): Uint8Array;
  /** After `end`: the plaintext's SHA-1 when the stream was asked to hash. */
  sha1(): Uint8Array | undefined;
}

/** The hook a body cipher offers to decrypt a body of `wireLength` bytes as a stream. */
export const streamDecrypt: unique symbol = Symbol("opend.streamDecrypt");

/**
 * A cipher with the {@link streamDecrypt} hook. Its `decrypt` also promises
 * to return new memory and keep no reference to its input, so the input may
 * be a buffer that is reused afterwards (see {@link scratchBody}).
 */
export interface StreamingCipher {
  /**
   * A stream for a body of `wireLength` bytes that hashes the plaintext when
   * `hash` is set, or `undefined` to decrypt the body whole.
   */
  [streamDecrypt](wireLength: number, hash: boolean): BodyStream | undefined;
}

/** Whether `cipher` can decrypt bodies as a stream. */
export function isStreamingCipher(cipher: unknown): cipher is StreamingCipher {
  return typeof cipher === "object" && cipher !== null &&
    typeof (cipher as Partial<StreamingCipher>)[streamDecrypt] === "function";
}

/**
 * A stream for a body of `wireLength` bytes under `cipher` (none: plaintext),
 * or `undefined` when the cipher decrypts bodies only whole.
 */
export function openBodyStream(
  cipher: unknown,
  wireLength: number,
  hash: boolean,
): BodyStream | undefined {
  if (cipher === undefined) return new PlainBodyStream(wireLength, hash);
  if (!isStreamingCipher(cipher)) return undefined;
  try {
    return cipher[streamDecrypt](wireLength, hash);
  } catch {
    return undefined;
  }
}

/**
 * A new buffer for `size` bytes that the caller overwrites entirely before
 * anyone sees it. Large ones skip zero-filling, which costs more than the
 * copy that follows (three times more for 64 KiB in Deno).
 */
export function allocBody(size: number): Uint8Array {
  if (size < 4096) return new Uint8Array(size);
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}

// The largest ciphertext copied into the shared scratch buffer.
const SCRATCH_MAX = 256 * 1024;
let scratch: Uint8Array | undefined;

/**
 * Room for `size` bytes that are dead once the current call returns: the
 * ciphertext of a body that spans chunks, copied together only to be
 * decrypted into new memory. One buffer for the whole process (decoding is
 * synchronous and nothing keeps it), so such a body costs one fresh
 * allocation (the plaintext) rather than two; in Node each fresh page of a
 * 64 KiB body is a page fault once the allocator has returned memory to the
 * system. Sizes above 256 KiB get a buffer of their own.
 */
export function scratchBody(size: number): Uint8Array {
  if (size > SCRATCH_MAX) return allocBody(size);
  if (scratch === undefined || scratch.length < size) {
    scratch = allocBody(
      Math.min(SCRATCH_MAX, Math.max(size, 2 * (scratch?.length ?? 0))),
    );
  }
  return scratch.subarray(0, size);
}

/**
 * The buffer of a body of known final size, hashed as it fills: each piece
 * is hashed right after it is written, while it is still in cache.
 */
export class BodyArena {
  readonly #bytes: Uint8Array;
  #length = 0;
  readonly #hash: Hash | undefined;
  #hashed = 0;

  /** An arena for at most `size` bytes, hashing them when `hash` is set. */
  constructor(size: number, hash: boolean) {
    // Only written bytes are ever hashed or shown (`view` covers no more).
    this.#bytes = allocBody(size);
    this.#hash = hash ? createHash("sha1") : undefined;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Appends `bytes` (the caller keeps the total within `size`). */
  append(bytes: Uint8Array): void {
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Hashes the bytes before `end` that are not hashed yet. */
  hashTo(end: number): void {
    if (this.#hash !== undefined && end > this.#hashed) {
      this.#hash.update(this.#bytes.subarray(this.#hashed, end));
      this.#hashed = end;
    }
  }

  /** The first `length` bytes, as a view. */
  view(length: number): Uint8Array {
    return this.#bytes.subarray(0, length);
  }

  /** The SHA-1 of the bytes hashed, once. */
  digest(): Uint8Array | undefined {
    if (this.#hash === undefined) return undefined;
    const d = this.#hash.digest();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
}

/** A plaintext body arriving in pieces: copied into one arena. */
export class PlainBodyStream implements BodyStream {
  readonly #arena: BodyArena;

  /** A stream for a body of `length` bytes. */
  constructor(length: number, hash: boolean) {
    this.#arena = new BodyArena(length, hash);
  }

  write(bytes: Uint8Array): void {
    this.#arena.append(bytes);
    this.#arena.hashTo(this.#arena.length);
  }

  end(): Uint8Array {
    return this.#arena.view(this.#arena.length);
  }

  sha1(): Uint8Array | undefined {
    return this.#arena.digest();
  }
}

// ArrayBuffer.prototype.transfer (ES2024: Deno, Node 21+), where it exists.
const transfer = (ArrayBuffer.prototype as {
  transfer?: (this: ArrayBuffer, length?: number) => ArrayBuffer;
}).transfer;

/**
 * Frees a temporary buffer now rather than at the next garbage collection,
 * where the runtime can: a native decipher's output, once copied into the
 * body, would otherwise stay allocated until the collector runs, which during
 * a large body can be the whole body over again. Only a view over a whole,
 * plain `ArrayBuffer` that nobody else holds may be released; any other is
 * left as it is.
 */
export function release(view: Uint8Array): void {
  const buffer = view.buffer;
  if (
    transfer !== undefined && view.byteLength > 0 && view.byteOffset === 0 &&
    buffer instanceof ArrayBuffer && buffer.byteLength === view.byteLength
  ) {
    transfer.call(buffer, 0);
  }
}

/** A `DECRYPT_FAILED` error with a message that never names key material. */
export function decryptFailed(message: string): CodecError {
  return new CodecError(CodecErrorCode.DecryptFailed, message);
}
