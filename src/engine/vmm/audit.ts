// The MMU audit (issue 3 item 6): every invariant of the host's memory virtualization that is
// violated right now, in words. The machine-wide part lives here — frame accounting, frame
// ownership, the p2m's consistency with the frame table — and each VM's mode adds its own
// (ModeInstance.audit: shadow leaves = p2m ∘ guest walk, no writable mapping of a traced guest
// page table, EPT maps only the VM's frames, paravirtual type counts). Cheap enough to run
// after every instruction in tests (runner option `audit`), as KVM's old mmu_audit did.
//
// Page states (vmm/p2m.ts, docs/overcommit/pages.md) add: a 'shared' frame belongs to the
// hypervisor and its reference count equals the p2m entries (of any VM) mapping it; a private
// frame backs exactly one page; a swapped page's slot is in use in the VM's swap file, and the
// slots in use are exactly the swapped pages' (a swapped or ballooned page has no frame: the
// mode audits check it has no mapping either).
import type { Machine } from '../machine/machine';
import { FRAME_USES, NO_OWNER, VMM_OWNER } from '../machine/frameTable';
import type { FrameUse } from '../machine/frameTable';

const GUEST_USES: ReadonlySet<FrameUse> = new Set(['guest-data', 'guest-pt']);
/** What a p2m may point at: guest frames, and hypervisor pages shared with the guest (the paravirtual p2m copy). */
const MAPPABLE_USES: ReadonlySet<FrameUse> = new Set(['guest-data', 'guest-pt', 'vmm']);

const MAX_REPORTED = 20;

