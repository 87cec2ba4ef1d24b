// The engine's one seeded generator (mulberry32): every random choice of the overcommit engine —
// the swapper's random victims, the working-set sampler's pages, the sharing scanner's order —
// must be reproducible from a seed so that a run can be replayed and a test can pin it. The
// tests' generators (test/support/rng.ts) are built on it too: one algorithm, one copy.

export type RandomSource = () => number;

/** Unsigned 32-bit integers from a 32-bit seed. */
export function seededU32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Floats in [0, 1) from a 32-bit seed (the same stream as seededU32, divided by 2^32). */
export function seededRandom(seed: number): RandomSource {
  const u32 = seededU32(seed);
  return () => u32() / 4294967296;
}

/** An independent stream per VM from one machine seed (golden-ratio spacing of the seeds). */
export function streamSeed(seed: number, stream: number): number {
  return (seed + Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
}
