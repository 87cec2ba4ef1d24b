// Event breakpoints: one filter per engine event kind, generated from EVENT_KINDS so a new kind
// appears by itself. Page faults split into true and hidden faults, the two questions a user
// asks; `vmexit` is the VM-exit filter. Each event is described in words and flattened into
// fields for conditions (`reason == 28`) and for exceptionInfo.
import { EVENT_KINDS } from '../../engine/events';
import type { EngineEvent, EventKind } from '../../engine/events';
import type { Value } from './expression';

export interface EventFilter {
  id: string;
  label: string;
  description: string;
  kind: EventKind;
  /** Narrows the kind (true vs hidden page faults). */
  matches(e: EngineEvent): boolean;
}

const always = (): boolean => true;

const LABELS: Partial<Record<EventKind, [string, string]>> = {
  'vm-exit': ['VM exit', 'Every VM exit (condition over reason, qualification, reasonName, guestLinear, guestPhysical, ...)'],
  'ept-violation': ['EPT violation', 'Nested paging: a guest-physical address not mapped or not permitted in EPT'],
  'ept-misconfig': ['EPT misconfiguration', 'Nested paging: a malformed EPT entry'],
  invlpg: ['INVLPG', 'The guest invalidates one TLB entry'],
  'cr3-write': ['CR3 write', 'The guest switches address space (MOV to CR3)'],
  'tlb-flush': ['TLB flush', 'TLB entries are dropped (condition over scope, cause, entriesRemoved)'],
  'pt-write': ['Guest page-table write', 'Shadow paging: a write to a traced guest page table'],
  hypercall: ['Hypercall', 'Paravirtual: a hypercall (condition over name, number, result)'],
  'tlb-miss': ['TLB miss', 'Every TLB miss (frequent: use a condition such as gva == 0x400000)'],
  'swap-out': ['Swap out', 'Overcommit: a guest page written to swap, by the hypervisor or by the guest (condition over ppn, by, victim)'],
  'swap-in': ['Swap in', 'Overcommit: a swapped page read back on access (condition over ppn, by, latency)'],
  'double-paging': ['Double paging', 'Overcommit: the guest pages out a page the hypervisor had already swapped out'],
  balloon: ['Balloon inflate/deflate', 'Overcommit: the balloon driver inflates, deflates, gets a new target, or the balloon pops (condition over action, pages)'],
  'page-shared': ['Page shared', 'Overcommit: a guest page is mapped copy-on-write to a shared machine frame (condition over ppn, refs, zero)'],
  'cow-break': ['Copy-on-write break', 'Overcommit: a write to a shared page gets a private copy'],
  'reclaim-state': ['Reclamation state change', 'Overcommit: free machine memory crosses a high / soft / hard / low threshold'],
};

function idOf(kind: EventKind): string {
  return kind === 'vm-exit' ? 'vmexit' : kind;
}

function titleOf(kind: EventKind): string {
  return kind.split('-').map((w) => (w.length <= 3 ? w.toUpperCase() : w[0].toUpperCase() + w.slice(1))).join(' ');
}

/** Every filter, in EVENT_KINDS order (page-fault as two). */
export const EVENT_FILTERS: readonly EventFilter[] = EVENT_KINDS.flatMap((kind): EventFilter[] => {
  if (kind === 'page-fault') {
    return [
      { id: 'pf-true', label: 'True page fault', description: 'A page fault the guest sees and handles (every fault in native mode)', kind, matches: (e) => e.kind === 'page-fault' && !e.hidden },
      { id: 'pf-hidden', label: 'Hidden page fault', description: 'A fault caused only by virtualization and handled by the VMM (shadow miss, traced write, D-bit catch)', kind, matches: (e) => e.kind === 'page-fault' && e.hidden },
    ];
  }
  const [label, description] = LABELS[kind] ?? [titleOf(kind), `Every '${kind}' event`];
  return [{ id: idOf(kind), label, description, kind, matches: always }];
});

export function filterById(id: string): EventFilter | undefined {
  return EVENT_FILTERS.find((f) => f.id === id);
}

const hex8 = (v: bigint): string => '0x' + v.toString(16).padStart(8, '0');
const hex = (v: bigint | number): string => '0x' + v.toString(16);

