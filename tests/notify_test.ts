import {
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
} from "@std/assert";
import fc from "fast-check";
import { CodecError, type CodecErrorCode } from "../codec/codec_error.ts";
import {
  GtwEventType,
  NotifyType,
  ProgramStatusType,
  ProtoId,
} from "../codec/definitions.ts";
import {
  decodeResponse,
  encodeResponse,
  type NotifyQotRight,
  type NotifyS2C,
} from "../codec/messages.ts";
import {
  apiLevelNotification,
  apiQuotaNotification,
  connStatusNotification,
  decodeNotification,
  encodeNotification,
  gtwEventNotification,
  type NotificationInput,
  programStatusNotification,
  qotRightNotification,
  toNotifyS2C,
  toSystemNotification,
  usedQuotaNotification,
} from "../codec/notify.ts";
import type { SystemNotification } from "../codec/system_notification.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) =>
  Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
const FORMATS = [0, 1];

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

function roundTrip(n: NotificationInput, fmt: number): SystemNotification {
  return decodeNotification(encodeNotification(n, fmt), fmt);
}

const rights: NotifyQotRight = {
  hkQotRight: 4,
  usQotRight: 3,
  cnQotRight: 2,
  hasUSOptionQotRight: true,
  usOptionQotRight: 5,
  shQotRight: 1,
  szQotRight: 1,
};

// One expected notification per NotifyType, plus one this build does not know.
const byType: [number, NotificationInput, SystemNotification][] = [
  [
    0,
    { kind: "unknown", type: 0, s2c: {} },
    { kind: "unknown", type: 0, typeName: "None", s2c: { type: 0 } },
  ],
  [
    1,
    { kind: "gtwEvent", eventType: 7, desc: "logged in elsewhere" },
    {
      kind: "gtwEvent",
      type: 1,
      typeName: "GtwEvent",
      eventType: 7,
      eventName: "KickedOut",
      desc: "logged in elsewhere",
    },
  ],
  [
    2,
    { kind: "programStatus", status: 5, strExtDesc: "wrong password" },
    {
      kind: "programStatus",
      type: 2,
      typeName: "ProgramStatus",
      status: 5,
      statusName: "LoginFailed",
      strExtDesc: "wrong password",
    },
  ],
  [
    3,
    { kind: "connStatus", qotLogined: true, trdLogined: false },
    {
      kind: "connStatus",
      type: 3,
      typeName: "ConnStatus",
      qotLogined: true,
      trdLogined: false,
    },
  ],
  [
    4,
    { kind: "qotRight", rights },
    { kind: "qotRight", type: 4, typeName: "QotRight", rights: { ...rights } },
  ],
  [
    5,
    { kind: "apiLevel", apiLevel: "LV1" },
    { kind: "apiLevel", type: 5, typeName: "APILevel", apiLevel: "LV1" },
  ],
  [
    6,
    { kind: "apiQuota", subQuota: 100, historyKLQuota: 300 },
    {
      kind: "apiQuota",
      type: 6,
      typeName: "APIQuota",
      subQuota: 100,
      historyKLQuota: 300,
    },
  ],
  [
    7,
    { kind: "usedQuota", usedSubQuota: 10, usedKLineQuota: 20 },
    {
      kind: "usedQuota",
      type: 7,
      typeName: "UsedQuota",
      usedSubQuota: 10,
      usedKLineQuota: 20,
    },
  ],
  [
    42,
    { kind: "unknown", s2c: { type: 42, apiLevel: { apiLevel: "x" } } },
    {
      kind: "unknown",
      type: 42,
      typeName: undefined,
      s2c: { type: 42, apiLevel: { apiLevel: "x" } },
    },
  ],
];

for (const [type, input, expected] of byType) {
  for (const fmt of FORMATS) {
    Deno.test(`NotifyType ${type} decodes as kind "${expected.kind}" (fmt ${fmt})`, () => {
      assertEquals(roundTrip(input, fmt), expected);
      // The typed value itself is a valid input too.
      assertEquals(roundTrip(expected, fmt), expected);
      assertEquals(toSystemNotification(toNotifyS2C(input)), expected);
    });
  }
}

Deno.test("every NotifyType 0..7 is covered by the table above", () => {
  assertEquals(
    byType.map(([t]) => t).filter((t) => t <= 7),
    Object.values(NotifyType),
  );
});

