/**
 * Generates message bodies shaped like OpenD's own (the right field numbers,
 * names and wire types, random values including extremes), as protobuf and
 * as protobuf's JSON mapping, with an encoder of its own so the fuzz does
 * not trust the codec to build its inputs.
 * @module
 */
import type { Rng } from "./_rng.ts";

type Kind = "i32" | "u64" | "bool" | "string" | Shape;
type Field = readonly [no: number, name: string, kind: Kind];
/** A message: its fields. */
export type Shape = readonly Field[];

const PROGRAM_STATUS: Shape = [[1, "type", "i32"], [2, "strExtDesc", "string"]];

function response(s2c: Shape): Shape {
  return [[1, "retType", "i32"], [2, "retMsg", "string"], [
    3,
    "errCode",
    "i32",
  ], [4, "s2c", s2c]];
}
function request(c2s: Shape): Shape {
  return [[1, "c2s", c2s]];
}

/** The InitConnect response fields a client learns its AES key from. */
const INIT_CONNECT_S2C: Shape = [
  [1, "serverVer", "i32"],
  [2, "loginUserID", "u64"],
  [3, "connID", "u64"],
  [4, "connAESKey", "string"],
  [5, "keepAliveInterval", "i32"],
  [6, "aesCBCiv", "string"],
  [7, "userAttribution", "i32"],
];

/** Each decoder's message, by protoID and direction. */
export const SHAPES: Readonly<Record<string, Shape>> = {
  "1001 request": request([
    [1, "clientVer", "i32"],
    [2, "clientID", "string"],
    [3, "recvNotify", "bool"],
    [4, "packetEncAlgo", "i32"],
    [5, "pushProtoFmt", "i32"],
    [6, "programmingLanguage", "string"],
  ]),
  "1001 response": response(INIT_CONNECT_S2C),
  "1002 request": request([[1, "userID", "u64"]]),
  "1002 response": response([
    [1, "marketHK", "i32"],
    [2, "marketUS", "i32"],
    [3, "marketSH", "i32"],
    [4, "marketSZ", "i32"],
    [5, "marketHKFuture", "i32"],
    [6, "qotLogined", "bool"],
    [7, "trdLogined", "bool"],
    [8, "serverVer", "i32"],
    [9, "serverBuildNo", "i32"],
    [10, "time", "u64"],
    [11, "localTime", "u64"],
    [12, "programStatus", PROGRAM_STATUS],
    [13, "qotSvrIpAddr", "string"],
    [14, "trdSvrIpAddr", "string"],
    [15, "marketUSFuture", "i32"],
    [16, "connID", "u64"],
  ]),
  "1003 response": response([
    [1, "type", "i32"],
    [2, "event", [[1, "eventType", "i32"], [2, "desc", "string"]]],
    [3, "programStatus", [[1, "programStatus", PROGRAM_STATUS]]],
    [4, "connectStatus", [[1, "qotLogined", "bool"], [
      2,
      "trdLogined",
      "bool",
    ]]],
    [5, "qotRight", [[4, "hkQotRight", "i32"], [5, "usQotRight", "i32"], [
      6,
      "cnQotRight",
      "i32",
    ]]],
    [6, "apiLevel", [[1, "apiLevel", "string"]]],
    [7, "apiQuota", [[1, "subQuota", "i32"], [2, "historyKLQuota", "i32"]]],
    [8, "usedQuota", [[1, "usedSubQuota", "i32"], [
      2,
      "usedKLineQuota",
      "i32",
    ]]],
  ]),
  "1004 request": request([[1, "time", "u64"]]),
  "1004 response": response([[1, "time", "u64"]]),
  "1006 request": request([[1, "type", "i32"], [2, "op", "i32"], [
    3,
    "code",
    "string",
  ]]),
  "1006 response": response([]),
};

/** A generated value: what to encode, both ways. */
type Value = number | bigint | boolean | string | Fields;
type Fields = [Field, Value][];

function value(rng: Rng, kind: Kind, depth: number): Value {
  if (kind === "i32") {
    return rng.pick([
      0,
      1,
      -1,
      2,
      10,
      -400,
      2147483647,
      -2147483648,
      rng.int(-1000, 1000),
    ]);
  }
  if (kind === "u64") {
    return rng.pick([
      0n,
      1n,
      2n ** 53n + 1n,
      2n ** 63n - 1n,
      2n ** 64n - 1n,
      BigInt(rng.u32()) * 4294967296n + BigInt(rng.u32()),
    ]);
  }
  if (kind === "bool") return rng.chance(0.5);
  if (kind === "string") {
    return rng.pick([
      "",
      "0123456789abcdef",
      "é中文",
      "x".repeat(rng.int(0, 40)),
      String(rng.u32()),
    ]);
  }
  return fields(rng, kind, depth + 1);
}

function fields(rng: Rng, shape: Shape, depth: number): Fields {
  const out: Fields = [];
  for (const f of shape) {
    if (depth > 4 || !rng.chance(0.8)) continue;
    out.push([f, value(rng, f[2], depth)]);
  }
  return out;
}

/** Random field values for `shape` (most fields present, some absent). */
export function generateFields(rng: Rng, shape: Shape): Fields {
  return fields(rng, shape, 0);
}

/** Builds fields from plain values (strings, numbers, bigints, nested objects). */
export function fieldsOf(
  shape: Shape,
  values: Record<string, unknown>,
): Fields {
  const out: Fields = [];
  for (const f of shape) {
    const v = values[f[1]];
    if (v === undefined) continue;
    out.push([
      f,
      typeof f[2] === "object"
        ? fieldsOf(f[2], v as Record<string, unknown>)
        : v as Value,
    ]);
  }
  return out;
}

function varint(out: number[], v: bigint): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function encodePb(out: number[], fs: Fields): void {
  for (const [[no, , kind], v] of fs) {
    if (typeof kind === "object" || typeof v === "string") {
      const inner: number[] = [];
      if (typeof v === "string") inner.push(...new TextEncoder().encode(v));
      else encodePb(inner, v as Fields);
      varint(out, BigInt(no << 3 | 2));
      varint(out, BigInt(inner.length));
      out.push(...inner);
    } else {
      varint(out, BigInt(no << 3));
      varint(
        out,
        typeof v === "boolean" ? (v ? 1n : 0n) : BigInt(v as number | bigint),
      );
    }
  }
}

/** The protobuf encoding of `fs`. */
export function toProtobuf(fs: Fields): Uint8Array {
  const out: number[] = [];
  encodePb(out, fs);
  return new Uint8Array(out);
}

function jsonValue(kind: Kind, v: Value): unknown {
  if (typeof kind === "object") return toObject(v as Fields);
  if (typeof v === "bigint") return v.toString();
  return v;
}

function toObject(fs: Fields): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [[, name, kind], v] of fs) o[name] = jsonValue(kind, v);
  return o;
}

/** The JSON-mapping encoding of `fs` (64-bit integers as strings). */
export function toJson(fs: Fields): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(toObject(fs)));
}
