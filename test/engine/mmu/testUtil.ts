// Shared by the MMU tests: a seeded RNG and 64-bit entry access over PhysicalMemory.
import { PhysicalMemory } from '../../../src/engine/memory/physicalMemory';
import { rngFloat } from '../../support/rng';

/** A seeded RNG (test/support/rng.ts) so every sample of the product space is reproducible. */
export const rng = rngFloat;

export function write64(mem: PhysicalMemory, pa: number, v: bigint): void {
  mem.write32(pa, Number(v & 0xffffffffn));
  mem.write32(pa + 4, Number((v >> 32n) & 0xffffffffn));
}

export function read64(mem: PhysicalMemory, pa: number): bigint {
  return (BigInt(mem.read32(pa + 4)) << 32n) | BigInt(mem.read32(pa));
}

export const bit = (n: number): bigint => 1n << BigInt(n);

/** Builds 4-level (or 5-level) tables mapping chosen pages; tables come from a bump allocator. */
export class PageTableBuilder {
  private next: number;
  constructor(readonly mem: PhysicalMemory, firstFrame = 0x100000, readonly levels: 4 | 5 = 4) {
    this.next = firstFrame;
    this.root = this.alloc();
  }
  readonly root: number;

  alloc(): number {
    const pa = this.next;
    this.next += 4096;
    return pa;
  }

  /**
   * Maps the page containing `linear` to `pa` with a leaf at `leafLevel` (1 = 4K PTE, 2 = 2M
   * PDE, 3 = 1G PDPTE). Non-leaf entries get P|W|U plus `upper`; the leaf gets `flags`.
   * Returns the leaf entry's physical address.
   */
  map(linear: number, pa: number, flags: bigint, leafLevel = 1, upper = 0n): number {
    let table = this.root;
    for (let level = this.levels; level > leafLevel; level--) {
      const idx = Math.floor(linear / 2 ** (12 + 9 * (level - 1))) % 512;
      const ea = table + idx * 8;
      let e = read64(this.mem, ea);
      if (!(e & 1n)) {
        e = BigInt(this.alloc()) | 0x7n | upper;
        write64(this.mem, ea, e);
      }
      table = Number(e & 0xffffffffff000n);
    }
    const idx = Math.floor(linear / 2 ** (12 + 9 * (leafLevel - 1))) % 512;
    const ea = table + idx * 8;
    write64(this.mem, ea, BigInt(pa) | flags | (leafLevel > 1 ? bit(7) : 0n));
    return ea;
  }
}
