/**
 * Incremental decoding of a byte stream into packets.
 * @module
 */
import type { CodecError } from "./codec_error.ts";
import { HEADER_SIZE, PROTO_VER } from "./header.ts";
import { readU32 } from "./_le.ts";
import type { DecodedPacket } from "./packet.ts";
import type { PacketCrypto } from "./packet_crypto.ts";
import { sha1Matches } from "./_sha1.ts";
import {
  allocBody,
  type BodyStream,
  isStreamingCipher,
  openBodyStream,
  scratchBody,
} from "./_body_stream.ts";
import {
  badMagic,
  bodyTooLarge,
  CHECKPOINTS,
  decryptError,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_SYSTEM_BODY_BYTES,
  endBodyStream,
  limitOption,
  sha1Mismatch,
  truncated,
  unsupportedVersion,
} from "./_frame_checks.ts";

export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_SYSTEM_BODY_BYTES,
  SYSTEM_PROTO_IDS,
} from "./_frame_checks.ts";

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Largest bodyLen accepted (default 64 MiB). A header claiming more is a
   * fatal `BODY_TOO_LARGE` as soon as its first 16 bytes are in, before any
   * body byte is waited for or buffered.
   */
  maxBodyBytes?: number;
  /**
   * Largest bodyLen accepted for the {@link SYSTEM_PROTO_IDS} (default
   * 8 KiB, never more than `maxBodyBytes`): a header of one of these that
   * claims more is a fatal `BODY_TOO_LARGE` at once, instead of a link that
   * waits for megabytes that will never come.
   */
  maxSystemBodyBytes?: number;
  /** Decrypts bodies; read anew for every packet, so it may change mid-stream. */
  crypto?: PacketCrypto;
  /** Check each body against the header's SHA-1 (default true). */
  verifySha1?: boolean;
}

