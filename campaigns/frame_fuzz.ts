/**
 * The frame fuzz: one seeded stream of OpenD packets (plaintext, FTAES_ECB,
 * AES_ECB, AES_CBC, or an RSA InitConnect whose answer switches the keys
 * mid-stream), perhaps corrupted, decoded under several chunkings, and
 * checked against the decoder's promises.
 * @module
 */
import {
  CodecError,
  createAesCipher,
  decodeResponse,
  encodeHeader,
  FrameDecoder,
  type FrameResult,
  HEADER_SIZE,
  PacketCrypto,
  PacketEncAlgo,
  ProtoId,
  RsaKey,
  sha1,
  SYSTEM_PROTO_IDS,
} from "../codec/mod.ts";
import { Rng } from "./_rng.ts";
import { SeededRsa } from "./_seeded_rsa.ts";
import { FUZZ_RSA_PEM } from "./_fuzz_key.ts";
import {
  fieldsOf,
  generateFields,
  SHAPES,
  toJson,
  toProtobuf,
} from "./_message_shapes.ts";

/** How the bodies of a stream are protected. */
export type StreamMode = "plain" | "FTAES_ECB" | "AES_ECB" | "AES_CBC" | "RSA";

/** Every stream mode, in the order the generator draws from. */
export const STREAM_MODES: readonly StreamMode[] = [
  "plain",
  "FTAES_ECB",
  "AES_ECB",
  "AES_CBC",
  "RSA",
];

/** One packet as generated, with its plaintext body. */
interface Sent {
  protoId: number;
  protoFmt: number;
  serialNo: number;
  body: Uint8Array;
  offset: number;
  end: number;
}

/** What {@link fuzzFrameStream} found. */
export interface FrameStreamOutcome {
  /** The stream's mode. */
  readonly mode: StreamMode;
  /** Bytes in the stream. */
  readonly bytes: number;
  /** Chunks pushed, over every chunking. */
  readonly chunks: number;
  /** Packets generated. */
  readonly packets: number;
  /** How the stream was corrupted, if it was. */
  readonly mutation: string | undefined;
  /** Broken promises (empty: the stream passed). */
  readonly violations: readonly string[];
}

const rsaEncrypter = new SeededRsa(FUZZ_RSA_PEM);
const rsaKey = RsaKey.fromPem(FUZZ_RSA_PEM);
const KEY_CHARS =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PROTO_IDS = [1001, 1002, 1003, 1004, 1005, 1006, 2208, 3005, 3019];

function keyText(rng: Rng): string {
  let s = "";
  for (let i = 0; i < 16; i++) s += rng.pick([...KEY_CHARS]);
  return s;
}

function aesAlgo(mode: StreamMode): 0 | 1 | 2 {
  return mode === "AES_ECB"
    ? PacketEncAlgo.AES_ECB
    : mode === "AES_CBC"
    ? PacketEncAlgo.AES_CBC
    : PacketEncAlgo.FTAES_ECB;
}

function body(rng: Rng, protoId: number, fmt: number): Uint8Array {
  const shape = SHAPES[`${protoId} response`] ?? SHAPES[`${protoId} request`];
  if (shape !== undefined && rng.chance(0.5)) {
    const fields = generateFields(rng, shape);
    return fmt === 1 ? toJson(fields) : toProtobuf(fields);
  }
  // Mostly small; sometimes past a socket read's 64 KiB.
  return rng.bytes(
    rng.chance(0.02) ? rng.int(60_000, 140_000) : rng.size(2048),
  );
}

