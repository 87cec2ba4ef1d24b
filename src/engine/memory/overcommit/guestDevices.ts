// Puts the overcommitment devices on a VM's I/O bus: the balloon (balloon/balloonDevice.ts) and
// the guest disk (guest/guestDisk.ts), wired to the VMM when there is one (the p2m frees and
// backs frames, a touch of a ballooned page pops the balloon, DMA goes through p2m.resident) and
// to guest-physical memory itself when there is none (native mode: the driver and the swapper
// run the same, nothing is reclaimed).
import type { Vm } from '../../vm';
import type { Machine } from '../../machine/machine';
import type { P2m, P2mObserver } from '../../vmm/p2m';
import { PhysicalMemory } from '../physicalMemory';
import { PAGE_SIZE } from '../frame';
import { BalloonDevice } from './balloon/balloonDevice';
import type { BalloonOptions, BalloonVmm } from './balloon/balloonDevice';
import { nativeBalloonVmm } from './balloon/nativeBalloonVmm';
import { GuestDisk } from './guest/guestDisk';
import { nativeDma, p2mDma } from './guest/dmaMemory';
import { SwapDevice, DEFAULT_DISK_LATENCY_S } from './swapDevice';
import { DEFAULT_CYCLES_PER_SECOND, StallAccount } from './clock';

export interface GuestDiskOptions {
  /** Slots (4 KiB each; default 4096: 16 MiB). */
  slots?: number;
  /** Cycles per page transfer (default: 10 ms at the clock rate, as the VMM's swap file). */
  latencyCycles?: number;
}

/** Which devices a VM gets; each is on unless set to false (a balloon device is as standard as a VM's NIC). */
export interface GuestDeviceOptions {
  balloon?: BalloonOptions | false;
  disk?: GuestDiskOptions | false;
}

/** The host a VM runs on, when it runs under the hypervisor. */
export interface VmHost {
  machine: Machine;
  p2m: P2m;
}

export interface GuestDevices {
  balloon: BalloonDevice | null;
  disk: GuestDisk | null;
  /** Cycles the VM waited on its devices when it has no machine to charge (native mode). */
  nativeStalls: StallAccount | null;
}

export function attachGuestDevices(vm: Vm, host: VmHost | null, options: GuestDeviceOptions = {}): GuestDevices {
  const cyclesPerSecond = host ? host.machine.clock.cyclesPerSecond : DEFAULT_CYCLES_PER_SECOND;
  // Natively there is no machine clock: the VM's own instructions are its time. So they are for
  // a VM run on its own (runner.ts steps the VM, not the machine, and the clock stays at 0).
  const own = (): number => vm.icount / cyclesPerSecond;
  const now = host ? () => (host.machine.clock.now > 0 ? host.machine.clock.seconds() : own()) : own;
  const stamp = (i: number): { icount: number; rip: bigint } => ({ icount: vm.icount, rip: vm.vcpus[i]?.ripValue ?? 0n });
  const native = host ? null : nativeMemory(vm);
  let balloon: BalloonDevice | null = null;
  if (options.balloon !== false) {
    const vmm: BalloonVmm = host ? host.p2m : nativeBalloonVmm(native!);
    balloon = new BalloonDevice({ guestPages: Math.floor(vm.mem.size / PAGE_SIZE), memory: vm.mem, vmm, bus: vm.bus, now, stamp, options: options.balloon });
    vm.devices.attach(balloon);
    if (host) host.p2m.observer = popOnTouch(balloon, host.p2m.observer);
  }
  let disk: GuestDisk | null = null;
  let nativeStalls: StallAccount | null = null;
  if (options.disk !== false) {
    const o = options.disk ?? {};
    const latency = o.latencyCycles ?? Math.round(DEFAULT_DISK_LATENCY_S * cyclesPerSecond);
    const store = new SwapDevice({ name: `${vm.options.name}.disk`, capacitySlots: o.slots ?? 4096, readLatencyCycles: latency, writeLatencyCycles: latency });
    if (!host) nativeStalls = new StallAccount();
    const account = nativeStalls;
    const stall = host ? (c: number) => host.machine.stall(vm, c) : (c: number) => account!.charge(c);
    disk = new GuestDisk({ store, dma: host ? p2mDma(host.p2m) : nativeDma(native!), bus: vm.bus, stall, stamp });
    vm.devices.attach(disk);
  }
  return { balloon, disk, nativeStalls };
}

/**
 * The p2m observer that pops the balloon when the guest touches a ballooned page (ESX), then
 * passes every touch on to `next` (the memory scheduler's observer, if it was set first).
 * A memory scheduler that installs its own observer later must forward 'ballooned' touches to
 * BalloonDevice.pop itself, or wrap this one.
 */
export function popOnTouch(balloon: BalloonDevice, next: P2mObserver | null): P2mObserver {
  return {
    touched(ppn, from, access) {
      if (from === 'ballooned') balloon.pop(ppn);
      next?.touched(ppn, from, access);
    },
    sampledTouch: next?.sampledTouch ? (ppn) => next.sampledTouch!(ppn) : undefined,
  };
}

function nativeMemory(vm: Vm): PhysicalMemory {
  if (!(vm.mem instanceof PhysicalMemory)) throw new Error(`VM ${vm.options.name} runs without a hypervisor but its memory is not physical memory`);
  return vm.mem;
}
