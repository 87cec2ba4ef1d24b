// The sharing scanner's view of a real Machine: guest pages through each VM's p2m, shared frames
// through the machine's refcounts (vmm/sharedFrames.ts). Eligibility is the p2m's: a private
// resident page the mode lets the VMM share — not a traced or pinned guest page table (its frame
// must stay put: the shadow MMU write-protects it), not the hypervisor's, not a paravirtual
// guest's (Xen shares no PV memory). Unbacked, ballooned, swapped and already-shared pages are
// skipped by state before anything is hashed.
import type { Machine } from '../../../machine/machine';
import type { P2m } from '../../../vmm/p2m';
import type { FrameWords } from '../../frame';
import type { ScanHost, ScanVm } from './scanner';
import { ZERO_PAGE_WORDS } from './pageHash';

export class MachineSharingHost implements ScanHost {
  private readonly p2ms = new Map<number, P2m>();
  private list: ScanVm[] = [];
  private seen = 0;

  constructor(private readonly machine: Machine) {}

  vms(): readonly ScanVm[] {
    if (this.seen !== this.machine.vms.length) {
      this.list = [];
      this.p2ms.clear();
      for (const vm of this.machine.vms) {
        const parts = this.machine.partsOf(vm);
        if (!parts) continue; // a native VM: no hypervisor, nothing to share
        this.p2ms.set(parts.vmId, parts.p2m);
        const p2m = parts.p2m;
        this.list.push({ vmId: parts.vmId, pages: p2m.pages, bus: vm.bus, resident: (ppn) => p2m.isPrivate(ppn), residentPages: () => p2m.pagesIn('private') });
      }
      this.seen = this.machine.vms.length;
    }
    return this.list;
  }

  eligiblePage(vmId: number, ppn: number, out: FrameWords): boolean {
    const p2m = this.p2m(vmId);
    if (!p2m || !p2m.isPrivate(ppn) || p2m.whyNot(ppn, 'share') !== null) return false;
    this.frameWords(p2m.lookup(ppn), out);
    return true;
  }

  /** A frame never written holds the sparse memory's zeros: the shared ZERO_PAGE_WORDS. */
  frameWords(mpn: number, out: FrameWords): void {
    if (this.machine.memory.bytes.wordsOf(mpn, out)) return;
    out.words = ZERO_PAGE_WORDS;
    out.at = 0;
  }

  sharedRefs(mpn: number): number {
    const shared = this.machine.memory.shared;
    return shared.isShared(mpn) ? shared.refs(mpn) : 0;
  }

  createShared(vmId: number, ppn: number): number {
    return this.p2m(vmId)?.shareInPlace(ppn) ?? -1;
  }

  shareWith(vmId: number, ppn: number, mpn: number): boolean {
    return this.p2m(vmId)?.shareWith(ppn, mpn) ?? false;
  }

  private p2m(vmId: number): P2m | undefined {
    return this.p2ms.get(vmId) ?? (this.vms(), this.p2ms.get(vmId));
  }
}