/** The stream, as bytes, and the packets in it. */
function generate(rng: Rng): {
  mode: StreamMode;
  bytes: Uint8Array;
  sent: Sent[];
  maxBodyBytes: number;
  maxSystemBodyBytes: number;
  key: { text: string; iv: string | undefined } | undefined;
} {
  const mode = rng.pick(STREAM_MODES);
  // Every generated body fits each limit; only lies exceed them.
  const maxBodyBytes = rng.pick([64 * 1024 * 1024, 1 << 20, 200_000]);
  const maxSystemBodyBytes = rng.pick([8192, 65_536]);
  const parts: Uint8Array[] = [];
  const sent: Sent[] = [];
  let offset = 0;
  let key: { text: string; iv: string | undefined } | undefined;
  let aes = mode === "plain" || mode === "RSA" ? undefined : createAesCipher({
    algo: aesAlgo(mode),
    key: (key = { text: keyText(rng), iv: keyText(rng) }).text,
    iv: key.iv,
  });
  const add = (protoId: number, protoFmt: number, plain: Uint8Array) => {
    // InitConnect bodies are RSA or plaintext, never AES (the SDKs' rule).
    const wire = protoId === ProtoId.InitConnect
      ? mode === "RSA" ? rsaEncrypter.encrypt(plain, rng) : plain
      : aes === undefined
      ? plain
      : aes.encrypt(plain);
    const header = encodeHeader({
      protoId,
      protoFmt,
      protoVer: 0,
      serialNo: rng.u32(),
      bodyLen: wire.length,
      sha1: sha1(plain),
    });
    const serialNo = new DataView(header.buffer, header.byteOffset).getUint32(
      8,
      true,
    );
    const end = offset + HEADER_SIZE + wire.length;
    sent.push({ protoId, protoFmt, serialNo, body: plain, offset, end });
    parts.push(header, wire);
    offset = end;
  };
  if (mode === "RSA") {
    // The InitConnect answer: after it, bodies are AES as it says.
    const fmt = rng.int(0, 1);
    key = {
      text: keyText(rng),
      iv: rng.chance(0.5) ? keyText(rng) : undefined,
    };
    const fields = fieldsOf(SHAPES["1001 response"], {
      retType: 0,
      s2c: {
        serverVer: 905,
        loginUserID: 10000001n,
        connID: BigInt(rng.u32()),
        connAESKey: key.text,
        keepAliveInterval: 10,
        aesCBCiv: key.iv,
      },
    });
    add(
      ProtoId.InitConnect,
      fmt,
      fmt === 1 ? toJson(fields) : toProtobuf(fields),
    );
    aes = createAesCipher({
      algo: key.iv === undefined
        ? PacketEncAlgo.FTAES_ECB
        : PacketEncAlgo.AES_CBC,
      key: key.text,
      iv: key.iv,
    });
  }
  const count = rng.int(mode === "RSA" ? 0 : 1, 8);
  for (let i = 0; i < count; i++) {
    const protoId = rng.chance(0.1) ? rng.u32() : rng.pick(PROTO_IDS);
    const fmt = rng.chance(0.05) ? rng.int(2, 255) : rng.int(0, 1);
    let plain = body(rng, protoId, fmt);
    // Real InitConnect bodies are small; a large RSA body measures RSA's
    // speed (about 0.3 ms per 128 bytes), not the decoder's.
    if (protoId === ProtoId.InitConnect && mode === "RSA") {
      plain = plain.subarray(0, 4096);
    }
    // System messages are small: the decoder holds them to a smaller limit
    // (room left for AES padding and RSA's 100-in-128 growth).
    if (SYSTEM_PROTO_IDS.includes(protoId)) {
      plain = plain.subarray(0, Math.floor((maxSystemBodyBytes - 32) * 0.78));
    }
    add(protoId, fmt, plain);
  }
  const bytes = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { mode, bytes, sent, maxBodyBytes, maxSystemBodyBytes, key };
}

