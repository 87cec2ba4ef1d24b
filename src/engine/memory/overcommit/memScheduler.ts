// The VMM's memory scheduler (ESX's "memory scheduler", Waldspurger 2002 §6): every balance
// period — and at once when free memory falls into a lower reclamation state — it reads free
// memory, updates the reclamation state (policy/reclaimState.ts), computes per-VM targets by
// min-funding revocation (policy/targets.ts, ρ from policy/shares.ts and the working-set
// estimates of policy/workingSet.ts), then reclaims: balloon targets in soft, the hypervisor
// swapper where the balloon cannot deliver, swap for everything in hard and low, and in low it
// blocks VMs above target. It also paces the sharing scanner and drives the samplers.
//
// It sees the machine only through the narrow ports below, so it is tested with fakes; the
// machine wires them to the p2m, the balloon device, the hypervisor swapper and the scanner.
import { allocationTargets, AdmissionControl, DEFAULT_WORKING_SET_HEADROOM, type TargetClient } from './policy/targets';
import { DEFAULT_TAU, idleCost, policyTau, sharesPerPage, type MemPolicy } from './policy/shares';
import { DEFAULT_THRESHOLDS, entryThreshold, RECLAIM_STATES, ReclaimStateMachine, reclaimActions, type ReclaimState, type ReclaimStateChange, type ReclaimThresholds } from './policy/reclaimState';
import { DEFAULT_GAINS, WorkingSetSampler, type SamplingPort, type WorkingSetGains } from './policy/workingSet';
import { SchedHistory, type RebalanceReason, type SchedSample, type VmSample } from './policy/schedHistory';
import { seededRandom, streamSeed } from './seededRandom';

/** A VM's balloon device as the scheduler drives it (sizes in pages). */
export interface BalloonPort {
  /** Machine frames the balloon should have freed; the driver inflates or deflates toward it. */
  target: number;
  /** Machine frames the balloon has freed: its pages that had a frame of their own (a page the
   *  guest never touched frees none, so it relieves nothing and counts nothing). */
  readonly actual: number;
  /** false when the balloon cannot reclaim at all (no driver, disabled, not loaded yet, popped
   *  and not re-armed, stalled). */
  canDeliver(): boolean;
  /** Pages of the current target the balloon will not reach (e.g. the guest's cap). */
  readonly shortfall: number;
}

/** The hypervisor swapper: writes `pages` victim pages of the VM out; returns how many it did
 *  (fewer when the VM has no more eligible pages or swap is full). */
export interface SwapPort {
  swapOut(vmId: number, pages: number): number;
}

/** The page-sharing scanner: examine up to `pages` more pages (it spreads them over the VMs
 *  and applies the per-VM cap itself). */
export interface SharingPort {
  scan(pages: number): void;
}

export interface HostMemoryPort {
  /** Machine pages the scheduler manages (the percentages of the states are of this). */
  readonly totalPages: number;
  freePages(): number;
  /** Capacity of the VMM's swap, for admission control. */
  readonly swapPages: number;
}

export interface ClockPort {
  seconds(): number;
  readonly cyclesPerSecond: number;
}

/** One VM as the scheduler sees it. */
export interface ScheduledVm {
  readonly vmId: number;
  readonly shares: number;
  readonly minPages: number;
  readonly maxPages: number;
  /** VMM overhead reserved at admission (tables, VMM frames). */
  readonly overheadPages: number;
  /** Private machine frames the VM holds (what ballooning or swapping can take back). */
  allocatedPages(): number;
  swappedPages(): number;
  /** Pages mapped to shared frames (they cost the VM no frame of its own). */
  sharedPages(): number;
  /** Cycles the VM has executed (its own time, for the sampling period). */
  executedCycles(): number;
  readonly balloon: BalloonPort | null;
  /** null: the VM is not sampled and counts as fully active (never taxed). */
  readonly sampling: SamplingPort | null;
  /** Low state: stop / resume scheduling the VM. */
  setBlocked(blocked: boolean): void;
}

