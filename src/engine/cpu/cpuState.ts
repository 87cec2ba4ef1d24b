// A plain, exact copy of a vCPU's architectural registers, for the debugger and the UI.
import { REG64 } from '../isa/registers';
import { toBig } from './alu';

export interface CpuState {
  gpr: Record<(typeof REG64)[number], bigint>;
  rip: bigint;
  rflags: number;
  cpl: number;
  cr0: number;
  cr2: bigint;
  cr3: number;
  cr4: number;
  efer: number;
  idtBase: bigint;
  idtLimit: number;
  icount: number;
}

interface HalvesSource {
  lo: Int32Array;
  hi: Int32Array;
  ripValue: bigint;
  rflags: number;
  cpl: number;
  cr0: number;
  cr2: bigint;
  cr3: number;
  cr4: number;
  efer: number;
  idtBase: bigint;
  idtLimit: number;
  icount: number;
}

export function cpuStateFromHalves(c: HalvesSource): CpuState {
  const gpr = {} as Record<(typeof REG64)[number], bigint>;
  REG64.forEach((name, i) => (gpr[name] = toBig(c.lo[i], c.hi[i])));
  return {
    gpr, rip: c.ripValue, rflags: c.rflags, cpl: c.cpl, cr0: c.cr0 >>> 0, cr2: c.cr2, cr3: c.cr3, cr4: c.cr4 >>> 0,
    efer: c.efer, idtBase: c.idtBase, idtLimit: c.idtLimit, icount: c.icount,
  };
}
