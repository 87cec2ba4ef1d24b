// Who owns each machine frame and what it is used for: the data behind the machine memory map,
// the audit's ownership checks and the accounting (free + owned = total).

/** What a machine frame holds. */
export type FrameUse =
  | 'free'
  | 'guest-data' // backs a guest-physical page (p2m target)
  | 'guest-pt' // backs a guest-physical page the guest uses as a page table (traced or pinned)
  | 'shadow-pt' // a shadow page table the VMM built
  | 'ept' // an EPT paging structure
  | 'vmm' // the hypervisor's own (e.g. the p2m page shared with a paravirtual guest)
  | 'shared'; // a page-sharing frame (owner VMM_OWNER) mapped read-only by guest pages of one or more VMs (vmm/sharedFrames.ts)

export const FRAME_USES: readonly FrameUse[] = ['free', 'guest-data', 'guest-pt', 'shadow-pt', 'ept', 'vmm', 'shared'];

/** Owner id 0 is the hypervisor itself; VMs are numbered from 1. */
export const VMM_OWNER = 0;
export const NO_OWNER = -1;

const USE_CODE: Record<FrameUse, number> = { free: 0, 'guest-data': 1, 'guest-pt': 2, 'shadow-pt': 3, ept: 4, vmm: 5, shared: 6 };

export interface FrameInfo {
  mpn: number;
  owner: number;
  use: FrameUse;
  /** For guest frames: the guest-physical page number it backs. */
  ppn: number | undefined;
}

export class FrameTable {
  readonly total: number;
  private readonly owner: Int32Array;
  private readonly use: Uint8Array;
  private readonly ppn: Float64Array;
  /** Free frames, popped from the end: low frames are handed out first (a readable map). */
  private readonly freeList: number[] = [];
  private freeCount: number;

  constructor(totalFrames: number, reservedLow = 0) {
    this.total = totalFrames;
    this.owner = new Int32Array(totalFrames).fill(NO_OWNER);
    this.use = new Uint8Array(totalFrames);
    this.ppn = new Float64Array(totalFrames).fill(-1);
    for (let f = totalFrames - 1; f >= reservedLow; f--) this.freeList.push(f);
    for (let f = 0; f < reservedLow; f++) {
      this.owner[f] = VMM_OWNER;
      this.use[f] = USE_CODE.vmm;
    }
    this.freeCount = this.freeList.length;
  }

  get free(): number {
    return this.freeCount;
  }

  /** Takes a free frame for `owner`; undefined when machine memory is exhausted. */
  allocate(owner: number, use: Exclude<FrameUse, 'free'>, ppn?: number): number | undefined {
    let f = this.freeList.pop();
    // Frames freed out of order may sit in the list twice; skip ones already taken.
    while (f !== undefined && this.owner[f] !== NO_OWNER) f = this.freeList.pop();
    if (f === undefined) return undefined;
    this.owner[f] = owner;
    this.use[f] = USE_CODE[use];
    this.ppn[f] = ppn ?? -1;
    this.freeCount--;
    return f;
  }

  /**
   * Takes one particular free frame (e.g. part of an aligned run for a large EPT page); false
   * if it is taken. Its stale free-list slot is skipped by allocate(), as for out-of-order frees.
   */
  allocateAt(mpn: number, owner: number, use: Exclude<FrameUse, 'free'>, ppn?: number): boolean {
    if (!(mpn >= 0 && mpn < this.total) || this.owner[mpn] !== NO_OWNER) return false;
    this.owner[mpn] = owner;
    this.use[mpn] = USE_CODE[use];
    this.ppn[mpn] = ppn ?? -1;
    this.freeCount--;
    return true;
  }

  release(mpn: number): void {
    if (this.owner[mpn] === NO_OWNER) return;
    this.owner[mpn] = NO_OWNER;
    this.use[mpn] = USE_CODE.free;
    this.ppn[mpn] = -1;
    this.freeList.push(mpn);
    this.freeCount++;
  }

  setUse(mpn: number, use: Exclude<FrameUse, 'free'>): void {
    if (this.owner[mpn] !== NO_OWNER) this.use[mpn] = USE_CODE[use];
  }

  ownerOf(mpn: number): number {
    return mpn >= 0 && mpn < this.total ? this.owner[mpn] : NO_OWNER;
  }

  useOf(mpn: number): FrameUse {
    return FRAME_USES[this.use[mpn]] ?? 'free';
  }

  info(mpn: number): FrameInfo {
    const p = this.ppn[mpn];
    return { mpn, owner: this.owner[mpn], use: this.useOf(mpn), ppn: p >= 0 ? p : undefined };
  }

  /** Frames counted by owner and use: the accounting the audit checks and the memory map shows. */
  census(): { free: number; byOwner: Map<number, Record<FrameUse, number>> } {
    const byOwner = new Map<number, Record<FrameUse, number>>();
    let free = 0;
    for (let f = 0; f < this.total; f++) {
      const o = this.owner[f];
      if (o === NO_OWNER) {
        free++;
        continue;
      }
      let rec = byOwner.get(o);
      if (!rec) {
        rec = { free: 0, 'guest-data': 0, 'guest-pt': 0, 'shadow-pt': 0, ept: 0, vmm: 0, shared: 0 };
        byOwner.set(o, rec);
      }
      rec[this.useOf(f)]++;
    }
    return { free, byOwner };
  }
}

export interface FrameRun {
  /** First machine frame of the run. */
  mpn: number;
  count: number;
  owner: number;
  use: FrameUse;
}

/** The memory map: consecutive frames with the same owner and use merged into runs. */
export function frameRuns(t: FrameTable): FrameRun[] {
  const runs: FrameRun[] = [];
  let cur: FrameRun | undefined;
  for (let f = 0; f < t.total; f++) {
    const owner = t.ownerOf(f);
    const use = t.useOf(f);
    if (cur && cur.owner === owner && cur.use === use) cur.count++;
    else {
      cur = { mpn: f, count: 1, owner, use };
      runs.push(cur);
    }
  }
  return runs;
}
