import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
} from "@std/assert";
import fc from "fast-check";
import { CodecError, type CodecErrorCode } from "../codec/codec_error.ts";
import { ProtoId } from "../codec/definitions.ts";
import { descriptor } from "../codec/_descriptor.ts";
import {
  type C2SOf,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type GetGlobalStateC2S,
  type GetGlobalStateS2C,
  type InitConnectC2S,
  type InitConnectS2C,
  isMessageProtoId,
  type KeepAliveC2S,
  type KeepAliveS2C,
  MESSAGE_PROTO_IDS,
  type MessageProtoId,
  type NotifyS2C,
  type RequestProtoId,
  type Response,
  type S2COf,
  toJsonMapping,
  type VerificationC2S,
  type VerificationS2C,
} from "../codec/messages.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) =>
  Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));

function assertCodecError(
  fn: () => unknown,
  code: CodecErrorCode,
  includes?: string,
): CodecError {
  try {
    fn();
  } catch (error) {
    assertInstanceOf(error, CodecError);
    assertEquals(error.code, code, error.message);
    if (includes) assertStringIncludes(error.message, includes);
    return error;
  }
  throw new Error(`expected CodecError ${code}, nothing was thrown`);
}

// ------------------------------------------------------------------ vectors
//
// Protobuf bytes were written out field by field (tag, varint, length) by a
// separate varint writer, not by protobufjs, so these cannot pass by symmetry.

interface RequestVector<P extends RequestProtoId> {
  protoId: P;
  c2s: C2SOf<P>;
  protobuf: string;
  json: string;
}
interface ResponseVector<P extends MessageProtoId> {
  protoId: P;
  response: Response<S2COf<P>>;
  protobuf: string;
  json: string;
}

const requestVectors: RequestVector<RequestProtoId>[] = [
  {
    protoId: ProtoId.InitConnect,
    c2s: {
      clientVer: 300,
      clientID: "PyNormal",
      recvNotify: true,
      packetEncAlgo: -1,
      pushProtoFmt: 0,
      programmingLanguage: "Python",
    },
    protobuf: "0a24" + "08ac02" + "120850794e6f726d616c" + "1801" +
      "20ffffffffffffffffff01" + "2800" + "3206507974686f6e",
    json:
      '{"c2s":{"clientVer":300,"clientID":"PyNormal","recvNotify":true,"packetEncAlgo":-1,"pushProtoFmt":0,"programmingLanguage":"Python"}}',
  },
  {
    protoId: ProtoId.GetGlobalState,
    c2s: { userID: "18446744073709551615" },
    protobuf: "0a0b" + "08ffffffffffffffffff01",
    json: '{"c2s":{"userID":"18446744073709551615"}}',
  },
  {
    protoId: ProtoId.KeepAlive,
    c2s: { time: 1700000000 },
    protobuf: "0a06" + "0880e2cfaa06",
    json: '{"c2s":{"time":"1700000000"}}',
  },
  {
    protoId: ProtoId.Verification,
    c2s: { type: 2, op: 2, code: "123456" },
    protobuf: "0a0c" + "0802" + "1002" + "1a06313233343536",
    json: '{"c2s":{"type":2,"op":2,"code":"123456"}}',
  },
];