/** Every violated invariant on the machine, each prefixed by where (empty: all hold). */
export function auditMachine(machine: Machine): string[] {
  const out: string[] = [];
  const frames = machine.memory.frames;
  const census = frames.census();

  // Accounting: free + owned = total, and the table's own free count agrees with a recount.
  let owned = 0;
  for (const rec of census.byOwner.values()) for (const u of FRAME_USES) owned += rec[u];
  if (census.free + owned !== frames.total) out.push(`frames: ${census.free} free + ${owned} owned ≠ ${frames.total} total`);
  if (census.free !== frames.free) out.push(`frames: free count says ${frames.free}, a recount finds ${census.free}`);
  for (const [owner, rec] of census.byOwner) {
    if (rec.free > 0) out.push(`frames: owner ${owner} has ${rec.free} frames marked free`);
  }

  // Every owner is the hypervisor or a VM on this machine.
  const vmIds = new Map<number, string>();
  for (const vm of machine.vms) {
    const parts = machine.partsOf(vm);
    if (parts) vmIds.set(parts.vmId, vm.options.name);
  }
  for (const owner of census.byOwner.keys()) {
    if (owner !== VMM_OWNER && !vmIds.has(owner)) out.push(`frames: owner ${owner} holds frames but is no VM on this machine (leaked)`);
  }

  // Each VM's p2m maps only frames it owns, each once, tagged with the page they back — or shared
  // frames, counted; and every guest frame the VM owns is in its p2m (none leaked).
  const mappedBy = new Map<number, number>();
  const sharedRefs = new Map<number, number>();
  for (const vm of machine.vms) {
    const parts = machine.partsOf(vm);
    if (!parts) continue;
    const { vmId, p2m } = parts;
    const where = `VM ${vmId} (${vm.options.name})`;
    let backed = 0;
    for (const [ppn, mpn] of p2m.entries()) {
      backed++;
      if (!Number.isInteger(mpn) || mpn < 0 || mpn >= frames.total) {
        out.push(`${where}: p2m maps ppn 0x${ppn.toString(16)} to mpn ${mpn}, outside machine memory`);
        continue;
      }
      const info = frames.info(mpn);
      if (p2m.stateOf(ppn) === 'shared') {
        if (info.owner !== VMM_OWNER || info.use !== 'shared') out.push(`${where}: shared ppn 0x${ppn.toString(16)} maps mpn 0x${mpn.toString(16)}, which is ${info.owner === NO_OWNER ? 'free' : `owner ${info.owner}'s '${info.use}' frame`}, not a shared frame`);
        sharedRefs.set(mpn, (sharedRefs.get(mpn) ?? 0) + 1);
        continue;
      }
      if (info.owner !== vmId) {
        out.push(`${where}: p2m maps ppn 0x${ppn.toString(16)} to mpn 0x${mpn.toString(16)}, which ${info.owner === NO_OWNER ? 'is free' : `belongs to owner ${info.owner}`}`);
      } else if (!MAPPABLE_USES.has(info.use)) {
        out.push(`${where}: p2m maps ppn 0x${ppn.toString(16)} to mpn 0x${mpn.toString(16)}, a '${info.use}' frame`);
      } else if (info.ppn !== undefined && info.ppn !== ppn) {
        out.push(`${where}: p2m maps ppn 0x${ppn.toString(16)} to mpn 0x${mpn.toString(16)}, which the frame table says backs ppn 0x${info.ppn.toString(16)}`);
      }
      const other = mappedBy.get(mpn);
      if (other !== undefined) out.push(`${where}: mpn 0x${mpn.toString(16)} backs ppn 0x${ppn.toString(16)} and is also mapped ${other === vmId ? 'by another ppn of this VM' : `by VM ${other}`}`);
      else mappedBy.set(mpn, vmId);
    }
    if (backed !== p2m.backedPages) out.push(`${where}: p2m counts ${p2m.backedPages} backed pages but maps ${backed}`);
    // Swap: each swapped page holds a distinct slot in use; no slot in use belongs to no page.
    const swapped = p2m.pagesInState('swapped');
    const slots = new Set<number>();
    for (const ppn of swapped) {
      const slot = p2m.slotOf(ppn);
      if (!p2m.swapFile.isUsed(slot)) out.push(`${where}: swapped ppn 0x${ppn.toString(16)} names slot ${slot}, which holds nothing`);
      if (slots.has(slot)) out.push(`${where}: slot ${slot} holds two swapped pages`);
      slots.add(slot);
    }
    if (p2m.swapFile.used !== swapped.length) out.push(`${where}: the swap file uses ${p2m.swapFile.used} slots for ${swapped.length} swapped pages`);
    for (const v of parts.instance.audit?.() ?? []) out.push(`${where} [${vm.mode}]: ${v}`);
  }
  // Shared frames: each counted once per p2m entry mapping it; none unreferenced (leaked).
  const shared = machine.memory.shared;
  for (const [mpn, refs] of shared.entries()) {
    const mapped = sharedRefs.get(mpn) ?? 0;
    if (refs !== mapped) out.push(`shared frame 0x${mpn.toString(16)}: refcount ${refs}, but ${mapped} p2m entries map it`);
    else if (refs === 0) out.push(`shared frame 0x${mpn.toString(16)} has no references (leaked: createShared without shareWith needs dropIfUnused)`);
    sharedRefs.delete(mpn);
  }
  for (const [mpn, n] of sharedRefs) out.push(`mpn 0x${mpn.toString(16)} is mapped as shared by ${n} p2m entries but is no shared frame`);
  // No guest frame is owned by a VM but backs none of its pages (leaked).
  for (let f = 0; f < frames.total; f++) {
    const owner = frames.ownerOf(f);
    if (owner === NO_OWNER || owner === VMM_OWNER || !vmIds.has(owner)) continue;
    if (GUEST_USES.has(frames.useOf(f)) && mappedBy.get(f) !== owner) out.push(`VM ${owner}: owns ${frames.useOf(f)} frame 0x${f.toString(16)} that its p2m does not map (leaked)`);
  }
  return out.length > MAX_REPORTED ? [...out.slice(0, MAX_REPORTED), `… and ${out.length - MAX_REPORTED} more`] : out;
}
