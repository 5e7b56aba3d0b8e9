// Frames written: the header, the packet around a body, and the ciphers that encrypt it.

import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import type { BodyCipher } from "../codec/body_cipher.ts";
import { CodecError } from "../codec/codec_error.ts";
import {
  decodeHeader,
  encodeHeader,
  HEADER_SIZE,
  writeHeader,
} from "../codec/header.ts";
import { FrameDecoder } from "../codec/frame_decoder.ts";
import { encodePacket, sha1 } from "../codec/packet.ts";
import { PacketCrypto } from "../codec/packet_crypto.ts";
import {
  aesCbc,
  concat,
  decodeAll,
  errorOf,
  HEADER_VECTOR,
  hex,
  packetsOf,
  utf8,
  xorCipher,
} from "./_frame_helpers.ts";

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