const responseVectors: ResponseVector<MessageProtoId>[] = [
  {
    protoId: ProtoId.InitConnect,
    response: {
      retType: 0,
      s2c: {
        serverVer: 1000,
        loginUserID: "12345",
        connID: "6789012345678901234",
        connAESKey: "0123456789ABCDEF",
        keepAliveInterval: 10,
        aesCBCiv: "FEDCBA9876543210",
        userAttribution: 1,
      },
    },
    protobuf: "0800" + "2238" + "08e807" + "10b960" + "18f2dfbabfa3d8da9b5e" +
      "221030313233343536373839414243444546" + "280a" +
      "3210464544434241393837363534333231303801",
    json:
      '{"retType":0,"s2c":{"serverVer":1000,"loginUserID":"12345","connID":"6789012345678901234","connAESKey":"0123456789ABCDEF","keepAliveInterval":10,"aesCBCiv":"FEDCBA9876543210","userAttribution":1}}',
  },
  {
    protoId: ProtoId.GetGlobalState,
    response: {
      retType: 0,
      s2c: {
        marketHK: 1,
        marketUS: 2,
        marketSH: 3,
        marketSZ: 4,
        marketHKFuture: 5,
        marketUSFuture: 6,
        marketSGFuture: 7,
        marketJPFuture: 8,
        qotLogined: true,
        trdLogined: false,
        serverVer: 1000,
        serverBuildNo: 2345,
        time: 1700000000,
        localTime: 1700000000.25,
        programStatus: { type: 10, strExtDesc: "ok" },
        qotSvrIpAddr: "10.0.0.1",
        trdSvrIpAddr: "10.0.0.2",
        connID: "42",
      },
    },
    protobuf: "0800224a" + "0801" + "1002" + "1803" + "2004" + "2805" + "3001" +
      "3800" + "40e807" + "48a912" + "5080e2cfaa06" + "5900001040fc54d941" +
      "6206080a12026f6b" + "6a0831302e302e302e31" + "720831302e302e302e32" +
      "7806" + "80012a" + "880107" + "900108",
    json: '{"retType":0,"s2c":{"marketHK":1,"marketUS":2,"marketSH":3,' +
      '"marketSZ":4,"marketHKFuture":5,"marketUSFuture":6,"marketSGFuture":7,' +
      '"marketJPFuture":8,"qotLogined":true,"trdLogined":false,"serverVer":1000,' +
      '"serverBuildNo":2345,"time":"1700000000","localTime":1700000000.25,' +
      '"programStatus":{"type":10,"strExtDesc":"ok"},"qotSvrIpAddr":"10.0.0.1",' +
      '"trdSvrIpAddr":"10.0.0.2","connID":"42"}}',
  },
  {
    protoId: ProtoId.KeepAlive,
    response: { retType: 0, s2c: { time: 1700000001 } },
    protobuf: "0800" + "2206" + "0881e2cfaa06",
    json: '{"retType":0,"s2c":{"time":"1700000001"}}',
  },
  {
    protoId: ProtoId.Verification,
    response: { retType: 0, s2c: {} },
    protobuf: "0800" + "2200",
    json: '{"retType":0,"s2c":{}}',
  },
  {
    protoId: ProtoId.Verification,
    response: { retType: -1, retMsg: "too frequent", errCode: 5 },
    protobuf: "08ffffffffffffffffff01" + "120c746f6f206672657175656e74" +
      "1805",
    json: '{"retType":-1,"retMsg":"too frequent","errCode":5}',
  },
  {
    protoId: ProtoId.Notify,
    response: {
      retType: 0,
      s2c: { type: 1, event: { eventType: 11, desc: "code" } },
    },
    protobuf: "0800" + "220c" + "0801" + "1208" + "080b" + "1204636f6465",
    json:
      '{"retType":0,"s2c":{"type":1,"event":{"eventType":11,"desc":"code"}}}',
  },
];

for (const v of requestVectors) {
  Deno.test(`request vector ${v.protoId}: protobuf bytes and JSON text both ways`, () => {
    assertEquals(hex(encodeRequest(v.protoId, v.c2s)), v.protobuf);
    assertEquals(decodeRequest(v.protoId, unhex(v.protobuf)), v.c2s);
    assertEquals(text(encodeRequest(v.protoId, v.c2s, 1)), v.json);
    assertEquals(decodeRequest(v.protoId, utf8(v.json), 1), v.c2s);
    assertEquals(
      toJsonMapping(v.protoId, "request", unhex(v.protobuf)),
      JSON.parse(v.json),
    );
    assertEquals(
      toJsonMapping(v.protoId, "request", utf8(v.json), 1),
      JSON.parse(v.json),
    );
  });
}