/** The event in one sentence, for the stopped event and the Exception widget. */
export function describeEvent(e: EngineEvent): string {
  switch (e.kind) {
    case 'page-fault':
      return `${e.hidden ? 'Hidden' : 'True'} page fault at gva ${hex8(e.gva)} (${e.reason}; ${e.access}${e.user ? ', user' : ''}, error code ${hex(e.errorCode)})`;
    case 'vm-exit':
      return `VM exit ${e.reason} (${e.reasonName})${e.description ? `: ${e.description}` : ''}, qualification ${hex(e.qualification)}`;
    case 'ept-violation':
      return `EPT violation at gpa ${hex8(e.gpa)}${e.gva !== undefined ? ` (gva ${hex8(e.gva)})` : ''}: ${e.description}; ${e.resolution}`;
    case 'ept-misconfig':
      return `EPT misconfiguration at gpa ${hex8(e.gpa)} (level ${e.level} entry ${hex(e.entry)}): ${e.description}`;
    case 'invlpg':
      return `INVLPG of gva ${hex8(e.gva)}`;
    case 'invpcid':
      return `INVPCID type ${e.type}, PCID ${e.pcid}, gva ${hex8(e.gva)}`;
    case 'cr3-write':
      return `CR3 write: ${hex(e.oldValue)} → ${hex(e.newValue)}${e.noFlush ? ' (no flush)' : ''}`;
    case 'cr-write':
      return `CR${e.register} write: ${hex(e.oldValue)} → ${hex(e.newValue)}`;
    case 'msr-write':
      return `WRMSR ${hex(e.msr)} ← ${hex(e.value)}`;
    case 'tlb-flush':
      return `TLB flush (${e.scope}${e.gva !== undefined ? ` ${hex8(e.gva)}` : ''}): ${e.entriesRemoved} entries removed by ${e.cause}`;
    case 'tlb-miss':
      return `TLB miss on ${e.access} of gva ${hex8(e.gva)}`;
    case 'exception':
      return `Exception ${e.name} (vector ${e.vector}${e.errorCode !== undefined ? `, error code ${hex(e.errorCode)}` : ''})`;
    case 'interrupt':
      return `Interrupt vector ${e.vector} (${e.source})`;
    case 'hypercall':
      return `Hypercall ${e.name} (${e.number}) → ${hex(e.result)}${e.rejected ? ` rejected: ${e.rejected}` : ''}`;
    case 'pt-write':
      return `Guest page-table write at gpa ${hex8(e.gpa)} (gva ${hex8(e.gva)}): ${e.action}, ${e.shadowEntriesChanged} shadow entries changed`;
    case 'shadow-sync':
      return `Shadow sync (${e.cause}): ${e.entriesChanged} entries changed`;
    case 'invept':
      return `INVEPT type ${e.type}: ${e.entriesRemoved} entries removed`;
    case 'invvpid':
      return `INVVPID type ${e.type}: ${e.entriesRemoved} entries removed`;
    case 'io':
      return `I/O ${e.direction} port ${hex(e.port)} (${e.size} bytes) value ${hex(e.value)}`;
    case 'console':
      return `Console output ${JSON.stringify(e.text)}`;
    case 'halt':
      return 'HLT';
    case 'stop':
      return `VM stopped (${e.reason}): ${e.message}`;
    case 'swap-out':
      return `Swap out of guest page ${hex(e.ppn)} to slot ${e.slot} by the ${e.by === 'vmm' ? 'hypervisor' : 'guest'} (victim: ${e.victim})`;
    case 'swap-in':
      return `Swap in of guest page ${hex(e.ppn)} from slot ${e.slot} by the ${e.by === 'vmm' ? 'hypervisor' : 'guest'} (${e.latency} cycles; ${e.cause})`;
    case 'double-paging':
      return `Double paging of guest page ${hex(e.ppn)} (hypervisor slot ${e.slot}): ${e.description}`;
    case 'balloon':
      return `Balloon ${e.action}${e.ppn !== undefined ? ` of guest page ${hex(e.ppn)}` : ''}: ${e.pages} page(s); balloon ${e.size} of target ${e.target}`;
    case 'page-shared':
      return `Guest page ${hex(e.ppn)} shared copy-on-write as machine frame ${hex(e.mpn)} (${e.refs} references${e.zero ? ', the zero page' : ''})`;
    case 'cow-break':
      return `Copy-on-write break of guest page ${hex(e.ppn)}${e.gva !== undefined ? ` (gva ${hex8(e.gva)})` : ''}: frame ${hex(e.oldMpn)} → private ${hex(e.newMpn)}, ${e.refsLeft} references left`;
    case 'reclaim-state':
      return `Reclamation state ${e.from} → ${e.to} (${e.freePercent.toFixed(1)} % free)`;
  }
}

/** The event's fields as expression values (booleans → 0/1, arrays joined). */
export function eventFields(e: EngineEvent): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const [k, v] of Object.entries(e)) {
    if (typeof v === 'bigint') out.set(k, v);
    else if (typeof v === 'number') out.set(k, BigInt(Math.trunc(v)));
    else if (typeof v === 'boolean') out.set(k, v ? 1n : 0n);
    else if (typeof v === 'string') out.set(k, v);
    else if (Array.isArray(v)) out.set(k, v.map((x) => (typeof x === 'bigint' ? hex(x) : String(x))).join(', '));
  }
  return out;
}

/** Fields that are counts, sizes, times or percentages: decimal, where addresses and codes are hex. */
const DECIMAL_FIELDS = new Set(['icount', 'vcpu', 'reason', 'vector', 'level', 'number', 'size', 'slot', 'latency', 'pages', 'target', 'refs', 'refsLeft', 'freePercent']);

/** The event's fields as text (hex for addresses and codes): exceptionInfo's details and the console log. */
export function eventFieldsText(e: EngineEvent): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = e as unknown as Record<string, unknown>;
  for (const [k, v] of eventFields(e)) {
    const n = raw[k];
    // A fraction (a percentage) is not an integer: shown as it is, not truncated.
    if (typeof n === 'number' && !Number.isInteger(n)) out[k] = String(Number(n.toFixed(3)));
    else if (typeof n === 'boolean') out[k] = String(n);
    else out[k] = typeof v === 'bigint' ? (DECIMAL_FIELDS.has(k) ? v.toString() : hex(v)) : v;
  }
  return out;
}
