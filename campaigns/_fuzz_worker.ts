/**
 * The fuzz campaign's worker: runs streams and bodies, marks its progress in
 * shared memory for the watchdog, and reports failures and totals.
 * @module
 */
import { fuzzFrameStream } from "./frame_fuzz.ts";
import { fuzzMessageBody } from "./message_fuzz.ts";

/** What the worker is asked to do. */
export interface FuzzJob {
  readonly seed: number;
  readonly from: number;
  readonly to: number;
  /** Slot 0: the index being run, plus one. */
  readonly progress: SharedArrayBuffer;
}

/** What the worker reports. */
export type FuzzWorkerMessage =
  | {
    readonly type: "failure";
    readonly index: number;
    readonly what: "frame" | "message";
    readonly detail: string;
    readonly violations: readonly string[];
  }
  | {
    /** `partial`: the totals so far (every 100 streams); `done`: the end. */
    readonly type: "done" | "partial";
    readonly streams: number;
    readonly bytes: number;
    readonly chunks: number;
    readonly packets: number;
    readonly mutated: number;
    readonly bodies: number;
    readonly bodyBytes: number;
    readonly modes: Readonly<Record<string, number>>;
  };

const self = globalThis as unknown as {
  onmessage: ((e: MessageEvent<FuzzJob>) => void) | null;
  postMessage: (m: FuzzWorkerMessage) => void;
};

self.onmessage = (e: MessageEvent<FuzzJob>) => {
  const { seed, from, to } = e.data;
  const progress = new Int32Array(e.data.progress);
  const totals = {
    streams: 0,
    bytes: 0,
    chunks: 0,
    packets: 0,
    mutated: 0,
    bodies: 0,
    bodyBytes: 0,
    modes: {} as Record<string, number>,
  };
  for (let i = from; i < to; i++) {
    Atomics.store(progress, 0, i + 1);
    const frame = fuzzFrameStream(seed, i);
    totals.streams++;
    totals.bytes += frame.bytes;
    totals.chunks += frame.chunks;
    totals.packets += frame.packets;
    if (frame.mutation !== undefined) totals.mutated++;
    totals.modes[frame.mode] = (totals.modes[frame.mode] ?? 0) + 1;
    if (frame.violations.length > 0) {
      self.postMessage({
        type: "failure",
        index: i,
        what: "frame",
        detail:
          `${frame.mode}, ${frame.packets} packets, ${frame.bytes} bytes, ${
            frame.mutation ?? "not corrupted"
          }`,
        violations: frame.violations,
      });
    }
    const body = fuzzMessageBody(seed, i);
    totals.bodies++;
    totals.bodyBytes += body.bytes;
    if (totals.streams % 100 === 0) {
      self.postMessage({ type: "partial", ...totals });
    }
    if (body.violations.length > 0) {
      self.postMessage({
        type: "failure",
        index: i,
        what: "message",
        detail: `${body.bytes}-byte body`,
        violations: body.violations,
      });
    }
  }
  self.postMessage({ type: "done", ...totals });
};
