// Bad bodies and bad objects: each a CodecError with its code.

import { assert, assertEquals } from "@std/assert";
import { ProtoId } from "../codec/definitions.ts";
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  isMessageProtoId,
  MESSAGE_PROTO_IDS,
  type MessageProtoId,
  type NotifyS2C,
  type RequestProtoId,
  toJsonMapping,
} from "../codec/messages.ts";
import { assertCodecError, text, unhex, utf8 } from "./_messages_helpers.ts";

// ------------------------------------------------------------------ errors

Deno.test("protobuf decode errors are CodecError MALFORMED_PROTOBUF", () => {
  const cases: [string, string][] = [
    ["", "missing required 'c2s'"],
    ["0a00", "missing required 'time'"], // empty c2s
    ["0a02", "index out of range"], // truncated
    ["ff", ""], // truncated varint
    ["0f", ""], // wire type 7
    ["0a03" + "0a0105", "time"], // time (field 1) sent length-delimited
    ["0a09" + "08ffffffffffffffffff", ""], // varint without an end
  ];
  for (const [bytes, includes] of cases) {
    const error = assertCodecError(
      () => decodeRequest(ProtoId.KeepAlive, unhex(bytes)),
      "MALFORMED_PROTOBUF",
      includes,
    );
    assertEquals(error.protoId, ProtoId.KeepAlive);
  }
  // An optional field with the wrong wire type is corruption too.
  assertCodecError(
    () =>
      decodeRequest(
        ProtoId.Verification,
        unhex("0a06" + "0802" + "1001" + "1d00"),
      ),
    "MALFORMED_PROTOBUF",
  );
  assertCodecError(
    () =>
      decodeRequest(
        ProtoId.Verification,
        unhex("0a09" + "0802" + "1001" + "1d00000000"),
      ),
    "MALFORMED_PROTOBUF",
    "wrong wire type",
  );
  assertCodecError(
    () =>
      decodeResponse(ProtoId.Notify, unhex("0800" + "2204" + "0801" + "1000")),
    "MALFORMED_PROTOBUF",
    "wrong wire type",
  );
  assertCodecError(
    () => decodeResponse(ProtoId.Notify, unhex("1200")),
    "MALFORMED_PROTOBUF",
    "retType",
  );
});

Deno.test("JSON decode errors are CodecError MALFORMED_JSON", () => {
  const cases: [MessageProtoId, "request" | "response", string][] = [
    [ProtoId.KeepAlive, "request", ""],
    [ProtoId.KeepAlive, "request", "{"],
    [ProtoId.KeepAlive, "request", "[]"],
    [ProtoId.KeepAlive, "request", "null"],
    [ProtoId.KeepAlive, "request", '"c2s"'],
    [ProtoId.KeepAlive, "request", "{}"],
    [ProtoId.KeepAlive, "request", '{"c2s":[]}'],
    [ProtoId.KeepAlive, "request", '{"c2s":{}}'],
    [ProtoId.KeepAlive, "request", '{"c2s":{"time":1.5}}'],
    [ProtoId.KeepAlive, "request", '{"c2s":{"time":"9223372036854775808"}}'],
    [ProtoId.KeepAlive, "request", '{"c2s":{"time":"0x10"}}'],
    [ProtoId.KeepAlive, "request", '{"c2s":{"time":true}}'],
    [ProtoId.GetGlobalState, "request", '{"c2s":{"userID":"-1"}}'],
    [
      ProtoId.GetGlobalState,
      "request",
      '{"c2s":{"userID":"18446744073709551616"}}',
    ],
    [ProtoId.Verification, "request", '{"c2s":{"type":2147483648,"op":1}}'],
    [ProtoId.Verification, "request", '{"c2s":{"type":2,"op":1,"code":123}}'],
    [
      ProtoId.InitConnect,
      "request",
      '{"c2s":{"clientVer":1,"clientID":"a","recvNotify":"true"}}',
    ],
    [
      ProtoId.Notify,
      "response",
      '{"retType":0,"s2c":{"type":1,"event":{"eventType":1}}}',
    ],
    [ProtoId.GetGlobalState, "response", '{"retType":"Succeed"}'],
    [ProtoId.Notify, "response", '{"retMsg":"no retType"}'],
  ];
  for (const [protoId, direction, json] of cases) {
    assertCodecError(
      () => toJsonMapping(protoId, direction, utf8(json), 1),
      "MALFORMED_JSON",
    );
  }
  // Invalid UTF-8 is not text, let alone JSON.
  assertCodecError(
    () => decodeRequest(ProtoId.KeepAlive, Uint8Array.of(0x7b, 0xff, 0x7d), 1),
    "MALFORMED_JSON",
  );
  // Enum fields take names, but only names the enum has.
  const state = (type: string) =>
    utf8(
      '{"retType":0,"s2c":{"marketHK":1,"marketUS":2,"marketSH":3,"marketSZ":4,"marketHKFuture":5,' +
        '"qotLogined":true,"trdLogined":true,"serverVer":1,"serverBuildNo":1,"time":"1",' +
        `"programStatus":{"type":${type}}}}`,
    );
  assertEquals(
    decodeResponse(
      ProtoId.GetGlobalState,
      state('"ProgramStatusType_Ready"'),
      1,
    ).s2c?.programStatus,
    { type: 10 },
  );
  assertCodecError(
    () =>
      decodeResponse(
        ProtoId.GetGlobalState,
        state('"ProgramStatusType_Sleeping"'),
        1,
      ),
    "MALFORMED_JSON",
    "programStatus.type",
  );
});

