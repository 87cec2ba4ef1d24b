// Reading and writing the three address spaces. A guest-virtual range is translated page by
// page with probe walks (no A/D, no TLB use); a page whose walk faults is *unreadable* — never
// shown as zeros. Guest-physical pages the VMM has not backed yet read as zeros (that is what
// the guest would read); addresses beyond a VM's or the machine's memory are unreadable.
// Writes go through the same translation, refuse unmapped pages, and land in physical memory
// through PhysicalMemory's own writes, which drop any predecoded instructions there.
import { asShadowInstance } from '../../engine/vmm/shadow/shadowMode';
import type { InspectTarget, InspectedVm } from './target';
import { InspectError, machineSize, vmById } from './target';
import { parseMemoryRef } from './memoryRef';
import type { MemoryRef } from './memoryRef';
import { probeTranslation } from './translation';

const PAGE = 4096;
/** One request never reads more than this (the memory view asks for a screenful at a time). */
export const MAX_READ_BYTES = 1 << 20;

export interface ByteRange {
  offset: number;
  length: number;
}

export interface MemoryReadResult {
  /** The first byte's address in the reference's space. */
  address: bigint;
  /** Bytes read; 0 in unreadable ranges. */
  bytes: Uint8Array;
  /** Ranges (relative to address) that could not be read, ascending, merged. */
  unreadable: ByteRange[];
  /** Why the first unreadable range is unreadable (e.g. "PTE not present"). */
  reason?: string;
}

/** Where one page of a range lives: guest-physical (read through the VM's view) or machine. */
type Backing = { kind: 'gpa'; v: InspectedVm; base: number } | { kind: 'mpa'; base: number } | { kind: 'none'; reason: string };

function resolvePage(t: InspectTarget, r: MemoryRef, page: bigint): Backing {
  if (r.space === 'mpa') {
    return page < BigInt(machineSize(t)) ? { kind: 'mpa', base: Number(page) } : { kind: 'none', reason: 'beyond machine memory' };
  }
  const v = vmById(t, r.vm);
  if (r.space === 'gpa') return page < BigInt(v.vm.mem.size) ? { kind: 'gpa', v, base: Number(page) } : { kind: 'none', reason: `beyond VM ${v.id}'s memory` };
  const p = probeTranslation(t, v, r.vcpu, page, 'read');
  if (!p.ok) return { kind: 'none', reason: p.reason ?? 'not mapped' };
  // Paravirtual tables give machine frames; every other mode reads through the guest-physical view.
  if (v.vm.mode === 'paravirt' || p.gpa === null) return p.mpa === null ? { kind: 'none', reason: 'no machine frame' } : { kind: 'mpa', base: p.mpa - (p.mpa % PAGE) };
  return { kind: 'gpa', v, base: p.gpa - (p.gpa % PAGE) };
}

function machineBytes(t: InspectTarget): { readBytes(a: number, n: number): Uint8Array; writeBytes(a: number, b: ArrayLike<number>): void } {
  if (t.machine) return t.machine.memory.bytes;
  const v = t.vms[0];
  if (!v) throw new InspectError('no VM');
  return v.vm.mem;
}

function pages(start: bigint, length: number, fn: (page: bigint, from: number, to: number, at: number) => void): void {
  let at = 0;
  while (at < length) {
    const a = BigInt.asUintN(64, start + BigInt(at));
    const page = a - (a % BigInt(PAGE));
    const from = Number(a - page);
    const n = Math.min(PAGE - from, length - at);
    fn(page, from, from + n, at);
    at += n;
  }
}

export function readMemoryRef(t: InspectTarget, ref: MemoryRef, offset: number, count: number): MemoryReadResult {
  if (!(Number.isInteger(count) && count >= 0)) throw new InspectError(`bad byte count ${count}`);
  const length = Math.min(count, MAX_READ_BYTES);
  const address = BigInt.asUintN(64, ref.address + BigInt(offset));
  const bytes = new Uint8Array(length);
  const unreadable: ByteRange[] = [];
  let reason: string | undefined;
  pages(address, length, (page, from, to, at) => {
    const b = resolvePage(t, ref, page);
    if (b.kind === 'none') {
      reason ??= b.reason;
      const last = unreadable[unreadable.length - 1];
      if (last && last.offset + last.length === at) last.length += to - from;
      else unreadable.push({ offset: at, length: to - from });
      return;
    }
    const src = b.kind === 'gpa' ? b.v.vm.mem.readBytes(b.base + from, to - from) : machineBytes(t).readBytes(b.base + from, to - from);
    bytes.set(src, at);
  });
  return { address, bytes, unreadable, reason };
}

export function readMemory(t: InspectTarget, memoryReference: string, offset = 0, count = 64): MemoryReadResult {
  return readMemoryRef(t, parseMemoryRef(memoryReference), offset, count);
}

/**
 * Writes bytes; all or nothing: a range with an unmapped (or nonexistent) page is refused before
 * any byte changes. Shadow mode: a write into a guest page table the VMM shadows zaps the
 * shadow entries derived from the bytes changed, as the VMM's own write emulation would, so
 * the shadow never keeps a translation the guest's tables no longer hold.
 */
export function writeMemoryRef(t: InspectTarget, ref: MemoryRef, offset: number, data: ArrayLike<number>): number {
  const address = BigInt.asUintN(64, ref.address + BigInt(offset));
  const plan: { b: Backing; from: number; to: number; at: number }[] = [];
  pages(address, data.length, (page, from, to, at) => {
    const b = resolvePage(t, ref, page);
    if (b.kind === 'none') throw new InspectError(`cannot write 0x${(page + BigInt(from)).toString(16)} (${ref.space}): ${b.reason}`);
    plan.push({ b, from, to, at });
  });
  const src = Array.from(data);
  for (const { b, from, to, at } of plan) {
    const chunk = src.slice(at, at + (to - from));
    if (b.kind === 'gpa') {
      b.v.vm.mem.writeBytes(b.base + from, chunk);
      afterGuestWrite(b.v, b.base / PAGE, from, to);
    } else if (b.kind === 'mpa') {
      machineBytes(t).writeBytes(b.base + from, chunk);
      afterMachineWrite(t, b.base / PAGE, from, to);
    }
  }
  return data.length;
}

export function writeMemory(t: InspectTarget, memoryReference: string, offset: number, data: ArrayLike<number>): number {
  return writeMemoryRef(t, parseMemoryRef(memoryReference), offset, data);
}

function afterGuestWrite(v: InspectedVm, gfn: number, from: number, to: number): void {
  const shadow = v.instance ? asShadowInstance(v.instance) : undefined;
  if (shadow && shadow.tables.byGfn.has(gfn)) shadow.tables.zapGuestRange(gfn, from, to);
}

function afterMachineWrite(t: InspectTarget, mpn: number, from: number, to: number): void {
  if (!t.machine) return;
  const info = t.machine.memory.frames.info(mpn);
  const v = t.vms.find((x) => x.p2m?.owner === info.owner);
  if (v && info.ppn !== undefined) afterGuestWrite(v, info.ppn, from, to);
}
