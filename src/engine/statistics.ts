// Counters a run reports (CLI summary, debugger statistics), built on the event stream.
// tlb-miss and io are not listened to: the TLB keeps its own counters, and listening would
// arm the per-miss hook for nothing.
import type { EngineEvent, EventKind } from './events';
import { vectorName } from './cpu/exceptions';
import type { Vm } from './vm';
import type { Monitor } from './vmm/monitor';

const COUNTED: EventKind[] = ['page-fault', 'exception', 'interrupt', 'invlpg', 'invpcid', 'cr3-write', 'cr-write', 'msr-write', 'tlb-flush', 'halt', 'stop'];

export interface StatisticsSnapshot {
  instructions: number;
  faults: {
    /** True page faults: delivered to the guest (every fault in native mode). */
    pageFaults: number;
    /** Hidden page faults: caused by virtualization and handled by the VMM (shadow mode). */
    hiddenFaults: number;
    byAccess: { read: number; write: number; fetch: number };
    /** Not-present vs protection/reserved (error code bit 0). */
    notPresent: number;
    protection: number;
    /** Exceptions delivered, by name (#PF, #GP, ...). */
    exceptions: Record<string, number>;
  };
  interrupts: { timer: number; software: number };
  tlb: { hits: number; misses: number; flushes: number; entriesFlushed: number; hitRate: number };
  events: Partial<Record<EventKind, number>>;
  memory: { touchedFrames: number };
  /** VM exits (none in native mode): the total and counts keyed "reason name". */
  exits: { total: number; byReason: Record<string, number> };
  /** The memory mode's own counters (ModeInstance.stats); empty in native mode. */
  vmm: Record<string, number>;
}

export class Statistics {
  private readonly events: Partial<Record<EventKind, number>> = {};
  private pageFaults = 0;
  private hiddenFaults = 0;
  private readonly byAccess = { read: 0, write: 0, fetch: 0 };
  private notPresent = 0;
  private protection = 0;
  private readonly exceptions: Record<string, number> = {};
  private readonly interrupts = { timer: 0, software: 0 };
  private readonly disposers: (() => void)[] = [];

  constructor(
    private readonly vm: Vm,
    private readonly monitor: Monitor | null = null,
    private readonly modeStats: (() => Record<string, number>) | null = null,
  ) {
    for (const k of COUNTED) this.disposers.push(vm.bus.on(k, (e) => this.count(e)));
  }

  dispose(): void {
    for (const d of this.disposers) d();
  }

  private count(e: EngineEvent): void {
    this.events[e.kind] = (this.events[e.kind] ?? 0) + 1;
    if (e.kind === 'page-fault') {
      if (e.hidden) {
        this.hiddenFaults++;
        return;
      }
      this.pageFaults++;
      this.byAccess[e.access]++;
      if (e.errorCode & 1) this.protection++;
      else this.notPresent++;
    } else if (e.kind === 'exception') {
      const name = vectorName(e.vector).split(' ')[0];
      this.exceptions[name] = (this.exceptions[name] ?? 0) + 1;
    } else if (e.kind === 'interrupt') {
      this.interrupts[e.source]++;
    }
  }

  snapshot(): StatisticsSnapshot {
    const { hits, misses, flushes, entriesFlushed } = this.vm.tlbCounters;
    return {
      instructions: this.vm.icount,
      faults: { pageFaults: this.pageFaults, hiddenFaults: this.hiddenFaults, byAccess: { ...this.byAccess }, notPresent: this.notPresent, protection: this.protection, exceptions: { ...this.exceptions } },
      interrupts: { ...this.interrupts },
      tlb: { hits, misses, flushes, entriesFlushed, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses) },
      events: { ...this.events },
      memory: { touchedFrames: this.vm.mem.touchedFrames },
      exits: { total: this.monitor?.totalExits ?? 0, byReason: this.monitor?.countsByName() ?? {} },
      vmm: this.modeStats?.() ?? {},
    };
  }
}
