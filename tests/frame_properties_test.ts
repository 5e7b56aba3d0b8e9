// Frame properties over random packets, chunkings and noise.

import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import fc from "fast-check";
import { CodecError } from "../codec/codec_error.ts";
import { encodeHeader, HEADER_SIZE } from "../codec/header.ts";
import { FrameDecoder, type FrameResult } from "../codec/frame_decoder.ts";
import { encodePacket, type Packet, sha1 } from "../codec/packet.ts";
import { PacketCrypto } from "../codec/packet_crypto.ts";
import {
  concat,
  decodeAll,
  feedBytewise,
  packetsOf,
  splitAt,
  xorCipher,
} from "./_frame_helpers.ts";

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
