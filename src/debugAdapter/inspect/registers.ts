// Registers by name, for the variables view, the expression evaluator and setVariable: the
// general registers and their sub-registers (rax/eax/ax/al ...), rip, rflags and its flags,
// and the control registers with their architectural bits decoded (names as the SDM has them).
import type { Vcpu } from '../../engine/cpu/cpu';
import { REG64, lookupRegister } from '../../engine/isa/registers';
import { InspectError } from './target';

/** A named bit (or field) of a register, as the variables view lists it. */
export interface BitField {
  name: string;
  bit: number;
  /** Field width in bits (1 for a flag). */
  width?: number;
  title: string;
}

const F = (name: string, bit: number, title: string, width = 1): BitField => ({ name, bit, title, width });

export const RFLAGS_BITS: readonly BitField[] = [
  F('CF', 0, 'carry'), F('PF', 2, 'parity'), F('AF', 4, 'auxiliary carry'), F('ZF', 6, 'zero'), F('SF', 7, 'sign'),
  F('TF', 8, 'trap'), F('IF', 9, 'interrupt enable'), F('DF', 10, 'direction'), F('OF', 11, 'overflow'),
  F('IOPL', 12, 'I/O privilege level', 2), F('NT', 14, 'nested task'), F('RF', 16, 'resume'), F('VM', 17, 'virtual-8086'),
  F('AC', 18, 'alignment check / SMAP override'), F('VIF', 19, 'virtual interrupt'), F('VIP', 20, 'virtual interrupt pending'), F('ID', 21, 'CPUID available'),
];

export const CR0_BITS: readonly BitField[] = [
  F('PE', 0, 'protection enable'), F('MP', 1, 'monitor coprocessor'), F('EM', 2, 'emulation'), F('TS', 3, 'task switched'),
  F('ET', 4, 'extension type'), F('NE', 5, 'numeric error'), F('WP', 16, 'write protect (supervisor writes honour R/W)'),
  F('AM', 18, 'alignment mask'), F('NW', 29, 'not write-through'), F('CD', 30, 'cache disable'), F('PG', 31, 'paging'),
];

export const CR4_BITS: readonly BitField[] = [
  F('VME', 0, 'virtual-8086 extensions'), F('PVI', 1, 'protected-mode virtual interrupts'), F('TSD', 2, 'time stamp disable'),
  F('DE', 3, 'debugging extensions'), F('PSE', 4, 'page size extensions (4 MiB pages)'), F('PAE', 5, 'physical address extension'),
  F('MCE', 6, 'machine check'), F('PGE', 7, 'global pages'), F('PCE', 8, 'performance counters'), F('OSFXSR', 9, 'FXSAVE support'),
  F('OSXMMEXCPT', 10, 'SIMD exceptions'), F('UMIP', 11, 'user-mode instruction prevention'), F('LA57', 12, '5-level paging'),
  F('VMXE', 13, 'VMX enable'), F('SMXE', 14, 'SMX enable'), F('FSGSBASE', 16, 'FSGSBASE instructions'), F('PCIDE', 17, 'process-context identifiers'),
  F('OSXSAVE', 18, 'XSAVE support'), F('SMEP', 20, 'supervisor-mode execution prevention'), F('SMAP', 21, 'supervisor-mode access prevention'),
  F('PKE', 22, 'protection keys'),
];

export const EFER_BITS: readonly BitField[] = [
  F('SCE', 0, 'SYSCALL enable'), F('LME', 8, 'long mode enable'), F('LMA', 10, 'long mode active'), F('NXE', 11, 'no-execute enable'),
];

export function fieldValue(v: bigint, f: BitField): bigint {
  return (v >> BigInt(f.bit)) & ((1n << BigInt(f.width ?? 1)) - 1n);
}

/** Set flags by name ("PE WP PG"), for a register's one-line value. */
export function setFlagNames(v: bigint, fields: readonly BitField[]): string {
  return fields.filter((f) => (f.width ?? 1) === 1 && fieldValue(v, f) === 1n).map((f) => f.name).join(' ');
}

/** rflags / control register / efer as bigint (efer is an MSR but the views list it with the CRs). */
function special(cpu: Vcpu, n: string): bigint | undefined {
  switch (n) {
    case 'rip': return cpu.ripValue;
    case 'eip': return cpu.ripValue & 0xffffffffn;
    case 'rflags': return BigInt(cpu.rflags >>> 0);
    case 'eflags': return BigInt(cpu.rflags >>> 0);
    case 'cr0': return BigInt(cpu.cr0 >>> 0);
    case 'cr2': return BigInt.asUintN(64, cpu.cr2);
    case 'cr3': return BigInt(cpu.cr3);
    case 'cr4': return BigInt(cpu.cr4 >>> 0);
    case 'efer': return BigInt(cpu.efer >>> 0);
    case 'cpl': return BigInt(cpu.cpl);
  }
  const flag = RFLAGS_BITS.find((f) => f.name.toLowerCase() === n);
  return flag ? fieldValue(BigInt(cpu.rflags >>> 0), flag) : undefined;
}