Deno.test("every GtwEventType 0..15 and an unknown one (99), both formats", () => {
  for (const fmt of FORMATS) {
    for (const eventType of [...Object.values(GtwEventType), 99]) {
      const n = roundTrip(
        { kind: "gtwEvent", eventType, desc: `event ${eventType}` },
        fmt,
      );
      const name = Object.entries(GtwEventType).find(([, v]) => v === eventType)
        ?.[0];
      assertEquals(n, {
        kind: "gtwEvent",
        type: NotifyType.GtwEvent,
        typeName: "GtwEvent",
        eventType,
        eventName: name as keyof typeof GtwEventType | undefined,
        desc: `event ${eventType}`,
      });
      assertEquals(n, gtwEventNotification(eventType, `event ${eventType}`));
    }
  }
  assertEquals(gtwEventNotification(99).eventName, undefined);
  assertEquals(gtwEventNotification(15).eventName, "EnableDeviceLock");
});

Deno.test("every ProgramStatusType 0..12 and an unknown one (99), both formats", () => {
  for (const fmt of FORMATS) {
    for (const status of [...Object.values(ProgramStatusType), 99]) {
      const n = roundTrip({ kind: "programStatus", status }, fmt);
      assertEquals(n, programStatusNotification(status));
      if (n.kind !== "programStatus") throw new Error("wrong kind");
      assertEquals(n.status, status);
      assertEquals("strExtDesc" in n, false);
    }
  }
  assertEquals(programStatusNotification(99).statusName, undefined);
  assertEquals(programStatusNotification(10).statusName, "Ready");
});

Deno.test("hand-made protobuf: GtwEvent NeedPhoneVerifyCode, byte by byte", () => {
  // Notify.Response
  //   08 00                retType = 0
  //   22 0c                s2c, 12 bytes
  //     08 01              type = 1 (GtwEvent)
  //     12 08              event, 8 bytes
  //       08 0b            eventType = 11 (NeedPhoneVerifyCode)
  //       12 04 63 6f 64 65  desc = "code"
  const bytes = "0800" + "220c" + "0801" + "1208" + "080b" + "1204636f6465";
  assertEquals(decodeNotification(unhex(bytes)), {
    kind: "gtwEvent",
    type: 1,
    typeName: "GtwEvent",
    eventType: 11,
    eventName: "NeedPhoneVerifyCode",
    desc: "code",
  });
  assertEquals(
    hex(encodeNotification(gtwEventNotification(11, "code"))),
    bytes,
  );
});

Deno.test("hand-made protobuf: ProgramStatus 99 (unknown) survives", () => {
  // retType 0; s2c { type 2; programStatus { programStatus { type 99 } } }
  const bytes = "0800" + "2208" + "0802" + "1a04" + "0a02" + "0863";
  assertEquals(decodeNotification(unhex(bytes)), {
    kind: "programStatus",
    type: 2,
    typeName: "ProgramStatus",
    status: 99,
    statusName: undefined,
  });
  assertEquals(hex(encodeNotification(programStatusNotification(99))), bytes);
});

Deno.test("hand-made JSON: enum names, unknown fields, exact writer output", () => {
  assertEquals(
    decodeNotification(
      utf8(
        '{"retType":0,"s2c":{"type":2,"programStatus":{"programStatus":' +
          '{"type":"ProgramStatusType_NeedPhoneVerifyCode","strExtDesc":"sms"}},"future":1}}',
      ),
      1,
    ),
    programStatusNotification(4, "sms"),
  );
  assertEquals(
    text(encodeNotification(gtwEventNotification(8, "pwd"), 1)),
    '{"retType":0,"s2c":{"type":1,"event":{"eventType":8,"desc":"pwd"}}}',
  );
  assertEquals(
    text(encodeNotification(programStatusNotification(10), 1)),
    '{"retType":0,"s2c":{"type":2,"programStatus":{"programStatus":{"type":10}}}}',
  );
});

Deno.test("a known type without its payload, or with another type's, is kind unknown with the whole s2c", () => {
  for (const fmt of FORMATS) {
    for (let type = 1; type <= 7; type++) {
      assertEquals(roundTrip({ kind: "unknown", s2c: { type } }, fmt), {
        kind: "unknown",
        type,
        typeName: Object.entries(NotifyType).find(([, v]) => v === type)
          ?.[0] as keyof typeof NotifyType,
        s2c: { type },
      });
    }
    // type 1 (GtwEvent) carrying a connectStatus.
    const body = encodeResponse(ProtoId.Notify, {
      retType: 0,
      s2c: { type: 1, connectStatus: { qotLogined: true, trdLogined: true } },
    }, fmt);
    assertEquals(decodeNotification(body, fmt), {
      kind: "unknown",
      type: 1,
      typeName: "GtwEvent",
      s2c: {
        type: 1,
        connectStatus: { qotLogined: true, trdLogined: true },
      },
    });
    // A kind sent under another type (for testing peers) decodes by type.
    assertEquals(
      roundTrip({ kind: "gtwEvent", type: 42, eventType: 7, desc: "" }, fmt),
      {
        kind: "unknown",
        type: 42,
        typeName: undefined,
        s2c: { type: 42, event: { eventType: 7, desc: "" } },
      },
    );
  }
});

