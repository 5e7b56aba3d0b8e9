/**
 * Request serial numbers: one counter per client, starting at the current
 * time in seconds modulo 10000 (as the official Python SDK does), +1 per
 * request, wrapping at 2^32 (the header's u32).
 * @module
 */

/** Hands out serial numbers. */
export class _SerialCounter {
  #next: number;

  /** Starts at `start` (default: seconds since the epoch % 10000). */
  constructor(start: number = Math.floor(Date.now() / 1000) % 10000) {
    this.#next = start >>> 0;
  }

  /** The next serial number. */
  next(): number {
    const serial = this.#next;
    this.#next = (serial + 1) >>> 0;
    return serial;
  }

  /** The number {@link next} will return, without taking it. */
  peek(): number {
    return this.#next;
  }
}
