// The vCPU's MMU in paravirtual mode: the hardware Mmu walking the guest's own tables in machine
// memory (they hold machine frame numbers: no translation layer, no hidden faults, no exits).
// Before the guest turns paging on there are no tables yet; then the port maps guest-physical
// addresses through the p2m, as a domain builder loads a PV kernel, and a write to a frame the
// hypervisor protects (a validated page table, the p2m copy) is discarded like a write to ROM —
// paging off cannot raise #PF, and letting it through would bypass the validation.
import type { AccessCode, FlushResult, MmuFault, MmuPort } from '../../cpu/mmuPort';
import type { HitReplay } from '../../cpu/hitReplay';
import type { Mmu } from '../../mmu/mmu';
import type { P2m } from '../p2m';

const CR0_PG = 0x80000000;
const PAGE = 4096;

export class ParavirtMmuPort implements MmuPort, HitReplay {
  private pagingOff = true;
  /** Writes discarded while paging was off (to a protected frame). */
  discardedWrites = 0;

  constructor(
    /** The hardware MMU (host TLB, tagged with this vCPU's VPID; walks machine memory). */
    readonly mmu: Mmu,
    private readonly p2m: P2m,
    /** Is this machine frame read-only to the guest (a validated table or the p2m copy)? */
    private readonly isProtected: (mfn: number) => boolean,
    /** An address that reads all ones and drops writes (past the end of machine memory). */
    private readonly nowhere: number,
  ) {}

  get isPagingOff(): boolean {
    return this.pagingOff;
  }

  get fault(): MmuFault | null {
    return this.mmu.fault;
  }

  translate(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    if (!this.pagingOff) return this.mmu.translate(linear, access, user, ac);
    return this.physical(linear, access === 1);
  }

  /** Paging off: the machine address of guest-physical `gpa` (see the file comment). */
  physical(gpa: number, write: boolean): number {
    const ppn = Math.floor(gpa / PAGE);
    const mpn = this.p2m.lookup(ppn);
    if (mpn < 0) return this.nowhere + (gpa % PAGE);
    if (write && this.isProtected(mpn)) {
      this.discardedWrites++;
      return this.nowhere + (gpa % PAGE);
    }
    return mpn * PAGE + (gpa % PAGE);
  }

  setControl(cr0: number, cr3: number, cr4: number, efer: number): void {
    this.pagingOff = (cr0 & CR0_PG) === 0;
    this.mmu.setControl(cr0, cr3, cr4, efer);
  }

  loadPdptes(): boolean {
    return this.mmu.loadPdptes();
  }

  onCr3Write(newCr3: number, noFlush: boolean): FlushResult | null {
    return this.mmu.onCr3Write(newCr3, noFlush);
  }

  onCr0Write(oldCr0: number, newCr0: number): FlushResult | null {
    return this.mmu.onCr0Write(oldCr0, newCr0);
  }

  onCr4Write(oldCr4: number, newCr4: number): FlushResult | null {
    return this.mmu.onCr4Write(oldCr4, newCr4);
  }

  invlpg(linear: number): FlushResult {
    return this.mmu.invlpg(linear);
  }

  invpcid(type: number, pcid: number, linear: number): FlushResult | null {
    return this.mmu.invpcid(type, pcid, linear);
  }

  // The vCPU's fast paths replay hardware TLB hits: nothing of this mode sits between them.
  get epoch(): number {
    return this.mmu.epoch;
  }

  hitSlot(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    return this.mmu.hitSlot(linear, access, user, ac);
  }

  replayHit(access: AccessCode, slot: number): void {
    this.mmu.replayHit(access, slot);
  }
}
