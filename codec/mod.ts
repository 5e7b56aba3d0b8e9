/**
 * The OpenD wire protocol: the 44-byte "FT" header, an incremental frame
 * decoder with SHA-1 checks, the RSA and AES body ciphers, protobuf and JSON
 * message bodies, and the protocol's General Definitions.
 *
 * No I/O, no timers: bytes in, typed packets and messages out.
 *
 * @example
 * ```ts
 * import { decodeNotification, encodePacket, FrameDecoder, ProtoId } from "./mod.ts";
 * import { encodeNotification, gtwEventNotification, GtwEventType } from "./mod.ts";
 *
 * const body = encodeNotification(gtwEventNotification(GtwEventType.KickedOut, "logged in elsewhere"));
 * const bytes = encodePacket({ protoId: ProtoId.Notify, serialNo: 1, body });
 * for (const result of new FrameDecoder().push(bytes)) {
 *   if (result.ok) console.log(decodeNotification(result.packet.body)); // { kind: "gtwEvent", eventName: "KickedOut", ... }
 * }
 * ```
 * @module
 */
export * from "./definitions.ts";
export * from "./codec_error.ts";
export type * from "./body_cipher.ts";
export * from "./header.ts";
export * from "./packet.ts";
export * from "./packet_crypto.ts";
export * from "./frame_decoder.ts";
export * from "./aes.ts";
export * from "./rsa.ts";
export * from "./messages.ts";
export type * from "./system_notification.ts";
export * from "./notify.ts";
export * from "./ops_rate_limits.ts";
export * from "./ws_frame.ts";
export * from "./init_websocket.ts";