/** Corrupts the stream (or not); returns the first changed offset. */
function mutate(
  rng: Rng,
  bytes: Uint8Array,
  sent: Sent[],
  maxBodyBytes: number,
): { bytes: Uint8Array; at: number | undefined; what: string | undefined } {
  if (bytes.length === 0 || rng.chance(0.35)) {
    return { bytes, at: undefined, what: undefined };
  }
  const kind = rng.pick([
    "flip",
    "flips",
    "lie",
    "lie",
    "magic",
    "version",
    "insert",
    "delete",
    "truncate",
    "garbage",
  ]);
  const pos = rng.int(0, bytes.length - 1);
  const out = new Uint8Array(bytes);
  const write32 = (at: number, v: number) =>
    new DataView(out.buffer).setUint32(at, v >>> 0, true);
  switch (kind) {
    case "flip":
      out[pos] ^= 1 << rng.int(0, 7);
      return firstDiff(bytes, out, `bit flip at ${pos}`);
    case "flips": {
      for (let i = rng.int(2, 20); i > 0; i--) {
        out[rng.int(0, out.length - 1)] = rng.u32() & 0xff;
      }
      return firstDiff(bytes, out, "random bytes overwritten");
    }
    case "lie": {
      // A header whose bodyLen lies: larger, smaller, over the limit, huge.
      const p = rng.pick(sent);
      const lie = rng.pick([
        maxBodyBytes,
        maxBodyBytes + 1,
        0xffffffff,
        rng.int(0, 64),
        rng.int(1, maxBodyBytes),
        p.end - p.offset - HEADER_SIZE + rng.int(1, 100),
      ]);
      write32(p.offset + 12, lie);
      return firstDiff(bytes, out, `bodyLen ${lie} at ${p.offset}`);
    }
    case "magic": {
      const p = rng.pick(sent);
      out[p.offset + rng.int(0, 1)] ^= rng.int(1, 255);
      return firstDiff(bytes, out, `magic broken at ${p.offset}`);
    }
    case "version": {
      const p = rng.pick(sent);
      out[p.offset + 7] = rng.int(1, 255);
      return firstDiff(bytes, out, `protoVer at ${p.offset}`);
    }
    case "insert": {
      const extra = rng.bytes(rng.int(1, 64));
      const joined = new Uint8Array(bytes.length + extra.length);
      joined.set(bytes.subarray(0, pos));
      joined.set(extra, pos);
      joined.set(bytes.subarray(pos), pos + extra.length);
      return firstDiff(
        bytes,
        joined,
        `${extra.length} bytes inserted at ${pos}`,
      );
    }
    case "delete": {
      const n = rng.int(1, Math.min(64, bytes.length - pos));
      const cut = new Uint8Array(bytes.length - n);
      cut.set(bytes.subarray(0, pos));
      cut.set(bytes.subarray(pos + n), pos);
      return firstDiff(bytes, cut, `${n} bytes deleted at ${pos}`);
    }
    case "truncate":
      return {
        bytes: bytes.slice(0, pos),
        at: pos,
        what: `truncated at ${pos}`,
      };
    default: {
      const tail = rng.bytes(rng.int(1, 200));
      const joined = new Uint8Array(bytes.length + tail.length);
      joined.set(bytes);
      joined.set(tail, bytes.length);
      return {
        bytes: joined,
        at: bytes.length,
        what: `${tail.length} garbage bytes appended`,
      };
    }
  }
}

function firstDiff(
  a: Uint8Array,
  b: Uint8Array,
  what: string,
): { bytes: Uint8Array; at: number | undefined; what: string } {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  // A change that changed nothing (same byte written back) corrupts nothing.
  return {
    bytes: b,
    at: i === n && a.length === b.length ? undefined : i,
    what,
  };
}

/** Chunk sizes: the whole stream, small random, larger random, single bytes. */
function chunkings(rng: Rng, length: number): (() => number)[] {
  const plans: (() => number)[] = [
    () => length,
    () => 1 + rng.size(64),
    () => rng.int(1, 4096),
  ];
  if (length <= 4096) plans.push(() => 1);
  return plans;
}

interface Decoded {
  summary: string[];
  bodies: (Uint8Array | undefined)[];
  chunks: number;
  violations: string[];
}

