// Messages against bytes written by hand and JSON the Python SDK sends.

import { assertEquals } from "@std/assert";
import { ProtoId } from "../codec/definitions.ts";
import {
  type C2SOf,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type GetGlobalStateS2C,
  type MessageProtoId,
  type RequestProtoId,
  type Response,
  type S2COf,
  toJsonMapping,
} from "../codec/messages.ts";
import { hex, text, unhex, utf8 } from "./_messages_helpers.ts";

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
