// The nested-mode MMU audit: the invariants the VMM must keep between any two instructions.
//  1. EPT tables are frames the VM owns, used as 'ept'; every present entry is well-formed.
//  2. EPT leaves map only guest memory, onto frames the VM owns as guest data, agreeing with
//     the p2m page by page.
//  3. Every combined (gva → mpa) or guest-physical entry in the host TLB under the VM's VPIDs
//     is derived from the current EPT: its frame backs some gpa that the EPT maps to exactly
//     that frame, with at least the rights the entry caches (writes cached as allowed only if
//     the EPT allows writes). The guest half may be stale — the guest's own missing INVLPG —
//     so it is checked only on request (auditGuestHalf), for guests that flush properly.
//  4. Frame accounting adds up: free + owned = total.
//  5. Page states (vmm/p2m.ts): a shared page is mapped only read-only (no EPT W, no cached
//     writable TLB entry); a swapped, ballooned or unbacked page has no EPT leaf (2 checks the
//     frame against the p2m, which gives none for them).
import { PAGE_SIZE } from '../../memory/frame';
import { GUEST_PHYSICAL_PCID } from '../../mmu/mmu';
import type { TlbEntryInfo } from '../../mmu/tlb';
import { eptIsLeaf, eptMisconfiguration, eptTarget, EPT_LEVEL_NAMES } from './eptFormat';
import type { NestedVmm } from './nestedVmm';
import type { NestedMmu } from './nestedMmu';

const hex = (n: number): string => '0x' + n.toString(16);

export function auditNested(vmm: NestedVmm): string[] {
  const problems: string[] = [];
  const { machine, vmId, p2m } = vmm.ctx;
  const frames = machine.frames;
  const ept = vmm.ept;
  const tables = new Set(ept.tableFrames());
  for (const mpn of tables) {
    if (frames.ownerOf(mpn) !== vmId || frames.useOf(mpn) !== 'ept') problems.push(`EPT table frame ${hex(mpn)} is owned by ${frames.ownerOf(mpn)} as ${frames.useOf(mpn)}, not by VM ${vmId} as ept`);
  }
  ept.visit((level, addr, lo, hi, gpa) => {
    const name = EPT_LEVEL_NAMES[level];
    const bad = eptMisconfiguration(level, lo, hi, ept.maxPhyAddr);
    if (bad) {
      problems.push(`${name} at ${hex(addr)} (gpa ${hex(gpa)}) is malformed: ${bad}`);
      return;
    }
    const target = eptTarget(level, lo, hi, ept.maxPhyAddr);
    if (!eptIsLeaf(level, lo)) {
      if (!tables.has(target / PAGE_SIZE)) problems.push(`${name} at ${hex(addr)} points at ${hex(target)}, which is not one of the VM's EPT tables`);
      return;
    }
    const span = 2 ** (12 + 9 * (level - 1));
    if (gpa + span > vmm.guestBytes) problems.push(`${name} maps gpa ${hex(gpa)}..${hex(gpa + span - 1)} beyond the VM's ${hex(vmm.guestBytes)} bytes`);
    for (let i = 0; i < span / PAGE_SIZE; i++) {
      const mpn = target / PAGE_SIZE + i;
      const ppn = gpa / PAGE_SIZE + i;
      if (p2m.stateOf(ppn) === 'shared') {
        if (p2m.lookup(ppn) !== mpn) problems.push(`${name} maps shared gpa ${hex(ppn * PAGE_SIZE)} to machine frame ${hex(mpn)} but the p2m says ${hex(p2m.lookup(ppn))}`);
        if (lo & 2) problems.push(`${name} maps shared gpa ${hex(ppn * PAGE_SIZE)} (frame ${hex(mpn)}) writable: copy-on-write needs it read-only`);
        if (level > 1) problems.push(`${name} is a large page covering shared gpa ${hex(ppn * PAGE_SIZE)}`);
        break;
      }
      if (frames.ownerOf(mpn) !== vmId) {
        problems.push(`${name} maps gpa ${hex(ppn * PAGE_SIZE)} to machine frame ${hex(mpn)}, owned by ${frames.ownerOf(mpn)}, not VM ${vmId}`);
        break;
      }
      if (p2m.lookup(ppn) !== mpn) {
        problems.push(`${name} maps gpa ${hex(ppn * PAGE_SIZE)} to machine frame ${hex(mpn)} but the p2m says ${hex(p2m.lookup(ppn))}`);
        break;
      }
    }
  });
  if (vmm.hostTlbRef) {
    // Shared frames back pages of several VMs (and several ppns of one): which of ours map each.
    const sharedPpns = new Map<number, number[]>();
    for (const [ppn, mpn] of p2m.entries()) {
      if (p2m.stateOf(ppn) !== 'shared') continue;
      const l = sharedPpns.get(mpn);
      if (l) l.push(ppn);
      else sharedPpns.set(mpn, [ppn]);
    }
    for (const e of vmm.hostTlbRef.entries()) {
      if (!vmm.vpids.has(e.vpid)) continue;
      const p = combinedEntryProblem(vmm, e, sharedPpns);
      if (p) problems.push(p);
    }
  }
  const census = frames.census();
  let owned = 0;
  for (const rec of census.byOwner.values()) for (const [use, n] of Object.entries(rec)) if (use !== 'free') owned += n;
  if (census.free + owned !== frames.total) problems.push(`frame accounting: ${census.free} free + ${owned} owned ≠ ${frames.total} total`);
  if (census.free !== frames.free) problems.push(`frame accounting: ${census.free} frames are free but the free count says ${frames.free}`);
  return problems;
}