export interface SharingRates {
  enabled: boolean;
  /** ESX 2 Mem.ShareScanVM. */
  scanPagesPerSecPerVm: number;
  /** ESX 2 Mem.ShareScanTotal. */
  scanPagesPerSecTotal: number;
}

export interface MemSchedOptions {
  policy: MemPolicy;
  tau: number;
  /** ESX 2 Mem.BalancePeriod. */
  balancePeriodS: number;
  /** ESX 2 Mem.SamplePeriod, in the VM's execution time. */
  samplePeriodS: number;
  samplePages: number;
  gains: WorkingSetGains;
  workingSetHeadroom: number;
  thresholds: ReclaimThresholds;
  seed: number;
  sharing: SharingRates;
  /** Rebalance samples kept (then decimated). */
  historyCapacity: number;
}

export const DEFAULT_MEMSCHED: Readonly<MemSchedOptions> = {
  policy: 'idle-tax',
  tau: DEFAULT_TAU,
  balancePeriodS: 15,
  samplePeriodS: 30,
  samplePages: 100,
  gains: DEFAULT_GAINS,
  workingSetHeadroom: DEFAULT_WORKING_SET_HEADROOM,
  thresholds: DEFAULT_THRESHOLDS,
  seed: 1,
  sharing: { enabled: true, scanPagesPerSecPerVm: 50, scanPagesPerSecTotal: 200 },
  historyCapacity: 600,
};

/** ESX's balloon driver polls its target once a second: rebalancing faster cannot help it. */
const MIN_PRESSURE_INTERVAL_S = 1;

export interface VmPlan {
  vmId: number;
  target: number;
  /** Pages to give back (allocated − target at the rebalance; negative: room to grow). */
  excess: number;
  balloonTarget: number | null;
  swappedNow: number;
  blocked: boolean;
}

export interface RebalanceReport {
  t: number;
  reason: RebalanceReason;
  state: ReclaimState;
  freePages: number;
  budgetPages: number;
  plans: VmPlan[];
}

interface Managed {
  vm: ScheduledVm;
  sampler: WorkingSetSampler | null;
  lastCycles: number;
  target: number;
  blocked: boolean;
}

export class MemScheduler {
  readonly options: MemSchedOptions;
  readonly states: ReclaimStateMachine;
  readonly history: SchedHistory;
  readonly admission: AdmissionControl;
  private readonly vms = new Map<number, Managed>();
  private lastBalance = Number.NEGATIVE_INFINITY;
  private lastTick: number | null = null;
  private stateAtBalance: ReclaimState = 'high';
  private scanCredit = 0;
  private rebalances = 0;

  constructor(
    private readonly host: HostMemoryPort,
    private readonly clock: ClockPort,
    private readonly swap: SwapPort | null,
    private readonly sharing: SharingPort | null,
    options: Partial<MemSchedOptions> = {},
  ) {
    this.options = { ...DEFAULT_MEMSCHED, ...options, sharing: { ...DEFAULT_MEMSCHED.sharing, ...options.sharing } };
    idleCost(this.options.tau); // rejects τ outside [0, 1) up front, with the stated reason
    if (!(this.options.balancePeriodS > 0 && this.options.samplePeriodS > 0)) throw new RangeError('balance and sample periods must be > 0');
    this.states = new ReclaimStateMachine({ ...DEFAULT_THRESHOLDS, ...this.options.thresholds });
    this.states.effective(host.totalPages); // a page floor too large for this machine fails here
    this.history = new SchedHistory(this.options.historyCapacity);
    this.admission = new AdmissionControl(host.totalPages, host.swapPages);
  }

