/**
 * opend-machine: know what a Futu / moomoo OpenD gateway is doing, and react
 * correctly, unattended.
 *
 * - the OpenD wire protocol (`codec/`): header, frame decoder, RSA and AES
 *   bodies, protobuf and JSON messages, the General Definitions;
 *
 * @example
 * ```ts
 * import { decodeNotification, encodeNotification, GtwEventType, gtwEventNotification } from "./mod.ts";
 * const body = encodeNotification(gtwEventNotification(GtwEventType.KickedOut, "logged in elsewhere"));
 * decodeNotification(body).kind; // "gtwEvent"
 * ```
 * @module
 */
export * from "./codec/mod.ts";
