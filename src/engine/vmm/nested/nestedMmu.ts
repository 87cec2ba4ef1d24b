// A vCPU's MMU in nested mode: the hardware Mmu (TLB + first-stage walker) with the EPT as
// its second stage. The TLB caches combined gva → mpa translations in the host TLB under the
// vCPU's VPID; a miss makes the 2-D walk. When the EPT walk fails, the access is aborted with an
// EptExit; this port hands it to the VMM (a VM exit) and re-executes the access, as VM entry
// re-executes the instruction. The guest sees only its own #PFs, through `fault`.
// It *is* the hardware Mmu (a subclass): the vCPU's TLB-hit fast paths (epoch, hitSlot,
// replayHit) reach the same code as natively, with no extra call in between.
import type { AccessCode, MmuPort } from '../../cpu/mmuPort';
import type { HitReplay } from '../../cpu/hitReplay';
import type { PhysicalMemory } from '../../memory/physicalMemory';
import { Mmu } from '../../mmu/mmu';
import { SECOND_STAGE_EXIT } from '../../mmu/tableMemory';
import type { Tlb } from '../../mmu/tlb';
import type { WalkOptions } from '../../mmu/walker';
import type { SecondStageWalk, WalkAccess, WalkRecord } from '../../mmu/walkRecord';
import { EptExit } from './eptExit';
import type { NestedVmm } from './nestedVmm';

const ACCESS_NAMES: readonly WalkAccess[] = ['read', 'write', 'fetch'];

export class NestedMmu extends Mmu implements MmuPort, HitReplay {
  constructor(
    readonly vmm: NestedVmm,
    readonly index: number,
    mem: PhysicalMemory,
    tlb: Tlb,
    vpid: number,
    maxPhyAddr: number,
  ) {
    super(mem, tlb, { maxPhyAddr, tableMemory: vmm.translator, secondStage: vmm.translator });
    this.vpid = vpid;
    vmm.attach(this, tlb, vpid);
  }

  /** The hardware MMU (this object), for callers that want to say so. */
  get hw(): Mmu {
    return this;
  }

  /** The EPT walks of the last PAE PDPTE load (one per PDPTE). */
  get lastPdpteLoad(): SecondStageWalk[] {
    return this.vmm.translator.pdpteWalks;
  }

  override translate(linear: number, access: AccessCode, user: boolean, ac: boolean): number {
    const t = this.vmm.translator;
    for (let attempt = 0; ; attempt++) {
      // Set on every attempt: the exit handled in between may have run code (an event
      // listener, another vCPU's port) that used the translator.
      t.linear = linear;
      t.access = ACCESS_NAMES[access];
      this.vmm.currentVcpu = this.index;
      let exit: EptExit;
      try {
        const pa = super.translate(linear, access, user, ac);
        if (pa !== SECOND_STAGE_EXIT) return pa;
        // The fast 2-D walk's exit, handed over rather than thrown (the same exit, cheaper).
        exit = t.pendingExit!;
        t.pendingExit = null;
      } catch (e) {
        if (!(e instanceof EptExit)) throw e;
        exit = e;
      }
      this.vmm.handleExit(exit, this.index, attempt);
    }
  }

  /** PDPTE loads read guest memory through the EPT too (qualification bit 7 clear on a violation). */
  override loadPdptes(): boolean {
    const t = this.vmm.translator;
    for (let attempt = 0; ; attempt++) {
      this.vmm.currentVcpu = this.index;
      t.pdpteLoad = true;
      t.pdpteWalks = [];
      try {
        return super.loadPdptes();
      } catch (e) {
        if (!(e instanceof EptExit)) throw e;
        this.vmm.handleExit(e, this.index, attempt);
      } finally {
        t.pdpteLoad = false;
        t.takeSecondStage();
      }
    }
  }

  /**
   * The debugger's probe: the 2-D walk without side effects on the EPT side (no exits, no
   * EPT A/D, no cache fill). A final EPT walk that would fail is recorded with its outcome.
   * It may run in the middle of an access (from an exit's event listener): the access's
   * translator context is saved and restored around it.
   */
  override walk(linear: number, access: WalkAccess, user: boolean, opts: WalkOptions): WalkRecord {
    const t = this.vmm.translator;
    const saved = t.saveState();
    t.beginProbe(linear, access);
    try {
      const rec = super.walk(linear, access, user, opts);
      if (rec.ok) {
        try {
          const m = t.translateFinal(rec, linear);
          rec.physical = m.frameBase + (linear % m.pageSize);
        } catch (e) {
          if (!(e instanceof EptExit)) throw e;
          rec.ok = false;
          rec.reason = e.walk.outcome;
        }
      }
      return rec;
    } finally {
      t.restoreState(saved);
    }
  }
}
