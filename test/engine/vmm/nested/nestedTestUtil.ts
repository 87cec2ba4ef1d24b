// Helpers for nested-mode tests: a VM on a machine, and guest page tables built directly in
// guest-physical memory for any paging mode, so a single translation can be examined.
import { Machine } from '../../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../../src/engine/vmm/virtualVm';
import type { VirtualVmOptions } from '../../../../src/engine/vmm/virtualVm';
import type { NestedInstance } from '../../../../src/engine/vmm/nested';
import type { NestedMmu } from '../../../../src/engine/vmm/nested';
import type { Vm } from '../../../../src/engine/vm';
import type { GuestMemory } from '../../../../src/engine/memory/guestMemory';
import { Mmu, Tlb } from '../../../../src/engine/mmu';
import { PhysicalMemory } from '../../../../src/engine/memory/physicalMemory';
import type { Monitor } from '../../../../src/engine/vmm/monitor';
import type { NestedOptions } from '../../../../src/engine/vmm/options';

export interface NestedSetup {
  machine: Machine;
  vm: Vm;
  monitor: Monitor;
  instance: NestedInstance;
  port: NestedMmu;
}

export function nestedVm(options: VirtualVmOptions & { machineBytes?: number } = {}, machine?: Machine): NestedSetup {
  const m = machine ?? new Machine({ memoryBytes: options.machineBytes ?? 256 * 1024 * 1024 });
  const v = createVirtualVm(m, 'nested', options);
  const instance = v.instance as NestedInstance;
  return { machine: m, vm: v.vm, monitor: v.monitor, instance, port: instance.ports[0] };
}

export type GuestPaging = '32bit' | 'pae' | '4level' | '5level';

export const CR0_PG_PE_ET = 0x80000011;
export const CR4_PAE = 0x20;
export const CR4_PSE = 0x10;
export const CR4_LA57 = 0x1000;
export const EFER_LME_LMA = 0x500;

/** Control registers that select `paging` (cr3 filled by buildGuest). */
export function controlsFor(paging: GuestPaging): { cr0: number; cr4: number; efer: number } {
  switch (paging) {
    case '32bit': return { cr0: CR0_PG_PE_ET, cr4: CR4_PSE, efer: 0 };
    case 'pae': return { cr0: CR0_PG_PE_ET, cr4: CR4_PAE, efer: 0 };
    case '4level': return { cr0: CR0_PG_PE_ET, cr4: CR4_PAE, efer: EFER_LME_LMA };
    case '5level': return { cr0: CR0_PG_PE_ET, cr4: CR4_PAE | CR4_LA57, efer: EFER_LME_LMA };
  }
}

const SHIFTS: Record<GuestPaging, number[]> = {
  '32bit': [22, 12],
  pae: [30, 21, 12],
  '4level': [39, 30, 21, 12],
  '5level': [48, 39, 30, 21, 12],
};

export interface GuestTables {
  cr3: number;
  /** gpa of each table, root first (PAE: the PDPT first). */
  tables: number[];
  /** Guest levels a walk reads from memory (PAE PDPTEs come from registers). */
  memoryLevels: number;
  dataGpa: number;
}

function writeEntry(mem: GuestMemory, gpa: number, value: number, size: 4 | 8): void {
  mem.writeU(gpa, 4, value % 2 ** 32);
  if (size === 8) mem.writeU(gpa + 4, 4, Math.floor(value / 2 ** 32));
}

/**
 * Tables mapping `linear` → dataGpa (4 KiB page, or a 2 MiB guest page with largeLeaf in
 * PAE/4/5-level), entries P|RW|US|A (leaf also D), tables from tableBase upward.
 */
export function buildGuest(mem: GuestMemory, paging: GuestPaging, linear: number, dataGpa: number, opts: { tableBase?: number; largeLeaf?: boolean; leafFlags?: number; accessed?: boolean } = {}): GuestTables {
  const shifts = SHIFTS[paging].slice();
  if (opts.largeLeaf) shifts.pop();
  const size: 4 | 8 = paging === '32bit' ? 4 : 8;
  const a = opts.accessed === false ? 0 : 0x20;
  let next = opts.tableBase ?? 0x100000;
  const tables: number[] = [];
  let table = next;
  next += 0x1000;
  tables.push(table);
  const cr3 = table;
  for (let i = 0; i < shifts.length; i++) {
    const shift = shifts[i];
    const bits = paging === 'pae' && i === 0 ? 2 : paging === '32bit' ? 10 : 9;
    const index = Math.floor(linear / 2 ** shift) % 2 ** bits;
    const entryGpa = table + index * size;
    const last = i === shifts.length - 1;
    if (last) {
      const leaf = dataGpa | (opts.leafFlags ?? (0x7 | a | (opts.accessed === false ? 0 : 0x40))) | (opts.largeLeaf ? 0x80 : 0);
      writeEntry(mem, entryGpa, leaf, size);
    } else {
      const t = next;
      next += 0x1000;
      tables.push(t);
      // PAE PDPTEs have no R/W, U/S or A (those bits are reserved there).
      writeEntry(mem, entryGpa, paging === 'pae' && i === 0 ? t | 1 : t | 0x7 | a, size);
      table = t;
    }
  }
  return { cr3, tables, memoryLevels: paging === 'pae' ? shifts.length - 1 : shifts.length, dataGpa };
}

/** Loads the control registers into a port (and the PDPTEs for PAE). */
export function enterPaging(port: { setControl(cr0: number, cr3: number, cr4: number, efer: number): void; loadPdptes(): boolean }, paging: GuestPaging, cr3: number): void {
  const c = controlsFor(paging);
  port.setControl(c.cr0, cr3, c.cr4, c.efer);
  if (paging === 'pae' && !port.loadPdptes()) throw new Error('PDPTE load failed');
}

/** The native walk's reference count for the same tables (the n of the formula). */
export function nativeReferences(build: (mem: GuestMemory) => GuestTables, paging: GuestPaging, linear: number): number {
  const mem = new PhysicalMemory(64 * 1024 * 1024);
  const t = build(mem);
  const mmu = new Mmu(mem, new Tlb());
  enterPaging(mmu, paging, t.cr3);
  mmu.translate(linear, 0, false, false);
  return mmu.lastWalk!.memoryReferences;
}

/** A linear address whose walk uses a different index at every level (the fast-walk suites). */
export const WALK_LINEAR: Record<'4level' | '5level', number> = {
  '4level': 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21 + 4 * 4096 + 0x123,
  '5level': 2 ** 48 + 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21 + 4 * 4096 + 0x123,
};

/** The EPT configurations the fast 2-D walk is checked against the full walk in. */
export const EPT_VARIANTS: { label: string; nested: Partial<NestedOptions> }[] = [
  { label: '4 KiB EPT', nested: {} },
  { label: '5-level EPT', nested: { eptLevels: 5 } },
  { label: '2 MiB EPT', nested: { eptPageSize: '2m' } },
  { label: '4 KiB EPT, A/D', nested: { accessedDirty: true } },
  { label: '2 MiB EPT, A/D', nested: { eptPageSize: '2m', accessedDirty: true } },
];
