// The expression context of one inspected vCPU (console command arguments and lines), built on
// the runtime's vcpuEvalContext so the console speaks the same language as conditions and watch.
import type { PhysicalMemory } from '../../engine/memory/physicalMemory';
import { AddressSpace } from '../runtime/addressSpace';
import { vcpuEvalContext } from '../runtime/evalContext';
import type { EvalContext } from '../runtime/expression';
import type { InspectTarget, InspectedVm } from './target';
import { vcpuOf } from './target';

export function inspectEvalContext(t: InspectTarget, v: InspectedVm, vcpu: number): EvalContext {
  // What the vCPUs fetch from: the machine's memory under a hypervisor, the VM's own natively.
  const cpuMemory = t.machine ? t.machine.memory.bytes : (v.vm.mem as PhysicalMemory);
  return vcpuEvalContext({ space: new AddressSpace(v.vm, cpuMemory), symbols: v.program?.symbols }, vcpuOf(v, vcpu));
}
