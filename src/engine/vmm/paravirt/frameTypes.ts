// Xen's page-type system for one paravirtual VM (after xen/arch/x86/mm.c): every machine frame
// of the VM has a type — none, L1..L4 page table, or writable — and a count of the references
// holding that type. A type can change only when its count is 0, so a frame is never both
// writable-mapped and a page table; that invariant is what lets the guest's tables hold
// machine frame numbers that the hardware MMU walks directly.
//
// References held:
//   - a pin (MMUEXT_PIN_Ln) holds one type reference on its frame;
//   - a vCPU's current base (NEW_BASEPTR) holds one L4 reference;
//   - a present entry of a validated Ln table (n > 1) holds one L(n-1) reference on the frame
//     it points at — or, for a same-level ("linear", recursive) entry, one Ln reference;
//   - a present, writable L1 entry holds one `writable` reference on the frame it maps
//     (a read-only L1 entry holds none: anything the VM owns may be mapped read-only).
// A table is validated when its type is first taken (every present entry checked and its
// reference taken) and devalidated when its count drops to 0 (every reference released).
//
// Error numbers are Xen's, and depend on who asks (xen/arch/x86/mm.c):
//   - a type conflict is -EINVAL (_get_page_type), except that get_page_from_l1e turns a
//     failed writable reference into -EBUSY (its `could_not_pin` exit);
//   - a frame the VM cannot reference is -EINVAL where Xen looks it up with get_page_from_gfn
//     or get_page_from_mfn (pin, unpin, NEW_BASEPTR, the mmu_update ptr, L2–L4 entries); in an
//     L1 entry it is -EBUSY (could_not_pin), or -EPERM for a frame outside RAM (an unprivileged
//     attempt to map I/O memory);
//   - the p2m copy behaves as a page Xen shares read-only (SHARE_ro: type `none`, with a type
//     reference Xen holds forever), so every type request on it conflicts.
import type { MachineMemory } from '../../machine/machineMemory';
import { VMM_OWNER } from '../../machine/frameTable';
import { ALLOWED_FLAGS, ALLOWED_L1_FLAGS, Errno, PTE_ADDR, PteBit } from './abi';

export const FrameType = { NONE: 0, L1: 1, L2: 2, L3: 3, L4: 4, WRITABLE: 5 } as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

export const FRAME_TYPE_NAMES = ['none', 'L1 page table', 'L2 page table', 'L3 page table', 'L4 page table', 'writable'] as const;

/** Why a request was refused: the error number and the rule, in words. */
export interface Rejection {
  errno: number;
  why: string;
}

export const ENTRIES = 512;

export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}

function isTable(t: number): boolean {
  return t >= FrameType.L1 && t <= FrameType.L4;
}

export class FrameTypes {
  readonly type: Uint8Array;
  readonly count: Int32Array;
  readonly pinned: Uint8Array;
  /** Frames the guest may map read-only only, and never as a table (the p2m copy). */
  readonly readOnly: Uint8Array;
  /**
   * Frames that held a writable type since the last full flush of the VM's TLB entries: a
   * stale writable translation of them may still be cached, so before one becomes a page
   * table the TLB is flushed (Xen's tlbflush_timestamp check in _get_page_type).
   */
  readonly maybeWritableInTlb: Uint8Array;
  /** The L4 each vCPU runs on (NEW_BASEPTR), -1 before the first. */
  readonly base: number[] = [];
  /** Full flushes of the VM's TLB entries this type system asked for (type changes, L2–L4 updates). */
  flushes = 0;

  constructor(
    readonly machine: MachineMemory,
    readonly vmId: number,
    /** Flushes every TLB entry of the VM's vCPUs, global ones included. */
    private readonly flushTlb: (cause: string) => void,
  ) {
    const n = machine.frames.total;
    this.type = new Uint8Array(n);
    this.count = new Int32Array(n);
    this.pinned = new Uint8Array(n);
    this.readOnly = new Uint8Array(n);
    this.maybeWritableInTlb = new Uint8Array(n);
  }

  /** Is this machine frame the VM's? */
  owns(mfn: number): boolean {
    return Number.isInteger(mfn) && mfn >= 0 && mfn < this.machine.frames.total && this.machine.frames.ownerOf(mfn) === this.vmId;
  }

