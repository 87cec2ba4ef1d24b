// The `paravirt` memory mode: Xen-style direct paging. The guest knows it is virtualized
// (CPUID 0x40000001 eax = 3), reads its p2m from a read-only copy in its own memory, writes
// machine frame numbers into its page tables, and changes them only through validated
// hypercalls; the hardware MMU then walks those tables directly — no shadow tables, no EPT.
// See docs/vmm/paravirt.md.
import type { ExitAction, ExitingCpu, ExitRequest } from '../../cpu/vmxPort';
import { defaultControls } from '../controls';
import type { ExecutionControls } from '../controls';
import { ExitReason } from '../exitReasons';
import type { ModeContext, ModeDefinition, ModeInstance } from '../virtualVm';
import type { ModeOptions } from '../options';
import { Mmu } from '../../mmu/mmu';
import { FRAME_TYPE_NAMES, FrameType, FrameTypes, ENTRIES, hex } from './frameTypes';
import { PTE_ADDR, PteBit } from './abi';
import { Hypercalls } from './hypercalls';
import { ParavirtMmuPort } from './paravirtPort';
import { auditParavirt } from './audit';

const PAGE = 4096;
const CR0_WP = 1 << 16;
const CR0_PG = 0x80000000;
const CR4_PAE = 1 << 5;
const CR4_LA57 = 1 << 12;
const EFER_LME = 1 << 8;
const GP = 13;

/** What tests and the UI can inspect of one paravirtual VM beyond the ModeInstance contract. */
export interface ParavirtInstance extends ModeInstance {
  types: FrameTypes;
  hypercalls: Hypercalls;
  ports: ParavirtMmuPort[];
  /** Guest pages holding the p2m copy: [first ppn, page count]. */
  p2mCopy: { page: number; pages: number };
}

function controls(): ExecutionControls {
  return {
    ...defaultControls(),
    // A PV guest loads CR3 only through NEW_BASEPTR: MOV CR3 exits and is refused with #GP.
    cr3LoadExiting: true,
    // Hypercalls are not VM entries/exits on real Xen PV and flush nothing: VPID keeps the
    // guest's TLB entries across our VMCALL exits, so a missing INVLPG stays visible.
    enableVpid: true,
    // Turning paging on (and WP) is checked: 4-level long-mode paging with CR0.WP=1 only.
    cr0GuestHostMask: (CR0_PG | CR0_WP) >>> 0,
  };
}

