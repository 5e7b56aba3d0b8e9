/**
 * The compiled message schema and the conversions behind `messages.ts`.
 *
 * Every path goes through one canonical form, protobuf's JSON mapping as a
 * plain object: .proto field names, only the fields present, enums as
 * numbers, 64-bit integers as decimal strings, non-finite doubles as "NaN",
 * "Infinity", "-Infinity". It is exact for every value the wire can carry,
 * so `toJsonMapping` and the JSON writer lose nothing; the typed form
 * (`toTyped`) turns signed 64-bit fields into numbers only when that is
 * exact. Protobuf bodies are read by `_proto_reader.ts` straight into either
 * form.
 * @module
 */
import { protobuf } from "../deps.ts";
import { descriptor } from "./_descriptor.ts";
import { CodecError, CodecErrorCode } from "./codec_error.ts";

/** A JSON value. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

type Kind =
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "bool"
  | "string"
  | "double"
  | "enum"
  | "message";

/** What the conversions know about one field. */
export interface FieldInfo {
  readonly name: string;
  readonly id: number;
  readonly kind: Kind;
  readonly required: boolean;
  /** Enum values by name, for enum fields. */
  readonly enumValues?: Readonly<Record<string, number>>;
  /** Full name of the field's message type, for message fields. */
  readonly messageName?: string;
}

/** One message type with the field facts the conversions need. */
export interface MessageSchema {
  readonly fullName: string;
  readonly type: protobuf.Type;
  readonly fields: readonly FieldInfo[];
  /** Fields by .proto name and by lowerCamelCase JSON name. */
  readonly byJsonKey: ReadonlyMap<string, FieldInfo>;
  readonly byId: ReadonlyMap<number, FieldInfo>;
}

const root = protobuf.Root.fromJSON(descriptor);
root.resolveAll();

const schemas = new Map<string, MessageSchema>();

function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function fieldInfo(field: protobuf.Field): FieldInfo {
  const resolved = field.resolve().resolvedType;
  const base = { name: field.name, id: field.id, required: field.required };
  if (resolved instanceof protobuf.Enum) {
    return { ...base, kind: "enum", enumValues: resolved.values };
  }
  if (resolved instanceof protobuf.Type) {
    return {
      ...base,
      kind: "message",
      messageName: resolved.fullName.replace(/^\./, ""),
    };
  }
  // scripts/gen_proto.ts admits no other scalar types.
  return { ...base, kind: field.type as Kind };
}

