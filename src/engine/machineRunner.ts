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
import { DEFAULT_TLB_CONFIG } from './mmu/tlb';
import type { TlbConfig } from './mmu/tlb';

export interface MachineVmInput extends VirtualVmOptions {
  name: string;
  mode: VirtualMode;
  program: LoadedProgram;
}

export interface MachineInput {
  memoryBytes: number;
  /** The host TLB every VM shares. */
  tlb?: Partial<TlbConfig>;
  quantum: number;
  vms: MachineVmInput[];
  maxSteps: number;
}

export interface MachineSummary {
  vms: (RunSummary & { name: string })[];
  instructions: number;
  frames: { total: number; free: number; byOwner: Record<string, Record<FrameUse, number>> };
  ok: boolean;
}

export function startMachine(input: MachineInput): { machine: Machine; vms: { vm: Vm; stats: Statistics; name: string }[] } {
  const machine = new Machine({ memoryBytes: input.memoryBytes, quantum: input.quantum, tlb: { ...DEFAULT_TLB_CONFIG, ...input.tlb } });
  const vms = input.vms.map((v) => {
    const { vm, monitor, instance } = createVirtualVm(machine, v.mode, { ...v });
    vm.load(v.program.segments, v.program.entry ?? v.program.segments[0]?.address ?? 0);
    return { vm, stats: new Statistics(vm, monitor, instance.stats ? () => instance.stats!() : null), name: v.name };
  });
  return { machine, vms };
}

export function runMachine(input: MachineInput): MachineSummary {
  const { machine, vms } = startMachine(input);
  let engineError: string | undefined;
  try {
    while (machine.icount < input.maxSteps && !machine.stopped) machine.run(Math.min(1_000_000, input.maxSteps - machine.icount));
  } catch (e) {
    engineError = `engine error: ${e instanceof Error ? e.message : String(e)}`;
  }
  const summaries = vms.map(({ vm, stats, name }) => ({ name, ...summarize(vm, stats, engineError) }));
  const census = machine.memory.frames.census();
  const byOwner: Record<string, Record<FrameUse, number>> = {};
  for (const [owner, counts] of census.byOwner) byOwner[owner === 0 ? 'hypervisor' : vms[owner - 1]?.name ?? `vm${owner}`] = counts;
  return {
    vms: summaries,
    instructions: machine.icount,
    frames: { total: machine.memory.frames.total, free: census.free, byOwner },
    ok: summaries.every((s) => s.exit.ok),
  };
}
