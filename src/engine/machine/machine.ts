// One host: machine memory shared by several VMs, each with its own memory mode, scheduled
// round-robin with a quantum. Ending a VM's turn while another is waiting is what a host
// timer interrupt does: an external-interrupt VM exit (reason 1) on the preempted vCPU.
//
// Time (memory/overcommit/clock.ts): the clock advances by the instructions retired and, when
// every VM is waiting (a swap-in, a guest disk I/O), by the wait. A VM that stalls ends its turn
// and does not run again until its wait is over; the other VMs run meanwhile, as a VMM
// deschedules a vCPU blocked on I/O. The wait is charged when the VM's slice returns, not at the
// faulting instruction (the emulator cannot suspend an instruction): a VM may run the rest of
// its slice "early", which shifts when, not how much, it waits.
import { MachineMemory } from './machineMemory';
import type { Vm, RunResult } from '../vm';
import type { Monitor } from '../vmm/monitor';
import { OutOfMachineMemory } from '../vmm/p2m';
import type { P2m } from '../vmm/p2m';
import type { ModeInstance } from '../vmm/virtualVm';
import { ExitReason } from '../vmm/exitReasons';
import { Tlb, DEFAULT_TLB_CONFIG } from '../mmu/tlb';
import type { TlbConfig } from '../mmu/tlb';
import { DEFAULT_CYCLES_PER_SECOND, SimClock, StallAccount } from '../memory/overcommit/clock';
import { DEFAULT_DISK_LATENCY_S, SwapDevice } from '../memory/overcommit/swapDevice';
import type { MachineOvercommit } from '../memory/overcommit/machineOvercommit';

/** The hypervisor's side of a VM on this machine: what the MMU audit (vmm/audit.ts) checks. */
export interface VmmParts {
  vmId: number;
  p2m: P2m;
  instance: ModeInstance;
}

export interface MachineOptions {
  /** Machine (host physical) memory in bytes. */
  memoryBytes: number;
  /** Instructions a VM runs before the next VM gets the CPU. */
  quantum: number;
  /** The host processor's TLB, which every VM's vCPUs share (tagged by VPID). */
  tlb: TlbConfig;
  /** Simulated clock rate: cycles (= instructions) per simulated second. */
  cyclesPerSecond: number;
  /** Latency of one page read from (or write to) a VM's swap file, in cycles (default: 10 ms at the clock rate). */
  swapLatencyCycles: number | undefined;
}

export const DEFAULT_MACHINE_OPTIONS: MachineOptions = {
  memoryBytes: 256 * 1024 * 1024, quantum: 10_000, tlb: DEFAULT_TLB_CONFIG, cyclesPerSecond: DEFAULT_CYCLES_PER_SECOND, swapLatencyCycles: undefined,
};

export interface MachineRunResult {
  executed: number;
  outcome: 'budget' | 'stopped' | 'pause-requested';
  /** The VM that asked for a pause. */
  vm?: Vm;
}

export class Machine {
  readonly options: MachineOptions;
  readonly memory: MachineMemory;
  readonly vms: Vm[] = [];
  private readonly monitors = new Map<Vm, Monitor>();
  private readonly vmmParts = new Map<Vm, VmmParts>();
  /**
   * The one host CPU's TLB. vCPUs of every VM run on it in turn, their entries tagged with
   * their VPID; VPID 0 (VPID disabled) entries are flushed at every VM exit and entry, as on
   * VMX without VPID.
   */
  readonly hostTlb: Tlb;
  /** Simulated time: instructions retired plus the waits when no VM could run. */
  readonly clock: SimClock;
  /** Cycles per swap-file I/O. */
  readonly swapLatencyCycles: number;
  /** Stall accounts of VMs without a p2m (a VMM-backed VM's account is its p2m's). */
  private readonly ownStalls = new Map<Vm, StallAccount>();
  /** Clock time at which a stalled VM may run again. */
  private readonly readyAt = new Map<Vm, number>();
  /** The VMM's memory scheduler (memory/overcommit/machineOvercommit.ts), ticked after every slice; null: none. */
  overcommit: MachineOvercommit | null = null;
  /** VMs the memory scheduler stopped (low state, above target): they run only when no other VM can. */
  private readonly blocked = new Set<Vm>();
  private nextId = 1;
  private nextVpid = 1;
  private turn = 0;
  /** Instructions the current VM has run of its quantum. */
  private quantumUsed = 0;

