/**
 * Large bodies decoded as they arrive (streamed: plaintext written into its
 * one final buffer chunk by chunk) give exactly what a whole decode gives,
 * wherever the stream is cut, and a body that fails to decrypt is a
 * `DECRYPT_FAILED` result, never a throw.
 */
import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import {
  type AesCipher,
  createAesCipher,
  encodePacket,
  FrameDecoder,
  type FrameResult,
  PacketCrypto,
  PacketEncAlgo,
} from "../codec/mod.ts";
import { release, scratchBody } from "../codec/_body_stream.ts";
import { concat } from "./_frame_helpers.ts";

const KEY = "0123456789abcdef";
const IV = "fedcba9876543210";
// Above the decoder's streaming threshold (256 KiB), not a multiple of 16.
const LARGE = 300_007;

const CIPHERS: [string, AesCipher | undefined][] = [
  ["plain", undefined],
  [
    "AES_CBC",
    createAesCipher({ algo: PacketEncAlgo.AES_CBC, key: KEY, iv: IV }),
  ],
  ["AES_ECB", createAesCipher({ algo: PacketEncAlgo.AES_ECB, key: KEY })],
  ["FTAES_ECB", createAesCipher({ algo: PacketEncAlgo.FTAES_ECB, key: KEY })],
];

function summary(results: FrameResult[]): string[] {
  return results.map((r) =>
    r.ok
      ? `${r.packet.serialNo}@${r.packet.offset}:${r.packet.body.length}:${
        createHash("sha1").update(r.packet.body).digest("hex")
      }`
      : `${r.error.code}@${r.error.offset}`
  );
}

/** Decodes `stream` cut at `cuts` (sorted positions), checking nothing is left over. */
function decodeCut(
  stream: Uint8Array,
  cuts: number[],
  crypto: PacketCrypto,
): string[] {
  const d = new FrameDecoder({ crypto });
  const results: FrameResult[] = [];
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    results.push(...d.push(stream.subarray(from, at)));
    from = at;
  }
  assertEquals(d.bufferedBytes, 0);
  assertEquals(d.finish(), undefined);
  return summary(results);
}

/** A small packet, a large one, a small one; where the large one starts and ends. */
function sample(crypto: PacketCrypto) {
  const body = new Uint8Array(LARGE).map((_, i) => (i * 31 + (i >> 8)) & 0xff);
  const packets = [
    encodePacket(
      { protoId: 3005, serialNo: 1, body: body.subarray(0, 100) },
      crypto,
    ),
    encodePacket({ protoId: 3005, serialNo: 2, body }, crypto),
    encodePacket(
      { protoId: 3005, serialNo: 3, body: body.subarray(0, 5) },
      crypto,
    ),
  ];
  const start = packets[0].length;
  return { stream: concat(...packets), start, end: start + packets[1].length };
}

Deno.test("a streamed body decodes the same cut in two at every position near its header, middle and end", () => {
  for (const [name, aes] of CIPHERS) {
    const crypto = new PacketCrypto({ aes });
    const { stream, start, end } = sample(crypto);
    const whole = summary(new FrameDecoder({ crypto }).push(stream));
    assertEquals(whole.length, 3);
    assert(whole.every((s) => !s.includes("_")), `${name}: ${whole}`);
    const half = start + ((end - start) >> 1);
    const positions = new Set<number>();
    for (let i = -8; i < 80; i++) positions.add(start + i); // header, first blocks
    for (let i = -40; i < 40; i++) positions.add(half + i); // where streaming starts
    for (let i = -80; i < 8; i++) positions.add(end + i); // last blocks, padding, tail
    for (const at of positions) {
      assertEquals(
        decodeCut(stream, [at], crypto),
        whole,
        `${name} cut at ${at}`,
      );
    }
  }
});

Deno.test("a streamed body decodes the same in chunks of any size", () => {
  for (const [name, aes] of CIPHERS) {
    const crypto = new PacketCrypto({ aes });
    const { stream } = sample(crypto);
    const whole = summary(new FrameDecoder({ crypto }).push(stream));
    for (const size of [1, 15, 16, 17, 2047, 4096, 65_536, 65_537]) {
      const cuts: number[] = [];
      for (let at = size; at < stream.length; at += size) cuts.push(at);
      assertEquals(
        decodeCut(stream, cuts, crypto),
        whole,
        `${name} in ${size}s`,
      );
    }
  }
});

Deno.test("property: a streamed body decodes the same however the stream is cut", () => {
  const prepared = CIPHERS.map(([name, aes]) => {
    const crypto = new PacketCrypto({ aes });
    const { stream } = sample(crypto);
    return {
      name,
      crypto,
      stream,
      whole: summary(new FrameDecoder({ crypto }).push(stream)),
    };
  });
  fc.assert(
    fc.property(
      fc.constantFrom(...prepared),
      fc.uniqueArray(
        fc.integer({ min: 1, max: prepared[0].stream.length - 1 }),
        {
          maxLength: 12,
        },
      ),
      (p, cuts) => {
        const inRange = cuts.filter((c) => c < p.stream.length).sort((a, b) =>
          a - b
        );
        assertEquals(decodeCut(p.stream, inRange, p.crypto), p.whole, p.name);
      },
    ),
    { numRuns: 60 },
  );
});

