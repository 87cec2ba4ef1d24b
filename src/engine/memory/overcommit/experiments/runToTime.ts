// Runs a machine built from a MachineInput until every VM has stopped or the simulated clock
// reaches a time limit (an experiment measures at a fixed duration, as the paper's runs had one),
// then reads the memory scheduler's snapshot, each VM's console and exit, and the MMU audit.
import { startMachine } from '../../../machineRunner';
import type { MachineInput } from '../../../machineRunner';
import { auditMachine } from '../../../vmm/audit';
import type { OvercommitSnapshot, VmOvercommitSnapshot } from '../overcommitSnapshot';

export interface VmOutcome {
  name: string;
  console: string;
  stopped: boolean;
  instructions: number;
  stallCycles: number;
  /** instructions / (instructions + stall cycles): the share of its time the VM did work. */
  throughput: number;
  oc: VmOvercommitSnapshot;
}

export interface RunOutcome {
  seconds: number;
  snapshot: OvercommitSnapshot;
  vms: VmOutcome[];
  audit: string[];
}

export function runToTime(input: MachineInput, untilSeconds = Infinity): RunOutcome {
  const { machine, vms } = startMachine(input);
  const oc = machine.overcommit;
  if (!oc) throw new Error('experiment machines run with a memory scheduler (memsched)');
  const limitCycles = untilSeconds * machine.clock.cyclesPerSecond;
  while (!machine.stopped && machine.icount < input.maxSteps && machine.clock.now < limitCycles) {
    const left = Math.min(input.maxSteps - machine.icount, Number.isFinite(limitCycles) ? Math.max(1, limitCycles - machine.clock.now) : 1e6);
    machine.run(Math.min(200_000, left));
  }
  const snapshot = oc.snapshot();
  const out: VmOutcome[] = vms.map(({ vm, name }) => {
    const s = snapshot.vms.find((v) => v.name === name);
    if (!s) throw new Error(`VM ${name} is not managed by the memory scheduler`);
    const stall = machine.stallCycles(vm);
    return { name, console: vm.devices.console, stopped: vm.stopped, instructions: vm.icount, stallCycles: stall, throughput: vm.icount / Math.max(1, vm.icount + stall), oc: s };
  });
  const audit = auditMachine(machine);
  oc.dispose();
  return { seconds: machine.clock.seconds(), snapshot, vms: out, audit };
}

export const MiB = 2 ** 20;
export const PAGE = 4096;

/** Rounds for display. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
