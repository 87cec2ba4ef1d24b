// What a launch builds: the VMs to debug (one program, or a scenario's machine), each with its
// program's source index and address space, and one run(budget) over all of them.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { assemble } from '../../engine/isa/assembler';
import type { AssembleResult, FileProvider } from '../../engine/isa/assembler';
import { startProgram } from '../../engine/runner';
import { AdmissionRefused, programMachineInput, scenarioMachineInput, startMachine } from '../../engine/machineRunner';
import type { MachineInput } from '../../engine/machineRunner';
import { parseScenario, ScenarioError } from '../../engine/scenario';
import type { Machine } from '../../engine/machine/machine';
import type { Vm } from '../../engine/vm';
import type { PhysicalMemory } from '../../engine/memory/physicalMemory';
import { availableModes } from '../../engine/vmm/modes';
import { auditMachine } from '../../engine/vmm/audit';
import { AddressSpace } from './addressSpace';
import { SourceIndex } from './sourceIndex';
import { LaunchConfigError } from './launchConfig';
import type { LaunchConfig } from './launchConfig';

export interface DebugVm {
  name: string;
  vm: Vm;
  space: AddressSpace;
  source: SourceIndex;
}

export interface TargetRunResult {
  executed: number;
  outcome: 'budget' | 'stopped' | 'pause-requested';
  /** The VM that asked for the pause. */
  vm?: Vm;
}

export interface Target {
  vms: DebugVm[];
  machine: Machine | null;
  run(budget: number): TargetRunResult;
  readonly icount: number;
  readonly stopped: boolean;
  /** MMU invariants violated right now (empty without a hypervisor or when all hold). */
  audit(): string[];
}

const files: FileProvider = {
  read(file) {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  resolve: (from, include) => resolve(dirname(from), include),
};

function assembleOrFail(path: string, defines: Record<string, bigint>): AssembleResult {
  const r = assemble(path, files, { defines });
  if (!r.ok) {
    const errors = r.diagnostics.filter((d) => d.severity === 'error').slice(0, 10);
    throw new LaunchConfigError(`assembly failed:\n${errors.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`).join('\n')}`);
  }
  return r;
}

function checkMode(mode: string, where: string): void {
  const modes = availableModes();
  if (!modes.includes(mode)) throw new LaunchConfigError(`${where}: mode '${mode}' is not one of the available modes: ${modes.join(', ')}`);
}

function cpuMemoryOf(vm: Vm, machine: Machine | null): PhysicalMemory {
  return machine ? machine.memory.bytes : (vm.mem as PhysicalMemory);
}

function single(name: string, vm: Vm, machine: Machine | null, program: AssembleResult): Target {
  const vms = [{ name, vm, space: new AddressSpace(vm, cpuMemoryOf(vm, machine)), source: new SourceIndex(program) }];
  return {
    vms, machine,
    run: (budget) => vm.run(budget),
    get icount() { return vm.icount; },
    get stopped() { return vm.stopped; },
    audit: () => (machine ? auditMachine(machine) : []),
  };
}

/** Builds the target a launch configuration describes; throws LaunchConfigError on bad input. */
export function buildTarget(cfg: LaunchConfig): Target {
  const tlb = { entries: cfg.tlbEntries, ways: cfg.tlbWays };
  if (cfg.kind === 'program') {
    checkMode(cfg.mode, "'mode'");
    const program = assembleOrFail(cfg.program, cfg.defines);
    const vmOptions = {
      memoryBytes: cfg.memoryMiB * 2 ** 20, vcpus: cfg.vcpus,
      modeOptions: {
        shadow: { sync: cfg.shadowSync },
        nested: { eptPageSize: cfg.eptPageSize, accessedDirty: cfg.eptAccessedDirty, vpid: cfg.vpid, walkCaches: cfg.walkCaches },
      },
      devices: cfg.balloonTarget.length > 0 ? { balloon: { schedule: cfg.balloonTarget } } : undefined,
    };
    if (cfg.machineMemoryMiB !== undefined) {
      // The program's VM on a machine of that size, under the memory scheduler when overcommitted.
      if (cfg.mode === 'native') throw new LaunchConfigError(`'machineMemoryMiB' puts the program in a VM on a machine of that size: set 'mode' to shadow, nested or paravirt`);
      const input = programMachineInput(program, { ...vmOptions, mode: cfg.mode, machineBytes: cfg.machineMemoryMiB * 2 ** 20, maxSteps: cfg.maxSteps, tlb });
      return machineTarget(cfg.program, input, [program]);
    }
    const { vm, machine } = startProgram(program, { ...vmOptions, mode: cfg.mode, tlb });
    return single('vm1', vm, machine, program);
  }
  let scenario;
  try {
    scenario = parseScenario(readFileSync(cfg.program, 'utf8'));
  } catch (e) {
    if (e instanceof ScenarioError) throw new LaunchConfigError(`${cfg.program}: ${e.message}`);
    throw e;
  }
  const programs = scenario.vms.map((v, i) => {
    checkMode(v.mode, `${cfg.program}: vms[${i}]`);
    const path = resolve(dirname(cfg.program), v.program);
    if (!existsSync(path)) throw new LaunchConfigError(`${cfg.program}: vms[${i}].program: no such file: ${v.program}`);
    return assembleOrFail(path, v.defines);
  });
  if (scenario.vms.length === 1 && scenario.vms[0].mode === 'native') {
    const v = scenario.vms[0];
    const { vm } = startProgram(programs[0], { mode: 'native', memoryBytes: v.memoryMiB * 2 ** 20, vcpus: v.vcpus, tlb });
    return single(v.name, vm, null, programs[0]);
  }
  return machineTarget(cfg.program, scenarioMachineInput(scenario, programs, { maxSteps: cfg.maxSteps, tlb }), programs);
}

/** VMs on one machine: a scenario, or one program with machineMemoryMiB. */
function machineTarget(file: string, input: MachineInput, programs: readonly AssembleResult[]): Target {
  let started: ReturnType<typeof startMachine>;
  try {
    started = startMachine(input);
  } catch (e) {
    if (e instanceof AdmissionRefused) throw new LaunchConfigError(`${file}: ${e.message}`);
    throw e;
  }
  const { machine, vms } = started;
  return {
    vms: vms.map((v, i) => ({ name: v.name, vm: v.vm, space: new AddressSpace(v.vm, machine.memory.bytes), source: new SourceIndex(programs[i]) })),
    machine,
    run: (budget) => machine.run(budget),
    get icount() { return machine.icount; },
    get stopped() { return machine.stopped; },
    audit: () => auditMachine(machine),
  };
}
