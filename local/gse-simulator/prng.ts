/** Deterministic randomness for the simulator: never Math.random. */

/** mulberry32: a tiny seeded PRNG; `next()` returns a float in [0, 1). */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer in [0, bound). */
  nextInt(bound: number): number {
    return Math.floor(this.next() * bound);
  }
}

/** Stateless 32-bit hash of (seed, index, salt): the same inputs always give the same value. */
export function hash32(seed: number, index: number, salt: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Float in [0, 1) from {@link hash32}. */
export function hashUnit(seed: number, index: number, salt: number): number {
  return hash32(seed, index, salt) / 4294967296;
}

export function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}
