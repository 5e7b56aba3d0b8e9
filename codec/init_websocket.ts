/**
 * InitWebSocket (cmd 1 on OpenD's WebSocket port): the first request of the
 * official JavaScript SDK. Its answer logs the SDK in when the frame's error
 * is 0 and the body carries `s2c`.
 *
 * @example
 * ```ts
 * import {
 *   decodeInitWebSocketRequest,
 *   encodeInitWebSocketRequest,
 *   webSocketKeyDigest,
 * } from "./init_websocket.ts";
 * const body = encodeInitWebSocketRequest({
 *   websocketKey: webSocketKeyDigest("my key"),
 *   programmingLanguage: "JavaScript",
 * });
 * decodeInitWebSocketRequest(body).programmingLanguage; // "JavaScript"
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { encodeProtobuf, fromTyped, schemaOf, toTyped } from "./_schema.ts";
import { decodeProtobuf } from "./_proto_reader.ts";
import type { Response } from "./messages.ts";

/** `InitWebSocket.C2S`. */
export interface InitWebSocketC2S {
  /** OpenD's address, for a bridge (the SDK leaves it out). */
  IP?: string;
  /** OpenD's API port, for a bridge (the SDK leaves it out). */
  Port?: number;
  /** RSA key text for a bridge's link to OpenD: a secret, never log it. */
  RSAPrivateKey?: string;
  /** Lowercase hex MD5 of the WebSocket key, or "" (see {@link webSocketKeyDigest}). */
  websocketKey?: string;
  /** Client name. */
  clientID?: string;
  /** The SDK sends "JavaScript". */
  programmingLanguage?: string;
}

/** `InitWebSocket.S2C`. */
export interface InitWebSocketS2C {
  /** Server time, seconds since the Unix epoch. */
  serverTime?: number;
  /** The connection's ID (unsigned 64-bit, decimal). */
  connID?: string;
}

/**
 * What the SDK puts in `websocketKey`: the lowercase hex MD5 of the key.
 *
 * @example
 * ```ts
 * import { webSocketKeyDigest } from "./init_websocket.ts";
 * webSocketKeyDigest("abc"); // "900150983cd24fb0d6963f7d28e17f72"
 * ```
 */
export function webSocketKeyDigest(key: string): string {
  return createHash("md5").update(key).digest("hex");
}

/** Encodes `InitWebSocket.Request { c2s }`; throws CodecError INVALID_MESSAGE. */
export function encodeInitWebSocketRequest(c2s: InitWebSocketC2S): Uint8Array {
  const schema = schemaOf("InitWebSocket.Request");
  return encodeProtobuf(schema, fromTyped(schema, { c2s }));
}

/**
 * Decodes `InitWebSocket.Request` and returns its `c2s` (`{}` when absent);
 * throws CodecError MALFORMED_PROTOBUF.
 */
export function decodeInitWebSocketRequest(body: Uint8Array): InitWebSocketC2S {
  const schema = schemaOf("InitWebSocket.Request");
  const typed = toTyped(schema, decodeProtobuf(schema, body));
  return (typed.c2s ?? {}) as InitWebSocketC2S;
}

/** Encodes `InitWebSocket.Response`; throws CodecError INVALID_MESSAGE. */
export function encodeInitWebSocketResponse(
  response: Response<InitWebSocketS2C>,
): Uint8Array {
  const schema = schemaOf("InitWebSocket.Response");
  return encodeProtobuf(schema, fromTyped(schema, response));
}

/** Decodes `InitWebSocket.Response`; throws CodecError MALFORMED_PROTOBUF. */
export function decodeInitWebSocketResponse(
  body: Uint8Array,
): Response<InitWebSocketS2C> {
  const schema = schemaOf("InitWebSocket.Response");
  const typed = toTyped(schema, decodeProtobuf(schema, body));
  return typed as unknown as Response<InitWebSocketS2C>;
}
