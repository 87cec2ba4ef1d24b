// One host: machine memory shared by several VMs, each with its own memory mode, scheduled
// round-robin with a quantum. Ending a VM's turn while another is waiting is what a host
// timer interrupt does: an external-interrupt VM exit (reason 1) on the preempted vCPU.
import { MachineMemory } from './machineMemory';
import type { Vm, RunResult } from '../vm';
import type { Monitor } from '../vmm/monitor';
import { ExitReason } from '../vmm/exitReasons';

export interface MachineOptions {
  /** Machine (host physical) memory in bytes. */
  memoryBytes: number;
  /** Instructions a VM runs before the next VM gets the CPU. */
  quantum: number;
}

export const DEFAULT_MACHINE_OPTIONS: MachineOptions = { memoryBytes: 256 * 1024 * 1024, quantum: 10_000 };

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
  private nextId = 1;
  private turn = 0;

  constructor(options: Partial<MachineOptions> = {}) {
    this.options = { ...DEFAULT_MACHINE_OPTIONS, ...options };
    this.memory = new MachineMemory(this.options.memoryBytes);
  }

  /** A fresh VM id (frame owner); 0 is the hypervisor. */
  allocateVmId(): number {
    return this.nextId++;
  }

  add(vm: Vm, monitor: Monitor | null): void {
    this.vms.push(vm);
    if (monitor) this.monitors.set(vm, monitor);
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
        this.turn++;
        continue;
      }
      const r: RunResult = vm.run(Math.min(this.options.quantum, budget - executed));
      executed += r.executed;
      if (r.outcome === 'pause-requested') return { executed, outcome: 'pause-requested', vm };
      const others = this.vms.some((v) => v !== vm && !v.stopped);
      if (others && !vm.stopped) {
        const cpu = vm.vcpus[0];
        this.monitors.get(vm)?.record(cpu, { reason: ExitReason.EXTERNAL_INTERRUPT, qualification: 0n });
      }
      this.turn++;
    }
    return { executed, outcome: this.stopped ? 'stopped' : 'budget' };
  }
}
