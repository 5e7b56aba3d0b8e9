/**
 * The one-pass protobuf reader accepts and rejects exactly what protobufjs
 * (the reference decoder this project used before) does, on valid messages
 * and on every kind of corruption, and reads 64-bit values exactly.
 */
import { assertEquals } from "@std/assert";
import fc from "fast-check";
import protobuf from "protobufjs";
import { descriptor } from "../codec/_descriptor.ts";
import { readProtobuf, setCompiledReaders } from "../codec/_proto_reader.ts";
import { CodecError } from "../codec/codec_error.ts";
import {
  encodeNotification,
  encodeRequest,
  encodeResponse,
  gtwEventNotification,
  programStatusNotification,
  qotRightNotification,
  usedQuotaNotification,
} from "../codec/mod.ts";

const root = protobuf.Root.fromJSON(descriptor);
root.resolveAll();

type Canonical = Record<string, unknown>;

/** protobufjs' reading of `bytes`, in the JSON mapping, or "error". */
function reference(fullName: string, bytes: Uint8Array): Canonical | "error" {
  const type = root.lookupType(fullName);
  try {
    const reader = protobuf.Reader.create(bytes);
    (reader as unknown as { discardUnknown: boolean }).discardUnknown = false;
    const msg = type.decode(reader);
    return toCanonical(type, msg as unknown as Record<string, unknown>);
  } catch {
    return "error";
  }
}

function toCanonical(
  type: protobuf.Type,
  msg: Record<string, unknown>,
): Canonical {
  // A known field number with another wire type lands among the unknowns.
  for (const raw of (msg as { $unknowns?: Uint8Array[] }).$unknowns ?? []) {
    const id = protobuf.Reader.create(raw).uint32() >>> 3;
    if (type.fieldsById[id]) throw new Error("wrong wire type");
  }
  const out: Canonical = {};
  for (const field of type.fieldsArray) {
    const v = msg[field.name];
    if (!Object.hasOwn(msg, field.name) || v == null) continue;
    const resolved = field.resolve().resolvedType;
    if (resolved instanceof protobuf.Type) {
      out[field.name] = toCanonical(resolved, v as Record<string, unknown>);
    } else if (field.type === "int64" || field.type === "uint64") {
      out[field.name] = String(v);
    } else if (field.type === "double") {
      const d = v as number;
      out[field.name] = Number.isFinite(d)
        ? d
        : Number.isNaN(d)
        ? "NaN"
        : d > 0
        ? "Infinity"
        : "-Infinity";
    } else out[field.name] = v;
  }
  return out;
}

function ours(fullName: string, bytes: Uint8Array): Canonical | "error" {
  try {
    return readProtobuf(fullName, bytes, "json");
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    return "error";
  }
}

