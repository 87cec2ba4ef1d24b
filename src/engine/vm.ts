// A virtual machine: guest-physical memory, vCPUs, devices and the event bus. How its memory
// is virtualized comes from its platform: native (the vCPUs address the memory directly) or
// one of the hypervisor's modes (an MmuPort per vCPU over machine memory, and a VmxPort).
import { EventBus } from './events';
import type { PhysicalMemory } from './memory/physicalMemory';
import type { GuestMemory } from './memory/guestMemory';
import { Vcpu, IoBus } from './cpu/cpu';
import type { MmuPort } from './cpu/mmuPort';
import type { VmxPort } from './cpu/vmxPort';
import type { Tlb, TlbCounters } from './mmu/tlb';
import { Devices } from './devices';
import type { Segment } from './program';

export type MemoryMode = 'native' | 'shadow' | 'nested' | 'paravirt';
export const MEMORY_MODES: readonly MemoryMode[] = ['native', 'shadow', 'nested', 'paravirt'];

export interface VmOptions {
  name: string;
  /** Guest physical memory in bytes (default 64 MiB). */
  memoryBytes: number;
  vcpus: number;
  /** MAXPHYADDR for reserved-bit checks and CPUID (default 40). */
  maxPhyAddr: number;
  /** Timer period in instructions at reset (0: off until the guest programs it). */
  timerPeriod: number;
  /** Instructions each vCPU runs before the next gets a turn. */
  sliceInstructions: number;
}

export const DEFAULT_VM_OPTIONS: VmOptions = {
  name: 'vm1', memoryBytes: 64 * 1024 * 1024, vcpus: 1, maxPhyAddr: 40, timerPeriod: 0, sliceInstructions: 1000,
};

/** How a VM's memory is virtualized: what its vCPUs are built on. */
export interface VmPlatform {
  mode: MemoryMode;
  /** What vCPUs read and write at the (machine) physical addresses their MMU returns. */
  cpuMemory: PhysicalMemory;
  /** The guest-physical view: the loader's, the debugger's. */
  guestMemory: GuestMemory;
  /** The MMU a vCPU uses, and the hardware TLB behind it (for statistics and the TLB view). */
  mmuFor(vcpuIndex: number): { port: MmuPort; tlb: Tlb };
  /** The hypervisor's door for VM exits; null in native mode. */
  vmx: VmxPort | null;
}

export interface RunResult {
  /** Instructions retired by all vCPUs during this call. */
  executed: number;
  /** Why the call returned. */
  outcome: 'budget' | 'stopped' | 'pause-requested';
  /** The vCPU that asked for the pause. */
  vcpu?: number;
}

export class Vm {
  readonly options: VmOptions;
  readonly mode: MemoryMode;
  /** Guest-physical memory. */
  readonly mem: GuestMemory;
  readonly bus: EventBus;
  readonly vcpus: Vcpu[] = [];
  readonly mmus: MmuPort[] = [];
  /** The hardware TLB of each vCPU (the host's shared TLB under a hypervisor). */
  readonly tlbs: Tlb[] = [];
  /** TLB activity while this VM ran (its share of a shared host TLB). */
  readonly tlbCounters: TlbCounters = emptyCounters();
  private hardwareTlbs: Tlb[] = [];
  readonly devices: Devices;
  private nextVcpu = 0;
  /** The vCPU that ran last (the one a host interrupt would interrupt). */
  lastVcpu: Vcpu | null = null;

  constructor(options: Partial<VmOptions>, platform: VmPlatform, bus = new EventBus()) {
    this.options = { ...DEFAULT_VM_OPTIONS, ...options };
    this.mode = platform.mode;
    this.mem = platform.guestMemory;
    this.bus = bus;
    this.devices = new Devices(this.bus, (code) => this.shutdown(code), (i) => ({ icount: this.vcpus[i]?.icount ?? 0, rip: this.vcpus[i]?.ripValue ?? 0n }));
    for (let i = 0; i < this.options.vcpus; i++) {
      const { port: mmu, tlb } = platform.mmuFor(i);
      this.mmus.push(mmu);
      this.tlbs.push(tlb);
      const io: IoBus = { in: (p, s) => this.devices.in(i, p, s), out: (p, s, v) => this.devices.out(i, p, s, v) };
      const cpu = new Vcpu({ index: i, maxPhyAddr: this.options.maxPhyAddr, timerPeriod: this.options.timerPeriod }, platform.cpuMemory, mmu, this.bus, io);
      cpu.maxPhyAddrBits = this.options.maxPhyAddr;
      cpu.vmx = platform.vmx;
      // Application processors wait for a start-up request from the BSP (see docs/machine.md).
      if (i > 0) cpu.state = 'halted';
      this.vcpus.push(cpu);
    }
    this.hardwareTlbs = [...new Set(this.tlbs)];
    this.devices.onStartVcpu = (index, rip) => {
      const cpu = this.vcpus[index];
      if (!cpu || cpu.state === 'running') return;
      cpu.setRip(rip);
      cpu.state = 'running';
    };
  }

