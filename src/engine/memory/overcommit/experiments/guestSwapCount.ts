// The teaching kernel's swapper prints its totals at the end ("kernel: swapped out N pages,
// swapped in M"); a VM still running has not printed them yet (null).
export function guestSwapCounts(console: string): { out: number; in: number } | null {
  const m = /kernel: swapped out (\d+) pages, swapped in (\d+)/.exec(console);
  return m ? { out: Number(m[1]), in: Number(m[2]) } : null;
}
