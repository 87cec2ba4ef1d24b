// The expression environment of one vCPU: its registers, its program's symbols, and memory
// read through its current translation without side effects.
import { ExpressionError } from './expression';
import type { EvalEnv, MemSize } from './expression';
import type { InspectTarget, InspectedVm } from './target';
import { vcpuOf } from './target';
import { readRegister } from './registers';
import { readMemoryRef } from './memory';

export function vcpuEnv(t: InspectTarget, v: InspectedVm, vcpu: number): EvalEnv {
  const cpu = vcpuOf(v, vcpu);
  return {
    register: (name) => readRegister(cpu, name),
    symbol: (name) => v.program?.symbols.get(name),
    readMemory: (address: bigint, size: MemSize): bigint => {
      const r = readMemoryRef(t, { space: 'gva', vm: v.id, vcpu, address }, 0, size);
      if (r.unreadable.length) throw new ExpressionError(`cannot read ${size} byte${size > 1 ? 's' : ''} at 0x${address.toString(16)}: ${r.reason ?? 'unreadable'}`);
      let out = 0n;
      for (let i = size - 1; i >= 0; i--) out = (out << 8n) | BigInt(r.bytes[i]);
      return out;
    },
  };
}
