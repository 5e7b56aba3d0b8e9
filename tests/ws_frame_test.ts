import { assertEquals, assertThrows } from "@std/assert";
import {
  CodecError,
  CodecErrorCode,
  decodeInitWebSocketRequest,
  decodeInitWebSocketResponse,
  decodeWsRequest,
  decodeWsResponse,
  encodeInitWebSocketRequest,
  encodeInitWebSocketResponse,
  encodeWsRequest,
  encodeWsResponse,
  webSocketKeyDigest,
  WS_REQUEST_HEADER_SIZE,
  WS_RESPONSE_HEADER_SIZE,
} from "../codec/mod.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("ws frame: a request is the SDK's 20 big-endian header bytes, then the body", () => {
  const bytes = encodeWsRequest({
    cmd: 1002,
    section: 0x0102030405060708n,
    body: new Uint8Array([0xaa, 0xbb]),
  });
  assertEquals(
    hex(bytes),
    "66742d76312e3000" + "000003ea" + "0102030405060708" + "aabb",
  );
  assertEquals(decodeWsRequest(bytes), {
    cmd: 1002,
    section: 0x0102030405060708n,
    body: new Uint8Array([0xaa, 0xbb]),
  });
});

Deno.test("ws frame: a response carries error (i32) and a 20-byte NUL-padded ASCII errmsg", () => {
  const bytes = encodeWsResponse({
    cmd: 1,
    section: 7n,
    error: -1,
    errmsg: "websocket key error",
    body: new Uint8Array([8, 0]),
  });
  assertEquals(bytes.length, WS_RESPONSE_HEADER_SIZE + 2);
  assertEquals(hex(bytes.subarray(20, 24)), "ffffffff");
  assertEquals(bytes[24 + 19], 0);
  assertEquals(decodeWsResponse(bytes), {
    cmd: 1,
    section: 7n,
    error: -1,
    errmsg: "websocket key error",
    body: new Uint8Array([8, 0]),
  });
  // Non-ASCII cannot be read back by the SDK (it reads 20 bytes as text).
  assertEquals(
    decodeWsResponse(
      encodeWsResponse({ cmd: 1, section: 0, errmsg: "clé à 123456789012345" }),
    )
      .errmsg,
    "cl? ? 12345678901234",
  );
});

Deno.test("ws frame: round trips at the edges of every field", () => {
  for (const section of [0n, 1n, 0xffffffffn, (1n << 64n) - 1n]) {
    for (const cmd of [0, 1, 1003, 0xffffffff]) {
      const body = new Uint8Array(section === 1n ? 3000 : 0).fill(7);
      assertEquals(
        decodeWsRequest(encodeWsRequest({ cmd, section, body })),
        { cmd, section, body },
      );
      assertEquals(
        decodeWsResponse(
          encodeWsResponse({ cmd, section, body, error: 0x7fffffff }),
        ),
        { cmd, section, body, error: 0x7fffffff, errmsg: "" },
      );
    }
  }
});

Deno.test("ws frame: malformed frames are typed CodecErrors", () => {
  const good = encodeWsRequest({ cmd: 1004, section: 1 });
  const short = assertThrows(
    () => decodeWsRequest(good.subarray(0, WS_REQUEST_HEADER_SIZE - 1)),
    CodecError,
  );
  assertEquals(short.code, CodecErrorCode.Truncated);
  const sign = good.slice();
  sign[0] = 0x46;
  assertEquals(
    assertThrows(() => decodeWsRequest(sign), CodecError).code,
    CodecErrorCode.BadMagic,
  );
  // The TCP port's header is not a WebSocket frame.
  const tcp = new Uint8Array(64);
  tcp.set([0x46, 0x54]);
  assertEquals(
    assertThrows(() => decodeWsRequest(tcp), CodecError).code,
    CodecErrorCode.BadMagic,
  );
  const huge = encodeWsRequest({
    cmd: 3001,
    section: 2,
    body: new Uint8Array(1025),
  });
  const tooLarge = assertThrows(
    () => decodeWsRequest(huge, { maxBodyBytes: 1024 }),
    CodecError,
  );
  assertEquals([tooLarge.code, tooLarge.protoId], [
    CodecErrorCode.BodyTooLarge,
    3001,
  ]);
  assertEquals(
    assertThrows(() => decodeWsResponse(good), CodecError).code,
    CodecErrorCode.Truncated,
  );
  for (
    const bad of [
      () => encodeWsRequest({ cmd: -1, section: 0 }),
      () => encodeWsRequest({ cmd: 1, section: -1n }),
      () => encodeWsRequest({ cmd: 1, section: 1n << 64n }),
      () => encodeWsResponse({ cmd: 1, section: 0, error: 2 ** 31 }),
    ]
  ) {
    assertEquals(
      assertThrows(bad, CodecError).code,
      CodecErrorCode.InvalidMessage,
    );
  }
});

Deno.test("InitWebSocket: what the SDK sends and what logs it in", () => {
  const c2s = {
    websocketKey: webSocketKeyDigest("abc"),
    programmingLanguage: "JavaScript",
  };
  assertEquals(c2s.websocketKey, "900150983cd24fb0d6963f7d28e17f72");
  assertEquals(
    decodeInitWebSocketRequest(encodeInitWebSocketRequest(c2s)),
    c2s,
  );
  // c2s is optional in the SDK's schema: an empty body is an empty request.
  assertEquals(decodeInitWebSocketRequest(new Uint8Array()), {});
  const response = {
    retType: 0,
    s2c: { serverTime: 1_700_000_000, connID: "18446744073709551615" },
  };
  assertEquals(
    decodeInitWebSocketResponse(encodeInitWebSocketResponse(response)),
    response,
  );
  assertEquals(
    assertThrows(
      () => decodeInitWebSocketRequest(new Uint8Array([0x0a, 0x05, 0x22])),
      CodecError,
    ).code,
    CodecErrorCode.MalformedProtobuf,
  );
});
