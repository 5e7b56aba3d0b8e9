/**
 * The framing of OpenD's WebSocket port, which the official JavaScript SDK
 * (npm `futu-api`) speaks: one frame per binary WebSocket message, big-endian,
 * not the TCP port's little-endian "FT" header.
 *
 * - request: `"ft-v1.0\0"` (8 bytes), cmd u32, section u64, body (20-byte header)
 * - response or push: the same 20 bytes, then error i32 and errmsg (20 bytes,
 *   NUL-padded ASCII), then the body (44-byte header)
 *
 * `section` is the client's request counter; a response echoes it, a push
 * carries 0. There is no length field (the WebSocket message has the
 * boundaries), no SHA-1, no body format byte and no AES: TLS (`wss://`) is
 * the only protection. Bodies are the usual protobuf messages.
 *
 * @example
 * ```ts
 * import { decodeWsRequest, encodeWsResponse, WS_PUSH_SECTION } from "./ws_frame.ts";
 * const request = decodeWsRequest(
 *   new Uint8Array([0x66, 0x74, 0x2d, 0x76, 0x31, 0x2e, 0x30, 0, 0, 0, 3, 0xec, 0, 0, 0, 0, 0, 0, 0, 2]),
 * ); // { cmd: 1004, section: 2n, body: Uint8Array(0) }
 * const reply = encodeWsResponse({ cmd: request.cmd, section: request.section, body: new Uint8Array() });
 * const push = encodeWsResponse({ cmd: 1003, section: WS_PUSH_SECTION, body: new Uint8Array([8, 1]) });
 * console.log(reply.length, push.length); // 44 46
 * ```
 * @module
 */
import { CodecError, CodecErrorCode } from "./codec_error.ts";

/** The sign every frame starts with (then one NUL byte). */
export const WS_SIGN = "ft-v1.0";
/** Header bytes of a request: sign (8), cmd (4), section (8). */
export const WS_REQUEST_HEADER_SIZE = 20;
/** Header bytes of a response or push: the request header, error (4), errmsg (20). */
export const WS_RESPONSE_HEADER_SIZE = 44;
/** Bytes of the errmsg field. */
export const WS_ERRMSG_SIZE = 20;
/** The section of a push: it matches no request. */
export const WS_PUSH_SECTION = 0n;
/** The cmd of InitWebSocket, the first request on the port. */
export const WS_INIT_CMD = 1;
/** The default limit of {@link WsDecodeOptions.maxBodyBytes} (1 MiB). */
export const WS_DEFAULT_MAX_BODY_BYTES: number = 1024 * 1024;

const SIGN_BYTES: Uint8Array = new Uint8Array([
  ...new TextEncoder().encode(WS_SIGN),
  0,
]);
const UINT64_MAX = (1n << 64n) - 1n;

/** A request frame (client to OpenD). */
export interface WsRequestFrame {
  /** The protocol: 1 InitWebSocket, otherwise a protoID (1002, 1004, ...). */
  cmd: number;
  /** The client's request counter (u64), echoed by the response. */
  section: bigint;
  /** The protobuf body (may be empty). */
  body: Uint8Array;
}

/** A response or push frame (OpenD to client). */
export interface WsResponseFrame extends WsRequestFrame {
  /** Non-zero when the port itself refuses the request (a failed InitWebSocket). */
  error: number;
  /** Text of that error, ASCII, at most 20 characters. */
  errmsg: string;
}

/** What {@link encodeWsRequest} needs. */
export interface WsRequestInit {
  /** cmd (u32). */
  cmd: number;
  /** section (u64). */
  section: bigint | number;
  /** The body; empty when absent. */
  body?: Uint8Array;
}

/** What {@link encodeWsResponse} needs. */
export interface WsResponseInit extends WsRequestInit {
  /** error (i32); 0 when absent. */
  error?: number;
  /** errmsg: non-ASCII or control characters become "?", cut to 20. */
  errmsg?: string;
}

/** Options of the decoders. */
export interface WsDecodeOptions {
  /** Longest body accepted (default {@link WS_DEFAULT_MAX_BODY_BYTES}). */
  maxBodyBytes?: number;
}

function invalid(message: string): never {
  throw new CodecError(CodecErrorCode.InvalidMessage, message);
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    invalid(`${name} must be a u32, got ${value}`);
  }
}

function toSection(value: bigint | number): bigint {
  const big = typeof value === "bigint"
    ? value
    : Number.isSafeInteger(value)
    ? BigInt(value)
    : -1n;
  if (big < 0n || big > UINT64_MAX) {
    invalid(`section must be a u64, got ${value}`);
  }
  return big;
}

/** Writes the errmsg at `at`: printable ASCII, at most 20 characters. */
function writeErrmsg(out: Uint8Array, at: number, text: string): void {
  let i = 0;
  for (const ch of text) {
    if (i === WS_ERRMSG_SIZE) break;
    const code = ch.codePointAt(0)!;
    out[at + i++] = code >= 0x20 && code < 0x7f ? code : 0x3f;
  }
}

function writeHeader(
  out: Uint8Array,
  cmd: number,
  section: bigint,
): DataView {
  out.set(SIGN_BYTES, 0);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(8, cmd);
  view.setBigUint64(12, section);
  return view;
}