for (const v of responseVectors) {
  Deno.test(`response vector ${v.protoId} (retType ${v.response.retType}): protobuf bytes and JSON text both ways`, () => {
    assertEquals(hex(encodeResponse(v.protoId, v.response)), v.protobuf);
    assertEquals(decodeResponse(v.protoId, unhex(v.protobuf)), v.response);
    assertEquals(text(encodeResponse(v.protoId, v.response, 1)), v.json);
    assertEquals(decodeResponse(v.protoId, utf8(v.json), 1), v.response);
    assertEquals(
      toJsonMapping(v.protoId, "response", unhex(v.protobuf)),
      JSON.parse(v.json),
    );
  });
}

Deno.test("encoders return plain Uint8Arrays", () => {
  const body = encodeRequest(ProtoId.KeepAlive, { time: 1 });
  assertEquals(Object.getPrototypeOf(body), Uint8Array.prototype);
  assertEquals(body.byteOffset, 0);
  assertEquals(body.buffer.byteLength, body.byteLength);
});

Deno.test("packetEncAlgo -1 is a 10-byte varint, like the Python SDK writes it", () => {
  const body = encodeRequest(ProtoId.InitConnect, {
    clientVer: 1,
    clientID: "",
    packetEncAlgo: -1,
  });
  // Request.c2s (0a 0f) { clientVer (08 01), clientID (12 00), packetEncAlgo (20 + 10 bytes) }
  assertEquals(hex(body), "0a0f" + "0801" + "1200" + "20ffffffffffffffffff01");
  assertEquals(decodeRequest(ProtoId.InitConnect, body).packetEncAlgo, -1);
  assertEquals(
    text(
      encodeRequest(ProtoId.InitConnect, {
        clientVer: 1,
        clientID: "",
        packetEncAlgo: -1,
      }, 1),
    ),
    '{"c2s":{"clientVer":1,"clientID":"","packetEncAlgo":-1}}',
  );
});

// ------------------------------------------------- what the Python SDK sends

Deno.test("JSON from the Python SDK: pretty-printed, 64-bit strings, enum names", () => {
  assertEquals(
    decodeResponse(
      ProtoId.InitConnect,
      utf8(
        '{"retType":0,"s2c":{"serverVer":1000,"loginUserID":"12345","connID":"6789012345678901234","connAESKey":"0123456789ABCDEF","keepAliveInterval":10}}',
      ),
      1,
    ),
    {
      retType: 0,
      s2c: {
        serverVer: 1000,
        loginUserID: "12345",
        connID: "6789012345678901234",
        connAESKey: "0123456789ABCDEF",
        keepAliveInterval: 10,
      },
    },
  );
  assertEquals(
    decodeRequest(ProtoId.Verification, utf8('{"c2s":{"type":2,"op":1}}'), 1),
    { type: 2, op: 1 },
  );
  // json_format.MessageToJson indents and writes int64 as a string.
  assertEquals(
    decodeRequest(
      ProtoId.KeepAlive,
      utf8('{\n  "c2s": {\n    "time": "1700000000"\n  }\n}'),
      1,
    ),
    { time: 1700000000 },
  );
  assertEquals(
    decodeRequest(
      ProtoId.InitConnect,
      utf8(
        '{\n  "c2s": {\n    "clientVer": 300,\n    "clientID": "PyNormal",\n    "recvNotify": true,\n    "packetEncAlgo": -1,\n    "pushProtoFmt": 1,\n    "programmingLanguage": "Python"\n  }\n}',
      ),
      1,
    ),
    {
      clientVer: 300,
      clientID: "PyNormal",
      recvNotify: true,
      packetEncAlgo: -1,
      pushProtoFmt: 1,
      programmingLanguage: "Python",
    },
  );
  const state = decodeResponse(
    ProtoId.GetGlobalState,
    utf8(
      '{"retType":0,"s2c":{"marketHK":1,"marketUS":2,"marketSH":3,"marketSZ":4,"marketHKFuture":5,' +
        '"qotLogined":true,"trdLogined":true,"serverVer":1000,"serverBuildNo":1,"time":"1700000000",' +
        '"programStatus":{"type":"ProgramStatusType_NeedPhoneVerifyCode"},"connID":"6789012345678901234"}}',
    ),
    1,
  );
  assertEquals(state.s2c?.programStatus, { type: 4 });
  assertEquals(state.s2c?.connID, "6789012345678901234");
  assertEquals(state.s2c?.time, 1700000000);
});

