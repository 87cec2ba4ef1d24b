// The host's physical memory: sparse bytes plus the frame table (owner and use of every frame).
import { PhysicalMemory } from '../memory/physicalMemory';
import { PAGE_SIZE } from '../memory/frame';
import { FrameTable, FrameUse } from './frameTable';
import { SharedFrames } from '../vmm/sharedFrames';

export class MachineMemory {
  readonly bytes: PhysicalMemory;
  readonly frames: FrameTable;
  /** Reference counts of the frames page sharing maps into guests (one table for the machine). */
  readonly shared: SharedFrames;

  /** `reservedFrames` low frames belong to the hypervisor from the start (never handed out). */
  constructor(readonly size: number, reservedFrames = 1) {
    if (size % PAGE_SIZE !== 0 || size <= 0) throw new RangeError(`machine memory must be a positive multiple of 4 KiB, not ${size}`);
    this.bytes = new PhysicalMemory(size);
    this.frames = new FrameTable(size / PAGE_SIZE, reservedFrames);
    this.shared = new SharedFrames(this);
  }

  /**
   * The VMM's last resort when no frame is free: reclaim some now (the memory scheduler swaps a
   * cluster out) and say whether anything was freed. Null: exhaustion fails the allocation.
   */
  onExhausted: ((owner: number) => boolean) | null = null;

  /** A zeroed frame for `owner`, or undefined when machine memory is exhausted (and nothing could be reclaimed). */
  allocate(owner: number, use: Exclude<FrameUse, 'free'>, ppn?: number): number | undefined {
    let mpn = this.frames.allocate(owner, use, ppn);
    if (mpn === undefined && this.onExhausted?.(owner)) mpn = this.frames.allocate(owner, use, ppn);
    if (mpn !== undefined) this.bytes.zeroFrame(mpn);
    return mpn;
  }

  release(mpn: number): void {
    this.bytes.zeroFrame(mpn);
    this.frames.release(mpn);
  }
}
