// Page-table payloads for the views, one table per request: the roots of each VM (guest PT of
// each vCPU's CR3, the shadow roots, the EPT root) and the entries of one table given its kind,
// address and level — index, the range it maps, target, flags; non-present entries only when
// asked. Reads have no side effects (unbacked guest pages read as zeros, nothing is backed).
import type { PagingMode } from '../../engine/mmu/pagingMode';
import { EPT_LEVEL_NAMES, describeEptEntry, eptIsLeaf, eptPresent, eptTarget, levelSpan } from '../../engine/vmm/nested/eptFormat';
import type { InspectTarget, InspectedVm } from './target';
import { InspectError, vmById } from './target';
import { guestPagingMode } from './translation';
import { nestedOf, shadowOf } from './modeParts';
import { entryFlagLetters } from './walkText';
import type { EntryFlags } from '../../engine/mmu/walkRecord';

export type TableKind = 'guest' | 'shadow' | 'ept';

export interface TableRoot {
  vm: number;
  kind: TableKind;
  /** vCPU whose CR3 (guest) or current shadow root this is; absent for the EPT and cached shadow roots. */
  vcpu?: number;
  address: number;
  /** Which space `address` is in: guest tables are guest-physical, except in paravirtual mode. */
  space: 'gpa' | 'mpa';
  level: number;
  paging: PagingMode | 'ept';
  /** What it is, in words ("cr3 of vcpu0", "shadow root for guest cr3 0x10000 (current)", "EPTP 0x...") */
  label: string;
}

export interface TableEntry {
  index: number;
  entryAddress: number;
  /** The entry as 0x-prefixed 64-bit hex. */
  value: string;
  present: boolean;
  leaf: boolean;
  /** QEMU-style letters (guest, shadow) or EPT R W X / memory type / A D. */
  flags: string;
  /** Next table or page address (same space as the entries' targets: gpa for guest tables, mpa otherwise). */
  target: number | null;
  /** The range of addresses this entry maps: [from, to) in linear (guest, shadow) or guest-physical (EPT) space. */
  maps: { from: number; to: number };
  /** Level of the table `target` is, when it is a table. */
  childLevel?: number;
}

export interface TableRequest {
  vm: number;
  kind: TableKind;
  address: number;
  level: number;
  /** Guest/shadow: the paging format (default: vCPU `vcpu`'s current one). */
  paging?: PagingMode;
  vcpu?: number;
  /** First address the table maps (from its parent entry); default 0. */
  base?: number;
  includeNotPresent?: boolean;
}

export interface TablePayload {
  vm: number;
  kind: TableKind;
  address: number;
  level: number;
  levelName: string;
  entrySize: number;
  entryCount: number;
  presentCount: number;
  entries: TableEntry[];
}

const NAMES: Record<number, string> = { 5: 'PML5', 4: 'PML4', 3: 'PDPT', 2: 'PD', 1: 'PT' };

function rootLevel(p: PagingMode): number {
  return p === '32bit' ? 2 : p === 'pae' ? 3 : p === '4level' ? 4 : p === '5level' ? 5 : 0;
}

export function tableRoots(t: InspectTarget): TableRoot[] {
  const out: TableRoot[] = [];
  for (const v of t.vms) out.push(...rootsOf(v));
  return out;
}

export function rootsOf(v: InspectedVm): TableRoot[] {
  const out: TableRoot[] = [];
  v.vm.vcpus.forEach((cpu, i) => {
    const paging = guestPagingMode(v, i);
    if (paging === 'none') return;
    const cr3 = cpu.cr3;
    const address = paging === 'pae' ? cr3 - (cr3 % 32) : paging === '32bit' ? cr3 - (cr3 % 4096) : cr3 - (cr3 % 4096);
    out.push({ vm: v.id, kind: 'guest', vcpu: i, address, space: v.vm.mode === 'paravirt' ? 'mpa' : 'gpa', level: rootLevel(paging), paging, label: `cr3 of vcpu${i}` });
  });
  const s = shadowOf(v);
  if (s && s.tables.format) {
    const paging = s.tables.format.mode;
    s.mmus.forEach((m, i) => {
      for (const r of m.roots) {
        const current = r === m.currentRoot;
        out.push({ vm: v.id, kind: 'shadow', vcpu: current ? i : undefined, address: r.sp.mpn * 4096, space: 'mpa', level: r.sp.level, paging, label: `shadow root of vcpu${i} for guest cr3 0x${r.guestCr3.toString(16)}${current ? ' (current)' : ' (cached)'}` });
      }
    });
  }
  const n = nestedOf(v);
  if (n) out.push({ vm: v.id, kind: 'ept', address: n.vmm.ept.rootMpa, space: 'mpa', level: n.vmm.ept.levels, paging: 'ept', label: `EPTP 0x${n.vmm.ept.eptp.toString(16)}` });
  return out;
}

