/**
 * A raw loopback peer (no simulator) that misbehaves the way a hostile or
 * broken server could: what it sends before answering InitConnect reaches
 * neither the supervisor nor `onPush` subscribers.
 */
import { assert, assertEquals } from "@std/assert";
import { createServer, type Server, type Socket } from "node:net";
import {
  encodeNotification,
  encodePacket,
  encodeResponse,
  FrameDecoder,
  gtwEventNotification,
  GtwEventType,
  programStatusNotification,
  ProgramStatusType,
  ProtoId,
  RetType,
} from "../codec/mod.ts";
import type { PushPacket } from "../client/mod.ts";
import { clientFor, EventLog, nextEvent } from "./_client_helpers.ts";

/**
 * An OpenD look-alike: before it answers InitConnect it pushes Notify
 * "NeedPhoneVerifyCode" (a GtwEvent and a status), then behaves (Ready).
 */
async function earlyNotifyPeer(): Promise<{
  port: number;
  received: number[];
  [Symbol.asyncDispose](): Promise<void>;
}> {
  const received: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    const decoder = new FrameDecoder();
    let pushSerial = 1;
    const send = (protoId: number, serialNo: number, body: Uint8Array) =>
      socket.write(encodePacket({ protoId, serialNo, body }));
    socket.on("data", (chunk: Uint8Array) => {
      decoder.pushEach(new Uint8Array(chunk), (result) => {
        if (!result.ok) return;
        const { protoId, serialNo } = result.packet;
        received.push(protoId);
        switch (protoId) {
          case ProtoId.InitConnect:
            // Before the answer: a code "needed", twice over.
            send(
              ProtoId.Notify,
              pushSerial++,
              encodeNotification(
                gtwEventNotification(
                  GtwEventType.NeedPhoneVerifyCode,
                  "enter the code",
                ),
              ),
            );
            send(
              ProtoId.Notify,
              pushSerial++,
              encodeNotification(
                programStatusNotification(
                  ProgramStatusType.NeedPhoneVerifyCode,
                ),
              ),
            );
            send(
              protoId,
              serialNo,
              encodeResponse(ProtoId.InitConnect, {
                retType: RetType.Succeed,
                s2c: {
                  serverVer: 905,
                  loginUserID: "42",
                  connID: "7",
                  connAESKey: "0123456789abcdef",
                  keepAliveInterval: 1,
                },
              }),
            );
            return;
          case ProtoId.GetGlobalState:
            send(
              protoId,
              serialNo,
              encodeResponse(ProtoId.GetGlobalState, {
                retType: RetType.Succeed,
                s2c: {
                  marketHK: 0,
                  marketUS: 0,
                  marketSH: 0,
                  marketSZ: 0,
                  marketHKFuture: 0,
                  qotLogined: true,
                  trdLogined: true,
                  serverVer: 905,
                  serverBuildNo: 1,
                  time: Math.floor(Date.now() / 1000),
                  programStatus: { type: ProgramStatusType.Ready },
                },
              }),
            );
            return;
          case ProtoId.KeepAlive:
            send(
              protoId,
              serialNo,
              encodeResponse(ProtoId.KeepAlive, {
                retType: RetType.Succeed,
                s2c: { time: Math.floor(Date.now() / 1000) },
              }),
            );
            return;
        }
      });
    });
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
  );
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    received,
    async [Symbol.asyncDispose]() {
      const closed = [...sockets].map((s) =>
        new Promise<void>((resolve) => {
          if (s.destroyed) return resolve();
          s.once("close", () => resolve());
          s.destroy();
        })
      );
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        ...closed,
      ]);
    },
  };
}

Deno.test("hostile peer: Notify sent before the InitConnect answer is dropped (no needsCode, no push)", async () => {
  await using peer = await earlyNotifyPeer();
  const pushes: PushPacket[] = [];
  await using client = clientFor({ port: peer.port }, {
    codeProvider: () => Promise.resolve("123456"),
  });
  client.onPush("*", (push) => void pushes.push(push));
  const log = new EventLog(client);
  const ready = nextEvent(client, "ready");
  await client.whenReady(5_000);
  await ready;
  // The early Notify would have been handled before Ready (on the read
  // path); one more request's round trip flushes the delivery queue too.
  await client.request(ProtoId.KeepAlive, { time: 1 });
  assertEquals(log.of("needsCode"), []);
  assertEquals(log.of("notification"), []);
  assertEquals(pushes, []);
  assert(!peer.received.includes(ProtoId.Verification), "no code was sent");
  const summary = client.describe();
  assertEquals(summary.gateway, "Ready");
  assertEquals(summary.ready, true);
  assertEquals(summary.recovery, "watching");
});
