/**
 * A small seeded random source, so every campaign stream and run can be
 * replayed from its seed and index alone.
 * @module
 */

/** Deterministic pseudo-random numbers (splitmix32 over a 32-bit state). */
export class Rng {
  #state: number;

  /** A source for `seed` and stream `index`: the same pair, the same numbers. */
  constructor(seed: number, index = 0) {
    this.#state = mix((seed >>> 0) ^ mix(index + 0x9e3779b9));
  }

  /** A uniform u32. */
  u32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    return mix(this.#state);
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** A uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A length skewed towards small values, up to `max`. */
  size(max: number): number {
    const r = this.float();
    return Math.min(max, Math.floor(r * r * r * (max + 1)));
  }
}

function mix(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
