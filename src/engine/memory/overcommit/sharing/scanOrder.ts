// The order the sharing scanner visits one VM's pages in: random (ESX scans at random, so no
// region of guest memory is always last), yet every page exactly once per pass, and with O(1)
// memory whatever the VM's size.
//
// Pages are taken in blocks of 64 (256 KiB of guest memory): the blocks in a random order, the
// 64 pages of a block in a shuffled order, then the next block. Why blocks: most draws land on
// pages with nothing to hash (a 1 GiB VM that touched 6 % of its memory), and each draw tests the
// page's state in the p2m; 64 neighbouring pages share one cache line of state bytes, so a
// block costs one cache miss instead of 64 (draws went from ~33 ns to a few, the scanner's
// largest cost after the hash itself). Across a pass the order is still random at 256 KiB grain.
//
// Blocks: a full-period linear congruential sequence modulo the next power of two ≥ the block
// count (Hull–Dobell: increment odd, multiplier ≡ 1 mod 4) visits every residue once; values ≥
// the count are skipped ("cycle walking"), at most half of them. Within a block: page
// (a·i + b) mod 64 for i = 0…63 with a odd (a bijection), a ≠ 1 so consecutive draws are never
// neighbours. Each pass draws new parameters from the scanner's seeded generator
// (../seededRandom.ts), so passes differ and runs repeat.
import type { RandomSource } from '../seededRandom';

const BLOCK_SHIFT = 6;
const BLOCK = 1 << BLOCK_SHIFT;
const BLOCK_MASK = BLOCK - 1;

export class ScanOrder {
  private readonly blocks: number;
  private readonly mask: number;
  private mul = 1;
  private inc = 1;
  private x = 0;
  /** Residues of the current pass's block sequence not drawn yet. */
  private left = 0;
  /** The current block's first page, the next index within it (BLOCK: take the next block), and its shuffle. */
  private base = 0;
  private i = BLOCK;
  private a = 5;
  private b = 0;
  /** The page next() returns (found one draw ahead, so the end of a pass is known when it is reached). */
  private pending = 0;
  /** Passes completed, and pages drawn in all. */
  passes = 0;
  drawn = 0;

  constructor(
    readonly n: number,
    private readonly random: RandomSource,
  ) {
    if (!(n >= 1 && n <= 2 ** 31)) throw new RangeError(`cannot scan ${n} pages`);
    this.blocks = Math.ceil(n / BLOCK);
    this.mask = 2 ** Math.ceil(Math.log2(Math.max(2, this.blocks))) - 1;
    this.advance();
  }

  /** The next page; the one that completes a pass counts it (passes+1) as it is returned. */
  next(): number {
    const v = this.pending;
    this.drawn++;
    if (this.i < BLOCK) {
      const ppn = this.base + ((Math.imul(this.a, this.i++) + this.b) & BLOCK_MASK);
      if (ppn < this.n) {
        this.pending = ppn;
        return v;
      }
    }
    if (this.advance()) this.passes++;
    return v;
  }

  /**
   * Draws pages until one passes `test` and returns it: -1 when `maxDraws` pages failed it, or
   * when the page that completes a pass did (the caller sees `passes` moved). The scanner's
   * loop over mostly empty guest memory: one call per page hashed rather than one per draw.
   */
  nextWhere(test: (ppn: number) => boolean, maxDraws: number): number {
    for (let d = 0; d < maxDraws; d++) {
      const v = this.pending;
      this.drawn++;
      let crossed = false;
      if (this.i < BLOCK) {
        const ppn = this.base + ((Math.imul(this.a, this.i++) + this.b) & BLOCK_MASK);
        if (ppn < this.n) this.pending = ppn;
        else crossed = this.advance();
      } else crossed = this.advance();
      if (crossed) this.passes++;
      if (test(v)) return v;
      if (crossed) return -1;
    }
    return -1;
  }

  /** Finds the page after `pending` in the blocks to come; true when it belongs to a new pass. */
  private advance(): boolean {
    let crossed = false;
    for (;;) {
      if (this.i === BLOCK) {
        if (this.left === 0) {
          this.startPass();
          crossed = true;
        }
        this.left--;
        // x ← (mul·x + inc) mod 2^k, in 32-bit arithmetic (2^k ≤ 2^31 divides 2^32).
        this.x = (Math.imul(this.mul, this.x) + this.inc) & this.mask;
        if (this.x >= this.blocks) continue;
        this.base = this.x * BLOCK;
        this.i = 0;
      }
      const ppn = this.base + ((Math.imul(this.a, this.i++) + this.b) & BLOCK_MASK);
      if (ppn < this.n) {
        this.pending = ppn;
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
    this.a = (((r() % (BLOCK / 2 - 1)) + 1) << 1) | 1; // odd, 3 … BLOCK-1
    this.b = r() & BLOCK_MASK;
  }
}
