// The VMM's memory management on a real Machine: the memory scheduler (memScheduler.ts) wired
// through its ports to the machine's frames and clock, each VM's p2m and balloon device, the
// hypervisor swapper and the page-sharing scanner. The machine ticks it after every slice it
// runs; an allocation that finds machine memory exhausted asks it to reclaim at once (ESX's low
// state: swap synchronously) before the allocation fails.
import type { Machine } from '../../machine/machine';
import type { Vm } from '../../vm';
import type { P2m, P2mObserver } from '../../vmm/p2m';
import { PAGE_SIZE } from '../frame';
import { MemScheduler, type MemSchedOptions, type ScheduledVm, type SharingRates } from './memScheduler';
import { HypervisorSwap } from './hypervisorSwap';
import type { VictimPolicy } from './victims';
import { SharingScanner } from './sharing/scanner';
import { MachineSharingHost } from './sharing/machineSharingHost';
import { p2mSamplingPort } from './policy/p2mSampling';
import { DEFAULT_THRESHOLDS, type ReclaimThresholds } from './policy/reclaimState';
import { defaultShares, policyTau, sharesPerPage, type MemPolicy } from './policy/shares';
import type { BalloonDevice } from './balloon/balloonDevice';
import type { OvercommitSnapshot, VmOvercommitSnapshot } from './overcommitSnapshot';

/** The machine's `memsched` configuration (scenario `machine.memsched`, docs/overcommit/policy.md). */
export interface MemSchedConfig {
  policy: MemPolicy;
  tau: number;
  balancePeriodS: number;
  samplePeriodS: number;
  samplePages: number;
  victim: VictimPolicy;
  seed: number;
  sharing: SharingRates;
  /** The swap datastore in pages, for admission control (default: unbounded — each VM's swap file grows as needed). */
  swapPages?: number;
  /** Reclamation thresholds (% of machine memory, and the page floor minFreePages); unset fields keep ESX's defaults. */
  thresholds?: Partial<ReclaimThresholds>;
}

/** A VM's allocation parameters (ESX: reservation, limit, shares). */
export interface VmOvercommitOptions {
  /** Reservation: never reclaimed below (default 0). */
  minBytes?: number;
  /** Limit (default: the VM's memory). */
  maxBytes?: number;
  /** Default: 10 per MiB of max (policy/shares.ts). */
  shares?: number;
  /** Estimate the working set by sampling (default true; false: counts as fully active). */
  sampled?: boolean;
}

/** Pages reclaimed at once when an allocation finds no free frame: one swap cluster at most… */
const EMERGENCY_CLUSTER = 32;
/** …and no more than what the low threshold stands for, so a small machine is not over-reclaimed. */
function emergencyCluster(totalPages: number, lowPercent: number): number {
  return Math.max(1, Math.min(EMERGENCY_CLUSTER, Math.ceil((totalPages * lowPercent) / 100)));
}

interface ManagedVm {
  vm: Vm;
  name: string;
  p2m: P2m;
  balloon: BalloonDevice | null;
  sched: ScheduledVm;
  blocked: boolean;
}

export class MachineOvercommit {
  readonly scheduler: MemScheduler;
  readonly swap: HypervisorSwap;
  readonly scanner: SharingScanner | null;
  readonly victim: VictimPolicy;
  private readonly managed = new Map<number, ManagedVm>();
  private reclaiming = false;
  /** Allocations that found machine memory exhausted and were saved by reclaiming at once. */
  emergencies = 0;