Deno.test("JSON reader: 64-bit as numbers, integers as strings, null as absent, unknown keys skipped", () => {
  assertEquals(
    decodeRequest(ProtoId.GetGlobalState, utf8('{"c2s":{"userID":12345}}'), 1),
    { userID: "12345" },
  );
  assertEquals(
    decodeRequest(ProtoId.KeepAlive, utf8('{"c2s":{"time":-7}}'), 1),
    { time: -7 },
  );
  assertEquals(
    decodeRequest(
      ProtoId.Verification,
      utf8(
        '{"c2s":{"type":"2","op":1,"code":null,"newField":[1,2]},"other":{}}',
      ),
      1,
    ),
    { type: 2, op: 1 },
  );
  assertEquals(
    decodeResponse(
      ProtoId.GetGlobalState,
      utf8(
        '{"retType":0,"s2c":{"marketHK":0,"marketUS":0,"marketSH":0,"marketSZ":0,"marketHKFuture":0,' +
          '"qotLogined":false,"trdLogined":false,"serverVer":0,"serverBuildNo":0,"time":"0",' +
          '"localTime":"Infinity"}}',
      ),
      1,
    ).s2c?.localTime,
    Infinity,
  );
  assertEquals(
    decodeResponse(ProtoId.KeepAlive, utf8('{"retType":"-1","retMsg":"x"}'), 1),
    { retType: -1, retMsg: "x" },
  );
});

Deno.test("64-bit extremes keep every digit in protobuf and JSON", () => {
  const s2c: GetGlobalStateS2C = {
    marketHK: 0,
    marketUS: 0,
    marketSH: 0,
    marketSZ: 0,
    marketHKFuture: 0,
    qotLogined: false,
    trdLogined: false,
    serverVer: 0,
    serverBuildNo: 0,
    time: Number.MIN_SAFE_INTEGER,
    connID: "18446744073709551615",
  };
  for (const fmt of [0, 1]) {
    const body = encodeResponse(
      ProtoId.GetGlobalState,
      { retType: 0, s2c },
      fmt,
    );
    assertEquals(decodeResponse(ProtoId.GetGlobalState, body, fmt).s2c, s2c);
  }
  // An int64 beyond 2^53 stays exact in the JSON mapping.
  const big = unhex("0a0a" + "08ffffffffffffffff7f"); // KeepAlive.Request time = 2^63-1
  assertEquals(toJsonMapping(ProtoId.KeepAlive, "request", big), {
    c2s: { time: "9223372036854775807" },
  });
  assertEquals(
    toJsonMapping(
      ProtoId.KeepAlive,
      "request",
      utf8('{"c2s":{"time":"-9223372036854775808"}}'),
      1,
    ),
    { c2s: { time: "-9223372036854775808" } },
  );
});