  /** Copies a program's segments into guest physical memory and points every vCPU at its entry. */
  load(segments: readonly Segment[], entry: number): void {
    for (const s of segments) this.mem.writeBytes(s.address, s.bytes);
    this.vcpus[0].setRip(BigInt(entry));
  }

  get icount(): number {
    let n = 0;
    for (const c of this.vcpus) n += c.icount;
    return n;
  }

  /** True once every vCPU has stopped for good (halted with nothing to wake it, shut down, or faulted). */
  get stopped(): boolean {
    return this.vcpus.every((c) => c.state === 'stopped' || (c.index > 0 && c.state === 'halted' && this.vcpus[0].state === 'stopped'));
  }

  /**
   * Runs at most `budget` instructions in total, round-robin over vCPUs in slices. This is
   * also run-until: a listener that calls requestPause() (a breakpoint on an event) ends the
   * call at the next instruction boundary; run(1) single-steps.
   */
  run(budget: number): RunResult {
    // The TLB may be the host's, shared with other VMs: what changes in it while this VM runs
    // is this VM's (no cost per access: two snapshots per call).
    const before = this.hardwareTlbs.map((t) => t.counters());
    try {
      return this.runSlices(budget);
    } finally {
      this.hardwareTlbs.forEach((t, i) => addDelta(this.tlbCounters, before[i], t.counters()));
    }
  }

  private runSlices(budget: number): RunResult {
    let executed = 0;
    const slice = this.options.sliceInstructions;
    let idle = 0;
    while (executed < budget && !this.stopped) {
      const cpu = this.vcpus[this.nextVcpu];
      this.nextVcpu = (this.nextVcpu + 1) % this.vcpus.length;
      if (cpu.state === 'stopped') continue;
      this.lastVcpu = cpu;
      const n = cpu.run(Math.min(slice, budget - executed));
      executed += n;
      idle = n === 0 ? idle + 1 : 0;
      if (cpu.pauseRequested) {
        cpu.pauseRequested = false;
        return { executed, outcome: 'pause-requested', vcpu: cpu.index };
      }
      // Every vCPU halted with nothing pending: the machine is idle for good.
      if (idle >= this.vcpus.length * 2 && this.vcpus.every((c) => c.state !== 'running')) {
        for (const c of this.vcpus) if (c.state === 'halted' && c.index === 0) c.stop('halted', 'all vCPUs halted');
        break;
      }
    }
    return { executed, outcome: this.stopped ? 'stopped' : 'budget' };
  }

  /**
   * Runs one vCPU alone, the others frozen (a debugger's single-thread step or continue): at
   * most `budget` of its instructions, on the same fast path as run(). A halted vCPU wakes only
   * for its own timer; with none it retires nothing (executed 0, outcome 'budget').
   */
  runVcpu(index: number, budget: number): RunResult {
    const cpu = this.vcpus[index];
    if (!cpu || cpu.state === 'stopped') return { executed: 0, outcome: this.stopped ? 'stopped' : 'budget' };
    const before = this.hardwareTlbs.map((t) => t.counters());
    try {
      this.lastVcpu = cpu;
      const executed = cpu.run(budget);
      if (cpu.pauseRequested) {
        cpu.pauseRequested = false;
        return { executed, outcome: 'pause-requested', vcpu: index };
      }
      return { executed, outcome: this.stopped ? 'stopped' : 'budget' };
    } finally {
      this.hardwareTlbs.forEach((t, i) => addDelta(this.tlbCounters, before[i], t.counters()));
    }
  }

  /**
   * Asks the running vCPU to stop at the next instruction boundary: call it from an event
   * listener (a breakpoint). run() then returns 'pause-requested'.
   */
  requestPause(vcpu: number): void {
    this.vcpus[vcpu]?.requestPause();
  }

  /** Ends the VM from a device (the exit port) with the guest's status code. */
  shutdown(code: number): void {
    this.devices.exitCode = code;
    for (const c of this.vcpus) if (c.state !== 'stopped') c.stop('shutdown', `guest requested shutdown with status ${code}`);
  }
}

function emptyCounters(): TlbCounters {
  return { hits: 0, misses: 0, flushes: 0, entriesFlushed: 0, hitsByAccess: { read: 0, write: 0, fetch: 0 }, missesByAccess: { read: 0, write: 0, fetch: 0 } };
}

function addDelta(into: TlbCounters, a: TlbCounters, b: TlbCounters): void {
  into.hits += b.hits - a.hits;
  into.misses += b.misses - a.misses;
  into.flushes += b.flushes - a.flushes;
  into.entriesFlushed += b.entriesFlushed - a.entriesFlushed;
  for (const k of ['read', 'write', 'fetch'] as const) {
    into.hitsByAccess[k] += b.hitsByAccess[k] - a.hitsByAccess[k];
    into.missesByAccess[k] += b.missesByAccess[k] - a.missesByAccess[k];
  }
}