  /** The type a frame holds now (none when its count is 0). */
  typeOf(mfn: number): FrameTypeCode {
    return (this.count[mfn] > 0 ? this.type[mfn] : FrameType.NONE) as FrameTypeCode;
  }

  /** Is the frame a page table in use (validated, count > 0)? */
  isTable(mfn: number): boolean {
    return this.count[mfn] > 0 && isTable(this.type[mfn]);
  }

  readEntry(mfn: number, index: number): bigint {
    const a = mfn * 4096 + index * 8;
    const b = this.machine.bytes;
    return (BigInt(b.read32(a + 4) >>> 0) << 32n) | BigInt(b.read32(a) >>> 0);
  }

  writeEntry(mfn: number, index: number, v: bigint): void {
    const a = mfn * 4096 + index * 8;
    this.machine.bytes.write32(a, Number(v & 0xffffffffn));
    this.machine.bytes.write32(a + 4, Number((v >> 32n) & 0xffffffffn));
  }

  /** Called after a full flush of the VM's TLB entries: no stale writable translation is left. */
  tlbFlushed(): void {
    this.maybeWritableInTlb.fill(0);
  }

  // ------------------------------------------------------------------ the rules

  /** Flags a present entry at `level` may carry (reference §4: P RW US A D AVAIL NX; G only in L1; no PSE). */
  checkFlags(level: number, e: bigint): Rejection | null {
    const bad = e & ~PTE_ADDR & ~(level === 1 ? ALLOWED_L1_FLAGS : ALLOWED_FLAGS);
    if (bad === 0n) return null;
    const names: string[] = [];
    if (bad & PteBit.PS) names.push(level === 1 ? 'PAT (bit 7)' : 'PS (bit 7): no large pages for a paravirtual guest');
    if (bad & PteBit.G) names.push('G (bit 8): global pages are allowed in L1 entries only');
    if (bad & PteBit.PWT) names.push('PWT (bit 3)');
    if (bad & PteBit.PCD) names.push('PCD (bit 4)');
    if (bad & 0x7ff0_0000_0000_0000n) names.push('bits 52–62');
    return { errno: Errno.EINVAL, why: `flag not allowed in an L${level} entry: ${names.join(', ')}` };
  }

  /**
   * Why the VM may not reference this frame at all, or null. Xen's answer depends on the
   * caller: get_page_from_gfn / get_page_from_mfn fail with -EINVAL (pin, unpin, NEW_BASEPTR,
   * mmu_update's ptr, L2–L4 entries); get_page_from_l1e says -EPERM for a frame outside RAM
   * (mfn_valid fails: it would map I/O memory, and iomem_access_permitted refuses an
   * unprivileged guest) and -EBUSY for a frame of RAM that is someone else's (could_not_pin).
   */
  checkOwner(mfn: number, inL1 = false): Rejection | null {
    if (this.owns(mfn)) return null;
    const total = this.machine.frames.total;
    if (!(mfn >= 0 && mfn < total)) {
      const why = `machine frame ${hex(mfn)} does not exist (machine memory has ${hex(total)} frames)`;
      return inL1 ? { errno: Errno.EPERM, why: `${why}: an L1 entry would map I/O memory, which this guest may not` } : { errno: Errno.EINVAL, why };
    }
    const owner = this.machine.frames.ownerOf(mfn);
    const whose = owner === VMM_OWNER ? 'the hypervisor' : owner < 0 ? 'no one (free)' : `VM ${owner}`;
    return { errno: inL1 ? Errno.EBUSY : Errno.EINVAL, why: `machine frame ${hex(mfn)} is not this VM's: it belongs to ${whose}` };
  }