Deno.test("unknown enum values survive decoding in both formats", () => {
  const s2c: GetGlobalStateS2C = {
    marketHK: 99,
    marketUS: 0,
    marketSH: 0,
    marketSZ: 0,
    marketHKFuture: 0,
    qotLogined: true,
    trdLogined: true,
    serverVer: 1,
    serverBuildNo: 1,
    time: 0,
    programStatus: { type: 99, strExtDesc: "from the future" },
  };
  for (const fmt of [0, 1]) {
    const body = encodeResponse(
      ProtoId.GetGlobalState,
      { retType: -42, s2c },
      fmt,
    );
    assertEquals(decodeResponse(ProtoId.GetGlobalState, body, fmt), {
      retType: -42,
      s2c,
    });
  }
  // Hand-made: Common.ProgramStatus { type: 99 } inside GetGlobalState.S2C field 12.
  const s2cBytes = "0800" + "1000" + "1800" + "2000" + "2800" + "3000" +
    "3800" +
    "4000" + "4800" + "5000" + "6202" + "0863";
  const body = unhex(
    "0800" + "22" + (s2cBytes.length / 2).toString(16).padStart(2, "0") +
      s2cBytes,
  );
  assertEquals(
    decodeResponse(ProtoId.GetGlobalState, body).s2c?.programStatus,
    { type: 99 },
  );
  assertEquals(
    decodeResponse(
      ProtoId.InitConnect,
      utf8(
        '{"retType":0,"s2c":{"serverVer":1,"loginUserID":"1","connID":"2","connAESKey":"k","keepAliveInterval":10,"userAttribution":77}}',
      ),
      1,
    ).s2c?.userAttribution,
    77,
  );
});

Deno.test("unknown protobuf fields are skipped (a newer OpenD may add some)", () => {
  // KeepAlive.Request { c2s { time: 5, field 9 varint 1, field 10 string "x" } }
  const body = unhex("0a07" + "0805" + "4801" + "520178");
  assertEquals(decodeRequest(ProtoId.KeepAlive, body), { time: 5 });
});

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

// -------------------------------------------------------------- properties

// Plain objects: decoders build ordinary objects, and deep equality checks prototypes.
const record = ((model: never, constraints: object = {}) =>
  fc.record(model, {
    noNullPrototype: true,
    ...constraints,
  })) as typeof fc.record;
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String);
const int64 = fc.maxSafeInteger();
const str = fc.string({ unit: "grapheme", maxLength: 16 });
// JSON text has no -0; every other double, NaN and infinities included, survives.
const double = fc.double().filter((d) => !Object.is(d, -0));

const programStatus = record({ type: int32, strExtDesc: str }, {
  requiredKeys: ["type"],
});

const initConnectC2SModel = {
  clientVer: int32,
  clientID: str,
  recvNotify: fc.boolean(),
  packetEncAlgo: int32,
  pushProtoFmt: int32,
  programmingLanguage: str,
};
const initConnectS2CModel = {
  serverVer: int32,
  loginUserID: uint64,
  connID: uint64,
  connAESKey: str,
  keepAliveInterval: int32,
  aesCBCiv: str,
  userAttribution: int32,
};
const getGlobalStateS2CModel = {
  marketHK: int32,
  marketUS: int32,
  marketSH: int32,
  marketSZ: int32,
  marketHKFuture: int32,
  marketUSFuture: int32,
  marketSGFuture: int32,
  marketJPFuture: int32,
  qotLogined: fc.boolean(),
  trdLogined: fc.boolean(),
  serverVer: int32,
  serverBuildNo: int32,
  time: int64,
  localTime: double,
  programStatus,
  qotSvrIpAddr: str,
  trdSvrIpAddr: str,
  connID: uint64,
};
const qotRightModel = {
  hkQotRight: int32,
  usQotRight: int32,
  cnQotRight: int32,
  hkOptionQotRight: int32,
  hasUSOptionQotRight: fc.boolean(),
  hkFutureQotRight: int32,
  usFutureQotRight: int32,
  usOptionQotRight: int32,
  usIndexQotRight: int32,
  usOtcQotRight: int32,
  sgFutureQotRight: int32,
  jpFutureQotRight: int32,
  usCMEFutureQotRight: int32,
  usCBOTFutureQotRight: int32,
  usNYMEXFutureQotRight: int32,
  usCOMEXFutureQotRight: int32,
  usCBOEFutureQotRight: int32,
  shQotRight: int32,
  szQotRight: int32,
};
const notifyS2CModel = {
  type: int32,
  event: record({ eventType: int32, desc: str }),
  programStatus: record({ programStatus }),
  connectStatus: record({
    qotLogined: fc.boolean(),
    trdLogined: fc.boolean(),
  }),
  qotRight: record(qotRightModel, {
    requiredKeys: ["hkQotRight", "usQotRight", "cnQotRight"],
  }),
  apiLevel: record({ apiLevel: str }),
  apiQuota: record({ subQuota: int32, historyKLQuota: int32 }),
  usedQuota: record({ usedSubQuota: int32, usedKLineQuota: int32 }, {
    requiredKeys: [],
  }),
};