  /** Admits and starts managing a VM; returns why not if admission control refuses it. */
  addVm(vm: ScheduledVm): string | null {
    const refused = this.admission.admit(vm.vmId, { minPages: vm.minPages, maxPages: vm.maxPages, overheadPages: vm.overheadPages });
    if (refused) return refused;
    const sampler = vm.sampling
      ? new WorkingSetSampler(vm.sampling, seededRandom(streamSeed(this.options.seed, vm.vmId)), {
          samplePages: this.options.samplePages,
          periodCycles: this.options.samplePeriodS * this.clock.cyclesPerSecond,
          gains: this.options.gains,
        })
      : null;
    this.vms.set(vm.vmId, { vm, sampler, lastCycles: vm.executedCycles(), target: vm.maxPages, blocked: false });
    return null;
  }

  removeVm(vmId: number): void {
    const m = this.vms.get(vmId);
    if (!m) return;
    if (m.blocked) m.vm.setBlocked(false);
    this.vms.delete(vmId);
    this.admission.release(vmId);
  }

  /** The p2m observer's sampledTouch (or any VMM-visible guest touch) for this VM. */
  touched(vmId: number, ppn: number): void {
    this.vms.get(vmId)?.sampler?.touched(ppn);
  }

  onStateChange(fn: (c: ReclaimStateChange) => void): () => void {
    return this.states.onChange(fn);
  }

  get state(): ReclaimState {
    return this.states.state;
  }

  targetOf(vmId: number): number | undefined {
    return this.vms.get(vmId)?.target;
  }

  samplerOf(vmId: number): WorkingSetSampler | null {
    return this.vms.get(vmId)?.sampler ?? null;
  }

  get rebalanceCount(): number {
    return this.rebalances;
  }

  /**
   * Called often by the machine (e.g. every scheduling quantum): advances the samplers, paces
   * the sharing scanner, updates the state and rebalances when the period is up or the state
   * dropped since the last rebalance. Cheap when nothing is due.
   */
  tick(): RebalanceReport | null {
    const now = this.clock.seconds();
    const dt = this.lastTick === null ? 0 : Math.max(0, now - this.lastTick);
    this.lastTick = now;
    for (const m of this.vms.values()) {
      const cycles = m.vm.executedCycles();
      m.sampler?.advance(Math.max(0, cycles - m.lastCycles));
      m.lastCycles = cycles;
    }
    this.paceSharing(dt);
    const state = this.states.update(this.host.freePages(), this.host.totalPages);
    const level = RECLAIM_STATES.indexOf(state);
    const levelAtBalance = RECLAIM_STATES.indexOf(this.stateAtBalance);
    if (level > levelAtBalance) return this.rebalance('pressure');
    // Still under the threshold that put us here: targets are stale (VMs kept growing), so
    // rebalance again — no more often than the balloon drivers poll (once a second).
    if (state !== 'high' && now - this.lastBalance >= MIN_PRESSURE_INTERVAL_S && (100 * this.host.freePages()) / this.host.totalPages < entryThreshold(this.states.effective(this.host.totalPages), state)) {
      return this.rebalance('pressure');
    }
    // Recovered since: remember it, so that falling back again counts as a new drop.
    if (level < levelAtBalance) this.stateAtBalance = state;
    if (now - this.lastBalance >= this.options.balancePeriodS) return this.rebalance('period');
    if (state === 'low' || this.anyBlocked()) this.updateBlocking(state === 'low');
    return null;
  }

