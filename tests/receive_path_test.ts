/**
 * The fast receive path gives exactly what node:crypto and the straightforward
 * pipeline give: SHA-1 and AES in TypeScript against node:crypto, large bodies
 * decoded as they arrive against whole ones, small chunks coalesced, the small
 * body cap of the system protoIDs, and 64-bit fields exact end to end.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import fc from "fast-check";
import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
} from "node:crypto";
import {
  createAesCipher,
  decodeRequest,
  decodeResponse,
  DEFAULT_MAX_SYSTEM_BODY_BYTES,
  encodePacket,
  encodeRequest,
  encodeResponse,
  FrameDecoder,
  type FrameResult,
  PacketCrypto,
  PacketEncAlgo,
  ProtoId,
  sha1,
  toJsonMapping,
} from "../codec/mod.ts";
import { sha1Ts } from "../codec/_sha1.ts";
import { renderSha1Compress } from "../scripts/gen_sha1.ts";
import { concat } from "./_frame_helpers.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const nodeSha1 = (bytes: Uint8Array) =>
  createHash("sha1").update(bytes).digest("hex");

Deno.test("SHA-1 in TypeScript equals node:crypto for every length 0..1100", () => {
  for (let n = 0; n <= 1100; n++) {
    const bytes = new Uint8Array(randomBytes(n));
    assertEquals(hex(sha1Ts(bytes)), nodeSha1(bytes), `length ${n}`);
    assertEquals(hex(sha1(bytes)), nodeSha1(bytes), `length ${n}`);
  }
});

Deno.test("SHA-1 in TypeScript gives the official test vectors", () => {
  const vectors: [string, string][] = [
    ["", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["abc", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    ],
    [
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno" +
      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "a49b2446a02c645bf419f995b67091253a04a259",
    ],
    ["a".repeat(1_000_000), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"],
  ];
  for (const [text, digest] of vectors) {
    const bytes = new TextEncoder().encode(text);
    assertEquals(hex(sha1Ts(bytes)), digest, text.slice(0, 20));
    assertEquals(hex(sha1(bytes)), digest, text.slice(0, 20));
  }
});

Deno.test("the unrolled SHA-1 block function is what its generator writes", async () => {
  const file = new URL("../codec/_sha1_compress.ts", import.meta.url);
  assertEquals(
    await Deno.readTextFile(file),
    renderSha1Compress(),
    "codec/_sha1_compress.ts is stale: deno run scripts/gen_sha1.ts",
  );
});

Deno.test("AES decryption equals node:crypto on both sides of the TypeScript/native crossover", () => {
  for (let blocks = 1; blocks <= 130; blocks += 3) {
    const key = new Uint8Array(randomBytes(16));
    const iv = new Uint8Array(randomBytes(16));
    const plain = new Uint8Array(randomBytes(blocks * 16 - 1 - (blocks % 15)));
    const cbc = createCipheriv("aes-128-cbc", key, iv);
    const wire = Buffer.concat([cbc.update(plain), cbc.final()]);
    const ours = createAesCipher({ algo: PacketEncAlgo.AES_CBC, key, iv });
    assertEquals(hex(ours.decrypt(new Uint8Array(wire))), hex(plain));
    const ecb = createCipheriv("aes-128-ecb", key, null);
    const ecbWire = Buffer.concat([ecb.update(plain), ecb.final()]);
    const oursEcb = createAesCipher({ algo: PacketEncAlgo.AES_ECB, key });
    assertEquals(hex(oursEcb.decrypt(new Uint8Array(ecbWire))), hex(plain));
    // And what we encrypt, node:crypto decrypts.
    const back = createDecipheriv("aes-128-cbc", key, iv);
    const sent = ours.encrypt(plain);
    assertEquals(
      hex(Buffer.concat([back.update(sent), back.final()])),
      hex(plain),
    );
  }
});

function cut(stream: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += size) {
    out.push(stream.subarray(i, i + size));
  }
  return out;
}

function summary(results: FrameResult[]): string[] {
  return results.map((r) =>
    r.ok
      ? `${r.packet.protoId}/${r.packet.serialNo}@${r.packet.offset}:${
        nodeSha1(r.packet.body)
      }`
      : `${r.error.code}@${r.error.offset}`
  );
}

Deno.test("small AES bodies share slabs yet each keeps its own plaintext, however many follow", () => {
  const crypto = new PacketCrypto({
    aes: createAesCipher({
      algo: PacketEncAlgo.AES_CBC,
      key: "0123456789abcdef",
      iv: "fedcba9876543210",
    }),
  });
  // Sizes around block and slab edges, enough packets to fill many slabs.
  const bodies = Array.from(
    { length: 3000 },
    (_, i) => new Uint8Array(randomBytes([0, 1, 15, 16, 17, 500, 1007][i % 7])),
  );
  const stream = bodies.map((body, serialNo) =>
    encodePacket({ protoId: 3005, serialNo, body }, crypto)
  );
  const decoder = new FrameDecoder({ crypto });
  const kept: Uint8Array[] = [];
  for (const packet of stream) {
    for (const r of decoder.push(packet)) {
      if (!r.ok) throw r.error;
      kept.push(r.packet.body);
    }
  }
  assertEquals(kept.length, bodies.length);
  for (let i = 0; i < bodies.length; i++) {
    assertEquals(hex(kept[i]), hex(bodies[i]), `body ${i}`);
  }
});

Deno.test("large bodies decode the same whole and as they arrive, plain and in every AES mode", () => {
  const key = "0123456789abcdef";
  const iv = "fedcba9876543210";
  const ciphers = [
    undefined,
    createAesCipher({ algo: PacketEncAlgo.AES_CBC, key, iv }),
    createAesCipher({ algo: PacketEncAlgo.AES_ECB, key }),
    createAesCipher({ algo: PacketEncAlgo.FTAES_ECB, key }),
  ];
  for (const aes of ciphers) {
    const crypto = new PacketCrypto({ aes });
    const packets = [70_000, 65_536, 200_003, 12, 131_072].map((n, i) =>
      encodePacket({
        protoId: 3005,
        serialNo: i,
        body: new Uint8Array(randomBytes(n)),
      }, crypto)
    );
    // A corrupted large body spoils only itself.
    const bad = encodePacket({
      protoId: 3005,
      serialNo: 99,
      body: new Uint8Array(100_000).fill(7),
    }, crypto);
    bad[44 + 50_000] ^= 1;
    const stream = concat(...packets.slice(0, 2), bad, ...packets.slice(2));
    const whole = summary(new FrameDecoder({ crypto }).push(stream));
    assertEquals(whole.length, 6);
    assertEquals(
      whole.filter((s) => s.includes("@") && !s.includes("/")).length,
      1,
    );
    for (const size of [1000, 4096, 65_536, 100_001]) {
      const d = new FrameDecoder({ crypto });
      const results = cut(stream, size).flatMap((c) => d.push(c));
      assertEquals(
        summary(results),
        whole,
        `${aes?.algo} in ${size}-byte chunks`,
      );
      assertEquals(d.bufferedBytes, 0);
    }
  }
});

Deno.test("a stream cut inside a large body reports TRUNCATED with the bytes received", () => {
  const packet = encodePacket({
    protoId: 3005,
    serialNo: 4,
    body: new Uint8Array(300_000),
  });
  const d = new FrameDecoder();
  for (const c of cut(packet.subarray(0, 200_000), 10_000)) d.push(c);
  assertEquals(d.bufferedBytes, 200_000);
  const error = d.finish()!;
  assertEquals([error.code, error.offset, error.serialNo], [
    "TRUNCATED",
    0,
    4,
  ]);
  assertStringIncludes(error.message, "200000 of 300044 bytes");
});

Deno.test("a system protoID claiming more than a few KiB fails at once with BODY_TOO_LARGE", () => {
  const header = encodePacket({
    protoId: ProtoId.Notify,
    serialNo: 3,
    body: new Uint8Array(DEFAULT_MAX_SYSTEM_BODY_BYTES + 1),
  }).subarray(0, 44);
  const [result] = new FrameDecoder().push(header);
  assert(!result.ok);
  assertEquals([result.error.code, result.error.protoId], [
    "BODY_TOO_LARGE",
    1003,
  ]);
  assertStringIncludes(result.error.message, "limit for protoID 1003");
  // Other protoIDs may be large; the limit is an option.
  const quote = encodePacket({
    protoId: 3005,
    serialNo: 3,
    body: new Uint8Array(9000),
  });
  assertEquals(new FrameDecoder().push(quote).length, 1);
  const big = encodePacket({
    protoId: ProtoId.Notify,
    serialNo: 3,
    body: new Uint8Array(9000),
  });
  const [ok] = new FrameDecoder({ maxSystemBodyBytes: 16384 }).push(big);
  assert(ok.ok);
});

Deno.test("memory held while a body trickles in one byte at a time stays close to the bytes buffered", async () => {
  // Measured in a child process with a forced GC: the heap and external
  // memory the decoder holds, per byte it buffers.
  const script = `
    import { FrameDecoder, encodePacket } from ${
    JSON.stringify(new URL("../codec/mod.ts", import.meta.url).href)
  };
    const packet = encodePacket({ protoId: 3005, serialNo: 1, body: new Uint8Array(2_000_000) });
    const d = new FrameDecoder();
    const bytes = 600_000;
    globalThis.gc(); globalThis.gc();
    const before = Deno.memoryUsage();
    for (let i = 0; i < bytes; i++) d.push(packet.slice(i, i + 1));
    globalThis.gc(); globalThis.gc();
    const after = Deno.memoryUsage();
    const held = after.heapUsed + after.external - before.heapUsed - before.external;
    console.log(JSON.stringify({ perByte: held / d.bufferedBytes }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const { perByte } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert(perByte < 3, `held ${perByte} bytes per byte buffered`);
});

// ------------------------------------------------------------- 64-bit fields

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const asTyped = (v: bigint) =>
  Number.isSafeInteger(Number(v)) ? Number(v) : String(v);

Deno.test("property: every 64-bit field survives decode and re-encode exactly, protobuf and JSON", () => {
  fc.assert(
    fc.property(
      int64,
      uint64,
      uint64,
      fc.constantFrom(0, 1),
      (time, userID, connID, fmt) => {
        const keepAlive = { retType: 0, s2c: { time: asTyped(time) } };
        const body = encodeResponse(ProtoId.KeepAlive, keepAlive, fmt);
        const decoded = decodeResponse(ProtoId.KeepAlive, body, fmt);
        assertEquals(decoded, keepAlive);
        assertEquals(String(decoded.s2c!.time), String(time));
        assertEquals(encodeResponse(ProtoId.KeepAlive, decoded, fmt), body);
        assertEquals(
          (toJsonMapping(ProtoId.KeepAlive, "response", body, fmt).s2c as {
            time: string;
          }).time,
          String(time),
        );
        const request = { userID: String(userID) };
        const reqBody = encodeRequest(ProtoId.GetGlobalState, request, fmt);
        assertEquals(
          decodeRequest(ProtoId.GetGlobalState, reqBody, fmt),
          request,
        );
        const init = {
          retType: 0,
          s2c: {
            serverVer: 1,
            loginUserID: String(userID),
            connID: String(connID),
            connAESKey: "0123456789abcdef",
            keepAliveInterval: 10,
          },
        };
        const initBody = encodeResponse(ProtoId.InitConnect, init, fmt);
        const initDecoded = decodeResponse(ProtoId.InitConnect, initBody, fmt);
        assertEquals(initDecoded, init);
        assertEquals(
          encodeResponse(ProtoId.InitConnect, initDecoded, fmt),
          initBody,
        );
      },
    ),
    { numRuns: 300 },
  );
});
