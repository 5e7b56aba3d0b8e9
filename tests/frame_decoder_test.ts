// A byte stream decoded into packets: offsets, framing and packet errors, limits, key changes mid-stream.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import { Buffer } from "node:buffer";
import type { BodyCipher } from "../codec/body_cipher.ts";
import { CodecError } from "../codec/codec_error.ts";
import { encodeHeader, HEADER_SIZE } from "../codec/header.ts";
import { FrameDecoder, type FrameResult } from "../codec/frame_decoder.ts";
import { encodePacket } from "../codec/packet.ts";
import { PacketCrypto } from "../codec/packet_crypto.ts";
import {
  aesCbc,
  concat,
  decodeAll,
  errorOf,
  feedBytewise,
  packetsOf,
  prefix132,
  splitAt,
  utf8,
  xorCipher,
} from "./_frame_helpers.ts";

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