/** The schema of the message type `fullName` (for example "Notify.S2C"). */
export function schemaOf(fullName: string): MessageSchema {
  let schema = schemas.get(fullName);
  if (!schema) {
    const type = root.lookupType(fullName);
    const fields = type.fieldsArray.map(fieldInfo);
    const byJsonKey = new Map<string, FieldInfo>();
    for (const f of fields) {
      byJsonKey.set(lowerCamel(f.name), f);
      byJsonKey.set(f.name, f);
    }
    schema = {
      fullName,
      type,
      fields,
      byJsonKey,
      byId: new Map(fields.map((f) => [f.id, f])),
    };
    schemas.set(fullName, schema);
  }
  return schema;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const has = (o: object, key: string): boolean => Object.hasOwn(o, key);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function inRange64(big: bigint, kind: "int64" | "uint64"): boolean {
  return kind === "uint64"
    ? big >= 0n && big <= UINT64_MAX
    : big >= INT64_MIN && big <= INT64_MAX;
}

function doubleToCanonical(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return v;
}

function doubleFromCanonical(v: JsonValue): number {
  return typeof v === "string" ? Number(v) : v as number;
}

/** A short printable form of any value, for error messages; never throws. */
export function show(v: unknown): string {
  try {
    if (typeof v === "bigint") return `${v}n`;
    const text = JSON.stringify(v) ?? String(v);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// ---------------------------------------------------------------- protobuf

function fail(code: CodecErrorCode, message: string, cause?: unknown): never {
  throw new CodecError(code, message, cause === undefined ? {} : { cause });
}

function stringToLongBits(s: string): { low: number; high: number } {
  const big = BigInt.asUintN(64, BigInt(s));
  return {
    low: Number(big & 0xffffffffn) | 0,
    high: Number(big >> 32n) | 0,
  };
}

function toWire(
  schema: MessageSchema,
  canonical: JsonObject,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    if (!has(canonical, f.name)) continue;
    const v = canonical[f.name];
    switch (f.kind) {
      case "int64":
      case "uint64":
        out[f.name] = stringToLongBits(v as string);
        break;
      case "double":
        out[f.name] = doubleFromCanonical(v);
        break;
      case "message":
        out[f.name] = toWire(schemaOf(f.messageName!), v as JsonObject);
        break;
      default:
        out[f.name] = v;
    }
  }
  return out;
}

/** Encodes a canonical object (already validated) as protobuf bytes. */
export function encodeProtobuf(
  schema: MessageSchema,
  canonical: JsonObject,
): Uint8Array {
  try {
    // A copy, so callers never receive a Node Buffer or a pooled view.
    return new Uint8Array(
      schema.type.encode(toWire(schema, canonical)).finish(),
    );
  } catch (error) {
    fail(
      CodecErrorCode.InvalidMessage,
      `cannot encode ${schema.fullName}`,
      error,
    );
  }
}

// -------------------------------------------------------------------- JSON

const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;

function jsonInteger(
  v: unknown,
  min: number,
  max: number,
): number | undefined {
  let n: number | undefined;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && INTEGER_TEXT.test(v)) n = Number(v);
  return n !== undefined && Number.isInteger(n) && n >= min && n <= max
    ? n
    : undefined;
}

function json64(v: unknown, kind: "int64" | "uint64"): string | undefined {
  let big: bigint | undefined;
  if (typeof v === "number" && Number.isInteger(v)) big = BigInt(v);
  else if (typeof v === "string" && INTEGER_TEXT.test(v)) big = BigInt(v);
  return big !== undefined && inRange64(big, kind) ? big.toString() : undefined;
}

function jsonDouble(v: unknown): number | string | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  if (v === "NaN" || v === "Infinity" || v === "-Infinity") return v;
  const n = v.trim() === "" ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function fromJsonValue(f: FieldInfo, v: unknown, path: string): JsonValue {
  let out: JsonValue | undefined;
  switch (f.kind) {
    case "int32":
      out = jsonInteger(v, INT32_MIN, INT32_MAX);
      break;
    case "uint32":
      out = jsonInteger(v, 0, UINT32_MAX);
      break;
    case "int64":
    case "uint64":
      out = json64(v, f.kind);
      break;
    case "double":
      out = jsonDouble(v);
      break;
    case "bool":
      out = typeof v === "boolean" ? v : undefined;
      break;
    case "string":
      out = typeof v === "string" ? v : undefined;
      break;
    case "enum":
      out = typeof v === "string" && has(f.enumValues!, v)
        ? f.enumValues![v]
        : jsonInteger(v, INT32_MIN, INT32_MAX);
      break;
    case "message":
      if (isRecord(v)) return fromJsonObject(schemaOf(f.messageName!), v, path);
      break;
  }
  if (out === undefined) {
    fail(
      CodecErrorCode.MalformedJson,
      `${path}: ${show(v)} is not a valid ${f.kind} value`,
    );
  }
  return out;
}

function fromJsonObject(
  schema: MessageSchema,
  obj: Record<string, unknown>,
  path: string,
): JsonObject {
  const out: JsonObject = {};
  // Keys this build does not know are skipped: a newer OpenD may add fields.
  for (const [key, v] of Object.entries(obj)) {
    const f = schema.byJsonKey.get(key);
    if (!f || v === null) continue;
    if (has(out, f.name)) {
      fail(CodecErrorCode.MalformedJson, `${path}.${f.name}: given twice`);
    }
    out[f.name] = fromJsonValue(f, v, `${path}.${f.name}`);
  }
  // Rebuilt in declaration order so equal messages look equal.
  const ordered: JsonObject = {};
  for (const f of schema.fields) {
    if (has(out, f.name)) ordered[f.name] = out[f.name];
    else if (f.required) {
      fail(
        CodecErrorCode.MalformedJson,
        `${path}: missing required '${f.name}'`,
      );
    }
  }
  return ordered;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes a JSON body; throws CodecError MALFORMED_JSON. */
export function decodeJson(
  schema: MessageSchema,
  bytes: Uint8Array,
): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(bytes));
  } catch (error) {
    fail(
      CodecErrorCode.MalformedJson,
      `not valid JSON for ${schema.fullName}`,
      error,
    );
  }
  return parseJsonMapping(schema, parsed);
}

