/**
 * Runs callbacks soon, in order, a few milliseconds' worth per macrotask:
 * timers and I/O get their turn between two slices. When OpenD drops a
 * thousand links at once, their closes arrive in one batch; handing them to
 * the supervisors this way keeps that batch from blocking the event loop
 * (and the reconnect timers full jitter drew) for its whole length, while
 * every supervisor still hears of its drop within a few turns of the loop.
 *
 * One `setImmediate` is pending at a time, the next set only once a slice
 * ran: an immediate set while the loop runs immediates waits for the next
 * turn of the loop, after its timers and I/O. (One per callback would not
 * do: Node runs every immediate already queued in one go, as it delivers
 * every message already waiting on a `MessagePort` in one go.)
 * @module
 */
import { setImmediate } from "node:timers";

/** How long one slice runs callbacks before it lets the loop turn. */
export const _LATER_SLICE_MS = 8;

/** A queue of callbacks run in slices; see the module doc. */
export class _SlicedQueue {
  readonly #schedule: (run: () => void) => void;
  readonly #now: () => number;
  readonly #sliceMs: number;
  readonly #queue: (() => void)[] = [];
  /** Where the next callback is in #queue (no O(n) `shift` per callback). */
  #head = 0;
  #scheduled = false;

  /**
   * `schedule` runs its argument in a later macrotask; `now` is a clock in
   * milliseconds. (Both injected for tests.)
   */
  constructor(
    schedule: (run: () => void) => void,
    now: () => number,
    sliceMs: number,
  ) {
    this.#schedule = schedule;
    this.#now = now;
    this.#sliceMs = sliceMs;
  }

  /** Callbacks waiting. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Calls `fn` in a later macrotask, after those queued before it. */
  push(fn: () => void): void {
    this.#queue.push(fn);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(this.#runSlice);
  }

  #runSlice = (): void => {
    const queue = this.#queue;
    const end = this.#now() + this.#sliceMs;
    try {
      do {
        const next = queue[this.#head];
        queue[this.#head++] = undefined as unknown as () => void;
        next();
      } while (this.#head < queue.length && this.#now() < end);
    } finally {
      // Also after a callback threw: the rest still run, in a later slice.
      if (this.#head < queue.length) {
        this.#schedule(this.#runSlice);
      } else {
        queue.length = 0;
        this.#head = 0;
        this.#scheduled = false;
      }
    }
  };
}

const shared = new _SlicedQueue(
  (run) => setImmediate(run),
  () => performance.now(),
  _LATER_SLICE_MS,
);

/** Calls `fn` soon in a macrotask, after those queued before it. */
export function _later(fn: () => void): void {
  shared.push(fn);
}