const c2sArbs: { [P in RequestProtoId]: fc.Arbitrary<C2SOf<P>> } = {
  [ProtoId.InitConnect]: record(initConnectC2SModel, {
    requiredKeys: ["clientVer", "clientID"],
  }) satisfies fc.Arbitrary<InitConnectC2S>,
  [ProtoId.GetGlobalState]: record({
    userID: uint64,
  }) satisfies fc.Arbitrary<
    GetGlobalStateC2S
  >,
  [ProtoId.KeepAlive]: record({ time: int64 }) satisfies fc.Arbitrary<
    KeepAliveC2S
  >,
  [ProtoId.Verification]: record({ type: int32, op: int32, code: str }, {
    requiredKeys: ["type", "op"],
  }) satisfies fc.Arbitrary<VerificationC2S>,
};

const s2cArbs: { [P in MessageProtoId]: fc.Arbitrary<S2COf<P>> } = {
  [ProtoId.InitConnect]: record(initConnectS2CModel, {
    requiredKeys: [
      "serverVer",
      "loginUserID",
      "connID",
      "connAESKey",
      "keepAliveInterval",
    ],
  }) satisfies fc.Arbitrary<InitConnectS2C>,
  [ProtoId.GetGlobalState]: record(getGlobalStateS2CModel, {
    requiredKeys: [
      "marketHK",
      "marketUS",
      "marketSH",
      "marketSZ",
      "marketHKFuture",
      "qotLogined",
      "trdLogined",
      "serverVer",
      "serverBuildNo",
      "time",
    ],
  }) satisfies fc.Arbitrary<GetGlobalStateS2C>,
  [ProtoId.Notify]: record(notifyS2CModel, {
    requiredKeys: ["type"],
  }) satisfies fc.Arbitrary<
    NotifyS2C
  >,
  [ProtoId.KeepAlive]: record({ time: int64 }) satisfies fc.Arbitrary<
    KeepAliveS2C
  >,
  [ProtoId.Verification]: fc.constant({}) as fc.Arbitrary<VerificationS2C>,
};

const responseArb = <P extends MessageProtoId>(protoId: P) =>
  record({
    retType: int32,
    retMsg: str,
    errCode: int32,
    s2c: s2cArbs[protoId],
  }, { requiredKeys: ["retType"] }) as fc.Arbitrary<Response<S2COf<P>>>;

Deno.test("the test models name every field of the descriptor (keeps the types honest)", () => {
  type Fields = Record<string, { fields: Record<string, unknown> }>;
  const nested = (pkg: string) =>
    (descriptor.nested as unknown as Record<string, { nested: Fields }>)[pkg]
      .nested;
  const keys = (pkg: string, name: string) =>
    Object.keys(nested(pkg)[name].fields).sort();
  assertEquals(
    Object.keys(initConnectC2SModel).sort(),
    keys("InitConnect", "C2S"),
  );
  assertEquals(
    Object.keys(initConnectS2CModel).sort(),
    keys("InitConnect", "S2C"),
  );
  assertEquals(
    Object.keys(getGlobalStateS2CModel).sort(),
    keys("GetGlobalState", "S2C"),
  );
  assertEquals(Object.keys(qotRightModel).sort(), keys("Notify", "QotRight"));
  assertEquals(Object.keys(notifyS2CModel).sort(), keys("Notify", "S2C"));
  assertEquals(keys("Verification", "S2C"), []);
});

