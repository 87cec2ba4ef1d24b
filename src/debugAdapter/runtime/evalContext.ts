// Where an expression is evaluated: a vCPU's registers, its guest-virtual memory, the program's
// symbols and, for event conditions, the event's fields (which win over registers of the same
// name: `reason` of a VM exit, `gva` of a fault).
import { lookupRegister, lookupControlRegister } from '../../engine/isa/registers';
import type { Vcpu } from '../../engine/cpu/cpu';
import type { EvalContext, Value } from './expression';
import type { DebugVm } from './target';

export function registerValue(cpu: Vcpu, name: string): bigint | undefined {
  const lower = name.toLowerCase();
  const r = lookupRegister(lower);
  if (r) {
    const v = cpu.getReg(r.reg);
    return r.size === 8 ? v : BigInt.asUintN(r.size * 8, v);
  }
  const cr = lookupControlRegister(lower);
  if (cr !== undefined) return BigInt.asUintN(64, cpu.readCr(cr));
  switch (lower) {
    case 'rip': return cpu.ripValue;
    case 'rflags': return BigInt(cpu.rflags >>> 0);
    case 'efer': return BigInt(cpu.efer >>> 0);
    case 'cpl': return BigInt(cpu.cpl);
    case 'icount': return BigInt(cpu.icount);
  }
  return undefined;
}

export function evalContext(dvm: DebugVm, cpu: Vcpu, fields?: Map<string, Value>): EvalContext {
  return {
    lookup(name) {
      const f = fields?.get(name);
      if (f !== undefined) return f;
      const r = registerValue(cpu, name);
      if (r !== undefined) return r;
      const s = dvm.source.program.symbols.get(name);
      return s === undefined ? undefined : BigInt.asUintN(64, s);
    },
    read: (address, size) => dvm.space.readVirtual(cpu, address, size),
    call(name, args) {
      if (args.length !== 1) return undefined;
      switch (name) {
        case 'pte': {
          // The leaf entry's value (PTE, or a large page's PDE).
          const e = dvm.space.leafEntryOf(cpu, args[0]);
          if (!e) return undefined;
          let v = 0n;
          for (let i = e.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(dvm.vm.mem.read8(e.gpa + i));
          return v;
        }
        case 'gpa': {
          const g = dvm.space.gvaToGpa(cpu, args[0]);
          return g < 0 ? undefined : BigInt(g);
        }
        case 'mpa': {
          const m = dvm.space.gvaToMpa(cpu, args[0]);
          return m < 0 ? undefined : BigInt(m);
        }
      }
      return undefined;
    },
  };
}