/**
 * Reads an already parsed JSON-mapping object (the reader's rules, without
 * the bytes); throws CodecError MALFORMED_JSON.
 */
export function parseJsonMapping(
  schema: MessageSchema,
  value: unknown,
): JsonObject {
  if (!isRecord(value)) {
    fail(CodecErrorCode.MalformedJson, `${schema.fullName}: not a JSON object`);
  }
  return fromJsonObject(schema, value, schema.fullName);
}

/** Writes a canonical object as a JSON body. */
export function encodeJson(canonical: JsonObject): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(canonical));
}

// ------------------------------------------------------------------- typed

const UINT64_TEXT = /^(0|[1-9][0-9]*)$/;

const isIntIn = (v: unknown, min: number, max: number): v is number =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

function fromTypedValue(f: FieldInfo, v: unknown, path: string): JsonValue {
  switch (f.kind) {
    case "int32":
    case "enum":
      if (isIntIn(v, INT32_MIN, INT32_MAX)) return v;
      break;
    case "uint32":
      if (isIntIn(v, 0, UINT32_MAX)) return v;
      break;
    case "int64": {
      // A safe number, or the exact decimal string a decoder returned.
      if (Number.isSafeInteger(v)) return String(v);
      if (
        typeof v === "string" && INTEGER_TEXT.test(v) &&
        inRange64(BigInt(v), "int64")
      ) {
        return v;
      }
      break;
    }
    case "uint64":
      if (
        typeof v === "string" && UINT64_TEXT.test(v) && BigInt(v) <= UINT64_MAX
      ) {
        return v;
      }
      break;
    case "double":
      if (typeof v === "number") return doubleToCanonical(v);
      break;
    case "bool":
      if (typeof v === "boolean") return v;
      break;
    case "string":
      if (typeof v === "string") return v;
      break;
    case "message":
      if (isRecord(v)) {
        return fromTypedObject(schemaOf(f.messageName!), v, path);
      }
      break;
  }
  const want = f.kind === "uint64"
    ? "a decimal string of an unsigned 64-bit integer"
    : f.kind === "int64"
    ? "a safe integer or the decimal string of a signed 64-bit integer"
    : `a valid ${f.kind} value`;
  return fail(
    CodecErrorCode.InvalidMessage,
    `${path}: ${show(v)} is not ${want}`,
  );
}

function fromTypedObject(
  schema: MessageSchema,
  obj: Record<string, unknown>,
  path: string,
): JsonObject {
  for (const key of Object.keys(obj)) {
    if (obj[key] !== undefined && !schema.fields.some((f) => f.name === key)) {
      fail(
        CodecErrorCode.InvalidMessage,
        `${path}: ${schema.fullName} has no field '${key}'`,
      );
    }
  }
  const out: JsonObject = {};
  for (const f of schema.fields) {
    const v = has(obj, f.name) ? obj[f.name] : undefined;
    if (v === undefined) {
      if (f.required) {
        fail(
          CodecErrorCode.InvalidMessage,
          `${path}: missing required '${f.name}'`,
        );
      }
      continue;
    }
    out[f.name] = fromTypedValue(f, v, `${path}.${f.name}`);
  }
  return out;
}

/**
 * Validates a typed object and returns its canonical form; throws CodecError
 * INVALID_MESSAGE.
 */
export function fromTyped(schema: MessageSchema, value: unknown): JsonObject {
  if (!isRecord(value)) {
    fail(
      CodecErrorCode.InvalidMessage,
      `${schema.fullName}: expected an object`,
    );
  }
  return fromTypedObject(schema, value, schema.fullName);
}

/**
 * The typed form of a canonical object: doubles as numbers, signed 64-bit
 * integers as numbers when safe (else their exact decimal strings).
 */
export function toTyped(
  schema: MessageSchema,
  canonical: JsonObject,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    if (!has(canonical, f.name)) continue;
    const v = canonical[f.name];
    switch (f.kind) {
      case "int64": {
        const n = Number(v);
        out[f.name] = Number.isSafeInteger(n) ? n : v;
        break;
      }
      case "double":
        out[f.name] = doubleFromCanonical(v);
        break;
      case "message":
        out[f.name] = toTyped(schemaOf(f.messageName!), v as JsonObject);
        break;
      default:
        out[f.name] = v;
    }
  }
  return out;
}
