// The one door through which the walker touches paging structures. Native mode reads guest
// physical memory directly; nested mode will translate each table reference gpa→mpa (and may
// abort the walk with an EPT exit by throwing) and shadow mode reads its own tables — all
// without changing the walker.
import type { PhysicalMemory } from '../memory/physicalMemory';

export interface TableMemory {
  /** One aligned 32-bit half of an entry (entries are 4 or 8 bytes). */
  read32(pa: number): number;
  /**
   * Writes back the low half of an entry whose A/D bits the walker set. x86 does this with a
   * locked read-modify-write; the walker never changes any other bit.
   */
  writeAccessedDirty(pa: number, low32: number): void;
}

export class NativeTableMemory implements TableMemory {
  constructor(private readonly mem: PhysicalMemory) {}

  read32(pa: number): number {
    return this.mem.read32(pa);
  }

  writeAccessedDirty(pa: number, low32: number): void {
    this.mem.write32(pa, low32);
  }
}
