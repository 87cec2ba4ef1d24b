// One host: machine memory shared by several VMs, each with its own memory mode, scheduled
// round-robin with a quantum. Ending a VM's turn while another is waiting is what a host
// timer interrupt does: an external-interrupt VM exit (reason 1) on the preempted vCPU.
import { MachineMemory } from './machineMemory';
import type { Vm, RunResult } from '../vm';
import type { Monitor } from '../vmm/monitor';
import type { P2m } from '../vmm/p2m';
import type { ModeInstance } from '../vmm/virtualVm';
import { ExitReason } from '../vmm/exitReasons';
import { Tlb, DEFAULT_TLB_CONFIG } from '../mmu/tlb';
import type { TlbConfig } from '../mmu/tlb';

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
}

export const DEFAULT_MACHINE_OPTIONS: MachineOptions = { memoryBytes: 256 * 1024 * 1024, quantum: 10_000, tlb: DEFAULT_TLB_CONFIG };

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
  private nextId = 1;
  private nextVpid = 1;
  private turn = 0;
  /** Instructions the current VM has run of its quantum. */
  private quantumUsed = 0;

  constructor(options: Partial<MachineOptions> = {}) {
    this.options = { ...DEFAULT_MACHINE_OPTIONS, ...options };
    this.memory = new MachineMemory(this.options.memoryBytes);
    this.hostTlb = new Tlb(this.options.tlb);
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
    if (parts) this.vmmParts.set(vm, parts);
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
      // The quantum is the VM's share of the host CPU, however the caller slices its budget
      // (a debugger stepping one instruction at a time does not end a VM's turn).
      const r: RunResult = vm.run(Math.min(this.options.quantum - this.quantumUsed, budget - executed));
      executed += r.executed;
      this.quantumUsed += r.executed;
      if (r.outcome === 'pause-requested') return { executed, outcome: 'pause-requested', vm };
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

  private nextTurn(): void {
    this.turn++;
    this.quantumUsed = 0;
  }
}
