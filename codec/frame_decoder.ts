/**
 * Incremental decoding of a byte stream into packets.
 * @module
 */
import { createHash } from "node:crypto";
import { CodecError, CodecErrorCode } from "./codec_error.ts";
import { decodeHeader, HEADER_SIZE, PROTO_VER } from "./header.ts";
import { readU32 } from "./_le.ts";
import type { PacketHeader } from "./header.ts";
import type { DecodedPacket } from "./packet.ts";
import type { PacketCrypto } from "./packet_crypto.ts";

/** Default {@link FrameDecoderOptions.maxBodyBytes}: 64 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = 64 * 1024 * 1024;

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Largest bodyLen accepted (default 64 MiB). A header claiming more is a
   * fatal `BODY_TOO_LARGE` as soon as its first 16 bytes are in, before any
   * body byte is waited for or buffered.
   */
  maxBodyBytes?: number;
  /** Decrypts bodies; read anew for every packet, so it may change mid-stream. */
  crypto?: PacketCrypto;
  /** Check each body against the header's SHA-1 (default true). */
  verifySha1?: boolean;
}

/** One decoded packet, or the error that took its place, in stream order. */
export type FrameResult =
  | { ok: true; packet: DecodedPacket }
  | { ok: false; error: CodecError };

// A partial header is validated when its length first reaches each of these:
// "F", "FT", through serialNo (protoVer plus the IDs to report it with),
// through bodyLen, complete. So a peer speaking another protocol is rejected
// at its first byte, and a hostile bodyLen before the rest of the header.
const CHECKPOINTS = [1, 2, 12, 16, HEADER_SIZE] as const;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Turns a byte stream cut into chunks of any size into whole packets, in
 * order.
 *
 * **Key changes mid-stream.** Bodies are decrypted one packet at a time, with
 * the crypto state at the moment that packet is produced. {@link pushEach}
 * hands each result to a callback before the next packet is even decrypted,
 * so a callback that processes the InitConnect response and calls
 * `crypto.setAes(...)` gets the very next packet, even from the same chunk,
 * decrypted with the new key. {@link push} is `pushEach` collecting into an
 * array: every packet of the chunk is decrypted before the caller sees the
 * first, so use it only where no packet changes the keys (no crypto, or after
 * InitConnect completed). A callback that throws loses nothing: the packet it
 * got is consumed, the rest stay buffered for the next call (`push(new
 * Uint8Array())` resumes).
 *
 * **Errors are results, never exceptions** (the only throws are a bad option
 * in the constructor and whatever a `pushEach` callback throws). Two kinds:
 * - Framing errors (`BAD_MAGIC`, `UNSUPPORTED_VERSION`, `BODY_TOO_LARGE`) are
 *   fatal: packet boundaries are lost. The error is reported once, with the
 *   offset of the bad header; the decoder then stays failed ({@link fatalError}
 *   is set), `offset` stays at the bad header, and every later push ignores
 *   its bytes and returns `[]`; `finish()` returns `undefined`. `reset()`
 *   clears the state for a new stream.
 * - Packet errors (`SHA1_MISMATCH`, `DECRYPT_FAILED` or another code the
 *   cipher reports) spoil only their packet: it is reported with its offset,
 *   protoId and serialNo, and decoding goes on with the next packet.
 *
 * **Memory.** Chunks are queued, not re-concatenated, so many small chunks
 * cost O(total bytes). A body that lies inside one pushed chunk is a view of
 * it (no copy), so `push`/`pushEach` take ownership of the chunk: do not write into it
 * afterwards (copy first if you reuse a read buffer). The decoder itself never
 * writes into a chunk or a body it returned. Nothing is allocated for a body
 * before it has fully arrived.
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "./frame_decoder.ts";
 * import { encodePacket } from "./packet.ts";
 * import { PacketCrypto } from "./packet_crypto.ts";
 * const crypto = new PacketCrypto();
 * const decoder = new FrameDecoder({ crypto });
 * const bytes = encodePacket({ protoId: 1004, serialNo: 1, body: new Uint8Array([8, 1]) });
 * decoder.pushEach(bytes.subarray(0, 10), console.log); // nothing yet
 * decoder.pushEach(bytes.subarray(10), (result) => {
 *   if (!result.ok) return console.error(result.error.code, result.error.offset);
 *   const { protoId, serialNo, body } = result.packet; // 1004, 1, [8, 1]
 *   // On the InitConnect response: crypto.setAes(aesFromResponse(body));
 * });
 * ```
 */
export class FrameDecoder {
  readonly #maxBodyBytes: number;
  readonly #crypto: PacketCrypto | undefined;
  readonly #verifySha1: boolean;
  readonly #scratch = new Uint8Array(HEADER_SIZE);

  // Queued chunks: #chunks[#first] is the oldest still holding bytes,
  // starting at #head; the queue holds #buffered bytes from stream #offset.
  #chunks: Uint8Array[] = [];
  #first = 0;
  #head = 0;
  #buffered = 0;
  #offset = 0;
  // How much of the current partial header was validated, and the header once
  // complete and valid (its body may still be on its way).
  #validated = 0;
  #header: PacketHeader | undefined;
  #fatal: CodecError | undefined;

  /** Creates a decoder at stream offset 0. Throws `RangeError` for a bad `maxBodyBytes`. */
  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(
        `maxBodyBytes must be a non-negative integer, got ${max}`,
      );
    }
    this.#maxBodyBytes = max;
    this.#crypto = options.crypto;
    this.#verifySha1 = options.verifySha1 ?? true;
  }

  /**
   * Stream offset of the next packet's first byte: the bytes consumed by
   * the packets and packet errors reported so far. After a fatal error, the
   * offset of the bad header.
   */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes received but not yet consumed (a partial packet). */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** The fatal framing error that stopped the decoder, if any. */
  get fatalError(): CodecError | undefined {
    return this.#fatal;
  }

  /**
   * Adds a chunk and returns the results it completed, in stream order
   * (possibly none). See the class notes on key changes before using it with
   * crypto.
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "./frame_decoder.ts";
   * import { encodePacket } from "./packet.ts";
   * const decoder = new FrameDecoder();
   * const p = encodePacket({ protoId: 3005, serialNo: 0, body: new Uint8Array(5) });
   * const stream = new Uint8Array([...p, ...p]);
   * decoder.push(stream.subarray(0, 60)).length; // 1
   * decoder.push(stream.subarray(60)).length; // 1
   * ```
   */
  push(chunk: Uint8Array): FrameResult[] {
    const results: FrameResult[] = [];
    this.#append(chunk);
    for (let r = this.#next(); r !== undefined; r = this.#next()) {
      results.push(r);
    }
    return results;
  }

  /**
   * Adds a chunk and calls `onResult` for each result it completes, in
   * stream order, decrypting each packet only after the previous call
   * returned: the callback may change the decoder's crypto (e.g.
   * `crypto.setAes` on the InitConnect response) and the next packet uses the
   * new state. Exceptions from `onResult` propagate; undelivered packets stay
   * buffered.
   */
  pushEach(chunk: Uint8Array, onResult: (result: FrameResult) => void): void {
    this.#append(chunk);
    for (let r = this.#next(); r !== undefined; r = this.#next()) {
      onResult(r);
    }
  }

  /**
   * Call when the stream ends: a `TRUNCATED` error (with the offset of the
   * unfinished packet, and its protoId/serialNo when its header was in) if it
   * ended inside a packet, else `undefined`. Changes nothing; `undefined`
   * after a fatal error, which was already reported.
   */
  finish(): CodecError | undefined {
    if (this.#fatal !== undefined || this.#buffered === 0) return undefined;
    const h = this.#header;
    return new CodecError(
      CodecErrorCode.Truncated,
      h === undefined
        ? `stream ended inside a packet header (${this.#buffered} of ${HEADER_SIZE} bytes)`
        : `stream ended inside a packet (${this.#buffered} of ${
          HEADER_SIZE + h.bodyLen
        } bytes)`,
      h === undefined
        ? { offset: this.#offset }
        : { offset: this.#offset, protoId: h.protoId, serialNo: h.serialNo },
    );
  }

  /** Forgets buffered bytes and any fatal error: a new stream at offset 0. The crypto is left as it is. */
  reset(): void {
    this.#chunks = [];
    this.#first = 0;
    this.#head = 0;
    this.#buffered = 0;
    this.#offset = 0;
    this.#validated = 0;
    this.#header = undefined;
    this.#fatal = undefined;
  }

  #append(chunk: Uint8Array): void {
    if (this.#fatal !== undefined || chunk.length === 0) return;
    // A Buffer's subarray is a Buffer; bodies should all be plain Uint8Arrays.
    this.#chunks.push(
      chunk.constructor === Uint8Array
        ? chunk
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
    this.#buffered += chunk.length;
  }

  /** Decodes the next result from the buffered bytes, if they hold one. */
  #next(): FrameResult | undefined {
    if (this.#fatal !== undefined) return undefined;
    let h = this.#header;
    if (h === undefined) {
      const checked = this.#checkHeader();
      if (checked === undefined) return undefined;
      if (checked instanceof CodecError) {
        this.#fatal = checked;
        // Nothing after a lost boundary can be decoded: free it.
        this.#chunks = [];
        this.#first = 0;
        this.#head = 0;
        this.#buffered = 0;
        return { ok: false, error: checked };
      }
      h = this.#header = checked;
    }
    if (this.#buffered < HEADER_SIZE + h.bodyLen) return undefined;

    const offset = this.#offset;
    this.#skip(HEADER_SIZE);
    const wire = this.#take(h.bodyLen);
    this.#offset += HEADER_SIZE + h.bodyLen;
    this.#header = undefined;
    this.#validated = 0;

    const where = { offset, protoId: h.protoId, serialNo: h.serialNo };
    let body = wire;
    if (this.#crypto !== undefined) {
      try {
        body = this.#crypto.decryptBody(h.protoId, wire);
      } catch (error) {
        const code = error instanceof CodecError
          ? error.code
          : CodecErrorCode.DecryptFailed;
        const message = error instanceof CodecError
          ? error.message
          : `could not decrypt the body of protoID ${h.protoId}`;
        return {
          ok: false,
          error: new CodecError(code, message, { ...where, cause: error }),
        };
      }
    }
    if (this.#verifySha1) {
      const digest = createHash("sha1").update(body).digest();
      if (!sameBytes(digest, h.sha1)) {
        return {
          ok: false,
          error: new CodecError(
            CodecErrorCode.Sha1Mismatch,
            `SHA-1 of the body of protoID ${h.protoId} serialNo ${h.serialNo} differs from its header's`,
            where,
          ),
        };
      }
    }
    return {
      ok: true,
      packet: {
        protoId: h.protoId,
        protoFmt: h.protoFmt,
        serialNo: h.serialNo,
        body,
        offset,
        bodyLen: h.bodyLen,
        sha1: h.sha1,
      },
    };
  }

  /**
   * Validates as much of the pending header as has arrived. Returns the
   * header once complete and valid, a fatal error, or `undefined` to wait.
   */
  #checkHeader(): PacketHeader | CodecError | undefined {
    const available = Math.min(this.#buffered, HEADER_SIZE);
    let checkpoint = 0;
    for (const c of CHECKPOINTS) if (c <= available) checkpoint = c;
    if (checkpoint <= this.#validated) return undefined;
    this.#validated = checkpoint;

    const [bytes, at] = this.#peek(checkpoint);
    const offset = this.#offset;
    const bad = bytes[at] !== 0x46
      ? bytes[at]
      : checkpoint >= 2 && bytes[at + 1] !== 0x54
      ? bytes[at + 1]
      : undefined;
    if (bad !== undefined) {
      return new CodecError(
        CodecErrorCode.BadMagic,
        `bad header magic (byte 0x${
          bad.toString(16).padStart(2, "0")
        }) at stream offset ${offset}, expected "FT"`,
        { offset },
      );
    }
    if (checkpoint < 12) return undefined;
    const protoId = readU32(bytes, at + 2);
    const serialNo = readU32(bytes, at + 8);
    const protoVer = bytes[at + 7];
    if (protoVer !== PROTO_VER) {
      return new CodecError(
        CodecErrorCode.UnsupportedVersion,
        `unsupported header protoVer ${protoVer} at stream offset ${offset}`,
        { offset, protoId, serialNo },
      );
    }
    if (checkpoint < 16) return undefined;
    const bodyLen = readU32(bytes, at + 12);
    if (bodyLen > this.#maxBodyBytes) {
      return new CodecError(
        CodecErrorCode.BodyTooLarge,
        `header at stream offset ${offset} claims a ${bodyLen}-byte body, over the ${this.#maxBodyBytes}-byte limit`,
        { offset, protoId, serialNo },
      );
    }
    if (checkpoint < HEADER_SIZE) return undefined;
    // Magic and version were checked above, so this cannot throw.
    return decodeHeader(bytes, at);
  }

  /**
   * The first `n` (<= 44) buffered bytes as `[bytes, start]`: a view of the
   * oldest chunk when they lie in it, else a copy in the scratch buffer (so
   * only valid until the next call).
   */
  #peek(n: number): [Uint8Array, number] {
    const first = this.#chunks[this.#first];
    if (first.length - this.#head >= n) return [first, this.#head];
    let filled = 0;
    let start = this.#head;
    for (let i = this.#first; filled < n; i++) {
      const c = this.#chunks[i];
      const count = Math.min(c.length - start, n - filled);
      this.#scratch.set(c.subarray(start, start + count), filled);
      filled += count;
      start = 0;
    }
    return [this.#scratch, 0];
  }

  /** Consumes `n` buffered bytes and returns them, as a view when they lie in one chunk. */
  #take(n: number): Uint8Array {
    const first = this.#chunks[this.#first];
    if (first !== undefined && first.length - this.#head >= n) {
      const view = first.subarray(this.#head, this.#head + n);
      this.#skip(n);
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[this.#first];
      const count = Math.min(c.length - this.#head, n - filled);
      out.set(c.subarray(this.#head, this.#head + count), filled);
      filled += count;
      this.#skip(count);
    }
    return out;
  }

  /** Consumes `n` buffered bytes, dropping chunks once used up. */
  #skip(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const c = this.#chunks[this.#first];
      const left = c.length - this.#head;
      if (n < left) {
        this.#head += n;
        return;
      }
      n -= left;
      this.#dropFirst();
    }
  }

  #dropFirst(): void {
    this.#head = 0;
    // Release the chunk now: a caller may keep bodies (views) of later ones.
    this.#chunks[this.#first++] = undefined as unknown as Uint8Array;
    if (this.#first === this.#chunks.length) {
      this.#chunks = [];
      this.#first = 0;
    } else if (this.#first >= 1024 && this.#first * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#first = 0;
    }
  }
}
