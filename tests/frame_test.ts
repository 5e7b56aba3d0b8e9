import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv } from "node:crypto";
import type { BodyCipher } from "../codec/body_cipher.ts";
import { CodecError } from "../codec/codec_error.ts";
import {
  decodeHeader,
  encodeHeader,
  HEADER_SIZE,
  writeHeader,
} from "../codec/header.ts";
import { FrameDecoder, type FrameResult } from "../codec/frame_decoder.ts";
import {
  type DecodedPacket,
  encodePacket,
  type Packet,
  sha1,
} from "../codec/packet.ts";
import { PacketCrypto } from "../codec/packet_crypto.ts";

// ---------------------------------------------------------------- helpers

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16),
  );
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Fake cipher: a marker byte then XOR, so the wire length differs from the plaintext's. */
function xorCipher(key: number, marker = 0xa5): BodyCipher {
  return {
    encrypt: (plain) =>
      concat(Uint8Array.of(marker), plain.map((b) => b ^ key)),
    decrypt: (enc) => {
      if (enc.length === 0 || enc[0] !== marker) {
        throw new CodecError("DECRYPT_FAILED", "bad marker");
      }
      return enc.subarray(1).map((b) => b ^ key);
    },
  };
}

/** Real AES-128-CBC with PKCS#7, a fresh cipher per body (as the SDKs do). */
function aesCbc(key: Uint8Array, iv: Uint8Array): BodyCipher {
  return {
    encrypt(plain) {
      const c = createCipheriv("aes-128-cbc", key, iv);
      return Buffer.concat([c.update(plain), c.final()]);
    },
    decrypt(enc) {
      const d = createDecipheriv("aes-128-cbc", key, iv);
      return Buffer.concat([d.update(enc), d.final()]);
    },
  };
}

function decodeAll(
  stream: Uint8Array,
  options: ConstructorParameters<typeof FrameDecoder>[0] = {},
): FrameResult[] {
  return new FrameDecoder(options).push(stream);
}

function packetsOf(results: FrameResult[]): DecodedPacket[] {
  return results.map((r) => {
    if (!r.ok) throw new Error(`unexpected ${r.error.code}`);
    return r.packet;
  });
}

function errorOf(result: FrameResult | undefined): CodecError {
  assert(result !== undefined, "expected a result");
  assert(!result.ok, "expected an error result");
  assertInstanceOf(result.error, CodecError);
  return result.error;
}

function feedBytewise(
  decoder: FrameDecoder,
  stream: Uint8Array,
): FrameResult[] {
  const out: FrameResult[] = [];
  for (let i = 0; i < stream.length; i++) {
    out.push(...decoder.push(stream.subarray(i, i + 1)));
  }
  return out;
}

function splitAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))]
    .sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    chunks.push(stream.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

/** Three empty-body packets: 132 bytes, so whatever follows starts at byte 132. */
function prefix132(): Uint8Array {
  const p = [1, 2, 3].map((serialNo) =>
    encodePacket({ protoId: 1004, serialNo, body: new Uint8Array() })
  );
  const out = concat(...p);
  assertEquals(out.length, 132);
  return out;
}

// A header written out byte by byte, independent of encodeHeader.
const HEADER_VECTOR = Uint8Array.from([
  0x46,
  0x54, // "FT"
  0xeb,
  0x03,
  0x00,
  0x00, // protoID 1003
  0x01, // protoFmt: JSON
  0x00, // protoVer
  0x78,
  0x56,
  0x34,
  0x12, // serialNo 0x12345678
  0x27,
  0x00,
  0x00,
  0x00, // bodyLen 39
  ...Array.from({ length: 20 }, (_, i) => i), // SHA-1 field: 00 01 .. 13
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0, // reserved
]);

// ---------------------------------------------------------------- header

Deno.test("header: vector built byte by byte", () => {
  assertEquals(HEADER_VECTOR.length, HEADER_SIZE);
  const fields = {
    protoId: 1003,
    protoFmt: 1,
    protoVer: 0,
    serialNo: 0x12345678,
    bodyLen: 39,
    sha1: Uint8Array.from({ length: 20 }, (_, i) => i),
  };
  assertEquals(encodeHeader(fields), HEADER_VECTOR);
  assertEquals(decodeHeader(HEADER_VECTOR), fields);
  // At an offset inside a larger buffer, with junk around it.
  const framed = concat(hex("ffff ff"), HEADER_VECTOR, hex("ee"));
  assertEquals(decodeHeader(framed, 3), fields);
});

Deno.test("header: large u32 values are unsigned", () => {
  const bytes = hex(`4654 ffffffff 00 00 feffffff 00000080 ${"00".repeat(28)}`);
  const h = decodeHeader(bytes);
  assertEquals([h.protoId, h.serialNo, h.bodyLen], [
    0xffffffff,
    0xfffffffe,
    0x80000000,
  ]);
  assertEquals(encodeHeader(h), bytes);
});

Deno.test("header: reserved bytes are ignored when read and zeroed when written", () => {
  const dirty = HEADER_VECTOR.slice();
  dirty.fill(0x99, 36);
  assertEquals(decodeHeader(dirty).serialNo, 0x12345678);
  const target = new Uint8Array(50).fill(0x77);
  writeHeader(target, 3, decodeHeader(dirty));
  assertEquals(target.subarray(3, 47), HEADER_VECTOR);
  assertEquals(target[2], 0x77);
  assertEquals(target[47], 0x77);
});

Deno.test("header: decodeHeader errors", () => {
  const badMagic = HEADER_VECTOR.slice();
  badMagic[1] = 0x55;
  let e = assertThrows(() => decodeHeader(badMagic), CodecError);
  assertEquals([e.code, e.offset], ["BAD_MAGIC", 0]);

  const v1 = concat(new Uint8Array(5), HEADER_VECTOR);
  v1[5 + 7] = 1;
  e = assertThrows(() => decodeHeader(v1, 5), CodecError);
  assertEquals(
    [e.code, e.offset, e.protoId, e.serialNo],
    ["UNSUPPORTED_VERSION", 5, 1003, 0x12345678],
  );

  e = assertThrows(
    () => decodeHeader(HEADER_VECTOR.subarray(0, 43)),
    CodecError,
  );
  assertEquals([e.code, e.offset], ["TRUNCATED", 0]);
});

Deno.test("header: encodeHeader rejects out-of-range fields", () => {
  const ok = decodeHeader(HEADER_VECTOR);
  for (
    const bad of [
      { protoId: -1 },
      { protoId: 2 ** 32 },
      { protoId: 1.5 },
      { protoFmt: 256 },
      { protoVer: -1 },
      { serialNo: NaN },
      { bodyLen: 2 ** 32 },
      { sha1: new Uint8Array(19) },
    ]
  ) {
    const e = assertThrows(() => encodeHeader({ ...ok, ...bad }), CodecError);
    assertEquals(e.code, "INVALID_MESSAGE", JSON.stringify(Object.keys(bad)));
  }
});

// ---------------------------------------------------------------- packet

Deno.test("packet: encodePacket vector built byte by byte", () => {
  const expected = hex(`
    4654 ec030000 00 00 07000000 03000000
    a9993e364706816aba3e25717850c26c9cd0d89d
    0000000000000000
    616263
  `); // KeepAlive (1004), serialNo 7, body "abc", SHA-1("abc")
  assertEquals(
    encodePacket({ protoId: 1004, serialNo: 7, body: utf8("abc") }),
    expected,
  );
  const [p] = packetsOf(decodeAll(expected));
  assertEquals(p, {
    protoId: 1004,
    protoFmt: 0,
    serialNo: 7,
    body: utf8("abc"),
    offset: 0,
    bodyLen: 3,
    sha1: hex("a9993e364706816aba3e25717850c26c9cd0d89d"),
  });
});

Deno.test("packet: SHA-1 covers the plaintext, bodyLen the encrypted body", () => {
  const crypto = new PacketCrypto({ aes: xorCipher(0x3c) });
  const body = utf8("hello");
  const bytes = encodePacket(
    { protoId: 1003, protoFmt: 1, serialNo: 2, body },
    crypto,
  );
  const h = decodeHeader(bytes);
  assertEquals(h.bodyLen, 6);
  assertEquals(h.sha1, sha1(body));
  assertEquals(h.protoFmt, 1);
  assertEquals(bytes.subarray(HEADER_SIZE), xorCipher(0x3c).encrypt(body));
  assertEquals(
    sha1(new Uint8Array()),
    hex("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
  );
});

// ---------------------------------------------------------------- crypto

Deno.test("crypto: RSA only for InitConnect, AES for the rest, else plaintext", () => {
  const rsa = xorCipher(0x11, 0xaa);
  const aes = xorCipher(0x22, 0xbb);
  const body = utf8("body");
  const which = (c: PacketCrypto, protoId: number) => {
    const enc = c.encryptBody(protoId, body);
    assertEquals(c.decryptBody(protoId, enc), body);
    return enc === body ? "plain" : enc[0] === 0xaa ? "rsa" : "aes";
  };
  const cases: [PacketCrypto, number, string][] = [
    [new PacketCrypto(), 1001, "plain"],
    [new PacketCrypto(), 1003, "plain"],
    [new PacketCrypto({ rsa }), 1001, "rsa"],
    [new PacketCrypto({ rsa }), 1003, "plain"],
    [new PacketCrypto({ aes }), 1001, "plain"],
    [new PacketCrypto({ aes }), 3005, "aes"],
    [new PacketCrypto({ rsa, aes }), 1001, "rsa"],
    [new PacketCrypto({ rsa, aes }), 1004, "aes"],
  ];
  for (const [c, protoId, expected] of cases) {
    assertEquals(which(c, protoId), expected, `${c} ${protoId}`);
  }
  const c = new PacketCrypto({ rsa });
  c.setAes(aes);
  assertEquals(which(c, 1002), "aes");
  c.setAes(undefined);
  assertEquals(which(c, 1002), "plain");
  assertEquals([c.hasRsa, c.hasAes], [true, false]);
});

Deno.test("crypto: keys never shown by JSON, toString or inspect", () => {
  const secret = "0123456789abcdef";
  const leaky = { secret, ...xorCipher(1) };
  const c = new PacketCrypto({ rsa: leaky, aes: leaky });
  for (
    const text of [
      JSON.stringify(c),
      String(c),
      Deno.inspect(c),
      Deno.inspect({ nested: c }, { depth: 10 }),
    ]
  ) {
    assert(!text.includes(secret), text);
    assertStringIncludes(text, "true");
  }
  assertEquals(JSON.parse(JSON.stringify(c)), { rsa: true, aes: true });
});

Deno.test("crypto: cipher failures become CodecErrors with the protoId", () => {
  const throwing: BodyCipher = {
    encrypt: () => {
      throw new Error("boom");
    },
    decrypt: () => {
      throw new CodecError("INVALID_KEY", "bad key");
    },
  };
  const c = new PacketCrypto({ aes: throwing });
  let e = assertThrows(
    () => c.encryptBody(1003, new Uint8Array(1)),
    CodecError,
  );
  assertEquals([e.code, e.protoId], ["ENCRYPT_FAILED", 1003]);
  e = assertThrows(() => c.decryptBody(1003, new Uint8Array(1)), CodecError);
  assertEquals([e.code, e.protoId], ["INVALID_KEY", 1003]);
  const notBytes = {
    encrypt: () => "x",
    decrypt: () => "x",
  } as unknown as BodyCipher;
  e = assertThrows(
    () =>
      new PacketCrypto({ aes: notBytes }).decryptBody(3005, new Uint8Array(1)),
    CodecError,
  );
  assertEquals(e.code, "DECRYPT_FAILED");
  e = assertThrows(
    () =>
      encodePacket({ protoId: 1003, serialNo: 1, body: new Uint8Array(1) }, c),
    CodecError,
  );
  assertEquals(e.code, "ENCRYPT_FAILED");
});

Deno.test("crypto: real AES-128-CBC through node:crypto", () => {
  const key = utf8("0123456789abcdef");
  const iv = utf8("fedcba9876543210");
  const crypto = new PacketCrypto({ aes: aesCbc(key, iv) });
  const bodies = [0, 1, 15, 16, 17, 39, 1000].map((n) =>
    Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff)
  );
  const stream = concat(
    ...bodies.map((body, serialNo) =>
      encodePacket({ protoId: 1003, serialNo, body }, crypto)
    ),
  );
  const packets = packetsOf(new FrameDecoder({ crypto }).push(stream));
  assertEquals(packets.map((p) => p.body), bodies);
  // PKCS#7 always pads, a whole block when the length is a multiple of 16.
  assertEquals(packets.map((p) => p.bodyLen), [16, 16, 16, 32, 32, 48, 1008]);
  for (const p of packets) assertStrictEquals(p.body.constructor, Uint8Array);

  // The wrong key: a packet error, not a crash, and the next packet still decodes.
  const other = new PacketCrypto({ aes: aesCbc(utf8("another-key-0000"), iv) });
  const mixed = concat(
    encodePacket(
      { protoId: 1003, serialNo: 1, body: utf8("x".repeat(40)) },
      other,
    ),
    encodePacket({ protoId: 1003, serialNo: 2, body: utf8("ok") }, crypto),
  );
  const [bad, good] = new FrameDecoder({ crypto }).push(mixed);
  const e = errorOf(bad);
  assert(e.code === "DECRYPT_FAILED" || e.code === "SHA1_MISMATCH", e.code);
  assertEquals([e.offset, e.protoId, e.serialNo], [0, 1003, 1]);
  assert(good.ok);
  assertEquals(good.packet.body, utf8("ok"));
});

// ---------------------------------------------------------------- decoder

Deno.test("decoder: many packets in one chunk, one byte at a time, offsets", () => {
  const a = encodePacket({ protoId: 1003, serialNo: 1, body: utf8("notify") });
  const b = encodePacket({
    protoId: 65535,
    protoFmt: 1,
    serialNo: 2,
    body: new Uint8Array(),
  });
  const c = encodePacket({
    protoId: 3005,
    serialNo: 3,
    body: new Uint8Array(300).fill(9),
  });
  const stream = concat(a, b, c);
  const whole = packetsOf(decodeAll(stream));
  assertEquals(whole.map((p) => [p.protoId, p.serialNo, p.offset, p.bodyLen]), [
    [1003, 1, 0, 6],
    [65535, 2, 50, 0],
    [3005, 3, 94, 300],
  ]);
  const decoder = new FrameDecoder();
  const bytewise = packetsOf(feedBytewise(decoder, stream));
  assertEquals(bytewise, whole);
  assertEquals(decoder.offset, stream.length);
  assertEquals(decoder.bufferedBytes, 0);
  assertEquals(decoder.finish(), undefined);
});

Deno.test("decoder: offset counts consumed packets only", () => {
  const p = encodePacket({
    protoId: 1004,
    serialNo: 1,
    body: new Uint8Array(10),
  });
  const d = new FrameDecoder();
  assertEquals(d.push(p.subarray(0, 50)), []);
  assertEquals([d.offset, d.bufferedBytes], [0, 50]);
  assertEquals(d.push(concat(p.subarray(50), p.subarray(0, 3))).length, 1);
  assertEquals([d.offset, d.bufferedBytes], [54, 3]);
});

Deno.test("decoder: BAD_MAGIC at offset 132, reported once, then the decoder stays failed", () => {
  const stream = concat(prefix132(), utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const d = new FrameDecoder();
  const results = d.push(stream);
  assertEquals(results.length, 4);
  assertEquals(packetsOf(results.slice(0, 3)).map((p) => p.offset), [
    0,
    44,
    88,
  ]);
  const e = errorOf(results[3]);
  assertEquals([e.code, e.offset, e.protoId, e.serialNo], [
    "BAD_MAGIC",
    132,
    undefined,
    undefined,
  ]);
  assertStrictEquals(d.fatalError, e);
  // The documented failed state: bytes ignored, [] returned, offset at the bad header.
  assertEquals(
    d.push(
      encodePacket({ protoId: 1004, serialNo: 9, body: new Uint8Array() }),
    ),
    [],
  );
  assertEquals(d.push(new Uint8Array(0)), []);
  assertEquals([d.offset, d.bufferedBytes, d.finish()], [132, 0, undefined]);
  let called = 0;
  d.pushEach(prefix132(), () => called++);
  assertEquals(called, 0);
  // reset(): a new stream from offset 0.
  d.reset();
  assertEquals([d.offset, d.fatalError], [0, undefined]);
  assertEquals(packetsOf(d.push(prefix132())).map((p) => p.serialNo), [
    1,
    2,
    3,
  ]);
});

Deno.test("decoder: BAD_MAGIC is detected from the first byte", () => {
  const d = new FrameDecoder();
  const e = errorOf(d.push(utf8("h"))[0]);
  assertEquals([e.code, e.offset], ["BAD_MAGIC", 0]);
  const d2 = new FrameDecoder();
  d2.push(prefix132());
  assertEquals(d2.push(utf8("F")), []);
  const e2 = errorOf(d2.push(utf8("X"))[0]);
  assertEquals([e2.code, e2.offset], ["BAD_MAGIC", 132]);
});

Deno.test("decoder: UNSUPPORTED_VERSION at offset 132 with protoId and serialNo", () => {
  const bad = encodePacket({ protoId: 1002, serialNo: 77, body: utf8("x") });
  bad[7] = 1;
  for (const feed of ["whole", "bytewise"]) {
    const d = new FrameDecoder();
    const stream = concat(prefix132(), bad, prefix132());
    const results = feed === "whole" ? d.push(stream) : feedBytewise(d, stream);
    assertEquals(results.length, 4, feed);
    const e = errorOf(results[3]);
    assertEquals(
      [e.code, e.offset, e.protoId, e.serialNo],
      ["UNSUPPORTED_VERSION", 132, 1002, 77],
      feed,
    );
    assertEquals(d.offset, 132);
  }
});

Deno.test("decoder: a 4 GiB bodyLen is rejected as soon as its header is in", () => {
  const header = encodeHeader({
    protoId: 3005,
    protoFmt: 0,
    protoVer: 0,
    serialNo: 5,
    bodyLen: 0xffffffff,
    sha1: new Uint8Array(20),
  });
  // Exactly the header, nothing else: no waiting for (or allocating) a body.
  const d = new FrameDecoder();
  const [first, ...rest] = d.push(concat(prefix132(), header)).slice(3);
  const e = errorOf(first);
  assertEquals(rest, []);
  assertEquals(
    [e.code, e.offset, e.protoId, e.serialNo],
    ["BODY_TOO_LARGE", 132, 3005, 5],
  );
  assertEquals(d.bufferedBytes, 0);
  // Even before the SHA-1 and reserved bytes arrive: bodyLen ends at byte 16.
  const early = new FrameDecoder();
  assertEquals(early.push(header.subarray(0, 15)), []);
  assertEquals(
    errorOf(early.push(header.subarray(15, 16))[0]).code,
    "BODY_TOO_LARGE",
  );
});

Deno.test("decoder: maxBodyBytes is inclusive", () => {
  const at = encodePacket({
    protoId: 1003,
    serialNo: 1,
    body: new Uint8Array(100),
  });
  const over = encodePacket({
    protoId: 1003,
    serialNo: 2,
    body: new Uint8Array(101),
  });
  const results = decodeAll(concat(at, over), { maxBodyBytes: 100 });
  assert(results[0].ok);
  const e = errorOf(results[1]);
  assertEquals([e.code, e.offset, e.serialNo], ["BODY_TOO_LARGE", 144, 2]);
  assertThrows(() => new FrameDecoder({ maxBodyBytes: -1 }), RangeError);
  assertThrows(() => new FrameDecoder({ maxBodyBytes: 1.5 }), RangeError);
});

Deno.test("decoder: SHA1_MISMATCH at offset 132, the next packet still decodes", () => {
  const bad = encodePacket({
    protoId: 1003,
    serialNo: 41,
    body: utf8("tampered"),
  });
  bad[HEADER_SIZE] ^= 1;
  const next = encodePacket({
    protoId: 1003,
    serialNo: 42,
    body: utf8("fine"),
  });
  const stream = concat(prefix132(), bad, next);
  for (
    const results of [
      decodeAll(stream),
      feedBytewise(new FrameDecoder(), stream),
    ]
  ) {
    assertEquals(results.length, 5);
    const e = errorOf(results[3]);
    assertEquals(
      [e.code, e.offset, e.protoId, e.serialNo],
      ["SHA1_MISMATCH", 132, 1003, 41],
    );
    assert(results[4].ok);
    assertEquals([results[4].packet.serialNo, results[4].packet.offset], [
      42,
      184,
    ]);
  }
  // verifySha1: false lets the altered body through.
  const [, , , unchecked] = decodeAll(stream, { verifySha1: false });
  assert(unchecked.ok);
  assertEquals(unchecked.packet.body[0], "t".charCodeAt(0) ^ 1);
});

Deno.test("decoder: DECRYPT_FAILED at offset 132, the next packet still decodes", () => {
  const crypto = new PacketCrypto({ aes: xorCipher(0x42) });
  const plain = new PacketCrypto();
  const encrypted = concat(
    ...[1, 2, 3].map((serialNo) =>
      encodePacket({ protoId: 1004, serialNo, body: new Uint8Array() }, crypto)
    ),
  );
  assertEquals(encrypted.length, 135); // 1 marker byte each
  const unencrypted = encodePacket({
    protoId: 1005,
    serialNo: 8,
    body: utf8("no marker"),
  }, plain);
  const after = encodePacket(
    { protoId: 1005, serialNo: 9, body: utf8("ok") },
    crypto,
  );
  const results = new FrameDecoder({ crypto }).push(
    concat(encrypted, unencrypted, after),
  );
  assertEquals(results.length, 5);
  const e = errorOf(results[3]);
  assertEquals(
    [e.code, e.offset, e.protoId, e.serialNo],
    ["DECRYPT_FAILED", 135, 1005, 8],
  );
  assertInstanceOf(e.cause, CodecError);
  assert(results[4].ok);
  assertEquals(results[4].packet.body, utf8("ok"));

  // A cipher that throws something other than a CodecError.
  const weird = new PacketCrypto({
    aes: {
      encrypt: (b) => b,
      decrypt: () => {
        throw "not an Error";
      },
    },
  });
  const e2 = errorOf(
    new FrameDecoder({ crypto: weird }).push(
      concat(prefix132(), unencrypted),
    )[3],
  );
  assertEquals([e2.code, e2.offset, e2.serialNo], ["DECRYPT_FAILED", 132, 8]);
});

Deno.test("decoder: TRUNCATED from finish() with the offset of the unfinished packet", () => {
  const last = encodePacket({
    protoId: 1006,
    serialNo: 12,
    body: utf8("code"),
  });
  // Inside the body: the header's IDs are known.
  const d = new FrameDecoder();
  assertEquals(d.push(concat(prefix132(), last.subarray(0, 46))).length, 3);
  let e = d.finish();
  assertInstanceOf(e, CodecError);
  assertEquals([e.code, e.offset, e.protoId, e.serialNo], [
    "TRUNCATED",
    132,
    1006,
    12,
  ]);
  assertEquals(d.finish()?.code, "TRUNCATED"); // finish() changes nothing
  // Inside the header.
  const h = new FrameDecoder();
  h.push(concat(prefix132(), last.subarray(0, 20)));
  e = h.finish();
  assertInstanceOf(e, CodecError);
  assertEquals([e.code, e.offset, e.protoId], ["TRUNCATED", 132, undefined]);
  // Completing the packet clears it.
  h.push(last.subarray(20));
  assertEquals(h.finish(), undefined);
});

Deno.test("decoder: bodies are never overwritten; Buffer chunks give Uint8Array bodies", () => {
  const a = encodePacket({
    protoId: 1003,
    serialNo: 1,
    body: utf8("first body"),
  });
  const b = encodePacket({
    protoId: 1003,
    serialNo: 2,
    body: utf8("second body"),
  });
  const d = new FrameDecoder();
  // `a` split across chunks (copied out), `b` inside one chunk (a view).
  const [pa] = packetsOf(d.push(Buffer.from(a.subarray(0, 50))));
  assertEquals(pa, undefined);
  const got = packetsOf(d.push(Buffer.from(concat(a.subarray(50), b))));
  for (let i = 0; i < 50; i++) {
    d.push(
      encodePacket({
        protoId: 1,
        serialNo: i,
        body: new Uint8Array(64).fill(i),
      }),
    );
  }
  assertEquals(got.map((p) => new TextDecoder().decode(p.body)), [
    "first body",
    "second body",
  ]);
  for (const p of got) {
    assertStrictEquals(p.body.constructor, Uint8Array);
    assertStrictEquals(p.sha1.constructor, Uint8Array);
  }
});

Deno.test("decoder: pushEach resumes after a throwing callback", () => {
  const stream = prefix132();
  const d = new FrameDecoder();
  const seen: number[] = [];
  assertThrows(() =>
    d.pushEach(stream, (r) => {
      assert(r.ok);
      seen.push(r.packet.serialNo);
      if (r.packet.serialNo === 1) throw new Error("handler bug");
    })
  );
  assertEquals([seen, d.offset, d.bufferedBytes], [[1], 44, 88]);
  assertEquals(packetsOf(d.push(new Uint8Array())).map((p) => p.serialNo), [
    2,
    3,
  ]);
});

// ---------------------------------------------------------------- key change

const AES_KEY = utf8("conn-aes-key-016");
const AES_IV = utf8("conn-aes-iv-0016");

/** What a server sends: InitConnect response (RSA or plain), then AES packets. */
function handshakeStream(rsa?: BodyCipher): Uint8Array {
  const server = new PacketCrypto({ rsa });
  const init = encodePacket({
    protoId: 1001,
    serialNo: 100,
    body: concat(AES_KEY, AES_IV), // stands in for InitConnect.S2C
  }, server);
  server.setAes(aesCbc(AES_KEY, AES_IV));
  const after = [1003, 1004, 3005].map((protoId, i) =>
    encodePacket(
      { protoId, serialNo: 101 + i, body: utf8(`after ${protoId}`) },
      server,
    )
  );
  return concat(init, ...after);
}

function onInitConnect(crypto: PacketCrypto) {
  return (r: FrameResult) => {
    if (r.ok && r.packet.protoId === 1001) {
      const b = r.packet.body;
      crypto.setAes(aesCbc(b.subarray(0, 16), b.subarray(16, 32)));
    }
  };
}

Deno.test("key change: pushEach applies a key set by the callback to the next packet of the same chunk", () => {
  for (const rsa of [undefined, xorCipher(0x77, 0x99)]) {
    const stream = handshakeStream(rsa);
    const crypto = new PacketCrypto({ rsa });
    const results: FrameResult[] = [];
    const setKey = onInitConnect(crypto);
    new FrameDecoder({ crypto }).pushEach(stream, (r) => {
      results.push(r);
      setKey(r);
    });
    assertEquals(
      packetsOf(results).map((p) =>
        new TextDecoder().decode(p.body).slice(0, 9)
      ),
      ["conn-aes-", "after 100", "after 100", "after 300"],
    );
    assert(crypto.hasAes);
  }
});

Deno.test("key change: the same holds one byte at a time and for any chunking", () => {
  const stream = handshakeStream(xorCipher(0x77, 0x99));
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
      const crypto = new PacketCrypto({ rsa: xorCipher(0x77, 0x99) });
      const d = new FrameDecoder({ crypto });
      const results: FrameResult[] = [];
      const setKey = onInitConnect(crypto);
      for (const chunk of splitAt(stream, cuts)) {
        d.pushEach(chunk, (r) => {
          results.push(r);
          setKey(r);
        });
      }
      assertEquals(packetsOf(results).map((p) => p.serialNo), [
        100,
        101,
        102,
        103,
      ]);
    }),
    { numRuns: 100 },
  );
  const crypto = new PacketCrypto({ rsa: xorCipher(0x77, 0x99) });
  const d = new FrameDecoder({ crypto });
  const setKey = onInitConnect(crypto);
  const serials: number[] = [];
  for (let i = 0; i < stream.length; i++) {
    d.pushEach(stream.subarray(i, i + 1), (r) => {
      assert(r.ok);
      serials.push(r.packet.serialNo);
      setKey(r);
    });
  }
  assertEquals(serials, [100, 101, 102, 103]);
});

