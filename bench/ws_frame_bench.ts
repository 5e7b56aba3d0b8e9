/**
 * The WebSocket port's framing beside the TCP port's: 1000 Notify-sized
 * messages (39-byte bodies) encoded and decoded as `ft-v1.0` frames (no
 * SHA-1: the WebSocket message gives the boundaries) and as "FT" packets.
 *
 * Run: `deno bench bench/ws_frame_bench.ts`
 * @module
 */
import { FrameDecoder } from "../codec/frame_decoder.ts";
import { encodePacket } from "../codec/packet.ts";
import {
  decodeWsRequest,
  encodeWsRequest,
  encodeWsResponse,
} from "../codec/ws_frame.ts";

const MESSAGES = 1000;
const BODY = Uint8Array.from({ length: 39 }, (_, i) => (i * 31 + 7) & 0xff);
const requests = Array.from(
  { length: MESSAGES },
  (_, section) => encodeWsRequest({ cmd: 1004, section, body: BODY }),
);
const packets = Array.from(
  { length: MESSAGES },
  (_, serialNo) => encodePacket({ protoId: 1004, serialNo, body: BODY }),
);

Deno.bench("ws: decode 1000 request frames", {
  group: "decode",
  baseline: true,
}, () => {
  for (const frame of requests) decodeWsRequest(frame);
});

Deno.bench(
  "tcp: decode 1000 packets, one chunk each",
  { group: "decode" },
  () => {
    const decoder = new FrameDecoder();
    for (const packet of packets) decoder.push(packet);
  },
);

Deno.bench(
  "ws: encode 1000 push frames",
  { group: "encode", baseline: true },
  () => {
    for (let i = 0; i < MESSAGES; i++) {
      encodeWsResponse({ cmd: 1003, section: 0n, body: BODY });
    }
  },
);

Deno.bench("tcp: encode 1000 push packets", { group: "encode" }, () => {
  for (let serialNo = 0; serialNo < MESSAGES; serialNo++) {
    encodePacket({ protoId: 1003, serialNo, body: BODY });
  }
});
