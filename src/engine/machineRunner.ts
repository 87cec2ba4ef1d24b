// Runs several VMs on one machine to the end (or a step bound): the job of
// `vmem run scenario.json`. Each VM gets its own summary; the machine reports its frames.
import { Machine } from './machine/machine';
import type { FrameUse } from './machine/frameTable';
import { createVirtualVm } from './vmm/virtualVm';
import type { VirtualMode, VirtualVmOptions } from './vmm/virtualVm';
import { Statistics } from './statistics';
import { summarize } from './runner';
import type { LoadedProgram, RunSummary } from './runner';
import type { Vm } from './vm';
import { EVENT_KINDS } from './events';
import type { EngineEvent, EventKind } from './events';
import { auditMachine } from './vmm/audit';
import { DEFAULT_TLB_CONFIG } from './mmu/tlb';
import type { TlbConfig } from './mmu/tlb';
import { attachGuestDevices } from './memory/overcommit/guestDevices';
import type { GuestDeviceOptions } from './memory/overcommit/guestDevices';
import { enableOvercommit } from './memory/overcommit/machineOvercommit';
import type { MemSchedConfig, VmOvercommitOptions } from './memory/overcommit/machineOvercommit';
import type { OvercommitSnapshot } from './memory/overcommit/overcommitSnapshot';
import type { Scenario } from './scenario';

export interface MachineVmInput extends VirtualVmOptions {
  name: string;
  mode: VirtualMode;
  program: LoadedProgram;
  /** The balloon and the guest disk (both attached unless false). */
  devices?: GuestDeviceOptions;
  /** Reservation, limit and shares for the memory scheduler. */
  allocation?: VmOvercommitOptions;
}

export interface MachineInput {
  memoryBytes: number;
  /** The host TLB every VM shares. */
  tlb?: Partial<TlbConfig>;
  quantum: number;
  vms: MachineVmInput[];
  maxSteps: number;
  /** Cycles per simulated second (default 1,000,000). */
  cyclesPerSecond?: number;
  /** Cycles per swap-file page I/O (default: 10 ms at the clock rate). */
  swapLatencyCycles?: number;
  /**
   * The VMM's memory scheduler: its configuration, or false for none. Default: on when the
   * machine is overcommitted (less machine memory than the VMs' total), off otherwise.
   */
  memsched?: Partial<MemSchedConfig> | false;
}

export interface MachineSummary {
  vms: (RunSummary & { name: string })[];
  instructions: number;
  frames: { total: number; free: number; byOwner: Record<string, Record<FrameUse, number>> };
  /** The memory scheduler's state at the end, when the machine has one. */
  overcommit?: OvercommitSnapshot;
  /** Simulated seconds the run took. */
  seconds: number;
  ok: boolean;
}

/** The machine a parsed scenario describes, with its VMs' assembled programs (in the scenario's order). */
export function scenarioMachineInput(scenario: Scenario, programs: readonly LoadedProgram[], options: { maxSteps: number; tlb?: Partial<TlbConfig> }): MachineInput {
  const m = scenario.machine;
  return {
    memoryBytes: m.memoryMiB * 2 ** 20,
    quantum: m.quantum,
    maxSteps: options.maxSteps,
    tlb: options.tlb,
    cyclesPerSecond: m.cyclesPerSecond,
    swapLatencyCycles: m.swapLatencyCycles,
    memsched: m.memsched,
    vms: scenario.vms.map((v, i) => ({
      name: v.name, mode: v.mode as VirtualMode, program: programs[i], memoryBytes: v.memoryMiB * 2 ** 20, vcpus: v.vcpus,
      modeOptions: v.modeOptions, allocation: v.allocation, devices: v.devices,
    })),
  };
}

/**
 * One program on a machine of `machineBytes` (the CLI's --machine-memory, the launch attribute
 * machineMemoryMiB): the program's VM, named vm1, under a hypervisor mode, with the memory
 * scheduler on when the machine is smaller than the VM — one VM is enough to see hypervisor
 * swapping and ballooning.
 */
