// The Getting Started walkthrough's story (the seeds' order: a hidden fault, true vs hidden, the
// guest that forgets INVLPG, CR3 switches, the 2-D walk, paravirtual paging): for each step the
// example it debugs, in which mode, and the event filters to tick. package.json's walkthrough
// steps name these ids; a unit test keeps the two and the examples in agreement.
import type { MemoryMode } from '../../../engine/vm';

export interface WalkthroughStep {
  id: string;
  /** A file under examples/. */
  example: string;
  mode: MemoryMode;
  shadowSync?: 'unsync';
  /** Exception filter ids (src/debugAdapter/runtime/eventFilters.ts) the step asks the user to tick. */
  filters: string[];
  /** What to look at once it stops, shown when the session starts. */
  hint: string;
}

export const WALKTHROUGH_STEPS: readonly WalkthroughStep[] = [
  {
    id: 'firstSession', example: 'hello.s', mode: 'native', filters: [],
    hint: 'Stopped on entry. Step (F10) to enable_paging and over `mov cr0, rax`: from then on every address goes through the page tables.',
  },
  {
    id: 'hiddenFault', example: 'hello.s', mode: 'shadow', filters: ['pf-hidden'],
    hint: 'Tick "Hidden page fault" in BREAKPOINTS, then Continue (F5): the first access after paging is on misses the empty shadow table — a fault the guest never sees.',
  },
  {
    id: 'trueVsHidden', example: 'demand-paging.s', mode: 'shadow', filters: ['pf-true', 'pf-hidden'],
    hint: 'Tick "True page fault" and "Hidden page fault", then Continue: true faults go to the guest\'s handler (CR2 = the heap address); hidden ones are fixed by the VMM alone.',
  },
  {
    id: 'sloppyGuest', example: 'sloppy-tlb.s', mode: 'native', filters: ['invlpg'],
    hint: 'Tick "INVLPG", then Continue: the sloppy unmap has no INVLPG, so the TLB still holds the old frame while the PTE points at the new one. Compare the TLB and Page Tables views.',
  },
  {
    id: 'cr3Switch', example: 'two-processes.s', mode: 'shadow', filters: ['cr3-write'],
    hint: 'Tick "CR3 write", then Continue: each process switch loads the other PML4; the VMM switches shadow roots and the TLB\'s non-global entries go.',
  },
  {
    id: 'twoDWalk', example: 'demand-paging.s', mode: 'nested', filters: ['ept-violation'],
    hint: 'Tick "EPT violation", then Continue: a guest-physical page the VMM has not backed yet. Run "VMem: Translate Address…" to see the 2-D walk, each guest level with its EPT walk (24 references).',
  },
  {
    id: 'paravirt', example: 'pv-hello.s', mode: 'paravirt', filters: ['hypercall'],
    hint: 'Tick "Hypercall", then Continue: the paravirtual kernel asks the hypervisor to pin and update its page tables, which hold machine frames.',
  },
];

export function stepById(id: string): WalkthroughStep | undefined {
  return WALKTHROUGH_STEPS.find((s) => s.id === id);
}

/** The context key a step's completionEvents wait for (`onContext:…`). */
export const stepContextKey = (id: string): string => `vmem.walkthrough.${id}`;
