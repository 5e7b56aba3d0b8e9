/**
 * opend-machine: know what a Futu / moomoo OpenD gateway is doing, and react
 * correctly, unattended.
 *
 * - the OpenD wire protocol (`codec/`): header, frame decoder, RSA and AES
 *   bodies, protobuf and JSON messages, the General Definitions;
 * - pure XState v5 statecharts (`machines/`): OpenD's program status, the
 *   session supervisor, the GtwEvent reaction policy table;
 * - diagrams of any XState machine (`viz/`): Mermaid and Graphviz DOT;
 * - a real client (`client/`): one call connects to OpenD over TCP and keeps
 *   it useful, unattended (keep-alive, reconnect, codes, relogin);
 * - a scriptable OpenD simulator speaking the real protocol on loopback
 *   (`sim/`), to test bots without a broker account.
 *
 * @example
 * ```ts
 * import { createActor } from "npm:xstate@5.33.3";
 * import { decodeNotification, encodeNotification, GtwEventType, gtwEventNotification } from "./mod.ts";
 * import { notificationToEvent, programStatusMachine } from "./mod.ts";
 *
 * const status = createActor(programStatusMachine).start();
 * const body = encodeNotification(gtwEventNotification(GtwEventType.KickedOut, "logged in elsewhere"));
 * status.send(notificationToEvent(decodeNotification(body)));
 * status.getSnapshot().value; // { status: { stopped: "ForceLogout" }, fault: "healthy" }
 * ```
 * @module
 */
export * from "./codec/mod.ts";
export * from "./machines/mod.ts";
export * from "./viz/mod.ts";
export * from "./sim/mod.ts";
export * from "./client/mod.ts";