  /**
   * Takes a type reference (get_page_type): validates the frame when it becomes a table. A
   * conflict is -EINVAL, as _get_page_type returns it; a validation failure returns the
   * failing entry's error (promote_lN_table passes it up).
   */
  getType(mfn: number, t: FrameTypeCode): Rejection | null {
    const own = this.checkOwner(mfn);
    if (own) return own;
    if (this.readOnly[mfn]) {
      return { errno: Errno.EINVAL, why: `machine frame ${hex(mfn)} holds the p2m the hypervisor shares read-only: it may be mapped read-only only` };
    }
    if (this.count[mfn] > 0) {
      if (this.type[mfn] === t) {
        this.count[mfn]++;
        return null;
      }
      const n = this.count[mfn];
      const refs = `${n} reference${n === 1 ? '' : 's'}`;
      if (t === FrameType.WRITABLE) {
        return { errno: Errno.EINVAL, why: `machine frame ${hex(mfn)} is an ${FRAME_TYPE_NAMES[this.type[mfn]]} (${refs}): a page table may be mapped read-only only` };
      }
      if (this.type[mfn] === FrameType.WRITABLE) {
        return { errno: Errno.EINVAL, why: `machine frame ${hex(mfn)} is mapped writable (${refs}): it cannot become an ${FRAME_TYPE_NAMES[t]} until every writable mapping is gone` };
      }
      return { errno: Errno.EINVAL, why: `machine frame ${hex(mfn)} is an ${FRAME_TYPE_NAMES[this.type[mfn]]} (${refs}): it cannot also be an ${FRAME_TYPE_NAMES[t]}` };
    }
    this.type[mfn] = t;
    this.count[mfn] = 1;
    if (t === FrameType.WRITABLE) {
      this.maybeWritableInTlb[mfn] = 1;
      return null;
    }
    if (this.maybeWritableInTlb[mfn]) this.flushTlb(`frame ${hex(mfn)} becomes an ${FRAME_TYPE_NAMES[t]} while a stale writable translation may be cached`);
    const bad = this.validate(mfn, t);
    if (bad) {
      this.type[mfn] = FrameType.NONE;
      this.count[mfn] = 0;
      return bad;
    }
    this.machine.frames.setUse(mfn, 'guest-pt');
    return null;
  }

  /** Drops a type reference (put_page_type): a table whose count reaches 0 is devalidated. */
  putType(mfn: number): void {
    if (this.count[mfn] <= 0) throw new Error(`paravirt: type count of frame ${hex(mfn)} would go negative`);
    this.count[mfn]--;
    if (this.count[mfn] > 0) return;
    const t = this.type[mfn];
    this.type[mfn] = FrameType.NONE;
    if (!isTable(t)) return;
    for (let i = 0; i < ENTRIES; i++) {
      const e = this.readEntry(mfn, i);
      if (e & PteBit.P) this.putRef(t, e, mfn);
    }
    this.machine.frames.setUse(mfn, 'guest-data');
  }

  /** The reference a present entry at `level` of table `holder` needs (get_page_from_lNe). */
  getRef(level: number, e: bigint, holder: number): Rejection | null {
    const target = Number((e & PTE_ADDR) >> 12n);
    const own = this.checkOwner(target, level === 1);
    if (own) return own;
    const rw = (e & PteBit.RW) !== 0n;
    if (level === 1) {
      if (!rw) return null;
      // get_page_from_l1e: a writable reference it cannot take is -EBUSY (could_not_pin).
      const bad = this.getType(target, FrameType.WRITABLE);
      return bad && { errno: Errno.EBUSY, why: bad.why };
    }
    // A same-level entry is a linear ("recursive") page-table mapping: read-only, and the
    // table pointing at itself takes no reference (its own would never let its count reach 0).
    if (target === holder) {
      return rw ? { errno: Errno.EINVAL, why: `a recursive mapping of an L${level} table must be read-only (R/W=0)` } : null;
    }
    if (this.count[target] > 0 && this.type[target] === level) {
      if (rw) return { errno: Errno.EINVAL, why: `a recursive (linear) mapping of an L${level} table through an L${level} entry must be read-only (R/W=0)` };
      this.count[target]++;
      return null;
    }
    return this.getType(target, (level - 1) as FrameTypeCode);
  }

  putRef(level: number, e: bigint, holder: number): void {
    const target = Number((e & PTE_ADDR) >> 12n);
    if (level === 1 && (e & PteBit.RW) === 0n) return;
    if (level > 1 && target === holder) return;
    this.putType(target);
  }