Deno.test("the unknown kind's s2c is protobuf's JSON mapping and accepts names", () => {
  const n = roundTrip({
    kind: "unknown",
    type: 0,
    s2c: {
      programStatus: {
        programStatus: { type: "ProgramStatusType_Ready" },
      },
    },
  }, 0);
  assertEquals(n, {
    kind: "unknown",
    type: 0,
    typeName: "None",
    s2c: { type: 0, programStatus: { programStatus: { type: 10 } } },
  });
});

Deno.test("retType other than 0 with an s2c still decodes; without s2c it throws", () => {
  for (const fmt of FORMATS) {
    const odd = encodeResponse(ProtoId.Notify, {
      retType: -1,
      retMsg: "odd",
      s2c: { type: 3, connectStatus: { qotLogined: false, trdLogined: false } },
    }, fmt);
    assertEquals(
      decodeNotification(odd, fmt),
      connStatusNotification(false, false),
    );
    const empty = encodeResponse(
      ProtoId.Notify,
      { retType: -1, retMsg: "nothing" },
      fmt,
    );
    const error = assertCodecError(
      () => decodeNotification(empty, fmt),
      fmt === 0 ? "MALFORMED_PROTOBUF" : "MALFORMED_JSON",
      'retType -1, retMsg "nothing"',
    );
    assertEquals(error.protoId, ProtoId.Notify);
  }
});

Deno.test("bad bodies throw MALFORMED_PROTOBUF / MALFORMED_JSON; bad fmt UNKNOWN_FORMAT", () => {
  assertCodecError(() => decodeNotification(unhex("ff")), "MALFORMED_PROTOBUF");
  assertCodecError(
    () => decodeNotification(unhex("0800" + "2200")),
    "MALFORMED_PROTOBUF",
    "missing required 'type'",
  );
  assertCodecError(() => decodeNotification(utf8("{}"), 1), "MALFORMED_JSON");
  assertCodecError(
    () =>
      decodeNotification(
        utf8('{"retType":0,"s2c":{"type":1,"event":{"desc":"x"}}}'),
        1,
      ),
    "MALFORMED_JSON",
    "eventType",
  );
  assertCodecError(
    () => decodeNotification(new Uint8Array(), 2),
    "UNKNOWN_FORMAT",
  );
  assertCodecError(
    () => encodeNotification(gtwEventNotification(1), 7),
    "UNKNOWN_FORMAT",
  );
});

Deno.test("invalid inputs to encodeNotification throw INVALID_MESSAGE", () => {
  const bad: unknown[] = [
    { kind: "gtwEvent", eventType: 1.5, desc: "" },
    { kind: "gtwEvent", eventType: 1 },
    { kind: "programStatus", status: "Ready" },
    { kind: "connStatus", qotLogined: true },
    { kind: "qotRight", rights: { hkQotRight: 1, usQotRight: 1 } },
    {
      kind: "qotRight",
      rights: { hkQotRight: 1, usQotRight: 1, cnQotRight: 1, moon: 1 },
    },
    { kind: "apiQuota", subQuota: 1 },
    { kind: "usedQuota", usedSubQuota: "1" },
    { kind: "unknown", s2c: {} },
    { kind: "unknown", s2c: { type: "x" } },
    { kind: "unknown", type: 0, s2c: { event: { eventType: 1 } } },
    { kind: "weird" },
    { kind: "gtwEvent", type: 2 ** 40, eventType: 1, desc: "" },
  ];
  for (const input of bad) {
    for (const fmt of FORMATS) {
      assertCodecError(
        () => encodeNotification(input as NotificationInput, fmt),
        "INVALID_MESSAGE",
      );
    }
  }
  assertCodecError(
    () =>
      toSystemNotification({ type: 1, event: { eventType: 1 } } as NotifyS2C),
    "INVALID_MESSAGE",
  );
});

