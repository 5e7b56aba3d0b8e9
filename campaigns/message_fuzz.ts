/**
 * The message fuzz: one seeded body (shaped like an OpenD message, then
 * perhaps corrupted, or plain noise) through every message decoder, in
 * protobuf and JSON. The promise checked: a decoder returns or throws a
 * CodecError, nothing else.
 * @module
 */
import {
  CodecError,
  decodeNotification,
  decodeRequest,
  decodeResponse,
  decodeWsRequest,
  decodeWsResponse,
  encodeWsRequest,
  encodeWsResponse,
  ProtoId,
  toJsonMapping,
} from "../codec/mod.ts";
import { Rng } from "./_rng.ts";
import {
  generateFields,
  SHAPES,
  toJson,
  toProtobuf,
} from "./_message_shapes.ts";

const REQUESTS = [
  ProtoId.InitConnect,
  ProtoId.GetGlobalState,
  ProtoId.KeepAlive,
  ProtoId.Verification,
] as const;
const RESPONSES = [...REQUESTS, ProtoId.Notify] as const;

/** One decoder: its name and how to call it. */
export interface Decoder {
  /** How reports name it. */
  readonly name: string;
  /** Decodes a body (throws a CodecError for a bad one). */
  readonly decode: (body: Uint8Array) => unknown;
}

/**
 * Every decoder a body goes through: the messages in protobuf and JSON, and
 * the WebSocket port's request and response frames.
 */
export const MESSAGE_DECODERS: readonly Decoder[] = [
  { name: "decodeWsRequest", decode: (b) => decodeWsRequest(b) },
  { name: "decodeWsResponse", decode: (b) => decodeWsResponse(b) },
  ...[0, 1].flatMap((fmt) => [
    ...REQUESTS.map((p): Decoder => ({
      name: `decodeRequest(${p}, fmt ${fmt})`,
      decode: (b) => decodeRequest(p, b, fmt),
    })),
    ...RESPONSES.map((p): Decoder => ({
      name: `decodeResponse(${p}, fmt ${fmt})`,
      decode: (b) => decodeResponse(p, b, fmt),
    })),
    {
      name: `decodeNotification(fmt ${fmt})`,
      decode: (b: Uint8Array) => decodeNotification(b, fmt),
    },
    {
      name: `toJsonMapping(1003 response, fmt ${fmt})`,
      decode: (b: Uint8Array) =>
        toJsonMapping(ProtoId.Notify, "response", b, fmt),
    },
  ]),
];

/** What {@link fuzzMessageBody} found. */
export interface MessageBodyOutcome {
  /** The body's length. */
  readonly bytes: number;
  /** Decoders that returned a value (the rest threw a CodecError, or broke a promise). */
  readonly decoded: number;
  /** Broken promises (empty: the body passed). */
  readonly violations: readonly string[];
}

function corrupt(rng: Rng, body: Uint8Array): Uint8Array {
  if (body.length === 0 || rng.chance(0.4)) return body;
  const out = new Uint8Array(body);
  switch (rng.int(0, 3)) {
    case 0:
      for (let i = rng.int(1, 4); i > 0; i--) {
        out[rng.int(0, out.length - 1)] = rng.u32() & 0xff;
      }
      return out;
    case 1:
      return out.slice(0, rng.int(0, out.length - 1));
    case 2: {
      const at = rng.int(0, out.length);
      return new Uint8Array([
        ...out.subarray(0, at),
        ...rng.bytes(rng.int(1, 16)),
        ...out.subarray(at),
      ]);
    }
    default: {
      // JSON's usual suspects: numbers, strings, nesting, in odd places.
      const text = new TextDecoder().decode(out);
      const swap = rng.pick([
        "1e400",
        "-0",
        '"NaN"',
        "null",
        "[]",
        "{}",
        '"18446744073709551616"',
        "9007199254740993",
        '"\\ud800"',
        "true",
        '{"a":'.repeat(200),
      ]);
      return new TextEncoder().encode(text.replace(/:[^,}]*/, `:${swap}`));
    }
  }
}

/**
 * Generates body `index` of campaign `seed` and runs it through every
 * decoder of {@link MESSAGE_DECODERS}.
 *
 * @example
 * ```ts
 * import { fuzzMessageBody } from "./message_fuzz.ts";
 * fuzzMessageBody(1, 0).violations; // []
 * ```
 */
export function fuzzMessageBody(
  seed: number,
  index: number,
): MessageBodyOutcome {
  // Bodies use their own stream of numbers: the frame fuzz's stream i and
  // body i are independent.
  const rng = new Rng(seed ^ 0x5bd1e995, index);
  let body: Uint8Array;
  if (rng.chance(0.15)) body = rng.bytes(rng.size(300));
  else {
    const shape = SHAPES[rng.pick(Object.keys(SHAPES))];
    const fields = generateFields(rng, shape);
    body = rng.chance(0.5) ? toJson(fields) : toProtobuf(fields);
    if (rng.chance(0.2)) {
      // The same body framed for the WebSocket port, then perhaps corrupted.
      const frame = {
        cmd: rng.pick([1, 1001, 1003, 1004, 3005, rng.u32()]),
        section: rng.chance(0.5) ? 0 : rng.u32(),
        body,
      };
      body = rng.chance(0.5)
        ? encodeWsRequest(frame)
        : encodeWsResponse({ ...frame, error: rng.int(-1, 1), errmsg: "x" });
    }
    body = corrupt(rng, body);
  }
  const violations: string[] = [];
  let decoded = 0;
  for (const d of MESSAGE_DECODERS) {
    try {
      d.decode(body);
      decoded++;
    } catch (error) {
      if (!(error instanceof CodecError)) {
        violations.push(
          `${d.name} threw ${
            error instanceof Error
              ? `${error.name}: ${error.message}`
              : String(error)
          }`,
        );
      }
    }
  }
  return { bytes: body.length, decoded, violations };
}
