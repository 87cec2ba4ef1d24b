// Builds a VM in native mode: each vCPU gets the native MMU with its own TLB.
import { Mmu, Tlb, DEFAULT_TLB_CONFIG } from './mmu';
import type { TlbConfig } from './mmu';
import { PhysicalMemory } from './memory/physicalMemory';
import { DEFAULT_VM_OPTIONS, Vm, VmOptions } from './vm';

export interface NativeVmOptions extends Partial<VmOptions> {
  tlb?: Partial<TlbConfig>;
}

export function createNativeVm(options: NativeVmOptions = {}): { vm: Vm; mmus: Mmu[] } {
  const tlbConfig: TlbConfig = { ...DEFAULT_TLB_CONFIG, ...options.tlb };
  const mmus: Mmu[] = [];
  // No hypervisor: guest-physical memory is the machine's memory.
  const mem = new PhysicalMemory(options.memoryBytes ?? DEFAULT_VM_OPTIONS.memoryBytes);
  const vm = new Vm(options, {
    mode: 'native',
    cpuMemory: mem,
    guestMemory: mem,
    vmx: null,
    mmuFor: () => {
      const mmu = new Mmu(mem, new Tlb(tlbConfig), { maxPhyAddr: options.maxPhyAddr ?? 40 });
      mmus.push(mmu);
      return { port: mmu, tlb: mmu.tlb };
    },
  });
  // Arm the MMU's miss hook only while someone listens for tlb-miss: otherwise it costs nothing.
  const arm = (): void => {
    mmus.forEach((mmu, i) => {
      mmu.onMiss = vm.bus.wants['tlb-miss']
        ? (linear, access) => {
            const cpu = vm.vcpus[i];
            vm.bus.emit({ kind: 'tlb-miss', gva: cpu.canonical(linear), access: access === 0 ? 'read' : access === 1 ? 'write' : 'fetch', icount: cpu.icount, vcpu: i, rip: cpu.ripValue });
          }
        : null;
    });
  };
  vm.bus.onWantsChange = arm;
  arm();
  return { vm, mmus };
}
