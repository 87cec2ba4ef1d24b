// What the inspection layer looks at: the VMs of one debug session, each with what the engine
// built for it (monitor, mode instance, p2m, statistics) and the assembled program whose source
// map turns load addresses into lines. The session builds one of these once per launch; every
// inspector takes it as its first argument and reads the engine through it, never through DAP.
import type { Vm } from '../../engine/vm';
import type { Machine } from '../../engine/machine/machine';
import type { Monitor } from '../../engine/vmm/monitor';
import type { ModeInstance } from '../../engine/vmm/virtualVm';
import type { P2m } from '../../engine/vmm/p2m';
import type { Statistics } from '../../engine/statistics';
import type { AssembleResult } from '../../engine/isa/assembler';
import type { Vcpu } from '../../engine/cpu/cpu';

export interface InspectedVm {
  /** 1-based, as memory references and the views name it (`gpa:1:...`). */
  id: number;
  name: string;
  vm: Vm;
  monitor: Monitor | null;
  instance: ModeInstance | null;
  p2m: P2m | null;
  stats: Statistics | null;
  /** The assembled program (symbols and source map), when the session has one. */
  program: AssembleResult | null;
}

export interface InspectTarget {
  /** The host, under a hypervisor; null in native mode (guest-physical is machine memory). */
  machine: Machine | null;
  vms: InspectedVm[];
}

export interface TargetVmInput {
  vm: Vm;
  name?: string;
  stats?: Statistics | null;
  program?: AssembleResult | null;
  monitor?: Monitor | null;
}

/** Builds a target from the engine's objects; monitor, p2m and mode instance come from the machine. */
export function createInspectTarget(machine: Machine | null, vms: readonly TargetVmInput[]): InspectTarget {
  return {
    machine,
    vms: vms.map((v, i) => {
      const parts = machine?.partsOf(v.vm);
      return {
        id: i + 1,
        name: v.name ?? v.vm.options.name,
        vm: v.vm,
        monitor: v.monitor ?? machine?.monitorOf(v.vm) ?? null,
        instance: parts?.instance ?? null,
        p2m: parts?.p2m ?? null,
        stats: v.stats ?? null,
        program: v.program ?? null,
      };
    }),
  };
}

export class InspectError extends Error {}

/** The VM with this id, or an error naming the ones that exist. */
export function vmById(t: InspectTarget, id: number): InspectedVm {
  const v = t.vms.find((x) => x.id === id);
  if (!v) throw new InspectError(`no VM ${id} (VMs: ${t.vms.map((x) => x.id).join(', ') || 'none'})`);
  return v;
}

export function vcpuOf(v: InspectedVm, index: number): Vcpu {
  const c = v.vm.vcpus[index];
  if (!c) throw new InspectError(`VM ${v.id} has no vCPU ${index} (it has ${v.vm.vcpus.length})`);
  return c;
}

/** Bytes of machine memory: the host's, or in native mode the VM's own memory. */
export function machineSize(t: InspectTarget): number {
  return t.machine ? t.machine.memory.size : t.vms[0]?.vm.mem.size ?? 0;
}