  /** Validates a frame that is becoming an L`level` table: every present entry, with its reference. */
  private validate(mfn: number, level: number): Rejection | null {
    for (let i = 0; i < ENTRIES; i++) {
      const e = this.readEntry(mfn, i);
      if (!(e & PteBit.P)) continue;
      const bad = this.checkFlags(level, e) ?? this.getRef(level, e, mfn);
      if (bad) {
        for (let j = 0; j < i; j++) {
          const ej = this.readEntry(mfn, j);
          if (ej & PteBit.P) this.putRef(level, ej, mfn);
        }
        return { errno: bad.errno, why: `entry ${i} of the new L${level} table ${hex(mfn)} (${hex(e)}): ${bad.why}` };
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ operations

  /** MMUEXT_PIN_Ln_TABLE. */
  pin(mfn: number, level: number): Rejection | null {
    const own = this.checkOwner(mfn);
    if (own) return own;
    if (this.pinned[mfn]) return { errno: Errno.EINVAL, why: `machine frame ${hex(mfn)} is already pinned (as an ${FRAME_TYPE_NAMES[this.type[mfn]]})` };
    const bad = this.getType(mfn, level as FrameTypeCode);
    if (bad) return bad;
    this.pinned[mfn] = 1;
    return null;
  }

  /** MMUEXT_UNPIN_TABLE. */
  unpin(mfn: number): Rejection | null {
    const own = this.checkOwner(mfn);
    if (own) return own;
    if (!this.pinned[mfn]) return { errno: Errno.EINVAL, why: `machine frame ${hex(mfn)} is not pinned` };
    this.pinned[mfn] = 0;
    this.putType(mfn);
    return null;
  }

  /**
   * MMUEXT_NEW_BASEPTR (Xen's new_guest_cr3): takes an L4 (root) type reference on the frame —
   * validating it on demand if it is not a table yet, as get_page_and_type_from_mfn does; no
   * prior pin is needed — and drops the old base's. The current base is accepted with no
   * reference change (Xen only reloads CR3). The caller loads CR3.
   */
  newBase(vcpu: number, mfn: number): Rejection | null {
    const old = this.base[vcpu] ?? -1;
    if (mfn === old) return null;
    const bad = this.getType(mfn, FrameType.L4);
    if (bad) return { errno: bad.errno, why: `new_baseptr needs an L4 table: ${bad.why}` };
    this.base[vcpu] = mfn;
    if (old >= 0) this.putType(old);
    return null;
  }

  /**
   * One mmu_update request: write `val` to the 8-byte entry at machine address `ptr`. A table
   * entry is validated (mod_lN_entry); a frame that is not a table is written directly.
   * Returns the level of the table changed (0: not a table) so the caller can flush.
   */
  update(ptr: number, val: bigint, preserveAccessedDirty: boolean): Rejection | { level: number } {
    if (ptr % 8 !== 0) return { errno: Errno.EINVAL, why: `entry address ${hex(ptr)} is not 8-byte aligned` };
    const mfn = Math.floor(ptr / 4096);
    const index = (ptr % 4096) / 8;
    const own = this.checkOwner(mfn);
    if (own) return own;
    // do_mmu_update: rc stays -EINVAL when the frame is neither a table nor writable-typeable.
    if (this.readOnly[mfn]) return { errno: Errno.EINVAL, why: `machine frame ${hex(mfn)} holds the p2m the hypervisor shares read-only` };
    if (!this.isTable(mfn)) {
      // Not a page table: an ordinary write, under a writable type reference for its duration.
      const bad = this.getType(mfn, FrameType.WRITABLE);
      if (bad) return bad;
      this.writeEntry(mfn, index, val);
      this.putType(mfn);
      return { level: 0 };
    }
    const level = this.type[mfn];
    const old = this.readEntry(mfn, index);
    if (preserveAccessedDirty) val |= old & (PteBit.A | PteBit.D);
    if (val & PteBit.P) {
      const bad = this.checkFlags(level, val);
      if (bad) return bad;
    }
    // Same frame and same R/W: the references do not change (Xen's fast path).
    const same = (old & PteBit.P) !== 0n && (val & PteBit.P) !== 0n && (old & PTE_ADDR) === (val & PTE_ADDR) && (old & PteBit.RW) === (val & PteBit.RW);
    if (!same) {
      if (val & PteBit.P) {
        const bad = this.getRef(level, val, mfn);
        if (bad) return bad;
      }
      this.writeEntry(mfn, index, val);
      if (old & PteBit.P) this.putRef(level, old, mfn);
    } else {
      this.writeEntry(mfn, index, val);
    }
    return { level };
  }
}