function hex(bytes: Uint8Array): string {
  return Array.from(sha1(bytes), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

/** Decodes `bytes` in chunks of `nextSize()`, learning keys as a client does. */
function decodeAll(
  bytes: Uint8Array,
  mode: StreamMode,
  key: { text: string; iv: string | undefined } | undefined,
  maxBodyBytes: number,
  maxSystemBodyBytes: number,
  nextSize: () => number,
): Decoded {
  const crypto = new PacketCrypto(
    mode === "RSA" ? { rsa: rsaKey } : mode === "plain" ? {} : {
      aes: createAesCipher({
        algo: aesAlgo(mode),
        key: key!.text,
        iv: key!.iv,
      }),
    },
  );
  const decoder = new FrameDecoder({
    crypto,
    maxBodyBytes,
    maxSystemBodyBytes,
  });
  const out: Decoded = { summary: [], bodies: [], chunks: 0, violations: [] };
  const onResult = (r: FrameResult) => {
    if (!r.ok) {
      if (!(r.error instanceof CodecError)) {
        out.violations.push(`a result error is not a CodecError: ${r.error}`);
      }
      const e = r.error;
      out.summary.push(`E ${e.code} @${e.offset} ${e.protoId} ${e.serialNo}`);
      out.bodies.push(undefined);
      return;
    }
    const p = r.packet;
    out.summary.push(
      `P ${p.protoId} ${p.protoFmt} ${p.serialNo} @${p.offset} ${p.body.length} ${
        hex(p.body)
      }`,
    );
    out.bodies.push(p.body.slice());
    if (mode === "RSA" && p.protoId === ProtoId.InitConnect && !crypto.hasAes) {
      try {
        const s2c = decodeResponse(ProtoId.InitConnect, p.body, p.protoFmt).s2c;
        if (s2c?.connAESKey !== undefined) {
          crypto.setAes(createAesCipher({
            algo: s2c.aesCBCiv
              ? PacketEncAlgo.AES_CBC
              : PacketEncAlgo.FTAES_ECB,
            key: s2c.connAESKey,
            iv: s2c.aesCBCiv || undefined,
          }));
        }
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        out.summary.push(`K ${error.code}`);
        out.bodies.push(undefined);
      }
    }
  };
  try {
    for (let at = 0; at < bytes.length;) {
      const n = Math.max(1, nextSize());
      // A copy, as a socket hands over fresh buffers.
      decoder.pushEach(bytes.slice(at, at + n), onResult);
      out.chunks++;
      at += n;
      if (decoder.bufferedBytes > HEADER_SIZE + maxBodyBytes) {
        out.violations.push(
          `buffers ${decoder.bufferedBytes} bytes, over 44 + maxBodyBytes (${maxBodyBytes})`,
        );
        break;
      }
    }
    const end = decoder.finish();
    if (end !== undefined) {
      if (!(end instanceof CodecError)) {
        out.violations.push(`finish() returned a non-CodecError`);
      }
      out.summary.push(`F ${end.code} @${end.offset}`);
      out.bodies.push(undefined);
    }
  } catch (error) {
    out.violations.push(
      `threw ${error instanceof Error ? error.name : typeof error}${
        error instanceof CodecError ? "" : " (not a CodecError)"
      }: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return out;
}

/**
 * Generates stream `index` of campaign `seed`, decodes it under every
 * chunking and checks: only CodecError; never more than 44 bytes plus
 * maxBodyBytes buffered; the same results whatever the chunking; every
 * packet wholly before the first corrupted byte delivered once, intact, in
 * order, before anything else; an intact stream delivered whole.
 *
 * @example
 * ```ts
 * import { fuzzFrameStream } from "./frame_fuzz.ts";
 * fuzzFrameStream(1, 0).violations; // []
 * ```
 */
export function fuzzFrameStream(
  seed: number,
  index: number,
): FrameStreamOutcome {
  const rng = new Rng(seed, index);
  const { mode, bytes: clean, sent, maxBodyBytes, maxSystemBodyBytes, key } =
    generate(rng);
  const { bytes, at, what } = mutate(rng, clean, sent, maxBodyBytes);
  const violations: string[] = [];
  let chunks = 0;
  let reference: Decoded | undefined;
  for (const plan of chunkings(rng, bytes.length)) {
    const decoded = decodeAll(
      bytes,
      mode,
      key,
      maxBodyBytes,
      maxSystemBodyBytes,
      plan,
    );
    chunks += decoded.chunks;
    violations.push(...decoded.violations);
    if (reference === undefined) {
      reference = decoded;
      continue;
    }
    const a = reference.summary.join("\n");
    const b = decoded.summary.join("\n");
    if (a !== b) {
      const i = reference.summary.findIndex((s, k) => s !== decoded.summary[k]);
      violations.push(
        `chunking changed the results at result ${i}: ${
          reference.summary[i] ?? "(none)"
        } vs ${decoded.summary[i] ?? "(none)"}`,
      );
    }
  }
  if (reference !== undefined) {
    const intact = sent.filter((p) => at === undefined || p.end <= at);
    intact.forEach((p, i) => {
      const got = reference!.summary[i];
      const want =
        `P ${p.protoId} ${p.protoFmt} ${p.serialNo} @${p.offset} ${p.body.length} `;
      if (got === undefined || !got.startsWith(want)) {
        violations.push(
          `packet ${i} (before the first corruption) not delivered intact: ${
            got ?? "missing"
          }`,
        );
      } else if (!sameBytes(reference!.bodies[i] ?? new Uint8Array(), p.body)) {
        violations.push(`packet ${i}'s body differs from what was sent`);
      }
    });
    if (at === undefined && reference.summary.length !== sent.length) {
      violations.push(
        `intact stream of ${sent.length} packets gave ${reference.summary.length} results`,
      );
    }
  }
  return {
    mode,
    bytes: bytes.length,
    chunks,
    packets: sent.length,
    mutation: what,
    violations: [...new Set(violations)],
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
