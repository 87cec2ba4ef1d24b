// Seeded generators so generated tests are reproducible: the engine's own (mulberry32,
// src/engine/memory/overcommit/seededRandom.ts) with the helpers tests draw with.
import { seededRandom, seededU32 } from '../../src/engine/memory/overcommit/seededRandom';

export interface Rng {
  u32(): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  bool(): boolean;
  big64(): bigint;
}

export function rng(seed: number): Rng {
  const u32 = seededU32(seed);
  return {
    u32,
    int: (n) => u32() % n,
    pick: (xs) => xs[u32() % xs.length],
    bool: () => (u32() & 1) === 1,
    big64: () => (BigInt(u32()) << 32n) | BigInt(u32()),
  };
}

/** The same generator as a function returning floats in [0, 1). */
export const rngFloat: (seed: number) => () => number = seededRandom;