Deno.test("key change: push() decrypts the whole chunk first, as documented", () => {
  const stream = handshakeStream();
  const crypto = new PacketCrypto();
  const results = new FrameDecoder({ crypto }).push(stream);
  assert(results[0].ok);
  // No key yet while the chunk was decoded: the AES bodies fail their SHA-1.
  assertEquals(results.slice(1).map((r) => errorOf(r).code), [
    "SHA1_MISMATCH",
    "SHA1_MISMATCH",
    "SHA1_MISMATCH",
  ]);
});

// ---------------------------------------------------------------- properties

const protoIdArb = fc.oneof(
  fc.constantFrom(
    1001,
    1002,
    1003,
    1004,
    1005,
    1006,
    2208,
    3005,
    65535,
    0,
    0xffffffff,
  ),
  fc.nat({ max: 0xffffffff }),
);
const packetArb: fc.Arbitrary<Packet> = fc.record({
  protoId: protoIdArb,
  protoFmt: fc.constantFrom(0, 1),
  serialNo: fc.nat({ max: 0xffffffff }),
  // size "max" spreads lengths over the whole 0..2000 range, not just small ones.
  body: fc.oneof(
    fc.uint8Array({ maxLength: 2000 }),
    fc.uint8Array({ maxLength: 2000, size: "max" }),
  ),
}).map((p) => ({ ...p })); // a plain prototype, for deep equality
const cryptoArb = fc.constantFrom(
  () => undefined,
  () => new PacketCrypto({ aes: xorCipher(0x5a) }),
  () => new PacketCrypto({ rsa: xorCipher(0x33, 0x11), aes: xorCipher(0x5a) }),
);

