// How the debugger sees one VM's addresses without disturbing it: guest-virtual → guest-physical
// through the guest's own page tables (a side-effect-free walk: no A/D bits, no TLB fill, no
// exit), guest-physical ↔ machine-physical through the p2m. Breakpoints live on machine-physical
// addresses (what the vCPU fetches); source lines are found by guest-physical load address.
import type { Vm } from '../../engine/vm';
import type { Vcpu } from '../../engine/cpu/cpu';
import type { PhysicalMemory } from '../../engine/memory/physicalMemory';
import { P2mGuestMemory } from '../../engine/vmm/p2m';
import { walkPageTables } from '../../engine/mmu/walker';
import type { WalkContext } from '../../engine/mmu/walker';
import type { TableMemory } from '../../engine/mmu/tableMemory';
import type { WalkRecord } from '../../engine/mmu/walkRecord';
import { selectPagingMode, CR0_WP, CR4_PSE, CR4_PGE, CR4_SMEP, CR4_SMAP, EFER_NXE } from '../../engine/mmu/pagingMode';

const PAGE = 4096;

export class AddressSpace {
  private reverse: Map<number, number> | null = null;

  constructor(
    readonly vm: Vm,
    /** What the vCPUs fetch from: the VM's memory in native mode, the machine's under a hypervisor. */
    readonly cpuMemory: PhysicalMemory,
  ) {}

  /** Paravirtual guests put machine frames in their page tables: the walk yields machine addresses. */
  private get tablesHoldMachineFrames(): boolean {
    return this.vm.mode === 'paravirt';
  }

  /** Machine-physical address of gpa, or -1 when the page has no machine frame yet. */
  gpaToMpa(gpa: number): number {
    if (this.vm.mem instanceof P2mGuestMemory) return this.vm.mem.machineAddress(gpa, false);
    return gpa >= 0 && gpa < this.vm.mem.size ? gpa : -1;
  }

  /** Guest-physical address of mpa, or -1 when no guest page is backed by it. */
  mpaToGpa(mpa: number): number {
    const mem = this.vm.mem;
    if (!(mem instanceof P2mGuestMemory)) return mpa;
    // The p2m changes as pages get backed: rebuild the reverse map when a lookup misses.
    const find = (): number => {
      const ppn = this.reverse?.get(Math.floor(mpa / PAGE));
      return ppn === undefined ? -1 : ppn * PAGE + (mpa % PAGE);
    };
    let r = find();
    if (r < 0) {
      this.reverse = new Map(mem.p2m.entries().map(([ppn, mpn]) => [mpn, ppn]));
      r = find();
    }
    return r;
  }

  /** The guest's own walk of gva, without side effects. */
  walk(cpu: Vcpu, gva: bigint, access: 'read' | 'write' | 'fetch' = 'read'): WalkRecord {
    const mode = selectPagingMode(cpu.cr0, cpu.cr4, cpu.efer);
    const machine = this.tablesHoldMachineFrames;
    const read32 = (pa: number): number => (machine ? this.cpuMemory.read32(pa) : this.vm.mem.read32(pa));
    const tm: TableMemory = { read32, writeAccessedDirty: () => undefined };
    const pdpteLo = new Uint32Array(4);
    const pdpteHi = new Uint32Array(4);
    if (mode === 'pae') {
      const base = (cpu.cr3 >>> 0) & ~0x1f;
      for (let i = 0; i < 4; i++) {
        pdpteLo[i] = read32(base + i * 8) >>> 0;
        pdpteHi[i] = read32(base + i * 8 + 4) >>> 0;
      }
    }
    const ctx: WalkContext = {
      mode, cr3: cpu.cr3 >>> 0, maxPhyAddr: cpu.maxPhyAddrBits, wp: (cpu.cr0 & CR0_WP) !== 0, pse: (cpu.cr4 & CR4_PSE) !== 0,
      pge: (cpu.cr4 & CR4_PGE) !== 0, nxe: (cpu.efer & EFER_NXE) !== 0, smep: (cpu.cr4 & CR4_SMEP) !== 0, smap: (cpu.cr4 & CR4_SMAP) !== 0,
      pdpteLo, pdpteHi,
    };
    const bits = mode === '5level' ? 57n : mode === '4level' ? 48n : 32n;
    const linear = Number(gva & ((1n << bits) - 1n));
    return walkPageTables(tm, ctx, linear, access, false, { setAccessedDirty: false, ac: true });
  }

  /** gva → gpa as the guest's tables say (-1 when not mapped). */
  gvaToGpa(cpu: Vcpu, gva: bigint): number {
    const r = this.walk(cpu, gva);
    if (!r.ok || r.physical === undefined) return -1;
    return this.tablesHoldMachineFrames ? this.mpaToGpa(r.physical) : r.physical;
  }

  gvaToMpa(cpu: Vcpu, gva: bigint): number {
    const gpa = this.gvaToGpa(cpu, gva);
    return gpa < 0 ? -1 : this.gpaToMpa(gpa);
  }

  /**
   * Guest-physical address of the leaf paging entry that maps gva (the PTE, or a large page's
   * PDE), and its size; undefined when paging is off or the walk stops before a leaf.
   */
  leafEntryOf(cpu: Vcpu, gva: bigint): { gpa: number; size: 4 | 8; level: string } | undefined {
    const r = this.walk(cpu, gva);
    const last = r.levels[r.levels.length - 1];
    if (!last || !(r.ok || last.leaf || r.levels.length > 0)) return undefined;
    const size = r.mode === '32bit' ? 4 : 8;
    const gpa = this.tablesHoldMachineFrames ? this.mpaToGpa(last.entryAddress) : last.entryAddress;
    return gpa < 0 ? undefined : { gpa, size, level: last.name };
  }

  /** Bytes of guest-virtual memory (one walk per page); undefined when any byte is unmapped. */
  readVirtualBytes(cpu: Vcpu, gva: bigint, size: number): Uint8Array | undefined {
    const out = new Uint8Array(size);
    let page = -1n;
    let base = -1;
    for (let i = 0; i < size; i++) {
      const a = BigInt.asUintN(64, gva + BigInt(i));
      if (a / 4096n !== page) {
        page = a / 4096n;
        base = this.gvaToGpa(cpu, page * 4096n);
        if (base < 0 || base >= this.vm.mem.size) return undefined;
      }
      out[i] = this.vm.mem.read8(base + Number(a % 4096n));
    }
    return out;
  }

  /** Little-endian read of guest-virtual memory; undefined when any byte is unmapped. */
  readVirtual(cpu: Vcpu, gva: bigint, size: number): bigint | undefined {
    const bytes = this.readVirtualBytes(cpu, gva, size);
    if (!bytes) return undefined;
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    return v;
  }
}