  constructor(options: Partial<MachineOptions> = {}) {
    this.options = { ...DEFAULT_MACHINE_OPTIONS, ...options };
    this.memory = new MachineMemory(this.options.memoryBytes);
    this.hostTlb = new Tlb(this.options.tlb);
    this.clock = new SimClock(this.options.cyclesPerSecond);
    this.swapLatencyCycles = this.options.swapLatencyCycles ?? Math.round(DEFAULT_DISK_LATENCY_S * this.options.cyclesPerSecond);
  }

  /** A fresh VPID (1..65535) for a vCPU. */
  allocateVpid(): number {
    if (this.nextVpid > 0xffff) throw new Error('out of VPIDs');
    return this.nextVpid++;
  }

  /** A fresh VM id (frame owner); 0 is the hypervisor. */
  allocateVmId(): number {
    return this.nextId++;
  }

  add(vm: Vm, monitor: Monitor | null, parts?: VmmParts): void {
    this.vms.push(vm);
    if (monitor) this.monitors.set(vm, monitor);
    if (parts) {
      this.vmmParts.set(vm, parts);
      const p2m = parts.p2m;
      p2m.events = { bus: vm.bus, stamp: () => ({ icount: vm.icount, vcpu: vm.lastVcpu?.index ?? 0, rip: (vm.lastVcpu ?? vm.vcpus[0])?.ripValue ?? 0n }) };
      if (p2m.swapFile.used === 0) {
        p2m.swapFile = new SwapDevice({ name: `${vm.options.name}.vswp`, readLatencyCycles: this.swapLatencyCycles, writeLatencyCycles: this.swapLatencyCycles });
      }
    }
  }

  /** The account of cycles `vm` waited (swap-ins, guest disk I/O): devices charge it. */
  stallAccount(vm: Vm): StallAccount {
    const p = this.vmmParts.get(vm);
    if (p) return p.p2m.stalls;
    let a = this.ownStalls.get(vm);
    if (!a) this.ownStalls.set(vm, (a = new StallAccount()));
    return a;
  }

  /** Cycles `vm` has spent waiting so far. */
  stallCycles(vm: Vm): number {
    return this.stallAccount(vm).cycles;
  }

  /** Charges `vm` for waiting `cycles` (a device's I/O). */
  stall(vm: Vm, cycles: number): void {
    this.stallAccount(vm).charge(cycles);
  }

  /** Cycles left until `vm` may run again (0: it is not waiting). */
  waitRemaining(vm: Vm): number {
    return Math.max(0, (this.readyAt.get(vm) ?? 0) - this.clock.now);
  }

  /** Whether `vm` is waiting for an I/O to finish (it is skipped until the clock reaches its ready time). */
  isWaiting(vm: Vm): boolean {
    return (this.readyAt.get(vm) ?? 0) > this.clock.now;
  }

  /** The memory scheduler blocks (or releases) a VM. */
  setBlocked(vm: Vm, blocked: boolean): void {
    if (blocked) this.blocked.add(vm);
    else this.blocked.delete(vm);
  }

  isBlocked(vm: Vm): boolean {
    return this.blocked.has(vm);
  }

  /** The VM's p2m and mode instance (undefined for a VM added without them). */
  partsOf(vm: Vm): VmmParts | undefined {
    return this.vmmParts.get(vm);
  }

  monitorOf(vm: Vm): Monitor | undefined {
    return this.monitors.get(vm);
  }

  get stopped(): boolean {
    return this.vms.every((v) => v.stopped);
  }

  get icount(): number {
    let n = 0;
    for (const v of this.vms) n += v.icount;
    return n;
  }

