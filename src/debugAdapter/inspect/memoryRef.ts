// Memory references: how the three address spaces are named in DAP (readMemory, writeMemory,
// the memory view, variables' memoryReference) and in the views:
//   gva:<vm>/<vcpu>:<hex>  guest virtual, through that vCPU's current paging
//   gpa:<vm>:<hex>         guest physical of a VM
//   mpa:<hex>              machine physical (in native mode: the VM's physical memory)
import { InspectError } from './target';

export type AddressSpace = 'gva' | 'gpa' | 'mpa';

export interface MemoryRef {
  space: AddressSpace;
  /** VM id (gva, gpa). */
  vm: number;
  /** vCPU index (gva). */
  vcpu: number;
  address: bigint;
}

const RE = /^\s*(gva|gpa|mpa):(?:(\d+)(?:\/(\d+))?:)?(?:0x)?([0-9a-f]+)\s*$/i;

export function parseMemoryRef(text: string): MemoryRef {
  const m = RE.exec(text);
  if (!m) throw new InspectError(`'${text}' is not a memory reference (gva:<vm>/<vcpu>:<hex>, gpa:<vm>:<hex> or mpa:<hex>)`);
  const space = m[1].toLowerCase() as AddressSpace;
  const vm = m[2] === undefined ? 1 : Number(m[2]);
  const vcpu = m[3] === undefined ? 0 : Number(m[3]);
  if (space === 'mpa' && m[2] !== undefined) throw new InspectError(`machine addresses belong to no VM: write mpa:<hex>`);
  if (space === 'gpa' && m[3] !== undefined) throw new InspectError(`guest-physical addresses belong to a VM, not a vCPU: write gpa:<vm>:<hex>`);
  return { space, vm, vcpu, address: BigInt('0x' + m[4]) };
}

export function formatMemoryRef(r: MemoryRef): string {
  const a = BigInt.asUintN(64, r.address).toString(16);
  if (r.space === 'gva') return `gva:${r.vm}/${r.vcpu}:${a}`;
  if (r.space === 'gpa') return `gpa:${r.vm}:${a}`;
  return `mpa:${a}`;
}

export const gvaRef = (vm: number, vcpu: number, address: bigint | number): string => formatMemoryRef({ space: 'gva', vm, vcpu, address: BigInt(address) });
export const gpaRef = (vm: number, address: bigint | number): string => formatMemoryRef({ space: 'gpa', vm, vcpu: 0, address: BigInt(address) });
export const mpaRef = (address: bigint | number): string => formatMemoryRef({ space: 'mpa', vm: 0, vcpu: 0, address: BigInt(address) });