Deno.test("property: encode then decode is the identity", () => {
  fc.assert(
    fc.property(packetArb, cryptoArb, (packet, makeCrypto) => {
      const crypto = makeCrypto();
      const bytes = encodePacket(packet, crypto);
      const [r, ...rest] = new FrameDecoder({ crypto }).push(bytes);
      assertEquals(rest, []);
      assert(r.ok);
      const { protoId, protoFmt, serialNo, body } = r.packet;
      assertEquals({ protoId, protoFmt, serialNo, body }, packet);
      assertEquals(r.packet.bodyLen, bytes.length - HEADER_SIZE);
      assertEquals(r.packet.sha1, sha1(packet.body));
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: any chunking of a valid stream yields the same packets in order", () => {
  fc.assert(
    fc.property(
      fc.array(packetArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      cryptoArb,
      (packets, cuts, makeCrypto) => {
        const crypto = makeCrypto();
        const stream = concat(...packets.map((p) => encodePacket(p, crypto)));
        const whole = packetsOf(new FrameDecoder({ crypto }).push(stream));
        assertEquals(
          whole.map(({ protoId, protoFmt, serialNo, body }) => ({
            protoId,
            protoFmt,
            serialNo,
            body,
          })),
          packets,
        );
        const d = new FrameDecoder({ crypto });
        const chunked = splitAt(stream, cuts).flatMap((c) => d.push(c));
        assertEquals(packetsOf(chunked), whole);
        assertEquals([d.offset, d.finish()], [stream.length, undefined]);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("property: one byte at a time equals one chunk", () => {
  fc.assert(
    fc.property(fc.array(packetArb, { maxLength: 4 }), (packets) => {
      const stream = concat(...packets.map((p) => encodePacket(p)));
      assertEquals(feedBytewise(new FrameDecoder(), stream), decodeAll(stream));
    }),
    { numRuns: 30 },
  );
});

/** Random bytes, or valid headers with random fields and bodies that may not match. */
const noiseArb = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.array(
    fc.tuple(
      fc.nat({ max: 0xffffffff }),
      fc.nat({ max: 3 }),
      fc.nat({ max: 2 }),
      fc.nat({ max: 80 }),
      fc.uint8Array({ maxLength: 80 }),
    ).map(([protoId, protoFmt, protoVer, bodyLen, rest]) =>
      concat(
        encodeHeader({
          protoId,
          protoFmt,
          protoVer: protoVer === 2 ? 1 : 0,
          serialNo: (protoId ^ 5) >>> 0,
          bodyLen,
          sha1: rest.slice(0, 20).length === 20
            ? rest.slice(0, 20)
            : sha1(rest),
        }),
        rest,
      )
    ),
    { maxLength: 6 },
  ).map((parts) => concat(...parts)),
);

Deno.test("property: arbitrary bytes give only CodecError results, never a throw or a hang", () => {
  fc.assert(
    fc.property(
      noiseArb,
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.option(fc.nat({ max: 100 }), { nil: undefined }),
      cryptoArb,
      (bytes, cuts, maxBodyBytes, makeCrypto) => {
        const d = new FrameDecoder({ maxBodyBytes, crypto: makeCrypto() });
        const results: FrameResult[] = [];
        for (const chunk of splitAt(bytes, cuts)) {
          results.push(...d.push(chunk));
        }
        const end = d.finish();
        // Each result consumes at least a header, except a final fatal error.
        assert(results.length <= Math.floor(bytes.length / HEADER_SIZE) + 1);
        let lastOffset = -1;
        results.forEach((r, i) => {
          const offset = r.ok ? r.packet.offset : r.error.offset;
          assert(
            offset !== undefined && offset > lastOffset &&
              offset <= bytes.length,
          );
          lastOffset = offset;
          if (!r.ok) {
            assertInstanceOf(r.error, CodecError);
            const fatal = ["BAD_MAGIC", "UNSUPPORTED_VERSION", "BODY_TOO_LARGE"]
              .includes(r.error.code);
            if (fatal) assertEquals(i, results.length - 1);
          }
        });
        if (end !== undefined) {
          assertInstanceOf(end, CodecError);
          assertEquals([end.code, end.offset], ["TRUNCATED", d.offset]);
        }
        assert(d.offset <= bytes.length);
      },
    ),
    { numRuns: 500 },
  );
});