for (const fmt of [0, 1]) {
  for (const protoId of [1001, 1002, 1004, 1006] as RequestProtoId[]) {
    Deno.test(`property: request ${protoId} encode -> decode is the identity (fmt ${fmt})`, () => {
      fc.assert(
        fc.property(c2sArbs[protoId], (c2s) => {
          const body = encodeRequest(protoId, c2s, fmt);
          assertEquals(decodeRequest(protoId, body, fmt), c2s);
        }),
      );
    });
  }
  for (const protoId of MESSAGE_PROTO_IDS) {
    Deno.test(`property: response ${protoId} encode -> decode is the identity (fmt ${fmt})`, () => {
      fc.assert(
        fc.property(responseArb(protoId), (response) => {
          const body = encodeResponse(protoId, response, fmt);
          assertEquals(decodeResponse(protoId, body, fmt), response);
          // Both formats carry the same message.
          const other = encodeResponse(protoId, response, 1 - fmt);
          assertEquals(
            toJsonMapping(protoId, "response", body, fmt),
            toJsonMapping(protoId, "response", other, 1 - fmt),
          );
        }),
      );
    });
  }
}

function onlyCodecErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
  }
}

const decoders: ((body: Uint8Array, fmt: number) => unknown)[] = [
  ...([1001, 1002, 1004, 1006] as RequestProtoId[]).map(
    (p) => (b: Uint8Array, f: number) => decodeRequest(p, b, f),
  ),
  ...MESSAGE_PROTO_IDS.map((p) => (b: Uint8Array, f: number) =>
    decodeResponse(p, b, f)
  ),
  ...MESSAGE_PROTO_IDS.map((p) => (b: Uint8Array, f: number) =>
    toJsonMapping(p, p === ProtoId.Notify ? "response" : "request", b, f)
  ),
];

Deno.test("property: random bytes make every decoder throw CodecError or nothing", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 96 }),
      fc.integer({ min: -1, max: 2 }),
      (bytes, fmt) => {
        for (const decode of decoders) {
          onlyCodecErrors(() => decode(bytes, fmt));
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: mutated valid bodies make every decoder throw CodecError or nothing", () => {
  const validBodies = fc.oneof(
    ...MESSAGE_PROTO_IDS.map((p) =>
      fc.tuple(responseArb(p), fc.integer({ min: 0, max: 1 })).map((
        [r, fmt],
      ) => ({
        body: encodeResponse(p, r, fmt),
        fmt,
      }))
    ),
  );
  fc.assert(
    fc.property(
      validBodies,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat(),
      ({ body, fmt }, flips, cut) => {
        const mutated = body.slice(
          0,
          body.length - (cut % (body.length + 1)) / 4,
        );
        for (const [at, value] of flips) {
          if (mutated.length > 0) mutated[at % mutated.length] = value;
        }
        for (const decode of decoders) {
          onlyCodecErrors(() => decode(mutated, fmt));
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: arbitrary JSON makes the JSON decoders throw CodecError or nothing", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
      const bodies = [
        JSON.stringify(a),
        JSON.stringify({ c2s: a }),
        JSON.stringify({ retType: 0, s2c: a }),
        JSON.stringify({
          retType: a,
          s2c: { type: 1, event: b, programStatus: { programStatus: b } },
        }),
      ];
      for (const body of bodies) {
        for (const decode of decoders) {
          onlyCodecErrors(() => decode(utf8(body), 1));
        }
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("property: arbitrary values make the encoders throw CodecError or nothing", () => {
  fc.assert(
    fc.property(fc.anything(), fc.integer({ min: 0, max: 1 }), (value, fmt) => {
      for (const p of [1001, 1002, 1004, 1006] as RequestProtoId[]) {
        onlyCodecErrors(() => encodeRequest(p, value as never, fmt));
      }
      for (const p of MESSAGE_PROTO_IDS) {
        onlyCodecErrors(() => encodeResponse(p, value as never, fmt));
        onlyCodecErrors(() =>
          encodeResponse(p, { retType: 0, s2c: value } as never, fmt)
        );
      }
    }),
    { numRuns: 200 },
  );
});