/** What the reader gives in `form`, or the error's code and message. */
function outcome(
  fullName: string,
  bytes: Uint8Array,
  form: "typed" | "json",
): unknown {
  try {
    return readProtobuf(fullName, bytes, form);
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

// Strings are compared only where the bytes were valid UTF-8: protobufjs and
// TextDecoder replace broken sequences differently.
function hasReplacement(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\ufffd");
  if (typeof value === "object" && value !== null) {
    return Object.values(value).some(hasReplacement);
  }
  return false;
}

const samples: [string, Uint8Array][] = [
  ["Notify.Response", encodeNotification(gtwEventNotification(7, "kicked"))],
  [
    "Notify.Response",
    encodeNotification(programStatusNotification(5, "wrong password")),
  ],
  [
    "Notify.Response",
    encodeNotification(
      qotRightNotification({ hkQotRight: 4, usQotRight: 3, cnQotRight: 2 }),
    ),
  ],
  ["Notify.Response", encodeNotification(usedQuotaNotification(3, 4))],
  [
    "Notify.Response",
    encodeResponse(1003, { retType: -400, retMsg: "unknown", errCode: -1 }),
  ],
  [
    "InitConnect.Response",
    encodeResponse(1001, {
      retType: 0,
      s2c: {
        serverVer: 900,
        loginUserID: "18446744073709551615",
        connID: "7000000000000000001",
        connAESKey: "0123456789abcdef",
        keepAliveInterval: 10,
        aesCBCiv: "fedcba9876543210",
      },
    }),
  ],
  [
    "GetGlobalState.Response",
    encodeResponse(1002, {
      retType: 0,
      s2c: {
        marketHK: 1,
        marketUS: 2,
        marketSH: 3,
        marketSZ: 4,
        marketHKFuture: 5,
        qotLogined: true,
        trdLogined: false,
        serverVer: 900,
        serverBuildNo: 12,
        time: "-9223372036854775808",
        localTime: 1.5,
        programStatus: { type: 10 },
        connID: "12",
      },
    }),
  ],
  ["KeepAlive.Request", encodeRequest(1004, { time: 1_700_000_000 })],
  ["Verification.Request", encodeRequest(1006, { type: 2, op: 2, code: "1" })],
  // A message with no fields at all.
  ["Verification.Response", encodeResponse(1006, { retType: 0, s2c: {} })],
];

const mutated = fc.tuple(
  fc.constantFrom(...samples),
  fc.array(
    fc.oneof(
      fc.record({ op: fc.constant("flip"), at: fc.nat(), bit: fc.nat(7) }),
      fc.record({ op: fc.constant("cut"), at: fc.nat() }),
      fc.record({ op: fc.constant("insert"), at: fc.nat(), byte: fc.nat(255) }),
      fc.record({ op: fc.constant("set"), at: fc.nat(), byte: fc.nat(255) }),
    ),
    { maxLength: 4 },
  ),
);

function corrupt(
  valid: Uint8Array,
  edits: { op: string; at: number; bit?: number; byte?: number }[],
): Uint8Array {
  let bytes = Array.from(valid);
  for (const e of edits) {
    const at = bytes.length === 0 ? 0 : e.at % bytes.length;
    if (e.op === "flip" && bytes.length) bytes[at] ^= 1 << e.bit!;
    if (e.op === "cut") bytes = bytes.slice(0, at);
    if (e.op === "insert") bytes.splice(at, 0, e.byte!);
    if (e.op === "set" && bytes.length) bytes[at] = e.byte!;
  }
  return Uint8Array.from(bytes);
}

Deno.test("property: the compiled readers and the interpreter give the same values and errors", () => {
  try {
    fc.assert(
      fc.property(mutated, ([[fullName, valid], edits]) => {
        const input = corrupt(valid, edits);
        for (const form of ["typed", "json"] as const) {
          setCompiledReaders(true);
          const compiled = outcome(fullName, input, form);
          setCompiledReaders(false);
          const interpreted = outcome(fullName, input, form);
          assertEquals(compiled, interpreted, `${fullName} ${form} ${input}`);
        }
      }),
      { numRuns: Number(Deno.env.get("PROTO_RUNS") ?? 1000) },
    );
  } finally {
    setCompiledReaders(true);
  }
});

Deno.test("property: the interpreter (no code generation) agrees with protobufjs", () => {
  setCompiledReaders(false);
  try {
    fc.assert(
      fc.property(mutated, ([[fullName, valid], edits]) => {
        const input = corrupt(valid, edits);
        const expected = reference(fullName, input);
        const actual = ours(fullName, input);
        if (hasReplacement(actual) || hasReplacement(expected)) return;
        assertEquals(actual, expected, `${fullName} ${input}`);
      }),
      { numRuns: Number(Deno.env.get("PROTO_RUNS") ?? 1000) },
    );
  } finally {
    setCompiledReaders(true);
  }
});

Deno.test("property: the reader agrees with protobufjs on valid and corrupted messages", () => {
  fc.assert(
    fc.property(mutated, ([[fullName, valid], edits]) => {
      let bytes = Array.from(valid);
      for (const e of edits) {
        const at = bytes.length === 0 ? 0 : e.at % bytes.length;
        if (e.op === "flip" && bytes.length) bytes[at] ^= 1 << e.bit;
        if (e.op === "cut") bytes = bytes.slice(0, at);
        if (e.op === "insert") bytes.splice(at, 0, e.byte);
        if (e.op === "set" && bytes.length) bytes[at] = e.byte;
      }
      const input = Uint8Array.from(bytes);
      const expected = reference(fullName, input);
      const actual = ours(fullName, input);
      if (hasReplacement(actual) || hasReplacement(expected)) return;
      assertEquals(actual, expected, `${fullName} ${input}`);
    }),
    { numRuns: Number(Deno.env.get("PROTO_RUNS") ?? 3000) },
  );
});

Deno.test("property: the reader agrees with protobufjs on random bytes", () => {
  const names = [...new Set(samples.map(([name]) => name))];
  fc.assert(
    fc.property(
      fc.constantFrom(...names),
      fc.uint8Array({ maxLength: 48 }),
      (fullName, bytes) => {
        const expected = reference(fullName, bytes);
        const actual = ours(fullName, bytes);
        if (hasReplacement(actual) || hasReplacement(expected)) return;
        assertEquals(actual, expected, `${fullName} ${bytes}`);
      },
    ),
    { numRuns: Number(Deno.env.get("PROTO_RUNS") ?? 3000) },
  );
});

Deno.test("every sample reads as protobufjs reads it", () => {
  for (const [fullName, bytes] of samples) {
    assertEquals(ours(fullName, bytes), reference(fullName, bytes), fullName);
  }
});
