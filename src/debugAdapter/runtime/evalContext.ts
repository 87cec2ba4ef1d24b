// Where an expression is evaluated: a vCPU's registers, its guest-virtual memory, the program's
// symbols and, for event conditions, the event's fields (which win over registers of the same
// name: `reason` of a VM exit, `gva` of a fault). The runtime (conditions, watch, hover) and the
// console commands' arguments both evaluate through vcpuEvalContext, so a name means the same
// thing everywhere.
import type { Vcpu } from '../../engine/cpu/cpu';
import { readRegister, RFLAGS_BITS } from '../inspect/registers';
import type { EvalContext, Value } from './expression';
import type { AddressSpace } from './addressSpace';
import type { DebugVm } from './target';

const FLAG_NAMES = new Set(RFLAGS_BITS.map((f) => f.name.toLowerCase()));

/**
 * A register by name (case-insensitive): general registers and their sub-registers, rip/eip,
 * rflags/eflags, cr0/cr2/cr3/cr4, efer, cpl, icount. Single flags (zf, cf, …) are not here:
 * they rank below labels (see vcpuEvalContext), since short names like `id` or `vm` are labels too.
 */
export function registerValue(cpu: Vcpu, name: string): bigint | undefined {
  const lower = name.toLowerCase();
  if (lower === 'icount') return BigInt(cpu.icount);
  if (FLAG_NAMES.has(lower)) return undefined;
  return readRegister(cpu, lower);
}

/** What a vCPU's expressions see besides the vCPU: its VM's address space and program symbols. */
export interface EvalScope {
  space: AddressSpace;
  symbols: ReadonlyMap<string, bigint> | undefined;
}

export function vcpuEvalContext(scope: EvalScope, cpu: Vcpu, fields?: ReadonlyMap<string, Value>): EvalContext {
  const { space, symbols } = scope;
  return {
    lookup(name) {
      const f = fields?.get(name);
      if (f !== undefined) return f;
      const r = registerValue(cpu, name);
      if (r !== undefined) return r;
      const s = symbols?.get(name);
      if (s !== undefined) return BigInt.asUintN(64, s);
      return FLAG_NAMES.has(name.toLowerCase()) ? readRegister(cpu, name) : undefined;
    },
    read: (address, size) => space.readVirtual(cpu, address, size),
    call(name, args) {
      if (args.length !== 1) return undefined;
      switch (name) {
        case 'pte': {
          // The leaf entry's value (PTE, or a large page's PDE).
          const e = space.leafEntryOf(cpu, args[0]);
          if (!e) return undefined;
          let v = 0n;
          for (let i = e.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(space.vm.mem.read8(e.gpa + i));
          return v;
        }
        case 'gpa': {
          const g = space.gvaToGpa(cpu, args[0]);
          return g < 0 ? undefined : BigInt(g);
        }
        case 'mpa': {
          const m = space.gvaToMpa(cpu, args[0]);
          return m < 0 ? undefined : BigInt(m);
        }
      }
      return undefined;
    },
  };
}

export function evalContext(dvm: DebugVm, cpu: Vcpu, fields?: ReadonlyMap<string, Value>): EvalContext {
  return vcpuEvalContext({ space: dvm.space, symbols: dvm.source.program.symbols }, cpu, fields);
}