  /** Computes the state and targets and reclaims accordingly. */
  rebalance(reason: RebalanceReason = 'manual'): RebalanceReport {
    const now = this.clock.seconds();
    this.lastBalance = now;
    this.rebalances++;
    const total = this.host.totalPages;
    const free = this.host.freePages();
    const state = this.states.update(free, total);
    this.stateAtBalance = state;
    const actions = reclaimActions(state);
    const tau = policyTau(this.options.policy, this.options.tau);

    const managed = [...this.vms.values()];
    const clients: TargetClient[] = managed.map((m) => {
      const allocated = m.vm.allocatedPages();
      return {
        id: m.vm.vmId,
        shares: m.vm.shares,
        minPages: m.vm.minPages,
        maxPages: m.vm.maxPages,
        allocatedPages: allocated,
        demandPages: allocated + (m.vm.balloon?.actual ?? 0) + m.vm.swappedPages(),
        activeFraction: m.sampler?.estimate() ?? 1,
      };
    });
    const allocatedSum = clients.reduce((s, c) => s + c.allocatedPages, 0);
    const budget = Math.max(0, free + allocatedSum - this.states.targetFreePages(total));
    const targets = allocationTargets(clients, budget, { policy: this.options.policy, tau: this.options.tau, workingSetHeadroom: this.options.workingSetHeadroom });

    const plans: VmPlan[] = [];
    const samples: VmSample[] = [];
    managed.forEach((m, i) => {
      const c = clients[i];
      const target = targets.get(c.id) ?? c.maxPages;
      m.target = target;
      const excess = c.allocatedPages - target;
      let swappedNow = 0;
      if (actions.swap === 'all' && excess > 0 && this.swap) swappedNow = this.swap.swapOut(c.id, excess);
      let allocated = c.allocatedPages - swappedNow;
      const b = m.vm.balloon;
      let balloonTarget: number | null = null;
      if (b) {
        // Sized from the excess before any swapping: in hard and low the swapper frees memory
        // now and the balloon then takes over (the guest picks what to give up, so the pages
        // swapped blindly flow back as it touches them) — ballooning stays the steady state.
        const wanted = Math.max(0, b.actual + c.allocatedPages - target);
        // In high nothing is reclaimed, but a balloon left from earlier pressure may shrink.
        balloonTarget = actions.balloon ? wanted : Math.min(b.target, wanted);
        if (balloonTarget !== b.target) b.target = balloonTarget;
      }
      if (actions.swap === 'unballoonable' && excess > 0 && this.swap) {
        const cannot = !b || !b.canDeliver() ? excess : Math.min(excess, Math.max(0, b.shortfall));
        if (cannot > 0) {
          swappedNow = this.swap.swapOut(c.id, cannot);
          allocated -= swappedNow;
        }
      }
      const blocked = actions.blockAboveTarget && allocated > target;
      this.setBlocked(m, blocked);
      plans.push({ vmId: c.id, target, excess, balloonTarget, swappedNow, blocked });
      samples.push({
        vmId: c.id,
        allocated,
        target,
        balloonSize: b?.actual ?? 0,
        balloonTarget: b?.target ?? 0,
        swapped: m.vm.swappedPages(),
        shared: m.vm.sharedPages(),
        workingSet: c.activeFraction,
        rho: sharesPerPage(c.shares, allocated, c.activeFraction, tau),
        blocked,
      });
    });
    const sample: SchedSample = { t: now, state, freePages: this.host.freePages(), reason, vms: samples };
    this.history.record(sample);
    return { t: now, reason, state, freePages: free, budgetPages: budget, plans };
  }

  /** In low, a VM stays blocked until it is at or below its target (re-checked every tick). */
  private updateBlocking(low: boolean): void {
    for (const m of this.vms.values()) this.setBlocked(m, low && m.vm.allocatedPages() > m.target);
  }

  private anyBlocked(): boolean {
    for (const m of this.vms.values()) if (m.blocked) return true;
    return false;
  }

  private setBlocked(m: Managed, blocked: boolean): void {
    if (m.blocked === blocked) return;
    m.blocked = blocked;
    m.vm.setBlocked(blocked);
  }

  /** The scanner's budget: min(per-VM rate × VMs, total rate) pages per simulated second, with
   *  the fractional remainder carried so slow clocks still scan at the right average rate. */
  private paceSharing(dt: number): void {
    const s = this.options.sharing;
    if (!this.sharing || !s.enabled || dt <= 0 || this.vms.size === 0) return;
    const rate = Math.min(s.scanPagesPerSecPerVm * this.vms.size, s.scanPagesPerSecTotal);
    this.scanCredit += rate * dt;
    const pages = Math.floor(this.scanCredit);
    if (pages <= 0) return;
    this.scanCredit -= pages;
    this.sharing.scan(pages);
  }
}