/** One decoded packet, or the error that took its place, in stream order. */
export type FrameResult =
  | { ok: true; packet: DecodedPacket }
  | { ok: false; error: CodecError };

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
 * **Memory.** Large chunks are queued, not re-concatenated; small ones
 * (under 2 KiB) are copied together, so what the decoder holds stays within a
 * small constant of the bytes it buffers however the stream is cut. A body
 * (and the `sha1` field) that lies inside one pushed chunk is a view of it (no
 * copy), so `push`/`pushEach` take ownership of the chunk: do not write into
 * it afterwards (copy first if you reuse a read buffer). The decoder itself
 * never writes into a chunk or a body it returned. A large body (256 KiB or
 * more) that arrives over several chunks is, once half of it is in, decrypted,
 * hashed and copied into its final buffer as it arrives, so it is held once
 * rather than as chunks plus copies, and a header that lies about its length
 * costs at most twice what was sent.
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
  readonly #maxSystemBodyBytes: number;
  readonly #crypto: PacketCrypto | undefined;
  readonly #verifySha1: boolean;
  readonly #scratch = new Uint8Array(HEADER_SIZE);

  // Queued chunks: #chunks[#first] is the oldest still holding bytes,
  // starting at #head; the queue holds #buffered bytes from stream #offset
  // (less #streamed, the bytes of the current packet already handed to a
  // body stream). #owned[i] marks the decoder's own coalescing buffers, which
  // never leave the decoder: what comes out of them is copied.
  #chunks: Uint8Array[] = [];
  #owned: boolean[] = [];
  #first = 0;
  #head = 0;
  #buffered = 0;
  #offset = 0;
  // The coalescing buffer small chunks are copied into; #tailStart is where
  // its queue entry begins, #tailEnd where its bytes end.
  #tail: Uint8Array | undefined;
  #tailStart = 0;
  #tailEnd = 0;
  // How much of the current partial header was validated, and its fields once
  // complete and valid (its body may still be on its way).
  #validated = 0;
  #hasHeader = false;
  #protoId = 0;
  #protoFmt = 0;
  #serialNo = 0;
  #bodyLen = 0;
  #sha1: Uint8Array = EMPTY;
  // A large body being decoded as it arrives.
  #stream: BodyStream | undefined;
  #streamed = 0;
  #streamError: unknown;
  #fatal: CodecError | undefined;

  /**
   * Creates a decoder at stream offset 0. Throws `RangeError` for a bad
   * `maxBodyBytes` or `maxSystemBodyBytes`.
   */
  constructor(options: FrameDecoderOptions = {}) {
    const max = limitOption(
      "maxBodyBytes",
      options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    );
    const system = limitOption(
      "maxSystemBodyBytes",
      options.maxSystemBodyBytes ?? DEFAULT_MAX_SYSTEM_BODY_BYTES,
    );
    this.#maxBodyBytes = max;
    this.#maxSystemBodyBytes = Math.min(system, max);
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
    return this.#buffered + this.#streamed;
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
    const buffered = this.bufferedBytes;
    if (this.#fatal !== undefined || buffered === 0) return undefined;
    return truncated(
      buffered,
      {
        offset: this.#offset,
        protoId: this.#protoId,
        serialNo: this.#serialNo,
      },
      this.#hasHeader ? this.#bodyLen : undefined,
    );
  }

  /** Forgets buffered bytes and any fatal error: a new stream at offset 0. The crypto is left as it is. */
  reset(): void {
    this.#clearQueue();
    this.#offset = 0;
    this.#validated = 0;
    this.#hasHeader = false;
    this.#sha1 = EMPTY;
    this.#stream = undefined;
    this.#streamed = 0;
    this.#streamError = undefined;
    this.#fatal = undefined;
  }

  #clearQueue(): void {
    this.#chunks = [];
    this.#owned = [];
    this.#first = 0;
    this.#head = 0;
    this.#buffered = 0;
    this.#tail = undefined;
  }

  #append(chunk: Uint8Array): void {
    if (this.#fatal !== undefined) return;
    const length = chunk.length;
    if (length === 0) return;
    this.#buffered += length;
    const chunks = this.#chunks;
    if (length >= COALESCE_BELOW) {
      // A Buffer's subarray is a Buffer; bodies should all be plain Uint8Arrays.
      chunks.push(
        chunk.constructor === Uint8Array
          ? chunk
          : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      this.#owned.push(false);
      return;
    }
    const tail = this.#tail;
    if (tail !== undefined && this.#tailEnd + length <= tail.length) {
      tail.set(chunk, this.#tailEnd);
      const last = chunks.length - 1;
      const entry = chunks[last];
      if (
        last >= this.#first && this.#owned[last] &&
        entry.buffer === tail.buffer &&
        entry.byteOffset + entry.length === tail.byteOffset + this.#tailEnd
      ) {
        chunks[last] = tail.subarray(this.#tailStart, this.#tailEnd + length);
      } else {
        this.#tailStart = this.#tailEnd;
        chunks.push(tail.subarray(this.#tailStart, this.#tailEnd + length));
        this.#owned.push(true);
      }
      this.#tailEnd += length;
      return;
    }
    // A new coalescing buffer, sized to what is buffered: memory stays
    // within a small factor of the bytes held, however small the chunks.
    const capacity = Math.max(
      length,
      Math.min(MAX_TAIL, Math.max(MIN_TAIL, this.#buffered)),
    );
    const fresh = new Uint8Array(capacity);
    fresh.set(chunk);
    this.#tail = fresh;
    this.#tailStart = 0;
    this.#tailEnd = length;
    chunks.push(fresh.subarray(0, length));
    this.#owned.push(true);
  }

  #limitFor(protoId: number): number {
    // SYSTEM_PROTO_IDS are 1001..1006: one comparison on the hot path.
    return protoId - 1001 >>> 0 < 6
      ? this.#maxSystemBodyBytes
      : this.#maxBodyBytes;
  }

  /** Decodes the next result from the buffered bytes, if they hold one. */
  #next(): FrameResult | undefined {
    if (this.#fatal !== undefined) return undefined;
    if (!this.#hasHeader) {
      // The hot path: a whole valid packet inside the oldest (received)
      // chunk is read in place, with no copy and no header object.
      const first = this.#first;
      if (first < this.#chunks.length && !this.#owned[first]) {
        const c = this.#chunks[first];
        const at = this.#head;
        const available = c.length - at;
        if (available >= HEADER_SIZE) {
          const bodyLen = readU32(c, at + 12);
          const protoId = readU32(c, at + 2);
          if (
            available - HEADER_SIZE >= bodyLen && c[at] === 0x46 &&
            c[at + 1] === 0x54 && c[at + 7] === PROTO_VER &&
            bodyLen <= this.#limitFor(protoId)
          ) {
            const offset = this.#offset;
            const end = at + HEADER_SIZE + bodyLen;
            this.#offset = offset + HEADER_SIZE + bodyLen;
            this.#buffered -= HEADER_SIZE + bodyLen;
            if (end === c.length) this.#dropFirst();
            else this.#head = end;
            return this.#complete(
              offset,
              protoId,
              c[at + 6],
              readU32(c, at + 8),
              bodyLen,
              view(c, at + HEADER_SIZE, bodyLen),
              c,
              at + 16,
            );
          }
        }
      }
      const checked = this.#checkHeader();
      if (checked === undefined) return undefined;
      if (checked !== true) {
        this.#fatal = checked;
        // Nothing after a lost boundary can be decoded: free it.
        this.#clearQueue();
        return { ok: false, error: checked };
      }
      this.#hasHeader = true;
    }
    const bodyLen = this.#bodyLen;
    if (this.#stream === undefined && this.#streamed === 0) {
      if (this.#buffered >= HEADER_SIZE + bodyLen) {
        const offset = this.#offset;
        this.#skip(HEADER_SIZE);
        const wire = this.#take(
          bodyLen,
          isStreamingCipher(this.#crypto?.cipherFor(this.#protoId)),
        );
        this.#offset += HEADER_SIZE + bodyLen;
        this.#hasHeader = false;
        this.#validated = 0;
        return this.#complete(
          offset,
          this.#protoId,
          this.#protoFmt,
          this.#serialNo,
          bodyLen,
          wire,
          this.#sha1,
          0,
        );
      }
      // Streamed once half the body is in: memory stays within twice the
      // bytes received, whatever the header claims.
      if (
        bodyLen < STREAM_MIN ||
        (this.#buffered - HEADER_SIZE) * 2 < bodyLen || !this.#startStream()
      ) {
        return undefined;
      }
    }
    return this.#feedStream();
  }

  /** Starts decoding a large body as it arrives, if its cipher allows. */
  #startStream(): boolean {
    const stream = openBodyStream(
      this.#crypto?.cipherFor(this.#protoId),
      this.#bodyLen,
      this.#verifySha1,
    );
    if (stream === undefined) return false;
    this.#stream = stream;
    this.#skip(HEADER_SIZE);
    this.#streamed = HEADER_SIZE;
    return true;
  }

  #feedStream(): FrameResult | undefined {
    const total = HEADER_SIZE + this.#bodyLen;
    let wanted = Math.min(this.#buffered, total - this.#streamed);
    while (wanted > 0) {
      const c = this.#chunks[this.#first];
      const count = Math.min(c.length - this.#head, wanted);
      const piece = c.subarray(this.#head, this.#head + count);
      if (this.#streamError === undefined) {
        try {
          this.#stream!.write(piece);
        } catch (error) {
          this.#streamError = error;
        }
      }
      this.#skip(count);
      this.#streamed += count;
      wanted -= count;
    }
    if (this.#streamed < total) return undefined;
    const stream = this.#stream!;
    this.#stream = undefined;
    this.#streamed = 0;
    const offset = this.#offset;
    this.#offset += total;
    this.#hasHeader = false;
    this.#validated = 0;
    const where = { offset, protoId: this.#protoId, serialNo: this.#serialNo };
    const body = endBodyStream(stream, this.#streamError, this.#sha1, where);
    this.#streamError = undefined;
    if (!(body instanceof Uint8Array)) return { ok: false, error: body };
    return this.#verified(
      offset,
      where.protoId,
      this.#protoFmt,
      where.serialNo,
      total - HEADER_SIZE,
      body,
      this.#sha1,
      0,
      false,
    );
  }

  /** Decrypts and checks a whole body. */
  #complete(
    offset: number,
    protoId: number,
    protoFmt: number,
    serialNo: number,
    bodyLen: number,
    wire: Uint8Array,
    sha1Bytes: Uint8Array,
    sha1At: number,
  ): FrameResult {
    let body = wire;
    if (this.#crypto !== undefined) {
      try {
        body = this.#crypto.decryptBody(protoId, wire);
      } catch (error) {
        return {
          ok: false,
          error: decryptError(error, { offset, protoId, serialNo }),
        };
      }
    }
    return this.#verified(
      offset,
      protoId,
      protoFmt,
      serialNo,
      bodyLen,
      body,
      sha1Bytes,
      sha1At,
      this.#verifySha1,
    );
  }

  // Fields one by one rather than a `where` object: one allocation less per
  // packet where V8 does not inline this.
  #verified(
    offset: number,
    protoId: number,
    protoFmt: number,
    serialNo: number,
    bodyLen: number,
    body: Uint8Array,
    sha1Bytes: Uint8Array,
    sha1At: number,
    verify: boolean,
  ): FrameResult {
    if (verify && !sha1Matches(body, sha1Bytes, sha1At)) {
      return { ok: false, error: sha1Mismatch({ offset, protoId, serialNo }) };
    }
    return {
      ok: true,
      packet: {
        protoId,
        protoFmt,
        serialNo,
        body,
        offset,
        bodyLen,
        sha1: sha1At === 0 && sha1Bytes.length === 20
          ? sha1Bytes
          : view(sha1Bytes, sha1At, 20),
      },
    };
  }

  /**
   * Validates as much of the pending header as has arrived. Returns `true`
   * once it is complete and valid (its fields stored), a fatal error, or
   * `undefined` to wait.
   */
  #checkHeader(): true | CodecError | undefined {
    const available = Math.min(this.#buffered, HEADER_SIZE);
    let checkpoint = 0;
    for (const c of CHECKPOINTS) if (c <= available) checkpoint = c;
    if (checkpoint <= this.#validated) return undefined;
    this.#validated = checkpoint;

    const inPlace = this.#peek(checkpoint);
    const bytes = inPlace ? this.#chunks[this.#first] : this.#scratch;
    const at = inPlace ? this.#head : 0;
    const offset = this.#offset;
    const bad = bytes[at] !== 0x46
      ? bytes[at]
      : checkpoint >= 2 && bytes[at + 1] !== 0x54
      ? bytes[at + 1]
      : undefined;
    if (bad !== undefined) return badMagic(bad, offset);
    if (checkpoint < 12) return undefined;
    const protoId = readU32(bytes, at + 2);
    const serialNo = readU32(bytes, at + 8);
    const protoVer = bytes[at + 7];
    if (protoVer !== PROTO_VER) {
      return unsupportedVersion(protoVer, { offset, protoId, serialNo });
    }
    if (checkpoint < 16) return undefined;
    const bodyLen = readU32(bytes, at + 12);
    const limit = this.#limitFor(protoId);
    if (bodyLen > limit) {
      return bodyTooLarge(bodyLen, limit, limit !== this.#maxBodyBytes, {
        offset,
        protoId,
        serialNo,
      });
    }
    if (checkpoint < HEADER_SIZE) return undefined;
    this.#protoId = protoId;
    this.#serialNo = serialNo;
    this.#bodyLen = bodyLen;
    this.#protoFmt = bytes[at + 6];
    // A view of a received chunk is as stable as a copy; the decoder's own
    // buffers (and the scratch) are not.
    this.#sha1 = inPlace && !this.#owned[this.#first]
      ? bytes.subarray(at + 16, at + 36)
      : bytes.slice(at + 16, at + 36);
    return true;
  }

  /**
   * Whether the first `n` (<= 44) buffered bytes lie in the oldest chunk
   * (from #head); if not, they are copied into the scratch buffer.
   */
  #peek(n: number): boolean {
    const first = this.#chunks[this.#first];
    if (first.length - this.#head >= n) return true;
    let filled = 0;
    let start = this.#head;
    for (let i = this.#first; filled < n; i++) {
      const c = this.#chunks[i];
      const count = Math.min(c.length - start, n - filled);
      this.#scratch.set(c.subarray(start, start + count), filled);
      filled += count;
      start = 0;
    }
    return false;
  }

  /**
   * Consumes `n` buffered bytes and returns them: a view when they lie in one
   * received chunk, else a copy; a copy in the shared scratch buffer when
   * `replaced` (a cipher that decrypts into new memory will replace them).
   */
  #take(n: number, replaced: boolean): Uint8Array {
    const first = this.#chunks[this.#first];
    const owned = this.#owned[this.#first];
    if (first !== undefined && first.length - this.#head >= n) {
      const view = !owned
        ? first.subarray(this.#head, this.#head + n)
        : replaced
        ? scratchBody(n)
        : first.slice(this.#head, this.#head + n);
      if (owned && replaced) {
        view.set(first.subarray(this.#head, this.#head + n));
      }
      this.#skip(n);
      return view;
    }
    const out = replaced ? scratchBody(n) : allocBody(n);
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
    this.#chunks[this.#first++] = EMPTY;
    if (this.#first === this.#chunks.length) {
      this.#chunks = [];
      this.#owned = [];
      this.#first = 0;
      // Nothing of the coalescing buffer ever left the decoder: reuse it.
      if (this.#tail !== undefined) {
        this.#tailStart = 0;
        this.#tailEnd = 0;
      }
    } else if (this.#first >= 1024 && this.#first * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#owned = this.#owned.slice(this.#first);
      this.#first = 0;
    }
  }
}

const EMPTY: Uint8Array = new Uint8Array(0);

// A view of `length` bytes of a plain Uint8Array from `at`: the constructor
// costs about 40% less than `subarray` (no species lookup), twice a packet.
function view(bytes: Uint8Array, at: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + at, length);
}
// Chunks smaller than this are copied into the decoder's own buffers, which
// start at MIN_TAIL bytes and grow with what is buffered up to MAX_TAIL.
const COALESCE_BELOW = 2048;
const MIN_TAIL = 256;
const MAX_TAIL = 16 * 1024;
// Bodies at least this large that arrive over several chunks are decoded
// as they arrive. Smaller ones are copied once whole (holding at most twice
// their size for a moment): streaming costs a native hash call per piece and
// objects per body, a few percent of a 64 KiB body's rate (bench/).
const STREAM_MIN = 256 * 1024;