function create(ctx: ModeContext): ParavirtInstance {
  const { machine, p2m, options } = ctx;
  // A PV domain is fully populated when it is built. Back pages from the top down so the p2m
  // is visibly not the identity (guest page 0 gets the highest frame of the run).
  for (let ppn = p2m.pages - 1; ppn >= 0; ppn--) p2m.back(ppn);

  // The read-only p2m copy: one qword per guest page, at options.paravirt.p2mPage.
  const page = options.paravirt.p2mPage;
  const pages = Math.ceil((p2m.pages * 8) / PAGE);
  if (!(Number.isInteger(page) && page >= 0 && page + pages <= p2m.pages)) {
    throw new Error(`paravirt: the p2m copy (${pages} pages at guest page ${hex(page)}) does not fit in the VM's ${p2m.pages} pages`);
  }
  const types = new FrameTypes(machine, ctx.vmId, (cause) => flushAll(cause, 0));
  for (let i = 0; i < pages; i++) {
    const mpn = p2m.lookup(page + i);
    types.readOnly[mpn] = 1;
    machine.frames.setUse(mpn, 'vmm');
  }
  for (let ppn = 0; ppn < p2m.pages; ppn++) {
    const mpn = p2m.lookup(page + Math.floor(ppn / 512));
    types.writeEntry(mpn, ppn % 512, BigInt(p2m.lookup(ppn)));
  }

  const ports: ParavirtMmuPort[] = [];
  const vpids: number[] = [];
  const nowhere = machine.size;

  function flushAll(cause: string, vcpu: number): void {
    let removed = 0;
    for (const port of ports) removed += port.mmu.tlb.flushVpid(port.mmu.vpid, false).entriesRemoved;
    types.tlbFlushed();
    types.flushes++;
    if (ctx.bus.wants['tlb-flush'] && ports.length > 0) {
      const c = ctx.vcpu(vcpu);
      ctx.bus.emit({ kind: 'tlb-flush', scope: 'all', cause: `paravirt: ${cause}`, entriesRemoved: removed, icount: c.icount, vcpu, rip: c.ripValue });
    }
  }

  // The p2m's mapper. Xen PV: the guest writes machine frame numbers into its own tables and
  // reads its p2m copy, so the hypervisor has no translation of its own to take away — there is
  // nothing to revoke that would bring the guest's next access back. Hence Xen's mem_sharing and
  // mem_paging are HVM-only, and a PV guest can only give frames back by ballooning
  // (XENMEM_decrease_reservation), after unmapping them itself.
  const copyEntry = (ppn: number): void => {
    const copyMpn = p2m.lookup(page + Math.floor(ppn / 512));
    // A frame that went is INVALID_P2M_ENTRY (~0) in the guest's copy, as in Xen.
    if (copyMpn >= 0) types.writeEntry(copyMpn, ppn % 512, BigInt.asUintN(64, BigInt(p2m.lookup(ppn))));
  };
  p2m.mapper = {
    populateOnDeflate: true,
    refuse(ppn, op) {
      if (op !== 'balloon') {
        return `a paravirtual guest holds machine frame numbers in its own page tables and p2m copy: Xen supports neither ${op === 'swap' ? 'paging (mem_paging)' : 'page sharing (mem_sharing)'} for PV guests — both are HVM-only, since they work by revoking a translation the hypervisor owns`;
      }
      const mfn = p2m.lookup(ppn);
      if (mfn < 0) return null;
      if (types.count[mfn] > 0) {
        return `machine frame ${hex(mfn)} is still in use as ${FRAME_TYPE_NAMES[types.type[mfn]]} (type count ${types.count[mfn]}): the guest must unmap${types.pinned[mfn] ? ' and unpin' : ''} it before handing it to the balloon`;
      }
      const l1 = mappedBy(mfn);
      if (l1 >= 0) return `machine frame ${hex(mfn)} is still mapped read-only by L1 table ${hex(l1)}: the guest must unmap it before handing it to the balloon`;
      return null;
    },
    // Only a page with no mapping left gets here (refuse): what may remain is a TLB entry the
    // guest did not flush. Xen flushes before the frame can be reused; so does this.
    revoke: () => flushAll('a frame left the VM (balloon)', 0),
    changed: copyEntry,
  };
  /** A validated L1 table with a present entry mapping `mfn`, or -1. */
  function mappedBy(mfn: number): number {
    for (let t = 0; t < types.type.length; t++) {
      if (types.typeOf(t) !== FrameType.L1) continue;
      for (let i = 0; i < ENTRIES; i++) {
        const e = types.readEntry(t, i);
        if (e & PteBit.P && Number((e & PTE_ADDR) >> 12n) === mfn) return t;
      }
    }
    return -1;
  }

  const hypercalls = new Hypercalls({
    types, bus: ctx.bus,
    port: (i) => ports[i],
    vcpu: (i) => ctx.vcpu(i),
    vcpuCount: () => ports.length,
    flushAll,
  });

  const onVmcall = (cpu: ExitingCpu, req: ExitRequest): ExitAction | undefined =>
    req.reason === ExitReason.VMCALL ? hypercalls.handle(cpu) : undefined;

  const onCrAccess = (cpu: ExitingCpu, req: ExitRequest): ExitAction | undefined => {
    if (req.reason !== ExitReason.CR_ACCESS) return undefined;
    const q = Number(req.qualification);
    const cr = q & 15;
    const accessType = (q >> 4) & 3;
    if (accessType !== 0) return undefined;
    if (cr === 3) return { kind: 'inject', vector: GP, errorCode: 0 };
    if (cr !== 0) return undefined;
    const value = Number(BigInt.asUintN(32, cpu.getReg((q >> 8) & 15)));
    if ((value & CR0_PG) === 0) return undefined;
    const v = ctx.vcpu(cpu.index);
    // The validation assumes the hardware walks 4-level tables and honours read-only
    // mappings at CPL 0; anything else would let the guest write its own tables. And CR3 must
    // be a validated L4 the VM holds a reference on: before the first NEW_BASEPTR it is
    // whatever the loader left there, which the hardware would walk unchecked.
    const hasBase = (types.base[cpu.index] ?? -1) >= 0;
    const ok = hasBase && (value & CR0_WP) !== 0 && (v.cr4 & CR4_PAE) !== 0 && (v.cr4 & CR4_LA57) === 0 && (v.efer & EFER_LME) !== 0;
    return ok ? undefined : { kind: 'inject', vector: GP, errorCode: 0 };
  };

  return {
    types, hypercalls, ports, p2mCopy: { page, pages },
    stats: () => {
      const out: Record<string, number> = { hypercalls: hypercalls.counts.calls, 'hypercalls rejected': hypercalls.counts.rejected, 'TLB flushes by the VMM': types.flushes };
      for (const [name, n] of Object.entries(hypercalls.counts.byName)) out[`hypercall ${name}`] = n;
      return out;
    },
    mmuFor(i) {
      const { tlb, vpid } = ctx.hostTlb(i);
      const mmu = new Mmu(machine.bytes, tlb, { maxPhyAddr: ctx.maxPhyAddr });
      mmu.vpid = vpid;
      const port = new ParavirtMmuPort(mmu, p2m, (mfn) => types.readOnly[mfn] === 1 || types.isTable(mfn), nowhere);
      ports[i] = port;
      vpids[i] = vpid;
      types.base[i] = -1;
      return { port, tlb };
    },
    handlers: [onVmcall, onCrAccess],
    audit: () => auditParavirt({ types, p2m, p2mPage: page, p2mPages: pages, tlb: ports[0]?.mmu.tlb ?? null, vpids }),
  };
}

export const paravirtMode: ModeDefinition = {
  mode: 'paravirt',
  controls: (_options: ModeOptions) => controls(),
  create,
};
