// A paravirtual VM built directly (no guest code), for driving the type system and the
// hypercalls from tests.
import { Machine } from '../../../../src/engine/machine/machine';
import { createVirtualVm } from '../../../../src/engine/vmm/virtualVm';
import type { VirtualVm } from '../../../../src/engine/vmm/virtualVm';
import type { ParavirtInstance } from '../../../../src/engine/vmm/paravirt/paravirtMode';

export const MiB = 1024 * 1024;

export interface PvFixture {
  machine: Machine;
  vv: VirtualVm;
  inst: ParavirtInstance;
  /** The machine frame backing guest page `ppn`. */
  mfn(ppn: number): number;
}

export function pvVm(guestMiB = 4, machineMiB = 16, machine = new Machine({ memoryBytes: machineMiB * MiB })): PvFixture {
  const vv = createVirtualVm(machine, 'paravirt', { memoryBytes: guestMiB * MiB });
  const inst = vv.instance as ParavirtInstance;
  return { machine, vv, inst, mfn: (ppn) => vv.p2m.lookup(ppn) };
}

/** A 4-level entry: frame | flags. */
export function ent(mfn: number, flags: bigint): bigint {
  return (BigInt(mfn) << 12n) | flags;
}