  /** Runs at most `budget` instructions over all VMs, a quantum at a time, round-robin. */
  run(budget: number): MachineRunResult {
    let executed = 0;
    while (executed < budget && !this.stopped) {
      const vm = this.vms[this.turn % this.vms.length];
      if (vm.stopped) {
        this.nextTurn();
        continue;
      }
      // A blocked VM yields to any VM that can run; alone, it runs (its next fault reclaims at
      // once through MachineMemory.onExhausted, as nothing else would free memory for it).
      if (this.blocked.size > 0 && this.blocked.has(vm) && this.vms.some((v) => v !== vm && !v.stopped && !this.blocked.has(v) && !this.isWaiting(v))) {
        this.nextTurn();
        continue;
      }
      if (this.isWaiting(vm)) {
        // Blocked on I/O. Another VM runs; with none runnable the CPU idles until the first wait ends.
        const wake = this.earliestWake();
        if (wake === undefined) {
          this.nextTurn();
          continue;
        }
        this.clock.advance(wake - this.clock.now);
        if (this.isWaiting(vm)) {
          this.nextTurn();
          continue;
        }
      }
      // The quantum is the VM's share of the host CPU, however the caller slices its budget
      // (a debugger stepping one instruction at a time does not end a VM's turn).
      const r: RunResult = this.runSlice(vm, Math.min(this.options.quantum - this.quantumUsed, budget - executed));
      executed += r.executed;
      this.quantumUsed += r.executed;
      this.clock.advance(r.executed);
      if (this.overcommit) this.overcommit.tick();
      const stalled = this.stallAccount(vm).takePending();
      if (stalled > 0) this.readyAt.set(vm, this.clock.now + stalled);
      if (r.outcome === 'pause-requested') return { executed, outcome: 'pause-requested', vm };
      // The VMM's own work (a rebalance, the scanner, reclaiming for another VM's fault) raises
      // events outside any VM's slice: a listener's pause request is honoured now, not whenever
      // that VM next runs (it may never: it may have halted).
      const paused = this.overcommit ? this.takePauseRequest() : undefined;
      if (paused) return { executed, outcome: 'pause-requested', vm: paused };
      if (stalled > 0 && !vm.stopped) {
        // It waits: its turn ends (no host timer involved, so no external-interrupt exit).
        this.nextTurn();
        continue;
      }
      if (vm.stopped || this.quantumUsed >= this.options.quantum || r.executed === 0) {
        const others = this.vms.some((v) => v !== vm && !v.stopped);
        if (others && !vm.stopped && this.quantumUsed >= this.options.quantum) {
          // The host timer ends the turn: an external-interrupt exit on the vCPU that was running.
          const cpu = vm.lastVcpu ?? vm.vcpus[0];
          this.monitors.get(vm)?.record(cpu, { reason: ExitReason.EXTERNAL_INTERRUPT, qualification: 0n });
        }
        this.nextTurn();
      }
    }
    return { executed, outcome: this.stopped ? 'stopped' : 'budget' };
  }

  /**
   * One slice of a VM. When the VMM cannot find a machine frame for it even after reclaiming
   * (every other page pinned, a page table, or just faulted in), the VM cannot go on: it is
   * stopped with that reason, as a host powers off a VM it cannot back, and the others run on.
   */
  private runSlice(vm: Vm, budget: number): RunResult {
    const before = vm.icount;
    try {
      return vm.run(budget);
    } catch (e) {
      if (!(e instanceof OutOfMachineMemory)) throw e;
      const cpu = vm.lastVcpu ?? vm.vcpus[0];
      const message = `${e.message}: nothing left to reclaim on a machine of ${this.memory.frames.total} frames`;
      for (const c of vm.vcpus) if (c.state !== 'stopped') c.stop('error', c === cpu ? message : `stopped with vCPU ${cpu.index}: ${message}`);
      return { executed: vm.icount - before, outcome: 'stopped' };
    }
  }

  /** A VM with a vCPU asked to pause (its request taken), if any. */
  private takePauseRequest(): Vm | undefined {
    for (const v of this.vms) {
      for (const c of v.vcpus) {
        if (c.pauseRequested) {
          c.pauseRequested = false;
          return v;
        }
      }
    }
    return undefined;
  }

  /** When the first waiting VM can run, if every runnable VM is waiting; undefined if one can run now. */
  private earliestWake(): number | undefined {
    let min = Infinity;
    for (const v of this.vms) {
      if (v.stopped) continue;
      const r = this.readyAt.get(v) ?? 0;
      if (r <= this.clock.now) return undefined;
      min = Math.min(min, r);
    }
    return min === Infinity ? undefined : min;
  }

  private nextTurn(): void {
    this.turn++;
    this.quantumUsed = 0;
  }
}