  constructor(
    private readonly machine: Machine,
    config: Partial<MemSchedConfig> = {},
  ) {
    const total = machine.memory.frames.total;
    this.victim = config.victim ?? 'random';
    const seed = config.seed ?? 1;
    const sharing: SharingRates = { enabled: true, scanPagesPerSecPerVm: 50, scanPagesPerSecTotal: 200, ...config.sharing };
    this.scanner = sharing.enabled ? new SharingScanner(new MachineSharingHost(machine), { ...sharing, seed: seed ^ 0x5ca9 }) : null;
    const scanner = this.scanner;
    this.swap = new HypervisorSwap(machine, { victim: this.victim, seed, offer: scanner ? (vmId, ppn) => scanner.offer(vmId, ppn) : undefined });
    const options: Partial<MemSchedOptions> = { seed, sharing, thresholds: { ...DEFAULT_THRESHOLDS, ...config.thresholds } };
    for (const k of ['policy', 'tau', 'balancePeriodS', 'samplePeriodS', 'samplePages'] as const) {
      if (config[k] !== undefined) (options as Record<string, unknown>)[k] = config[k];
    }
    this.scheduler = new MemScheduler(
      { totalPages: total, freePages: () => machine.memory.frames.free, swapPages: config.swapPages ?? Number.MAX_SAFE_INTEGER },
      machine.clock,
      { swapOut: (vmId, pages) => this.swap.swapOut(vmId, pages) },
      scanner ? { scan: (pages) => void scanner.scan(pages) } : null,
      options,
    );
    this.scheduler.onStateChange((c) => {
      for (const m of this.managed.values()) {
        if (!m.vm.bus.wants['reclaim-state']) continue;
        const cpu = m.vm.lastVcpu ?? m.vm.vcpus[0];
        m.vm.bus.emit({ kind: 'reclaim-state', from: c.from, to: c.to, freePercent: c.freePercent, icount: m.vm.icount, vcpu: cpu?.index ?? 0, rip: cpu?.ripValue ?? 0n });
      }
    });
    machine.memory.onExhausted = (owner) => this.reclaimNow(owner);
  }

  /** Starts managing a VM the machine runs under a hypervisor; returns why not if admission control refuses it. */
  addVm(vm: Vm, balloon: BalloonDevice | null, options: VmOvercommitOptions = {}): string | null {
    const parts = this.machine.partsOf(vm);
    if (!parts) return `${vm.options.name} runs without a hypervisor: the memory scheduler manages only VMs with a p2m`;
    const p2m = parts.p2m;
    const pages = p2m.pages;
    const maxPages = options.maxBytes === undefined ? pages : Math.min(pages, Math.floor(options.maxBytes / PAGE_SIZE));
    const minPages = Math.min(maxPages, Math.floor((options.minBytes ?? 0) / PAGE_SIZE));
    const machine = this.machine;
    const sched: ScheduledVm = {
      vmId: parts.vmId,
      shares: options.shares ?? defaultShares(maxPages * PAGE_SIZE),
      minPages,
      maxPages,
      // The mode's tables for a fully mapped guest: a leaf table (shadow PT or EPT) per 512
      // pages and the levels above it.
      overheadPages: Math.ceil(pages / 512) + 4,
      allocatedPages: () => p2m.pagesIn('private'),
      swappedPages: () => p2m.pagesIn('swapped'),
      sharedPages: () => p2m.pagesIn('shared'),
      executedCycles: () => vm.icount + machine.stallCycles(vm),
      balloon,
      sampling: options.sampled === false ? null : p2mSamplingPort(p2m),
      setBlocked: (b) => {
        m.blocked = b; // m is assigned below, before the scheduler can call this
        machine.setBlocked(vm, b);
      },
    };
    const m: ManagedVm = { vm, name: vm.options.name, p2m, balloon, blocked: false, sched };
    const refused = this.scheduler.addVm(sched);
    if (refused) return refused;
    // The scheduler's balloon targets are machine frames to free (balloonDevice.ts `accounting`).
    if (balloon) balloon.accounting = 'frames';
    this.managed.set(parts.vmId, m);
    p2m.observer = this.observe(parts.vmId, p2m.observer);
    return null;
  }

  /** After every slice: samplers, the scanner's pace, the state, a rebalance when due. */
  tick(): void {
    this.scheduler.tick();
  }

  /**
   * Machine memory is exhausted and `owner` needs a frame: swap out one cluster now, from the
   * VM furthest above its target (the lowest ρ when none is above), else the requester itself.
   * Returns whether anything was freed.
   */
  reclaimNow(owner: number): boolean {
    if (this.reclaiming) return false;
    this.reclaiming = true;
    try {
      const order = [...this.managed.values()]
        .map((m) => ({ m, over: m.sched.allocatedPages() - (this.scheduler.targetOf(m.sched.vmId) ?? m.sched.maxPages), rho: this.rho(m) }))
        .sort((a, b) => b.over - a.over || (a.rho === b.rho ? 0 : a.rho < b.rho ? -1 : 1));
      const requester = order.findIndex((o) => o.m.sched.vmId === owner);
      if (requester > 0 && order[0].over <= 0) order.unshift(...order.splice(requester, 1));
      // A victim "shared instead" may free nothing (shared in place): go on until a frame is free.
      const frames = this.machine.memory.frames;
      const cluster = emergencyCluster(frames.total, this.scheduler.states.effective(frames.total).low);
      // Pages just touched (the ones the faulting instruction needs) go only when no VM has any
      // other page to give: taking them first could make two pages evict each other forever.
      for (const spareRecent of [true, false]) {
        for (const { m } of order) {
          while (this.swap.swapOut(m.sched.vmId, cluster, spareRecent) > 0) {
            if (frames.free > 0) {
              this.emergencies++;
              return true;
            }
          }
        }
      }
      return false;
    } finally {
      this.reclaiming = false;
    }
  }