function reader(t: InspectTarget, v: InspectedVm, kind: TableKind): (a: number) => number {
  const machine = t.machine?.memory.bytes;
  if (kind === 'guest' && v.vm.mode !== 'paravirt') return (a) => v.vm.mem.read32(a) >>> 0;
  if (!machine) return (a) => v.vm.mem.read32(a) >>> 0;
  return (a) => machine.read32(a) >>> 0;
}

function x86Flags(lo: number, hi: number, leaf: boolean, level: number, wide: boolean): EntryFlags {
  return {
    p: (lo & 1) !== 0, rw: (lo & 2) !== 0, us: (lo & 4) !== 0, pwt: (lo & 8) !== 0, pcd: (lo & 16) !== 0,
    a: (lo & 32) !== 0, d: (lo & 64) !== 0, ps: level > 1 && (lo & 128) !== 0, g: leaf && (lo & 256) !== 0,
    pat: leaf && (level === 1 ? (lo & 128) !== 0 : (lo & 0x1000) !== 0), xd: wide && (hi & 0x80000000) !== 0,
  };
}

export function tableEntries(t: InspectTarget, req: TableRequest): TablePayload {
  const v = vmById(t, req.vm);
  const base = req.base ?? 0;
  const read = reader(t, v, req.kind);
  const entries: TableEntry[] = [];
  let present = 0;
  if (req.kind === 'ept') {
    const n = nestedOf(v);
    if (!n) throw new InspectError(`VM ${v.id} has no EPT (${v.vm.mode} mode)`);
    const span = levelSpan(req.level);
    for (let i = 0; i < 512; i++) {
      const ea = req.address + i * 8;
      const lo = read(ea);
      const hi = read(ea + 4);
      const p = eptPresent(lo);
      if (p) present++;
      if (!p && !req.includeNotPresent) continue;
      const leaf = p && eptIsLeaf(req.level, lo);
      entries.push({
        index: i, entryAddress: ea, value: hex64(lo, hi), present: p, leaf,
        flags: describeEptEntry(req.level, lo, hi).replace(/^.*?: /, ''),
        target: p ? eptTarget(req.level, lo, hi, n.vmm.ept.maxPhyAddr) : null,
        maps: { from: base + i * span, to: base + (i + 1) * span },
        childLevel: p && !leaf ? req.level - 1 : undefined,
      });
    }
    return { vm: v.id, kind: 'ept', address: req.address, level: req.level, levelName: EPT_LEVEL_NAMES[req.level] ?? `EPT L${req.level}`, entrySize: 8, entryCount: 512, presentCount: present, entries };
  }
  const paging = req.kind === 'shadow' ? shadowOf(v)?.tables.format?.mode : req.paging ?? guestPagingMode(v, req.vcpu ?? 0);
  if (!paging || paging === 'none') throw new InspectError(req.kind === 'shadow' ? `VM ${v.id} has no shadow tables` : `paging is off on VM ${v.id}'s vCPU ${req.vcpu ?? 0}: no guest page tables`);
  const wide = paging !== '32bit';
  const es = wide ? 8 : 4;
  const count = paging === 'pae' && req.level === 3 ? 4 : wide ? 512 : 1024;
  const shift = 12 + (wide ? 9 : 10) * (req.level - 1);
  const span = 2 ** shift;
  const largeOk = req.level === 2 || (req.level === 3 && paging !== 'pae');
  for (let i = 0; i < count; i++) {
    const ea = req.address + i * es;
    const lo = read(ea);
    const hi = wide ? read(ea + 4) : 0;
    const p = (lo & 1) !== 0;
    if (p) present++;
    if (!p && !req.includeNotPresent) continue;
    const leaf = p && (req.level === 1 || (largeOk && (lo & 128) !== 0));
    let target: number | null = null;
    if (p) {
      if (!wide) target = leaf && req.level === 2 ? ((lo & 0xffc00000) >>> 0) + ((lo >>> 13) & 0xff) * 2 ** 32 : (lo & 0xfffff000) >>> 0;
      else {
        const loMask = leaf && req.level === 2 ? 0xffe00000 : leaf && req.level === 3 ? 0xc0000000 : 0xfffff000;
        target = (hi & 0xfffff) * 2 ** 32 + ((lo & loMask) >>> 0);
      }
    }
    entries.push({
      index: i, entryAddress: ea, value: hex64(lo, hi), present: p, leaf,
      flags: p ? entryFlagLetters(x86Flags(lo, hi, leaf, req.level, wide)) : 'not present',
      target, maps: { from: base + i * span, to: base + (i + 1) * span },
      childLevel: p && !leaf ? req.level - 1 : undefined,
    });
  }
  return { vm: v.id, kind: req.kind, address: req.address, level: req.level, levelName: NAMES[req.level] ?? `L${req.level}`, entrySize: es, entryCount: count, presentCount: present, entries };
}

function hex64(lo: number, hi: number): string {
  return '0x' + ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16).padStart(16, '0');
}