/** The stream with the large packet's body replaced by `body` (header fixed up). */
function withBody(
  stream: Uint8Array,
  start: number,
  end: number,
  body: Uint8Array,
): Uint8Array {
  const header = stream.slice(start, start + 44);
  new DataView(header.buffer).setUint32(12, body.length, true);
  return concat(
    stream.subarray(0, start),
    header,
    body,
    stream.subarray(end),
  );
}

Deno.test("a streamed body that fails to decrypt is a DECRYPT_FAILED result and the next packet decodes", () => {
  for (const [name, aes] of CIPHERS.slice(1)) {
    const crypto = new PacketCrypto({ aes });
    const { stream, start, end } = sample(crypto);
    const body = stream.slice(start + 44, end);
    const broken: [string, Uint8Array][] = [];
    if (aes!.algo === PacketEncAlgo.FTAES_ECB) {
      // The plain tail block's last byte (the length mod 16) out of range.
      const bad = body.slice();
      bad[bad.length - 1] = 16;
      broken.push(["bad tail", bad]);
    } else {
      // The padding byte of the last block no longer valid.
      const bad = body.slice();
      bad[bad.length - (aes!.algo === PacketEncAlgo.AES_CBC ? 17 : 1)] ^= 0x40;
      broken.push(["bad padding", bad]);
    }
    // Not a whole number of blocks: never streamed, still a result.
    broken.push(["ragged length", concat(body, new Uint8Array(5))]);
    for (const [what, bad] of broken) {
      const corrupt = withBody(stream, start, end, bad);
      const expected = ["ok", "DECRYPT_FAILED", "ok"];
      for (const size of [corrupt.length, 65_536, 1000]) {
        const cuts: number[] = [];
        for (let at = size; at < corrupt.length; at += size) cuts.push(at);
        const d = new FrameDecoder({ crypto });
        const results: FrameResult[] = [];
        let from = 0;
        for (const at of [...cuts, corrupt.length]) {
          results.push(...d.push(corrupt.subarray(from, at)));
          from = at;
        }
        assertEquals(
          results.map((r) => r.ok ? "ok" : r.error.code),
          expected,
          `${name}, ${what}, ${size}-byte chunks`,
        );
        const failed = results[1];
        assert(!failed.ok);
        assertEquals([failed.error.offset, failed.error.serialNo], [start, 2]);
        assertEquals(d.bufferedBytes, 0);
      }
    }
  }
});

Deno.test("release frees only a view over a whole plain ArrayBuffer", () => {
  const canTransfer = "transfer" in ArrayBuffer.prototype;
  const whole = new Uint8Array(64);
  release(whole);
  assertEquals(whole.buffer.byteLength, canTransfer ? 0 : 64);
  // A view of part of a buffer, an empty view and a pooled Buffer stay.
  const backing = new Uint8Array(64);
  release(backing.subarray(16));
  release(backing.subarray(0, 32));
  assertEquals(backing.buffer.byteLength, 64);
  const empty = new Uint8Array(0);
  release(empty);
  assertEquals(empty.byteLength, 0);
  const pooled = Buffer.from("pooled");
  release(pooled);
  assertEquals(pooled.toString(), "pooled");
});

Deno.test("bodies whose ciphertext was copied together keep their plaintext after later packets", () => {
  // Ciphertexts spanning chunks (and small ones in coalesced chunks) are
  // copied into one reused scratch buffer before decryption: no body handed
  // out may share it.
  for (const [name, aes] of CIPHERS) {
    const crypto = new PacketCrypto({ aes });
    const sizes = [0, 5, 100, 1023, 1024, 3000, 65_536, 70_001, 200_000, 5];
    const bodies = sizes.map((n, i) =>
      new Uint8Array(n).map((_, j) => (j * 13 + i * 7) & 0xff)
    );
    const stream = concat(
      ...bodies.map((body, i) =>
        encodePacket({ protoId: 3005, serialNo: i, body }, crypto)
      ),
    );
    for (const size of [7, 1000, 4096, 65_536]) {
      const d = new FrameDecoder({ crypto });
      const results: FrameResult[] = [];
      for (let at = 0; at < stream.length; at += size) {
        results.push(...d.push(stream.subarray(at, at + size)));
      }
      assertEquals(results.length, bodies.length, `${name} in ${size}s`);
      results.forEach((r, i) => {
        assert(r.ok, `${name} in ${size}s: packet ${i}`);
        assertEquals(
          r.packet.body,
          bodies[i],
          `${name} in ${size}s: body ${i}`,
        );
      });
    }
  }
});

Deno.test("the scratch buffer is one, grows to 256 KiB, and larger sizes get their own", () => {
  const a = scratchBody(100);
  const b = scratchBody(50_000);
  const c = scratchBody(10);
  assertEquals([a.length, b.length, c.length], [100, 50_000, 10]);
  assertEquals(b.buffer, c.buffer);
  const max = scratchBody(256 * 1024);
  assertEquals(scratchBody(1).buffer, max.buffer);
  const large = scratchBody(256 * 1024 + 1);
  assert(large.buffer !== max.buffer);
  assertEquals(large.length, 256 * 1024 + 1);
});