/** A register's value by name (case-insensitive), or undefined when no register has that name. */
export function readRegister(cpu: Vcpu, name: string): bigint | undefined {
  const n = name.toLowerCase();
  const ref = lookupRegister(n);
  if (ref) return cpu.getReg(ref.reg) & ((1n << BigInt(ref.size * 8)) - 1n);
  return special(cpu, n);
}

/** Every name readRegister answers, for completion and help. */
export function registerNames(): string[] {
  return [...REG64, 'rip', 'rflags', 'cr0', 'cr2', 'cr3', 'cr4', 'efer', 'cpl', ...RFLAGS_BITS.map((f) => f.name.toLowerCase())];
}

function fits(value: bigint, bits: number): bigint {
  const u = BigInt.asUintN(64, value);
  const max = 1n << BigInt(bits);
  if (u < max) return u;
  // A negative number typed for a narrow register: -1 for eax is 0xffffffff.
  const s = BigInt.asIntN(64, value);
  if (s < 0n && s >= -(max >> 1n)) return BigInt.asUintN(bits, s);
  throw new InspectError(`0x${u.toString(16)} does not fit in ${bits} bits`);
}

/**
 * Sets a register as a debugger does: a sub-register replaces only its own bytes (eax, ax, al
 * leave the rest of rax alone — a write by an instruction would zero-extend eax, a debugger
 * does not); rip must be canonical; rflags bits this machine does not keep are refused rather
 * than silently dropped; a single flag (zf, cf, ...) takes 0 or 1. Control registers are
 * refused: changing paging under the MMU must go through the guest's own MOV CR.
 * Returns the register's new value.
 */
export function setRegister(cpu: Vcpu, name: string, value: bigint): bigint {
  const n = name.toLowerCase();
  const ref = lookupRegister(n);
  if (ref) {
    const bits = ref.size * 8;
    const v = fits(value, bits);
    const mask = ((1n << BigInt(bits)) - 1n);
    const old = BigInt.asUintN(64, cpu.getReg(ref.reg));
    cpu.setReg(ref.reg, BigInt.asIntN(64, (old & ~mask & ((1n << 64n) - 1n)) | v));
    return v;
  }
  if (n === 'rip' || n === 'eip') {
    const v = fits(value, n === 'eip' ? 32 : 64);
    if (cpu.isLongMode) {
      const bits = cpu.linearBits;
      if (BigInt.asUintN(64, BigInt.asIntN(bits, v)) !== v) throw new InspectError(`rip 0x${v.toString(16)} is not canonical (${bits}-bit addresses)`);
    } else if (v > 0xffffffffn) throw new InspectError(`rip 0x${v.toString(16)} does not fit in 32 bits outside long mode`);
    cpu.setRip(v);
    return cpu.ripValue;
  }
  if (n === 'rflags' || n === 'eflags') {
    const v = fits(value, 64) | 2n;
    const old = cpu.rflags;
    cpu.rflags = Number(v & 0xffffffffn);
    const got = BigInt(cpu.rflags >>> 0);
    if (got !== v) {
      cpu.rflags = old;
      const lost = v & ~got;
      const bits: number[] = [];
      for (let b = 0; b < 64; b++) if ((lost >> BigInt(b)) & 1n) bits.push(b);
      throw new InspectError(`rflags bit${bits.length > 1 ? 's' : ''} ${bits.join(', ')} cannot be set on this machine (reserved, or IOPL, which is always 0)`);
    }
    return got;
  }
  const flag = RFLAGS_BITS.find((f) => f.name.toLowerCase() === n);
  if (flag) {
    const width = flag.width ?? 1;
    if (value >= 1n << BigInt(width)) throw new InspectError(`${flag.name} is ${width} bit${width > 1 ? 's' : ''} wide`);
    const mask = ((1n << BigInt(width)) - 1n) << BigInt(flag.bit);
    const next = (BigInt(cpu.rflags >>> 0) & ~mask) | (value << BigInt(flag.bit));
    return fieldValue(setRegister(cpu, 'rflags', next), flag);
  }
  if (/^(cr[0-9]|efer|cpl)$/.test(n)) throw new InspectError(`${n} is read-only in the debugger: the guest changes it with its own instructions (MOV CR, WRMSR)`);
  throw new InspectError(`unknown register '${name}'`);
}