Deno.test("encoding an invalid object is CodecError INVALID_MESSAGE", () => {
  const bad: [RequestProtoId, unknown][] = [
    [ProtoId.InitConnect, { clientVer: 300 }],
    [ProtoId.InitConnect, { clientID: "x" }],
    [ProtoId.InitConnect, { clientVer: "300", clientID: "x" }],
    [ProtoId.InitConnect, { clientVer: 300, clientID: "x", recvNotify: 1 }],
    [ProtoId.InitConnect, { clientVer: 2 ** 31, clientID: "x" }],
    [ProtoId.InitConnect, { clientVer: 1.5, clientID: "x" }],
    [ProtoId.InitConnect, { clientVer: 300, clientID: "x", clientId: "typo" }],
    [ProtoId.GetGlobalState, { userID: 12345 }],
    [ProtoId.GetGlobalState, { userID: 12345n }],
    [ProtoId.GetGlobalState, { userID: "-1" }],
    [ProtoId.GetGlobalState, { userID: "18446744073709551616" }],
    [ProtoId.GetGlobalState, { userID: "0012" }],
    [ProtoId.KeepAlive, { time: 2 ** 53 }],
    [ProtoId.KeepAlive, { time: "1.5" }],
    [ProtoId.KeepAlive, { time: "9223372036854775808" }],
    [ProtoId.KeepAlive, null],
    [ProtoId.KeepAlive, []],
    [ProtoId.Verification, { type: 2 }],
  ];
  for (const [protoId, c2s] of bad) {
    for (const fmt of [0, 1]) {
      assertCodecError(
        () => encodeRequest(protoId, c2s as never, fmt),
        "INVALID_MESSAGE",
      );
    }
  }
  assertCodecError(
    () => encodeResponse(ProtoId.KeepAlive, {} as never),
    "INVALID_MESSAGE",
    "retType",
  );
  assertCodecError(
    () =>
      encodeResponse(ProtoId.Notify, {
        retType: 0,
        s2c: { type: 1, event: { eventType: 1 } } as NotifyS2C,
      }),
    "INVALID_MESSAGE",
    "Notify.Response.s2c.event: missing required 'desc'",
  );
  // Absent and undefined are the same.
  assertEquals(
    text(
      encodeRequest(
        ProtoId.Verification,
        { type: 1, op: 1, code: undefined },
        1,
      ),
    ),
    '{"c2s":{"type":1,"op":1}}',
  );
});

Deno.test("an unknown body format is CodecError UNKNOWN_FORMAT", () => {
  const body = encodeRequest(ProtoId.KeepAlive, { time: 1 });
  for (const fmt of [2, -1, 255, 0.5, NaN]) {
    assertCodecError(
      () => encodeRequest(ProtoId.KeepAlive, { time: 1 }, fmt),
      "UNKNOWN_FORMAT",
    );
    assertCodecError(
      () => decodeRequest(ProtoId.KeepAlive, body, fmt),
      "UNKNOWN_FORMAT",
    );
    assertCodecError(
      () => encodeResponse(ProtoId.KeepAlive, { retType: 0 }, fmt),
      "UNKNOWN_FORMAT",
    );
    assertCodecError(
      () => decodeResponse(ProtoId.KeepAlive, body, fmt),
      "UNKNOWN_FORMAT",
    );
    assertCodecError(
      () => toJsonMapping(ProtoId.KeepAlive, "request", body, fmt),
      "UNKNOWN_FORMAT",
    );
  }
});

Deno.test("protoIDs without a message here are CodecError INVALID_MESSAGE", () => {
  assertEquals([...MESSAGE_PROTO_IDS].sort(), [1001, 1002, 1003, 1004, 1006]);
  assert(isMessageProtoId(1003));
  assert(!isMessageProtoId(1005));
  assert(!isMessageProtoId(3005));
  assert(!isMessageProtoId(Number.NaN));
  const error = assertCodecError(
    () => toJsonMapping(3005, "response", new Uint8Array()),
    "INVALID_MESSAGE",
  );
  assertEquals(error.protoId, 3005);
  assertCodecError(
    () => toJsonMapping(ProtoId.Notify, "request", new Uint8Array()),
    "INVALID_MESSAGE",
  );
  assertCodecError(
    () => encodeRequest(ProtoId.Notify as never, {} as never),
    "INVALID_MESSAGE",
  );
});