  vmOf(vm: Vm): ManagedVm | undefined {
    for (const m of this.managed.values()) if (m.vm === vm) return m;
    return undefined;
  }

  snapshot(): OvercommitSnapshot {
    const s = this.scheduler;
    const t = s.states.effective(this.machine.memory.frames.total);
    const vms: VmOvercommitSnapshot[] = [...this.managed.values()].map((m) => this.vmSnapshot(m));
    return {
      seconds: this.machine.clock.seconds(),
      policy: s.options.policy,
      tau: s.options.tau,
      victim: this.victim,
      state: s.state,
      totalPages: this.machine.memory.frames.total,
      freePages: this.machine.memory.frames.free,
      thresholds: { high: t.high, soft: t.soft, hard: t.hard, low: t.low },
      rebalances: s.rebalanceCount,
      vms,
      sharing: this.scanner ? { enabled: true, ...this.scanner.stats() } : null,
      swap: { ...this.swap.counters },
      history: s.history.all().slice(),
      resolution: s.history.resolution,
    };
  }

  /** Stops managing every VM (their p2m observers stay: they only forward). */
  dispose(): void {
    this.scanner?.dispose();
    if (this.machine.memory.onExhausted) this.machine.memory.onExhausted = null;
  }

  private vmSnapshot(m: ManagedVm): VmOvercommitSnapshot {
    const p = m.p2m;
    const sampler = this.scheduler.samplerOf(m.sched.vmId);
    const b = m.balloon;
    return {
      vmId: m.sched.vmId,
      name: m.name,
      minPages: m.sched.minPages,
      maxPages: m.sched.maxPages,
      shares: m.sched.shares,
      pages: { unbacked: p.pagesIn('unbacked'), private: p.pagesIn('private'), shared: p.pagesIn('shared'), ballooned: p.pagesIn('ballooned'), swapped: p.pagesIn('swapped') },
      target: this.scheduler.rebalanceCount > 0 ? this.scheduler.targetOf(m.sched.vmId) ?? null : null,
      balloon: b ? { size: b.size, target: b.target, limit: Number.isFinite(b.guestLimit) ? b.guestLimit : null, whyNot: b.whyNot(), pops: b.counters.pops } : null,
      workingSet: sampler ? sampler.estimate() : null,
      rho: this.rho(m),
      blocked: m.blocked,
      stallCycles: this.machine.stallCycles(m.vm),
      instructions: m.vm.icount,
      counters: { ...p.counters },
    };
  }

  private rho(m: ManagedVm): number {
    const o = this.scheduler.options;
    const f = this.scheduler.samplerOf(m.sched.vmId)?.estimate() ?? 1;
    return sharesPerPage(m.sched.shares, m.sched.allocatedPages(), f, policyTau(o.policy, o.tau));
  }

  /** The p2m observer: the working-set sampler's touches, then whatever observed before (the balloon's pop). */
  private observe(vmId: number, next: P2mObserver | null): P2mObserver {
    const scheduler = this.scheduler;
    return {
      touched: (ppn, from, access) => next?.touched(ppn, from, access),
      sampledTouch: (ppn) => {
        scheduler.touched(vmId, ppn);
        next?.sampledTouch?.(ppn);
      },
    };
  }
}

/** Puts a memory scheduler on the machine (machine.overcommit); VMs join with addVm. */
export function enableOvercommit(machine: Machine, config: Partial<MemSchedConfig> = {}): MachineOvercommit {
  if (machine.overcommit) throw new Error('the machine already has a memory scheduler');
  const oc = new MachineOvercommit(machine, config);
  machine.overcommit = oc;
  return oc;
}
