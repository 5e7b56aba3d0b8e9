// Message properties: the models cover the descriptor, round trips, and fuzzed input.

import { assertEquals } from "@std/assert";
import fc from "fast-check";
import { CodecError } from "../codec/codec_error.ts";
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
import { utf8 } from "./_messages_helpers.ts";

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
