// What the CPU needs of an MMU. The native MMU (src/engine/mmu) implements it; the hypervisor's
// modes provide their own behind the same narrow door, so the CPU never changes with the mode.
import type { TlbFlushScope } from '../events';

export const Access = { READ: 0, WRITE: 1, FETCH: 2 } as const;
export type AccessCode = 0 | 1 | 2;

export interface FlushResult {
  scope: TlbFlushScope;
  entriesRemoved: number;
}

export interface MmuFault {
  errorCode: number;
  /** Linear address as passed to translate. */
  linear: number;
  reason: string;
}

export interface MmuPort {
  /** Physical address, or -1 with the details in `fault`. Must not allocate on a TLB hit. */
  translate(linear: number, access: AccessCode, user: boolean, ac: boolean): number;
  readonly fault: MmuFault | null;
  setControl(cr0: number, cr3: number, cr4: number, efer: number): void;
  /** PAE: load the four PDPTE registers from CR3; false → the CPU raises #GP(0). */
  loadPdptes(): boolean;
  onCr3Write(newCr3: number, noFlush: boolean): FlushResult | null;
  onCr0Write(oldCr0: number, newCr0: number): FlushResult | null;
  onCr4Write(oldCr4: number, newCr4: number): FlushResult | null;
  invlpg(linear: number): FlushResult;
  /** null → invalid operand, the CPU raises #GP(0). */
  invpcid(type: number, pcid: number, linear: number): FlushResult | null;
}