export function programMachineInput(program: LoadedProgram, o: Omit<MachineVmInput, 'name' | 'program'> & { machineBytes: number; maxSteps: number; tlb?: Partial<TlbConfig> }): MachineInput {
  const { machineBytes, maxSteps, tlb, ...vm } = o;
  return { memoryBytes: machineBytes, quantum: 10_000, maxSteps, tlb, vms: [{ ...vm, name: 'vm1', program }] };
}

/** Whether a machine of `memoryBytes` runs these VMs with a memory scheduler. */
export function wantsMemsched(input: Pick<MachineInput, 'memoryBytes' | 'vms' | 'memsched'>): boolean {
  if (input.memsched === false) return false;
  if (input.memsched !== undefined) return true;
  return input.vms.reduce((n, v) => n + (v.memoryBytes ?? 0), 0) > input.memoryBytes;
}

export function startMachine(input: MachineInput): { machine: Machine; vms: { vm: Vm; stats: Statistics; name: string }[] } {
  const machine = new Machine({
    memoryBytes: input.memoryBytes, quantum: input.quantum, tlb: { ...DEFAULT_TLB_CONFIG, ...input.tlb },
    ...(input.cyclesPerSecond ? { cyclesPerSecond: input.cyclesPerSecond } : {}), swapLatencyCycles: input.swapLatencyCycles,
  });
  const oc = wantsMemsched(input) ? enableOvercommit(machine, input.memsched || {}) : null;
  const vms = input.vms.map((v) => {
    const { vm, monitor, instance, p2m } = createVirtualVm(machine, v.mode, { ...v, name: v.name });
    const devices = attachGuestDevices(vm, { machine, p2m }, v.devices);
    if (oc) {
      const refused = oc.addVm(vm, devices.balloon, v.allocation);
      if (refused) throw new AdmissionRefused(`${v.name}: not admitted: ${refused}`);
    }
    vm.load(v.program.segments, v.program.entry ?? v.program.segments[0]?.address ?? 0);
    return { vm, stats: new Statistics(vm, monitor, instance.stats ? () => instance.stats!() : null), name: v.name };
  });
  return { machine, vms };
}

/** Admission control refused a VM (its min + overhead does not fit): a configuration error. */
export class AdmissionRefused extends Error {}

export interface MachineRunOptions {
  /** Every engine event of every VM, with the VM's name (the CLI's --trace). */
  trace?: (vm: string, e: EngineEvent) => void;
  /** Run the machine-wide MMU audit every `auditEvery` instructions (default 1) and stop at the first violation. */
  audit?: boolean;
  auditEvery?: number;
}

export function runMachine(input: MachineInput, options: MachineRunOptions = {}): MachineSummary {
  const { machine, vms } = startMachine(input);
  const disposers: (() => void)[] = [];
  const trace = options.trace;
  if (trace) for (const { vm, name } of vms) for (const k of EVENT_KINDS as EventKind[]) disposers.push(vm.bus.on(k, (e) => trace(name, e)));
  let engineError: string | undefined;
  try {
    const step = options.audit ? Math.max(1, Math.floor(options.auditEvery ?? 1)) : 1_000_000;
    let violations = options.audit ? auditMachine(machine) : [];
    while (violations.length === 0 && machine.icount < input.maxSteps && !machine.stopped) {
      machine.run(Math.min(step, input.maxSteps - machine.icount));
      if (options.audit) violations = auditMachine(machine);
    }
    if (violations.length > 0) engineError = `MMU audit failed after ${machine.icount} machine instructions: ${violations.join('; ')}`;
  } catch (e) {
    engineError = `engine error: ${e instanceof Error ? e.message : String(e)}`;
  }
  disposers.forEach((d) => d());
  const summaries = vms.map(({ vm, stats, name }) => ({ name, ...summarize(vm, stats, engineError) }));
  const census = machine.memory.frames.census();
  const byOwner: Record<string, Record<FrameUse, number>> = {};
  for (const [owner, counts] of census.byOwner) byOwner[owner === 0 ? 'hypervisor' : vms[owner - 1]?.name ?? `vm${owner}`] = counts;
  return {
    vms: summaries,
    instructions: machine.icount,
    frames: { total: machine.memory.frames.total, free: census.free, byOwner },
    overcommit: machine.overcommit?.snapshot(),
    seconds: machine.clock.seconds(),
    ok: summaries.every((s) => s.exit.ok),
  };
}
