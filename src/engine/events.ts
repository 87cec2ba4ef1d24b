// The one typed event stream every consumer (breakpoints, timeline, statistics, traces) reads.
// Emitters test `bus.wants[kind]` before building an event, so an event nobody listens to
// costs one property read. 64-bit guest values are bigint here: events are off the hot path
// and must be exact.
import type { ReclaimState } from './memory/overcommit/policy/reclaimState';

export interface EventStamp {
  /** Instructions retired by the VM when the event happened. */
  icount: number;
  /** vCPU index within its VM. */
  vcpu: number;
  /** rip of the instruction that caused it (for interrupts: the one about to run). */
  rip: bigint;
}

export type AccessKind = 'read' | 'write' | 'fetch';

export type TlbFlushScope =
  | 'all' // everything, global entries included
  | 'non-global' // MOV CR3 without no-flush, INVPCID 3
  | 'pcid' // one PCID's non-global entries (INVPCID 1, CR4.PAE change/SMEP set)
  | 'page'; // one address (INVLPG, INVPCID 0, a #PF)

export type EngineEvent = EventStamp &
  (
    | {
        kind: 'page-fault';
        gva: bigint;
        errorCode: number;
        access: AccessKind;
        user: boolean;
        reason: string;
        /**
         * false: a true fault, delivered to the guest (all faults in native mode). true: a hidden
         * fault, caused only by virtualization (a shadow miss, a traced write, a D-bit catch) and
         * handled by the VMM; the guest never sees it.
         */
        hidden: boolean;
      }
    | { kind: 'exception'; vector: number; name: string; errorCode?: number }
    | { kind: 'interrupt'; vector: number; source: 'timer' | 'software' }
    | { kind: 'invlpg'; gva: bigint }
    | { kind: 'invpcid'; type: number; pcid: number; gva: bigint }
    | { kind: 'cr3-write'; oldValue: bigint; newValue: bigint; noFlush: boolean }
    | { kind: 'cr-write'; register: 0 | 4; oldValue: bigint; newValue: bigint }
    | { kind: 'msr-write'; msr: number; value: bigint }
    | { kind: 'tlb-flush'; scope: TlbFlushScope; cause: string; pcid?: number; gva?: bigint; entriesRemoved: number }
    | { kind: 'tlb-miss'; gva: bigint; access: AccessKind }
    | { kind: 'halt' }
    | { kind: 'console'; text: string }
    | { kind: 'io'; port: number; direction: 'in' | 'out'; size: number; value: number }
    | { kind: 'stop'; reason: StopReason; message: string }
    | {
        kind: 'vm-exit';
        /** Intel basic exit reason number and its name. */
        reason: number;
        reasonName: string;
        qualification: bigint;
        /** The qualification decoded into words. */
        description: string;
        guestLinear?: bigint;
        guestPhysical?: bigint;
        /** Exit interruption information for exception exits (vector, type, valid bits). */
        interruptionInfo?: number;
        errorCode?: number;
      }
    | { kind: 'ept-violation'; gpa: bigint; gva?: bigint; qualification: bigint; description: string; resolution: string }
    | { kind: 'ept-misconfig'; gpa: bigint; entry: bigint; level: number; description: string }
    | { kind: 'hypercall'; name: string; number: number; args: bigint[]; result: bigint; rejected?: string }
    | { kind: 'pt-write'; gpa: bigint; gva: bigint; action: 'emulated' | 'unsynced' | 'unshadowed'; shadowEntriesChanged: number }
    | { kind: 'shadow-sync'; cause: string; gva?: bigint; entriesChanged: number }
    | { kind: 'invept'; type: number; eptp?: bigint; entriesRemoved: number }
    | { kind: 'invvpid'; type: number; vpid?: number; gva?: bigint; entriesRemoved: number }
    // Memory overcommitment (docs/overcommit/*.md). `by`: who pages — the hypervisor's swapper or
    // the guest's own; `victim`: how the page was chosen.
    | { kind: 'swap-out'; ppn: number; slot: number; by: 'vmm' | 'guest'; victim: SwapVictim }
    | { kind: 'swap-in'; ppn: number; slot: number; by: 'vmm' | 'guest'; latency: number; cause: string }
    | { kind: 'double-paging'; ppn: number; slot: number; description: string }
    | { kind: 'balloon'; action: 'inflate' | 'deflate' | 'pop' | 'target'; pages: number; ppn?: number; size: number; target: number }
    | { kind: 'page-shared'; ppn: number; mpn: number; refs: number; zero: boolean }
    | { kind: 'cow-break'; ppn: number; gva?: bigint; oldMpn: number; newMpn: number; refsLeft: number }
    | { kind: 'reclaim-state'; from: ReclaimState; to: ReclaimState; freePercent: number }
  );

/** How a swapped-out page was chosen (hypervisorSwap.ts / victims.ts; 'guest': the guest's own swapper). */
export type SwapVictim = 'random' | 'clock' | 'lru' | 'guest';

export type EventKind = EngineEvent['kind'];
export type EventOf<K extends EventKind> = Extract<EngineEvent, { kind: K }>;

/** Why a VM stopped running for good. */
export type StopReason = 'halted' | 'triple-fault' | 'shutdown' | 'error';

export const EVENT_KINDS: readonly EventKind[] = [
  'page-fault', 'exception', 'interrupt', 'invlpg', 'invpcid', 'cr3-write', 'cr-write', 'msr-write',
  'tlb-flush', 'tlb-miss', 'halt', 'console', 'io', 'stop',
  'vm-exit', 'ept-violation', 'ept-misconfig', 'hypercall', 'pt-write', 'shadow-sync', 'invept', 'invvpid',
  'swap-out', 'swap-in', 'double-paging', 'balloon', 'page-shared', 'cow-break', 'reclaim-state',
];

type Listener = (e: EngineEvent) => void;

export class EventBus {
  /** Read by emitters on the hot path: is anyone listening to this kind? */
  readonly wants: Record<EventKind, boolean> = Object.fromEntries(EVENT_KINDS.map((k) => [k, false])) as Record<EventKind, boolean>;
  /** Told when the set of wanted kinds changes (e.g. to arm the MMU's tlb-miss hook). */
  onWantsChange: (() => void) | null = null;
  private readonly byKind = new Map<EventKind, Listener[]>();
  private readonly any: Listener[] = [];

  on<K extends EventKind>(kind: K | '*', fn: (e: EventOf<K>) => void): () => void {
    const l = fn as Listener;
    if (kind === '*') this.any.push(l);
    else {
      const list = this.byKind.get(kind) ?? [];
      list.push(l);
      this.byKind.set(kind, list);
    }
    this.refresh();
    return () => {
      if (kind === '*') this.any.splice(this.any.indexOf(l), 1);
      else {
        const list = this.byKind.get(kind);
        if (list) list.splice(list.indexOf(l), 1);
      }
      this.refresh();
    };
  }

  emit(e: EngineEvent): void {
    const list = this.byKind.get(e.kind);
    if (list) for (const l of list.slice()) l(e);
    for (const l of this.any.slice()) l(e);
  }

  private refresh(): void {
    for (const k of EVENT_KINDS) this.wants[k] = this.any.length > 0 || (this.byKind.get(k)?.length ?? 0) > 0;
    this.onWantsChange?.();
  }
}
