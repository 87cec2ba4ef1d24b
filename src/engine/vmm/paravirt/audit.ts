// The paravirtual MMU audit: recomputes, from the tables themselves, everything the type system
// keeps incrementally, and reports every invariant that does not hold, in words:
//   - no frame is both writable-mapped (a present R/W entry of a validated L1) and a page table;
//   - every present entry of a validated table is allowed (flags, level) and maps a frame of the VM;
//   - type counts add up: pins + current bases + references from validated entries;
//   - the host TLB holds no writable translation of one of the VM's page tables;
//   - the p2m copy the guest reads still says what the p2m says;
//   - frame accounting: free + owned = total.
import type { Tlb } from '../../mmu/tlb';
import type { P2m } from '../p2m';
import { PTE_ADDR, PteBit } from './abi';
import { ENTRIES, FRAME_TYPE_NAMES, FrameType, hex } from './frameTypes';
import type { FrameTypes } from './frameTypes';

export interface AuditInputs {
  types: FrameTypes;
  p2m: P2m;
  /** First guest page of the p2m copy, and how many pages it spans. */
  p2mPage: number;
  p2mPages: number;
  /** The host TLB (null before any vCPU exists). */
  tlb: Tlb | null;
  vpids: number[];
}

export function auditParavirt({ types, p2m, p2mPage, p2mPages, tlb, vpids }: AuditInputs): string[] {
  const out: string[] = [];
  const total = types.machine.frames.total;
  const expected = new Int32Array(total);
  for (let f = 0; f < total; f++) if (types.pinned[f]) expected[f]++;
  for (const b of types.base) if (b !== undefined && b >= 0) expected[b]++;

  for (let f = 0; f < total; f++) {
    if (types.count[f] === 0 && types.pinned[f]) out.push(`frame ${hex(f)} is pinned but its type count is 0`);
    if (types.count[f] > 0 && !types.owns(f)) out.push(`frame ${hex(f)} has a type (${FRAME_TYPE_NAMES[types.type[f]]}) but is not the VM's`);
    if (!types.isTable(f)) continue;
    const level = types.type[f];
    if (types.machine.frames.useOf(f) !== 'guest-pt') out.push(`L${level} table ${hex(f)} is not marked guest-pt in the frame table`);
    for (let i = 0; i < ENTRIES; i++) {
      const e = types.readEntry(f, i);
      if (!(e & PteBit.P)) continue;
      const at = `L${level} ${hex(f)} entry ${i} (${hex(e)})`;
      const flags = types.checkFlags(level, e);
      if (flags) out.push(`${at}: ${flags.why}`);
      const target = Number((e & PTE_ADDR) >> 12n);
      if (!types.owns(target)) {
        out.push(`${at} maps frame ${hex(target)}, which is not the VM's`);
        continue;
      }
      const rw = (e & PteBit.RW) !== 0n;
      if (level === FrameType.L1) {
        if (!rw) continue;
        expected[target]++;
        if (types.typeOf(target) !== FrameType.WRITABLE) {
          out.push(`${at} maps frame ${hex(target)} writable, but it is ${types.isTable(target) ? 'an ' + FRAME_TYPE_NAMES[types.type[target]] : 'not writable-typed'}`);
        }
        continue;
      }
      if (target === f) {
        if (rw) out.push(`${at}: a writable recursive mapping of its own table`);
        continue;
      }
      expected[target]++;
      const t = types.typeOf(target);
      if (t === level && rw) out.push(`${at}: a writable linear mapping of an L${level} table`);
      else if (t !== level && t !== level - 1) out.push(`${at} points at frame ${hex(target)}, which is ${FRAME_TYPE_NAMES[t]}, not an L${level - 1} table`);
    }
  }
  for (let f = 0; f < total; f++) {
    if (expected[f] !== types.count[f]) out.push(`type count of frame ${hex(f)} is ${types.count[f]}, but pins, bases and entries hold ${expected[f]}`);
  }

  const vp = new Set(vpids);
  for (const e of tlb?.entries() ?? []) {
    if (!vp.has(e.vpid) || !e.rights.write) continue;
    const f = Math.floor(e.frame / 4096);
    if (types.isTable(f)) out.push(`the TLB (VPID ${e.vpid}) holds a writable translation of gva ${hex(e.linearBase)} to ${FRAME_TYPE_NAMES[types.type[f]]} ${hex(f)}`);
  }

  for (let i = 0; i < p2m.pages; i++) {
    const copyPage = p2mPage + Math.floor(i / 512);
    if (copyPage >= p2mPage + p2mPages) break;
    const mpn = p2m.lookup(copyPage);
    const v = mpn < 0 ? -1n : types.readEntry(mpn, i % 512);
    // A page without a frame (ballooned) reads INVALID_P2M_ENTRY, all ones, as in Xen.
    if (v !== BigInt.asUintN(64, BigInt(p2m.lookup(i)))) {
      out.push(`the p2m copy says guest page ${hex(i)} is machine frame ${hex(v)}, the p2m says ${hex(p2m.lookup(i))}`);
      break;
    }
  }

  const census = types.machine.frames.census();
  let owned = 0;
  for (const rec of census.byOwner.values()) for (const [use, n] of Object.entries(rec)) if (use !== 'free') owned += n;
  if (census.free + owned !== total) out.push(`frame accounting: ${census.free} free + ${owned} owned ≠ ${total} frames`);
  return out;
}
