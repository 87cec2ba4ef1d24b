// The order the sharing scanner visits one VM's pages in: random (ESX scans at random, so no
// region of guest memory is always last), yet every page exactly once per pass, and with O(1)
// memory whatever the VM's size. A full-period linear congruential sequence modulo the next power
// of two ≥ n (Hull–Dobell: increment odd, multiplier ≡ 1 mod 4) visits every residue once; values
// ≥ n are skipped ("cycle walking"), at most half of them. Each pass draws a new multiplier,
// increment and start from the scanner's seeded generator (../seededRandom.ts), so passes differ
// and runs repeat.
import type { RandomSource } from '../seededRandom';

export class ScanOrder {
  private readonly mask: number;
  private mul = 1;
  private inc = 1;
  private x = 0;
  /** Residues of the current pass not drawn yet. */
  private left = 0;
  /** The page next() returns (found one draw ahead, so the end of a pass is known when it is reached). */
  private pending = 0;
  /** Passes completed. */
  passes = 0;

  constructor(
    readonly n: number,
    private readonly random: RandomSource,
  ) {
    if (!(n >= 1 && n <= 2 ** 31)) throw new RangeError(`cannot scan ${n} pages`);
    this.mask = 2 ** Math.ceil(Math.log2(Math.max(2, n))) - 1;
    this.advance();
  }

  /** The next page; the one that completes a pass counts it (passes+1) as it is returned. */
  next(): number {
    const v = this.pending;
    if (this.advance()) this.passes++;
    return v;
  }

  /** Finds the page after `pending`; true when it belongs to a new pass. */
  private advance(): boolean {
    let crossed = false;
    for (;;) {
      if (this.left === 0) {
        this.startPass();
        crossed = true;
      }
      this.left--;
      // x ← (mul·x + inc) mod 2^k, in 32-bit arithmetic (2^k ≤ 2^31 divides 2^32).
      this.x = (Math.imul(this.mul, this.x) + this.inc) & this.mask;
      if (this.x < this.n) {
        this.pending = this.x;
        return crossed;
      }
    }
  }

  private startPass(): void {
    const r = (): number => Math.floor(this.random() * 2 ** 32) >>> 0;
    this.mul = this.mask >= 3 ? (r() & this.mask & ~3) | 1 : 1; // ≡ 1 mod 4
    this.inc = (r() | 1) & this.mask;
    this.x = r() & this.mask;
    this.left = this.mask + 1;
  }
}
