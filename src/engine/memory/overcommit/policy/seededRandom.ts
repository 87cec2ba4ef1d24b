// A seeded uniform generator (mulberry32): the scheduler's random choices (sampled pages) must
// be reproducible from the machine's seed so that a run can be replayed and a test can pin it.

export type RandomSource = () => number;

/** Floats in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): RandomSource {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream per VM from one machine seed (golden-ratio spacing of the seeds). */
export function streamSeed(seed: number, stream: number): number {
  return (seed + Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
}