/** Problem with one host-TLB entry of this VM against the current EPT, or null. */
function combinedEntryProblem(vmm: NestedVmm, e: TlbEntryInfo, sharedPpns: Map<number, number[]>): string | null {
  const frames = vmm.ctx.machine.frames;
  const mpn = Math.floor(e.frame / PAGE_SIZE);
  const what = `TLB entry (VPID ${e.vpid}, PCID ${e.pcid}) ${hex(e.linearBase)} → ${hex(e.frame)}`;
  const sharers = sharedPpns.get(mpn);
  if (sharers) {
    if (e.dirty && e.rights.write) return `${what}: cached writable, but machine frame ${hex(mpn)} is shared (copy-on-write; INVEPT missing)`;
    const mapped = sharers.some((ppn) => {
      const leaf = vmm.ept.leaf(ppn * PAGE_SIZE);
      return leaf !== null && leaf.mpa === mpn * PAGE_SIZE;
    });
    return mapped ? null : `${what}: no gpa the EPT maps now leads to shared frame ${hex(mpn)} (INVEPT missing)`;
  }
  if (frames.ownerOf(mpn) !== vmm.ctx.vmId) {
    // Without VPID every VM's entries carry tag 0; another VM's leftovers are not ours to judge.
    if (e.vpid === 0) return null;
    return `${what}: machine frame ${hex(mpn)} is not the VM's`;
  }
  const ppn = frames.info(mpn).ppn;
  if (ppn === undefined) return `${what}: machine frame ${hex(mpn)} backs no guest page`;
  const gpa = ppn * PAGE_SIZE;
  const leaf = vmm.ept.leaf(gpa);
  if (!leaf) return `${what}: gpa ${hex(gpa)} is no longer mapped in the EPT (INVEPT missing)`;
  const mpa = leaf.mpa + (gpa - leaf.gpa);
  if (mpa !== mpn * PAGE_SIZE) return `${what}: the EPT now maps gpa ${hex(gpa)} to ${hex(mpa)} (INVEPT missing)`;
  if (e.pageSize > leaf.pageSize) return `${what}: a ${e.pageSize}-byte entry over a ${leaf.pageSize}-byte EPT page`;
  if (e.dirty && e.rights.write && !(leaf.lo & 2)) return `${what}: cached writable but the EPT maps gpa ${hex(gpa)} read-only (INVEPT missing)`;
  if (e.rights.execute && !(leaf.lo & 4)) return `${what}: cached executable but the EPT maps gpa ${hex(gpa)} no-execute (INVEPT missing)`;
  if (e.pcid === GUEST_PHYSICAL_PCID && e.linearBase !== gpa) return `${what}: a guest-physical mapping of ${hex(e.linearBase)} holds the frame of gpa ${hex(gpa)}`;
  return null;
}

/**
 * The guest half of the combined entries of one vCPU: each entry of the current PCID (and each
 * global one) must equal what the guest walk ∘ EPT gives now. Legitimately false for a guest
 * that changed a PTE without INVLPG — use it only for guests that flush.
 */
export function auditGuestHalf(vmm: NestedVmm, port: NestedMmu): string[] {
  const out: string[] = [];
  const hw = port.hw;
  const pcid = hw.mode === 'none' ? GUEST_PHYSICAL_PCID : hw.currentPcid;
  for (const e of port.tlb.entries()) {
    if (e.vpid !== hw.vpid || !(e.pcid === pcid || e.global)) continue;
    const rec = port.walk(e.linearBase, 'read', false, { setAccessedDirty: false });
    if (!rec.ok || rec.physical !== e.frame) out.push(`TLB entry ${hex(e.linearBase)} → ${hex(e.frame)} but guest walk ∘ EPT gives ${rec.ok ? hex(rec.physical ?? -1) : rec.reason}`);
  }
  return out;
}