Deno.test("constructors build the same values decoding produces", () => {
  assertEquals(connStatusNotification(true, true), {
    kind: "connStatus",
    type: 3,
    typeName: "ConnStatus",
    qotLogined: true,
    trdLogined: true,
  });
  assertEquals(qotRightNotification(rights).rights, rights);
  assertEquals(apiLevelNotification("x").typeName, "APILevel");
  assertEquals(apiQuotaNotification(1, 2), {
    kind: "apiQuota",
    type: 6,
    typeName: "APIQuota",
    subQuota: 1,
    historyKLQuota: 2,
  });
  assertEquals(usedQuotaNotification(), {
    kind: "usedQuota",
    type: 7,
    typeName: "UsedQuota",
  });
  assertEquals(usedQuotaNotification(undefined, 3), {
    kind: "usedQuota",
    type: 7,
    typeName: "UsedQuota",
    usedKLineQuota: 3,
  });
  for (const fmt of FORMATS) {
    for (
      const n of [
        connStatusNotification(true, false),
        qotRightNotification(rights),
        apiLevelNotification("LV2"),
        apiQuotaNotification(0, -1),
        usedQuotaNotification(),
        usedQuotaNotification(5),
        programStatusNotification(11, "kicked"),
      ]
    ) {
      assertEquals(roundTrip(n, fmt), n);
    }
  }
  // Names in the input are ignored: numbers rule.
  assertEquals(
    roundTrip({
      kind: "gtwEvent",
      eventType: 9,
      eventName: "KickedOut",
      desc: "",
    }, 0),
    gtwEventNotification(9),
  );
});

// -------------------------------------------------------------- properties

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const str = fc.string({ unit: "grapheme", maxLength: 16 });
const qotRightArb = fc.record({
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
}, {
  requiredKeys: ["hkQotRight", "usQotRight", "cnQotRight"],
  noNullPrototype: true,
});

const notificationArb: fc.Arbitrary<SystemNotification> = fc.oneof(
  fc.tuple(int32, str).map(([e, d]) => gtwEventNotification(e, d)),
  fc.tuple(int32, fc.option(str, { nil: undefined })).map(([s, d]) =>
    programStatusNotification(s, d)
  ),
  fc.tuple(fc.boolean(), fc.boolean()).map(([q, t]) =>
    connStatusNotification(q, t)
  ),
  qotRightArb.map(qotRightNotification),
  str.map(apiLevelNotification),
  fc.tuple(int32, int32).map(([s, h]) => apiQuotaNotification(s, h)),
  fc.tuple(
    fc.option(int32, { nil: undefined }),
    fc.option(int32, { nil: undefined }),
  ).map(([s, k]) => usedQuotaNotification(s, k)),
);

for (const fmt of FORMATS) {
  Deno.test(`property: encodeNotification -> decodeNotification is the identity (fmt ${fmt})`, () => {
    fc.assert(
      fc.property(notificationArb, (n) => {
        assertEquals(roundTrip(n, fmt), n);
        assertEquals(toSystemNotification(toNotifyS2C(n)), n);
        assertEquals(
          decodeResponse(ProtoId.Notify, encodeNotification(n, fmt), fmt).s2c,
          toNotifyS2C(n),
        );
      }),
    );
  });
}

Deno.test("property: random bytes make decodeNotification throw CodecError or nothing", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        notificationArb.chain((n) =>
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(
            ([at, value]) => {
              const body = encodeNotification(n);
              body[at % body.length] = value;
              return body;
            },
          )
        ),
      ),
      fc.integer({ min: 0, max: 1 }),
      (bytes, fmt) => {
        try {
          decodeNotification(bytes, fmt);
        } catch (error) {
          if (!(error instanceof CodecError)) throw error;
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: arbitrary values make encodeNotification throw CodecError or nothing", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.anything(),
        fc.record({
          kind: fc.constantFrom(
            "gtwEvent",
            "programStatus",
            "connStatus",
            "qotRight",
            "apiLevel",
            "apiQuota",
            "usedQuota",
            "unknown",
          ),
          type: fc.anything(),
          eventType: fc.anything(),
          desc: fc.anything(),
          status: fc.anything(),
          rights: fc.anything(),
          s2c: fc.anything(),
        }, { requiredKeys: ["kind"] }),
      ),
      (value) => {
        try {
          encodeNotification(value as NotificationInput);
        } catch (error) {
          if (!(error instanceof CodecError)) throw error;
        }
      },
    ),
    { numRuns: 300 },
  );
});
