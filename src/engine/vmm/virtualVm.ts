// Builds a VM that runs under the hypervisor on a Machine: its p2m over machine memory, its
// monitor (the VM-exit path) and the memory mode's MMU for each vCPU.
import type { Machine } from '../machine/machine';
import type { MachineMemory } from '../machine/machineMemory';
import { EventBus } from '../events';
import { Vm, VmOptions, DEFAULT_VM_OPTIONS } from '../vm';
import type { MemoryMode } from '../vm';
import type { Vcpu } from '../cpu/cpu';
import type { MmuPort } from '../cpu/mmuPort';
import type { Tlb, TlbConfig } from '../mmu/tlb';
import { DEFAULT_TLB_CONFIG } from '../mmu/tlb';
import { P2m, P2mGuestMemory } from './p2m';
import { Monitor } from './monitor';
import type { ExitHandler } from './monitor';
import type { ExecutionControls } from './controls';
import { DEFAULT_MODE_OPTIONS } from './options';
import type { ModeOptions } from './options';
import { MODE_DEFINITIONS } from './modes';

export type VirtualMode = Exclude<MemoryMode, 'native'>;

export interface VirtualVmOptions extends Partial<VmOptions> {
  tlb?: Partial<TlbConfig>;
  modeOptions?: { [K in keyof ModeOptions]?: Partial<ModeOptions[K]> };
}

/** What a mode's factory gets to build one VM's memory virtualization. */
export interface ModeContext {
  machine: MachineMemory;
  vmId: number;
  p2m: P2m;
  guest: P2mGuestMemory;
  monitor: Monitor;
  bus: EventBus;
  options: ModeOptions;
  tlbConfig: TlbConfig;
  maxPhyAddr: number;
  /**
   * The TLB the vCPU's hardware MMU must use: the host's, shared with every other VM, and the
   * tag its entries get (a fresh VPID with controls.enableVpid, else 0).
   */
  hostTlb(vcpuIndex: number): { tlb: Tlb; vpid: number };
  /** The VM's vCPU i (valid once the VM is built: call it lazily, e.g. when an exit happens). */
  vcpu(i: number): Vcpu;
}

/** One VM's memory virtualization in one mode. */
export interface ModeInstance {
  mmuFor(vcpuIndex: number): { port: MmuPort; tlb: Tlb };
  /** Exit handling beyond the monitor's own (hypercalls, ...). */
  handlers?: ExitHandler[];
  /** The MMU audit: every invariant violated right now, in words (empty when all hold). */
  audit?(): string[];
  /**
   * The mode's own counters, named for the reader ("shadow roots reused", "2-D walk references",
   * "hypercalls rejected", ...): run summaries and `--compare` show them.
   */
  stats?(): Record<string, number>;
}

export interface ModeDefinition {
  mode: VirtualMode;
  /** The execution controls this mode needs (which events must exit). */
  controls(options: ModeOptions): ExecutionControls;
  create(ctx: ModeContext): ModeInstance;
}

export interface VirtualVm {
  vm: Vm;
  monitor: Monitor;
  instance: ModeInstance;
  p2m: P2m;
}

export function mergeModeOptions(o: VirtualVmOptions['modeOptions']): ModeOptions {
  return {
    shadow: { ...DEFAULT_MODE_OPTIONS.shadow, ...o?.shadow },
    nested: { ...DEFAULT_MODE_OPTIONS.nested, ...o?.nested },
    paravirt: { ...DEFAULT_MODE_OPTIONS.paravirt, ...o?.paravirt },
  };
}

export function createVirtualVm(machine: Machine, mode: VirtualMode, options: VirtualVmOptions = {}): VirtualVm {
  const def = MODE_DEFINITIONS[mode];
  if (!def) throw new Error(`memory mode '${mode}' is not available`);
  const vmId = machine.allocateVmId();
  const merged = { ...DEFAULT_VM_OPTIONS, name: `vm${vmId}`, ...options };
  const modeOptions = mergeModeOptions(options.modeOptions);
  const bus = new EventBus();
  const controls = def.controls(modeOptions);
  const monitor = new Monitor(vmId, mode, controls, bus);
  const vpids = new Map<number, number>();
  if (!controls.enableVpid) {
    // Without VPID every VM exit (and the entry after it) flushes the guest's TLB entries.
    monitor.afterExit = () => machine.hostTlb.flushVpid(0);
  }
  const p2m = new P2m(machine.memory, vmId, merged.memoryBytes);
  const guest = new P2mGuestMemory(p2m);
  let vm: Vm | undefined;
  const ctx: ModeContext = {
    machine: machine.memory, vmId, p2m, guest, monitor, bus, options: modeOptions,
    tlbConfig: { ...DEFAULT_TLB_CONFIG, ...options.tlb }, maxPhyAddr: merged.maxPhyAddr,
    hostTlb: (i) => {
      let vpid = vpids.get(i);
      if (vpid === undefined) {
        vpid = controls.enableVpid ? machine.allocateVpid() : 0;
        vpids.set(i, vpid);
        if (controls.enableVpid && i === 0) controls.vpid = vpid;
      }
      return { tlb: machine.hostTlb, vpid };
    },
    vcpu: (i) => {
      if (!vm) throw new Error('vCPU asked for before the VM was built');
      return vm.vcpus[i];
    },
  };
  const instance = def.create(ctx);
  monitor.handlers.push(...(instance.handlers ?? []));
  vm = new Vm(merged, { mode, cpuMemory: machine.memory.bytes, guestMemory: guest, vmx: monitor, mmuFor: (i) => instance.mmuFor(i) }, bus);
  machine.add(vm, monitor, { vmId, p2m, instance });
  return { vm, monitor, instance, p2m };
}
