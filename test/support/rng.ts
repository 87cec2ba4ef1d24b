// A small seeded generator (mulberry32) so generated tests are reproducible.
export interface Rng {
  u32(): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  bool(): boolean;
  big64(): bigint;
}

export function rng(seed: number): Rng {
  let s = seed >>> 0;
  const u32 = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    u32,
    int: (n) => u32() % n,
    pick: (xs) => xs[u32() % xs.length],
    bool: () => (u32() & 1) === 1,
    big64: () => (BigInt(u32()) << 32n) | BigInt(u32()),
  };
}

/** The same generator as a function returning floats in [0, 1). */
export function rngFloat(seed: number): () => number {
  const r = rng(seed);
  return () => r.u32() / 4294967296;
}
