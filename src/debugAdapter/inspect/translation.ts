// The debugger's translation of a guest-virtual address for one vCPU, in whatever mode its VM
// runs: the guest walk (with its EPT sub-walks in nested mode), the guest-physical and machine
// addresses, the shadow entry and whether it agrees with guest walk ∘ p2m (shadow mode), and
// the TLB entry that would serve it. Every walk here is a probe: setAccessedDirty false, no
// TLB lookup that counts or stamps, no fill, no VM exit — inspecting changes nothing.
import { Mmu } from '../../engine/mmu/mmu';
import type { TlbEntryInfo, Tlb } from '../../engine/mmu/tlb';
import { walkPageTables } from '../../engine/mmu/walker';
import type { TableMemory } from '../../engine/mmu/tableMemory';
import type { PagingMode } from '../../engine/mmu/pagingMode';
import { CR0_WP, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP, EFER_NXE } from '../../engine/mmu/pagingMode';
import type { WalkContext } from '../../engine/mmu/walker';
import type { SecondStageWalk, WalkAccess, WalkRecord } from '../../engine/mmu/walkRecord';
import { NestedMmu } from '../../engine/vmm/nested/nestedMmu';
import { ShadowMmu } from '../../engine/vmm/shadow/shadowMmu';
import { ParavirtMmuPort } from '../../engine/vmm/paravirt/paravirtPort';
import type { GuestMemory } from '../../engine/memory/guestMemory';
import type { MemoryMode } from '../../engine/vm';
import type { InspectTarget, InspectedVm } from './target';
import { vcpuOf } from './target';

const PAGE = 4096;

export interface ShadowCheck {
  /** The hardware walk of the shadow tables (gva → mpa); null while the guest has paging off. */
  walk: WalkRecord | null;
  /** The machine address guest walk ∘ p2m gives, when the guest walk succeeds and the page is backed. */
  expectedMpa: number | null;
  agrees: boolean;
  /** In words: agrees / not filled yet (the next access takes a hidden fault) / stale / ... */
  note: string;
}

export interface TranslationProbe {
  vmId: number;
  vcpu: number;
  mode: MemoryMode;
  pagingMode: PagingMode;
  /** The canonical 64-bit form of the address asked about. */
  gva: bigint;
  /** The linear address the walker consumed. */
  linear: number;
  access: WalkAccess;
  /**
   * The guest's walk. Native/shadow: gva → gpa; nested: the 2-D walk (EPT sub-walks on its
   * levels and in finalSecondStage); paravirt: gva → mpa (the guest's tables hold machine frames).
   */
  guest: WalkRecord;
  ok: boolean;
  gpa: number | null;
  mpa: number | null;
  /** gpa lies beyond the VM's memory (reads all ones natively: nothing to show). */
  noMemory: boolean;
  reason: string | null;
  /**
   * Nested: the 2-D walk the hardware would make now (guest levels with their EPT sub-walks). It
   * can stop early where the guest walk does not: an EPT entry the VMM has not filled yet.
   */
  twoD: WalkRecord | null;
  /** Nested: the EPT walk of the final guest-physical address. */
  ept: SecondStageWalk | null;
  shadow: ShadowCheck | null;
  tlb: TlbEntryInfo | null;
}

/** The processor MMU behind a vCPU's port (the one holding its TLB tag and PCID). */
export function hardwareMmu(v: InspectedVm, vcpu: number): Mmu | null {
  const port = v.vm.mmus[vcpu];
  if (port instanceof ShadowMmu) return port.hw;
  if (port instanceof ParavirtMmuPort) return port.mmu;
  if (port instanceof Mmu) return port;
  return null;
}

/** The guest's paging mode as the guest set it (not the shadow's hardware view). */
export function guestPagingMode(v: InspectedVm, vcpu: number): PagingMode {
  const port = v.vm.mmus[vcpu];
  if (port instanceof ShadowMmu) return port.mode;
  return hardwareMmu(v, vcpu)?.mode ?? 'none';
}

/** The TLB entry that serves `linear` for this vCPU now (tag and PCID matched), without touching it. */
export function tlbEntryFor(v: InspectedVm, vcpu: number, linear: number): TlbEntryInfo | null {
  const mmu = hardwareMmu(v, vcpu);
  const tlb: Tlb | undefined = v.vm.tlbs[vcpu];
  if (!mmu || !tlb) return null;
  const slot = tlb.find(linear, mmu.currentPcid, mmu.vpid);
  if (slot < 0) return null;
  return tlb.entries().find((e) => e.slot === slot) ?? null;
}