function readHeader(
  bytes: Uint8Array,
  size: number,
  what: string,
  options: WsDecodeOptions,
): { view: DataView; cmd: number; section: bigint; body: Uint8Array } {
  if (bytes.length < size) {
    throw new CodecError(
      CodecErrorCode.Truncated,
      `a WebSocket ${what} needs a ${size}-byte header, got ${bytes.length} bytes`,
      { offset: 0 },
    );
  }
  for (let i = 0; i < SIGN_BYTES.length; i++) {
    if (bytes[i] !== SIGN_BYTES[i]) {
      throw new CodecError(
        CodecErrorCode.BadMagic,
        `a WebSocket ${what} must start with "${WS_SIGN}\\0"`,
        { offset: 0 },
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cmd = view.getUint32(8);
  const section = view.getBigUint64(12);
  const max = options.maxBodyBytes ?? WS_DEFAULT_MAX_BODY_BYTES;
  const bodyLen = bytes.length - size;
  if (bodyLen > max) {
    throw new CodecError(
      CodecErrorCode.BodyTooLarge,
      `a WebSocket ${what} body of ${bodyLen} bytes exceeds ${max}`,
      { offset: 0, protoId: cmd },
    );
  }
  return { view, cmd, section, body: bytes.slice(size) };
}

/**
 * Encodes a request frame (what the SDK sends). Throws CodecError
 * INVALID_MESSAGE for a cmd or section out of range.
 *
 * @example
 * ```ts
 * import { encodeWsRequest } from "./ws_frame.ts";
 * encodeWsRequest({ cmd: 1002, section: 3, body: new Uint8Array([10, 2, 8, 0]) }).length; // 24
 * ```
 */
export function encodeWsRequest(frame: WsRequestInit): Uint8Array {
  checkU32("cmd", frame.cmd);
  const section = toSection(frame.section);
  const body = frame.body ?? new Uint8Array();
  const out = new Uint8Array(WS_REQUEST_HEADER_SIZE + body.length);
  writeHeader(out, frame.cmd, section);
  out.set(body, WS_REQUEST_HEADER_SIZE);
  return out;
}

/**
 * Decodes one request frame (one WebSocket message). Throws CodecError:
 * TRUNCATED for fewer than 20 bytes, BAD_MAGIC when the sign is not
 * `"ft-v1.0\0"`, BODY_TOO_LARGE past `maxBodyBytes`.
 *
 * @example
 * ```ts
 * import { decodeWsRequest, encodeWsRequest } from "./ws_frame.ts";
 * decodeWsRequest(encodeWsRequest({ cmd: 1, section: 2 })); // { cmd: 1, section: 2n, body: Uint8Array(0) }
 * ```
 */
export function decodeWsRequest(
  bytes: Uint8Array,
  options: WsDecodeOptions = {},
): WsRequestFrame {
  const { cmd, section, body } = readHeader(
    bytes,
    WS_REQUEST_HEADER_SIZE,
    "request",
    options,
  );
  return { cmd, section, body };
}

/**
 * Encodes a response or push frame (what OpenD sends). Throws CodecError
 * INVALID_MESSAGE for a field out of range.
 *
 * @example
 * ```ts
 * import { encodeWsResponse } from "./ws_frame.ts";
 * encodeWsResponse({ cmd: 1, section: 2, error: 1, errmsg: "websocket key error" }).length; // 44
 * ```
 */
export function encodeWsResponse(frame: WsResponseInit): Uint8Array {
  checkU32("cmd", frame.cmd);
  const section = toSection(frame.section);
  const error = frame.error ?? 0;
  if (!Number.isInteger(error) || error < -0x80000000 || error > 0x7fffffff) {
    invalid(`error must be an i32, got ${error}`);
  }
  const body = frame.body ?? new Uint8Array();
  const out = new Uint8Array(WS_RESPONSE_HEADER_SIZE + body.length);
  const view = writeHeader(out, frame.cmd, section);
  view.setInt32(20, error);
  // The rest of the field stays zero: NUL padding.
  if (frame.errmsg) writeErrmsg(out, 24, frame.errmsg);
  out.set(body, WS_RESPONSE_HEADER_SIZE);
  return out;
}

/**
 * Decodes one response or push frame. Throws CodecError as
 * {@link decodeWsRequest} does (TRUNCATED below 44 bytes).
 *
 * @example
 * ```ts
 * import { decodeWsResponse, encodeWsResponse } from "./ws_frame.ts";
 * const frame = decodeWsResponse(encodeWsResponse({ cmd: 1003, section: 0, body: new Uint8Array([8, 1]) }));
 * frame.section === 0n; // a push
 * ```
 */
export function decodeWsResponse(
  bytes: Uint8Array,
  options: WsDecodeOptions = {},
): WsResponseFrame {
  const { view, cmd, section, body } = readHeader(
    bytes,
    WS_RESPONSE_HEADER_SIZE,
    "response",
    options,
  );
  const raw = bytes.subarray(24, 24 + WS_ERRMSG_SIZE);
  const end = raw.indexOf(0);
  const errmsg = String.fromCharCode(...(end < 0 ? raw : raw.subarray(0, end)));
  return { cmd, section, error: view.getInt32(20), errmsg, body };
}
