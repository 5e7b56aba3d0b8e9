/**
 * The cost of fragmentation: 1000 Notify-sized packets (39-byte bodies)
 * decoded from one chunk, from 64-byte chunks and one byte at a time.
 * The SHA-1 check dominates a small packet, so each case also runs without
 * it to show the framing cost alone.
 *
 * Run: `deno bench bench/frame_bench.ts`
 * @module
 */
import { FrameDecoder } from "../codec/frame_decoder.ts";
import { encodePacket } from "../codec/packet.ts";

const PACKETS = 1000;
const BODY = Uint8Array.from({ length: 39 }, (_, i) => (i * 31 + 7) & 0xff);

const parts = Array.from(
  { length: PACKETS },
  (_, serialNo) => encodePacket({ protoId: 1003, serialNo, body: BODY }),
);
const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
parts.reduce((at, p) => (stream.set(p, at), at + p.length), 0);

// Chunks are cut once, outside the timed code, so only decoding is measured.
function chunked(size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += size) {
    out.push(stream.subarray(i, i + size));
  }
  return out;
}
const cases = [
  { name: "one chunk", chunks: [stream] },
  { name: "64-byte chunks", chunks: chunked(64) },
  { name: "1-byte chunks", chunks: chunked(1) },
];

function decode(chunks: Uint8Array[], verifySha1: boolean): void {
  const decoder = new FrameDecoder({ verifySha1 });
  let count = 0;
  for (const chunk of chunks) count += decoder.push(chunk).length;
  if (count !== PACKETS) throw new Error(`decoded ${count} packets`);
}

for (const verifySha1 of [true, false]) {
  const group = verifySha1 ? "with SHA-1 check" : "framing only";
  for (const { name, chunks } of cases) {
    Deno.bench({
      name: `${PACKETS} packets, ${name} (${group})`,
      group,
      baseline: name === "one chunk",
      fn: () => decode(chunks, verifySha1),
    });
  }
}