/** Guest tables read through guest-physical memory (unbacked pages read zero, nothing is backed). */
function guestTables(mem: GuestMemory): TableMemory {
  return {
    read32: (gpa) => mem.read32(gpa),
    writeAccessedDirty: () => {
      throw new Error('internal: a probe walk tried to write A/D bits');
    },
  };
}

/** The linear address a vCPU's walker consumes for this gva, or null when it is not canonical. */
export function linearFor(bits: number, gva: bigint): number | null {
  const u = BigInt.asUintN(64, gva);
  if (bits >= 64) return Number(u);
  const lin = BigInt.asUintN(bits, u);
  if (bits === 32) return u >> 32n === 0n ? Number(lin) : null;
  // Canonical: bits 63..bits-1 all equal.
  return BigInt.asUintN(64, BigInt.asIntN(bits, lin)) === u ? Number(lin) : null;
}

const OPTS = { setAccessedDirty: false, ac: true } as const;

/** The walk context of a hardware MMU's guest (nested: the first stage), from its control registers. */
function contextOf(mmu: Mmu): WalkContext {
  const c = mmu.control();
  const pdptes = mmu.pdptes();
  return {
    mode: mmu.mode, cr3: c.cr3, maxPhyAddr: mmu.maxPhyAddr,
    wp: (c.cr0 & CR0_WP) !== 0, pse: (c.cr4 & CR4_PSE) !== 0, pge: (c.cr4 & CR4_PGE) !== 0, nxe: (c.efer & EFER_NXE) !== 0,
    smep: (c.cr4 & CR4_SMEP) !== 0, smap: (c.cr4 & CR4_SMAP) !== 0,
    pdpteLo: Uint32Array.from(pdptes, (e) => Number(e & 0xffffffffn)),
    pdpteHi: Uint32Array.from(pdptes, (e) => Number(e >> 32n)),
  };
}

export function probeTranslation(t: InspectTarget, v: InspectedVm, vcpu: number, gva: bigint, access: WalkAccess = 'read', user = false): TranslationProbe {
  const cpu = vcpuOf(v, vcpu);
  const port = v.vm.mmus[vcpu];
  const pagingMode = guestPagingMode(v, vcpu);
  const bits = pagingMode === '5level' ? 57 : pagingMode === '4level' ? 48 : cpu.linearBits;
  const lin = linearFor(bits, gva);
  const base = {
    vmId: v.id, vcpu, mode: v.vm.mode, pagingMode, gva: BigInt.asUintN(64, gva), access,
    ept: null, shadow: null, tlb: null, noMemory: false,
  };
  if (lin === null) {
    const guest: WalkRecord = { linear: base.gva, mode: pagingMode, access, user, levels: [], memoryReferences: 0, entryReads: 0, adWrites: 0, ok: false, reason: 'non-canonical address' };
    return { ...base, linear: 0, guest, twoD: null, ok: false, gpa: null, mpa: null, reason: guest.reason ?? null };
  }
  const size = v.vm.mem.size;
  let guest: WalkRecord;
  let gpa: number | null = null;
  let mpa: number | null = null;
  let shadow: ShadowCheck | null = null;
  let ept: SecondStageWalk | null = null;
  let twoD: WalkRecord | null = null;
  if (port instanceof NestedMmu) {
    // What the guest's tables say (gva → gpa), read through guest-physical memory: the EPT is
    // filled lazily, so a guest page the VMM has not mapped yet is still the guest's page.
    guest = walkPageTables(guestTables(v.vm.mem), contextOf(port), lin, access, user, OPTS);
    if (guest.ok) gpa = guest.physical ?? null;
    // The 2-D walk the hardware would make now, with its EPT steps (a probe: no exits, no A/D).
    twoD = port.walk(lin, access, user, OPTS);
    ept = twoD.finalSecondStage ?? null;
    if (guest.ok && twoD.ok && gpa !== null && gpa < size) mpa = twoD.physical ?? null;
    else if (gpa !== null && v.p2m) {
      const mpn = gpa < size ? v.p2m.lookup(Math.floor(gpa / PAGE)) : -1;
      mpa = mpn >= 0 ? mpn * PAGE + (gpa % PAGE) : null;
    }
  } else if (port instanceof ShadowMmu) {
    guest = walkPageTables(guestTables(v.vm.mem), port.guestCtx, lin, access, user, OPTS);
    if (guest.ok) gpa = guest.physical ?? null;
    if (gpa !== null && v.p2m) {
      const mpn = gpa < size ? v.p2m.lookup(Math.floor(gpa / PAGE)) : -1;
      mpa = mpn >= 0 ? mpn * PAGE + (gpa % PAGE) : null;
    }
    shadow = checkShadow(port, lin, access, user, guest, mpa, gpa !== null && gpa >= size);
  } else if (port instanceof ParavirtMmuPort) {
    if (port.isPagingOff) {
      guest = port.mmu.walk(lin, access, user, OPTS);
      gpa = lin;
      const mpn = v.p2m && gpa < size ? v.p2m.lookup(Math.floor(gpa / PAGE)) : -1;
      mpa = mpn >= 0 ? mpn * PAGE + (gpa % PAGE) : null;
    } else {
      guest = port.mmu.walk(lin, access, user, OPTS);
      if (guest.ok && guest.physical !== undefined) {
        mpa = guest.physical;
        const info = t.machine && mpa < t.machine.memory.size ? t.machine.memory.frames.info(Math.floor(mpa / PAGE)) : null;
        gpa = info && info.owner === v.p2m?.owner && info.ppn !== undefined ? info.ppn * PAGE + (mpa % PAGE) : null;
      }
    }
  } else if (port instanceof Mmu) {
    guest = port.walk(lin, access, user, OPTS);
    if (guest.ok) gpa = mpa = guest.physical ?? null;
  } else {
    throw new Error(`vCPU ${vcpu} of VM ${v.id} has an MMU port the debugger does not know`);
  }
  const noMemory = gpa !== null && gpa >= size && v.vm.mode !== 'paravirt';
  const ok = guest.ok && !noMemory;
  const reason = !guest.ok ? guest.reason ?? 'translation failed' : noMemory ? `no memory at gpa ${'0x' + (gpa ?? 0).toString(16)}` : null;
  return { ...base, linear: lin, guest, twoD, ok, gpa, mpa, noMemory, reason, ept, shadow, tlb: tlbEntryFor(v, vcpu, lin) };
}

function checkShadow(port: ShadowMmu, lin: number, access: WalkAccess, user: boolean, guest: WalkRecord, expectedMpa: number | null, hole: boolean): ShadowCheck {
  if (port.mode === 'none') return { walk: null, expectedMpa, agrees: true, note: 'guest paging off: no shadow tables in use' };
  const walk = port.hw.walk(lin, access, user, OPTS);
  const present = walk.ok || (walk.levels.length > 0 && walk.levels[walk.levels.length - 1].flags.p && walk.levels[walk.levels.length - 1].leaf);
  if (!guest.ok) {
    if (!present) return { walk, expectedMpa, agrees: true, note: 'agrees: neither the guest nor the shadow maps it (a true fault)' };
    return { walk, expectedMpa, agrees: false, note: `shadow maps it but the guest walk fails (${guest.reason}): stale shadow entry (unsync, or no INVLPG yet)` };
  }
  if (!present) return { walk, expectedMpa, agrees: true, note: 'no shadow entry yet: the next access takes a hidden fault and fills it' };
  const leaf = walk.levels[walk.levels.length - 1];
  const target = walk.physical ?? Number((leaf.entry & 0x000ffffffffff000n)) + (lin % PAGE);
  if (hole) return { walk, expectedMpa, agrees: true, note: 'agrees: gpa beyond guest memory maps the hole page' };
  if (expectedMpa === null) return { walk, expectedMpa, agrees: false, note: 'shadow maps a page the p2m does not back' };
  if (target !== expectedMpa) {
    return { walk, expectedMpa, agrees: false, note: `DISAGREES: shadow → mpa 0x${target.toString(16)}, guest walk ∘ p2m → mpa 0x${expectedMpa.toString(16)}` };
  }
  const rw = guest.rights?.write && !walk.rights?.write && walk.ok ? ' (shadow read-only: traced table page or D not yet set)' : '';
  return { walk, expectedMpa, agrees: true, note: `agrees: guest walk ∘ p2m = shadow = mpa 0x${target.toString(16)}${rw}` };
}
